/**
 * DockerRuntime specifics beyond the shared contract: how CRI settings land in the container (env, user, mounts,
 * readonly rootfs, capabilities, DNS, hosts, sysctls, port mappings, cgroup limits), listing after an agent restart,
 * and following logs. Real Docker; everything created carries io.nodelet.test=cri-docker-config.
 */
import { chmodSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig, waitFor } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime, PAUSE_IMAGE, type PodSandboxConfig } from '../../src/cri/index.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const LABEL = { 'io.nodelet.test': 'cri-docker-config' };
const docker = dockerClient();

const lstatOrNull = (p: string): ReturnType<typeof lstatSync> | null => {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
};

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

describe('DockerRuntime settings', () => {
  const rt = new DockerRuntime({ socketPath: DOCKER_SOCKET });
  let dir = '';
  let sb: PodSandboxConfig;
  let sbId = '';
  let appId = '';
  let hostPort = 0;

  beforeAll(async () => {
    await removeLabelled(docker, 'io.nodelet.test', LABEL['io.nodelet.test']);
    dir = mkdtempSync(join(tmpdir(), 'nlcri-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'file'), 'from-host\n');
    hostPort = await freePort();
    sb = sandboxConfig('cfg-pod', LABEL, {
      hostname: 'cfg-host',
      dnsConfig: { servers: ['10.96.0.10'], searches: ['contract.svc.cluster.local'], options: ['ndots:5'] },
      portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort, hostIp: '127.0.0.1' }],
      linux: {
        namespaceOptions: { network: 'pod', pid: 'container', ipc: 'pod' },
        extraHosts: ['10.1.2.3 foo.example bar'],
        sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' },
      },
    });
    sbId = await rt.runPodSandbox(sb);
    const cfg = containerConfig('web', sb, LABEL, {
      command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
      envs: [{ key: 'FOO', value: 'bar baz' }],
      workingDir: '/tmp',
      mounts: [{ hostPath: dir, containerPath: '/data', readonly: true }],
      annotations: { 'io.kubernetes.container.hash': 'h1' },
      stopSignal: 'SIGQUIT',
    });
    cfg.linux.securityContext = {
      ...cfg.linux.securityContext,
      runAsUser: 1000,
      runAsGroup: 1000,
      supplementalGroups: [65534],
      readonlyRootfs: true,
      noNewPrivs: true,
      capabilities: { add: [], drop: ['ALL'] },
    };
    cfg.linux.resources = { memoryLimitInBytes: 64 << 20, cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, pidsLimit: 100, oomScoreAdj: -500 };
    appId = await rt.createContainer(sbId, cfg, sb);
    await rt.startContainer(appId);
  });

  afterAll(async () => {
    await rt.close();
    await removeLabelled(docker, 'io.nodelet.test', LABEL['io.nodelet.test']);
    rmSync(dir, { recursive: true, force: true });
  });

  const sh = async (script: string): Promise<{ exitCode: number; out: string }> => {
    const r = await rt.execSync(appId, ['sh', '-c', script], 10);
    return { exitCode: r.exitCode, out: (r.stdout + r.stderr).trim() };
  };

  it('links the CRI log path to the engine\'s json log after start and removes the link with the container (as cri-dockerd)', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'nlcri-logs-'));
    try {
      const lsb = { ...sandboxConfig('log-pod', LABEL), logDirectory: logDir };
      const lsbId = await rt.runPodSandbox(lsb);
      const id = await rt.createContainer(lsbId, containerConfig('talker', lsb, LABEL, { command: ['sh', '-c', 'echo hello-link; sleep 30'], logPath: 'talker/0.log' }), lsb);
      await rt.startContainer(id);
      const link = join(logDir, 'talker/0.log');
      expect(readlinkSync(link)).toBe((await docker.getContainer(id).inspect()).LogPath);
      await waitFor('the log through the link', () => (readFileSync(link, 'utf8').includes('hello-link') ? true : undefined));
      expect((await rt.containerStatus(id)).logPath).toBe(link);
      await rt.stopContainer(id, 0);
      await rt.removeContainer(id);
      expect(lstatOrNull(link)).toBeNull();
      await rt.stopPodSandbox(lsbId);
      await rt.removePodSandbox(lsbId);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  it('applies env, working dir, user, groups, mounts, readonly rootfs, no_new_privs and dropped capabilities', async () => {
    expect((await sh('echo "$FOO"; pwd; id -u; id -g; id -G')).out.split('\n')).toEqual([
      'bar baz',
      '/tmp',
      '1000',
      '1000',
      '1000 65534',
    ]);
    expect((await sh('cat /data/file')).out).toBe('from-host');
    expect((await sh('touch /data/x')).exitCode).not.toBe(0);
    expect((await sh('touch /x')).exitCode).not.toBe(0);
    expect((await sh('grep -E "^(CapEff|NoNewPrivs)" /proc/self/status')).out).toMatch(
      /CapEff:\s+0000000000000000\s+NoNewPrivs:\s+1/,
    );
  });

  it('writes DNS settings, extra hosts, hostname and sysctls into the pod', async () => {
    const resolv = (await sh('cat /etc/resolv.conf')).out;
    expect(resolv).toContain('nameserver 10.96.0.10');
    expect(resolv).toContain('search contract.svc.cluster.local');
    expect(resolv).toContain('options ndots:5');
    const hosts = (await sh('cat /etc/hosts')).out;
    expect(hosts).toMatch(/^10\.1\.2\.3\s+foo\.example$/m);
    expect(hosts).toMatch(/^10\.1\.2\.3\s+bar$/m);
    expect((await sh('hostname')).out).toBe('cfg-host');
    expect((await sh('cat /proc/sys/net/ipv4/ping_group_range')).out).toMatch(/^0\s+2147483647$/);
  });

  it('maps the host port to the pod (loopback only)', async () => {
    const body = await waitFor('httpd through the host port', async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${hostPort}/`);
        return await res.text();
      } catch {
        return undefined;
      }
    });
    expect(body).toContain('nodelet testbox');
  });

  it('sets cgroup limits, stop signal and log rotation; floors oom_score_adj when it cannot lower it', async () => {
    const info = await docker.getContainer(appId).inspect();
    expect(info.HostConfig).toMatchObject({
      Memory: 64 << 20,
      MemorySwap: 64 << 20,
      CpuShares: 512,
      CpuQuota: 50_000,
      CpuPeriod: 100_000,
      PidsLimit: 100,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } },
    });
    expect(info.HostConfig.OomScoreAdj).toBeGreaterThanOrEqual(-500);
    expect((info.Config as { StopSignal?: string }).StopSignal).toBe('SIGQUIT');
    expect(info.Name).toBe(`/k8s_web_cfg-pod_contract_${sb.metadata.uid}_0`);
    const pause = await docker.getContainer(sbId).inspect();
    expect(pause.Name).toBe(`/k8s_POD_cfg-pod_contract_${sb.metadata.uid}_0`);
    expect(pause.Config.Labels?.['io.kubernetes.docker.type']).toBe('podsandbox');
    expect(info.Config.Labels?.['io.kubernetes.sandbox.id']).toBe(sbId);
    expect(info.Config.Labels?.['annotation.io.kubernetes.container.hash']).toBe('h1');
  });

  it('lists sandboxes and containers with metadata from a fresh runtime (agent restart)', async () => {
    const fresh = new DockerRuntime({ socketPath: DOCKER_SOCKET });
    try {
      const [s] = await fresh.listPodSandboxes({ labelSelector: { 'io.kubernetes.pod.uid': sb.metadata.uid } });
      expect(s).toMatchObject({ id: sbId, metadata: sb.metadata, state: 'ready' });
      const [c] = await fresh.listContainers({ podSandboxId: sbId });
      expect(c).toMatchObject({
        id: appId,
        metadata: { name: 'web', attempt: 0 },
        state: 'running',
        annotations: { 'io.kubernetes.container.hash': 'h1' },
      });
      expect(c?.labels['io.kubernetes.docker.type']).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });

  it('reports the image config user of the pause image', async () => {
    expect(await rt.imageStatus(PAUSE_IMAGE)).toMatchObject({ user: '65535:65535', repoTags: expect.arrayContaining([PAUSE_IMAGE]) });
  });

  it('follows logs with timestamps until the container exits', async () => {
    const cfg = containerConfig('logger', sb, LABEL, { command: ['sh', '-c', 'echo one; sleep 1; echo two >&2'] });
    const id = await rt.createContainer(sbId, cfg, sb);
    await rt.startContainer(id);
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString();
        cb();
      },
    });
    await rt.readLogs(id, { follow: true, timestamps: true }, out);
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z one\n\d{4}-\d\d-\d\dT[\d:.]+Z two\n$/);
    let limited = '';
    await rt.readLogs(id, { limitBytes: 2 }, new Writable({ write: (c: Buffer, _e, cb) => ((limited += c.toString()), cb()) }));
    expect(limited).toBe('on');
  });

  it('reports NetworkReady from the named network (present: bridge; missing: NetworkPluginNotReady)', async () => {
    const ready = (await rt.status()).conditions.find((c) => c.type === 'NetworkReady');
    expect(ready).toMatchObject({ status: true });
    // 'bridg' matches 'bridge' as a substring in Docker's name filter: only the exact name counts.
    const missing = new DockerRuntime({ socketPath: DOCKER_SOCKET, networkName: 'bridg' });
    const cond = (await missing.status()).conditions.find((c) => c.type === 'NetworkReady');
    expect(cond).toMatchObject({ status: false, reason: 'NetworkPluginNotReady', message: 'docker: network plugin is not ready: network bridg not found' });
  });
});
