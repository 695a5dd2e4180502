/**
 * CriRuntime against a PRIVATE containerd 1.6 speaking CRI v1 (scripts/ensure-containerd.sh: own root, state,
 * socket, CNI bridge nlctr0 on 10.213.140.0/24, images copied from the shared Docker engine): the shared runtime
 * contract (src/cri/contract.ts), then how CRI settings land in a container. The instance is started once in
 * beforeAll and stopped by PID afterwards (with its tasks, mounts, bridge and directory), also on failure.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRuntimeContract } from '../../src/cri/contract.js';
import { containerConfig, sandboxConfig } from '../../src/cri/contract-fixtures.js';
import { CriRuntime } from '../../src/cri/containerd/index.js';
import { containerdMissing, importTinyImage, startPrivateContainerd, type PrivateContainerd } from '../../src/cri/containerd/testing.js';
import { PAUSE_IMAGE, type PodSandboxConfig } from '../../src/cri/index.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-containerd' };
const missing = containerdMissing();
let instance: PrivateContainerd | undefined;
const inst = (): PrivateContainerd => {
  if (instance === undefined) throw new Error('containerd is not running');
  return instance;
};

if (missing !== undefined) {
  describe('CriRuntime on containerd', () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
} else {
  beforeAll(async () => {
    // NL_CTR_BRIDGE/SUBNET let a second engineer run this file next to the first without sharing a bridge.
    instance = await startPrivateContainerd({ bridge: process.env.NL_CTR_BRIDGE ?? 'nlctr0', subnet: process.env.NL_CTR_SUBNET ?? '10.213.140.0/24' });
  }, 120_000);
  afterAll(async () => {
    await instance?.stop();
  }, 60_000);

  runRuntimeContract(
    'CriRuntime (containerd)',
    async () => ({
      runtime: new CriRuntime({ socketPath: inst().socketPath, podLogsRoot: join(inst().dir, 'pods'), eventPollIntervalMs: 200 }),
      cleanup: async () => undefined,
    }),
    {
      testLabel: TEST_LABEL,
      runtimeName: 'containerd',
      realKernel: true,
      takesPodCIDRs: true,
      makeUnavailable: () => new CriRuntime({ socketPath: '/tmp/nodelet-no-such-containerd.sock' }),
      makeRemovableImage: () => importTinyImage(inst().socketPath, 'localhost/nodelet/cri-contract-tmp:1'),
    },
  );

  describe('CriRuntime settings on containerd', () => {
    const LABEL = { 'io.nodelet.test': 'cri-containerd-config' };
    let rt: CriRuntime;
    let sb: PodSandboxConfig;
    let sbId = '';
    let appId = '';
    let data = '';

    beforeAll(async () => {
      rt = new CriRuntime({ socketPath: inst().socketPath });
      data = join(inst().dir, 'data');
      mkdirSync(data, { recursive: true });
      chmodSync(data, 0o755);
      writeFileSync(join(data, 'file'), 'from-host\n');
      writeFileSync(join(data, 'hosts'), '127.0.0.1 localhost\n10.1.2.3 foo.example bar\n');
      sb = sandboxConfig('cfg-pod', LABEL, {
        hostname: 'cfg-host',
        logDirectory: join(inst().dir, 'pods', 'cfg'),
        dnsConfig: { servers: ['10.96.0.10'], searches: ['contract.svc.cluster.local'], options: ['ndots:5'] },
        linux: {
          namespaceOptions: { network: 'pod', pid: 'container', ipc: 'pod' },
          hostsPath: join(data, 'hosts'),
          sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' },
        },
      });
      sbId = await rt.runPodSandbox(sb);
      const cfg = containerConfig('web', sb, LABEL, {
        command: ['sleep', 'infinity'],
        envs: [{ key: 'FOO', value: 'bar baz' }],
        workingDir: '/tmp',
        mounts: [{ hostPath: data, containerPath: '/data', readonly: true }],
        annotations: { 'io.kubernetes.container.hash': 'h1' },
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
      cfg.linux.resources = { memoryLimitInBytes: 64 << 20, cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, oomScoreAdj: -500 };
      appId = await rt.createContainer(sbId, cfg, sb);
      await rt.startContainer(appId);
    }, 60_000);

    afterAll(async () => {
      if (sbId !== '') await rt.removePodSandbox(sbId);
      await rt.close();
    });

    const sh = async (script: string): Promise<{ exitCode: number; out: string }> => {
      const r = await rt.execSync(appId, ['sh', '-c', script], 10);
      return { exitCode: r.exitCode, out: (r.stdout + r.stderr).trim() };
    };

    it('applies env (with the image PATH), working dir, user, groups, mounts, readonly rootfs, no_new_privs, caps', async () => {
      expect((await sh('echo "$FOO"; echo "$PATH"; pwd; id -u; id -g; id -G')).out.split('\n')).toEqual([
        'bar baz',
        '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '/tmp',
        '1000',
        '1000',
        '1000 65534',
      ]);
      expect((await sh('cat /data/file')).out).toBe('from-host');
      expect((await sh('touch /data/x')).exitCode).not.toBe(0);
      expect((await sh('touch /x')).exitCode).not.toBe(0);
      expect((await sh('grep -E "^(CapEff|NoNewPrivs)" /proc/self/status')).out).toMatch(/CapEff:\s+0000000000000000\s+NoNewPrivs:\s+1/);
    });

    it('writes DNS settings, the kubelet hosts file, hostname and sysctls into the pod; masks /proc paths', async () => {
      const resolv = (await sh('cat /etc/resolv.conf')).out;
      expect(resolv).toContain('nameserver 10.96.0.10');
      expect(resolv).toContain('search contract.svc.cluster.local');
      expect(resolv).toContain('options ndots:5');
      expect((await sh('cat /etc/hosts')).out).toMatch(/^10\.1\.2\.3 foo\.example bar$/m);
      expect((await sh('hostname')).out).toBe('cfg-host');
      expect((await sh('cat /proc/sys/net/ipv4/ping_group_range')).out).toMatch(/^0\s+2147483647$/);
      // Masked (upstream's default list): /dev/null is bound over it.
      expect((await sh('ls -l /proc/keys')).out).toMatch(/^c.*\s1,\s+3\s/);
    });

    it('sets cgroup limits', async () => {
      const mem = await sh('cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max');
      expect(mem.out).toBe(String(64 << 20));
      const cpu = await sh('cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max');
      expect(cpu.out).toBe('50000');
    });

    it('lists sandboxes and containers with metadata and annotations from a fresh runtime (agent restart)', async () => {
      const fresh = new CriRuntime({ socketPath: inst().socketPath });
      try {
        const [s] = await fresh.listPodSandboxes({ labelSelector: { 'io.kubernetes.pod.uid': sb.metadata.uid } });
        expect(s).toMatchObject({ id: sbId, metadata: sb.metadata, state: 'ready' });
        const [c] = await fresh.listContainers({ podSandboxId: sbId });
        expect(c).toMatchObject({ id: appId, metadata: { name: 'web', attempt: 0 }, state: 'running', annotations: { 'io.kubernetes.container.hash': 'h1' } });
        expect(await fresh.containerStatus(appId)).toMatchObject({ podSandboxId: sbId, logPath: join(sb.logDirectory ?? '', 'web/0.log') });
      } finally {
        await fresh.close();
      }
    });

    it('reports the image config user of the pause image', async () => {
      expect(await rt.imageStatus(PAUSE_IMAGE)).toMatchObject({ user: '65535:65535', repoTags: [PAUSE_IMAGE] });
    });

    it('follows logs with timestamps until the container exits, and limits bytes', async () => {
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
      rmSync(join(sb.logDirectory ?? '', 'logger'), { recursive: true, force: true });
    });
  });
}
