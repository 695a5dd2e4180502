/**
 * The Docker backend in CNI mode (nodelet as cri-dockerd) with the real plugins: loopback + bridge (nl8cni0,
 * 10.214.8.128/26, host-local) + portmap. Traffic only goes from this host to the local bridge and its own
 * addresses; the pods have no route off the machine that any test uses.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CniPodNetwork, ExecCniPlugin, isCniError } from '../../src/cni/index.js';
import { containerConfig, sandboxConfig, waitFor } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime } from '../../src/cri/index.js';
import type { PodSandboxConfig } from '../../src/cri/types.js';
import { dockerClient, DOCKER_SOCKET, removeLabelled } from '../support/docker.js';

const ROOT = '/tmp/h8/cni-docker';
const CONF_DIR = `${ROOT}/net.d`;
const CACHE_DIR = `${ROOT}/cache`;
const IPAM_DIR = `${ROOT}/ipam`;
const LABEL = { 'io.nodelet.test': 'nl8-cni-docker' };
const HOST_PORT = 20801;
const CONF = {
  cniVersion: '1.0.0',
  name: 'nl8pods',
  plugins: [
    {
      type: 'bridge',
      bridge: 'nl8cni0',
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: { type: 'host-local', dataDir: IPAM_DIR, ranges: [[{ subnet: '10.214.8.128/26' }]] },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

function runtime(checkMs = 60_000): DockerRuntime {
  const plugin = new ExecCniPlugin({ binDirs: ['/opt/cni/bin', '/usr/lib/cni'], cacheDir: CACHE_DIR });
  return new DockerRuntime({ socketPath: DOCKER_SOCKET, podNetwork: new CniPodNetwork({ plugin, confDir: CONF_DIR }), networkCheckIntervalMs: checkMs });
}

function allocations(): string[] {
  const d = `${IPAM_DIR}/nl8pods`;
  return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
}

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(process.getuid?.() !== 0)('DockerRuntime with CNI (real plugins)', () => {
  const rt = runtime();
  const sandboxes: string[] = [];

  async function start(name: string, extra: Partial<PodSandboxConfig> = {}): Promise<{ id: string; cfg: PodSandboxConfig }> {
    const cfg = sandboxConfig(name, LABEL, extra);
    const id = await rt.runPodSandbox(cfg);
    sandboxes.push(id);
    return { id, cfg };
  }

  beforeAll(async () => {
    await removeLabelled(dockerClient(), 'io.nodelet.test', 'nl8-cni-docker');
    rmSync(ROOT, { recursive: true, force: true });
    mkdirSync(CONF_DIR, { recursive: true });
    writeFileSync(`${CONF_DIR}/10-nl8pods.conflist`, JSON.stringify(CONF));
  });

  afterAll(async () => {
    // DEL through the runtime first (portmap's iptables rules, host-local's files), then force-remove leftovers.
    for (const id of sandboxes) await rt.removePodSandbox(id).catch(() => undefined);
    await rt.close();
    await removeLabelled(dockerClient(), 'io.nodelet.test', 'nl8-cni-docker');
    try {
      execFileSync('ip', ['link', 'del', 'nl8cni0'], { stdio: 'ignore' });
    } catch {
      // not there
    }
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('reports NetworkReady from the CNI config', async () => {
    const st = await rt.status();
    expect(st.conditions.find((c) => c.type === 'NetworkReady')).toEqual({ type: 'NetworkReady', status: true, reason: '', message: '' });
  });

  it('attaches the sandbox (network none + CNI ADD): pod IP from the result, reachable, hostPort via portmap', async () => {
    const { id, cfg } = await start('web', { portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort: HOST_PORT }] });
    const info = await dockerClient().getContainer(id).inspect();
    expect(info.HostConfig.NetworkMode).toBe('none');
    const st = await rt.podSandboxStatus(id);
    expect(st.ip).toMatch(/^10\.214\.8\.(1[3-8]\d|19[01])$/);
    expect(allocations()).toEqual([st.ip]);
    expect(readdirSync(`${CACHE_DIR}/results`).sort()).toEqual([`cni-loopback-${id}-lo`, `nl8pods-${id}-eth0`]);
    const c = await rt.createContainer(id, containerConfig('httpd', cfg, LABEL, { command: ['sh', '-c', 'mkdir -p /w && echo hello-cni > /w/index.html && httpd -f -p 8080 -h /w'] }), cfg);
    await rt.startContainer(c);
    expect(await waitFor('pod answers on its IP', () => get(st.ip, 8080).catch(() => undefined))).toContain('hello-cni');
    // hostPort: DNAT by portmap for traffic to a local address (the bridge's gateway address).
    expect(await waitFor('hostPort answers', () => get('10.214.8.129', HOST_PORT).catch(() => undefined))).toContain('hello-cni');
    // lo is up inside the pod (loopback plugin).
    const lo = await rt.execSync(c, ['wget', '-q', '-O-', '-T', '2', 'http://127.0.0.1:8080/'], 10);
    expect(lo.stdout).toContain('hello-cni');
    await rt.stopPodSandbox(id);
    expect(allocations()).toEqual([]);
    expect(readdirSync(`${CACHE_DIR}/results`)).toEqual([]);
    await expect(get('10.214.8.129', HOST_PORT)).rejects.toThrow();
    await rt.stopPodSandbox(id);
    await rt.removePodSandbox(id);
  });

  it('a restarted agent knows the IP from the cache and releases it on removal; a vanished sandbox is garbage-collected', async () => {
    const { id } = await start('restart');
    const ip = (await rt.podSandboxStatus(id)).ip;
    const restarted = runtime();
    try {
      expect((await restarted.podSandboxStatus(id)).ip).toBe(ip);
      await restarted.removePodSandbox(id);
      expect(allocations()).toEqual([]);
      const { id: gone } = await start('vanishes');
      expect(allocations()).toHaveLength(1);
      await dockerClient().getContainer(gone).remove({ force: true });
      expect(await restarted.releaseStaleNetworks()).toBe(1);
      expect(allocations()).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it('CHECK finds a broken attachment and the sandbox turns not ready', async () => {
    const checking = runtime(1);
    try {
      const { id } = await start('check');
      expect((await checking.podSandboxStatus(id)).state).toBe('ready');
      const pid = (await dockerClient().getContainer(id).inspect()).State.Pid;
      execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'del', 'eth0']);
      // The CHECK runs at most once per 1 ms interval: wait for the status to say so instead of sleeping past it.
      await vi.waitFor(async () => expect((await checking.podSandboxStatus(id)).state).toBe('notready'), { timeout: 5_000, interval: 5 });
      await checking.removePodSandbox(id);
      expect(allocations()).toEqual([]);
    } finally {
      await checking.close();
    }
  });

  it('a broken config fails the sandbox with the plugin error, leaves nothing behind, and turns NetworkReady false', async () => {
    writeFileSync(`${CONF_DIR}/10-nl8pods.conflist`, JSON.stringify({ ...CONF, plugins: [{ ...CONF.plugins[0], ipam: { type: 'host-local', dataDir: IPAM_DIR, ranges: [[{ subnet: 'not-a-subnet' }]] } }] }));
    try {
      const before = await dockerClient().listContainers({ all: true, filters: { label: ['io.nodelet.test=nl8-cni-docker'] } });
      const err = await rt.runPodSandbox(sandboxConfig('broken', LABEL)).catch((e: unknown) => e);
      expect(isCniError(err)).toBe(true);
      expect(String(err)).toMatch(/plugin type="bridge" name="nl8pods" failed \(add\)/);
      const after = await dockerClient().listContainers({ all: true, filters: { label: ['io.nodelet.test=nl8-cni-docker'] } });
      expect(after.length).toBe(before.length);
      expect(allocations()).toEqual([]);
      writeFileSync(`${CONF_DIR}/10-nl8pods.conflist`, '{ bad json');
      const net = (await rt.status()).conditions.find((c) => c.type === 'NetworkReady');
      expect(net?.status).toBe(false);
      expect(net?.reason).toBe('NetworkPluginNotReady');
      expect(net?.message).toMatch(/^docker: network plugin is not ready: cni config uninitialized: 10-nl8pods.conflist: error parsing/);
    } finally {
      writeFileSync(`${CONF_DIR}/10-nl8pods.conflist`, JSON.stringify(CONF));
    }
  });
});
