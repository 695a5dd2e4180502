/**
 * The `ips` capability with the real plugins (Debian's containernetworking-plugins): a pod annotation asking for
 * specific addresses reaches host-local and static IPAM through runtimeConfig, and only when the plugin entry
 * declares `capabilities: {ips: true}`. Everything runs inside this suite's network namespaces (ip6-*): the plugins
 * themselves run in the "node" namespace (its bridge ip6br0 lives there), the pods in their own. Nothing is sent.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PluginInvocation, PluginOutput } from '../../src/cni/exec.js';
import { CniPodNetwork, ExecCniPlugin, IPS_ANNOTATION } from '../../src/cni/index.js';

const ROOT = '/tmp/ip6-cni-ips';
const NODE_NS = 'ip6-ips-node';
const PODS = ['ip6-ips-a', 'ip6-ips-b', 'ip6-ips-c'];
const BIN_DIRS = ['/opt/cni/bin', '/usr/lib/cni'];

function delNs(ns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

/** Runs the plugin binary inside the node namespace, so the bridge and the host-side veths stay there. */
function runInNode(inv: PluginInvocation): Promise<PluginOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NODE_NS, inv.path], { env: inv.env, stdio: ['pipe', 'pipe', 'pipe'], timeout: inv.timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
    child.stdin.end(inv.stdin);
  });
}

function podAddrs(ns: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'ip', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
}

function writeNet(dir: string, bridgeCaps: Record<string, boolean> | undefined, ipam: Record<string, unknown>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bridge = { type: 'bridge', bridge: 'ip6br0', isGateway: true, ipMasq: false, ...(bridgeCaps === undefined ? {} : { capabilities: bridgeCaps }), ipam };
  writeFileSync(`${dir}/10-ip6.conflist`, JSON.stringify({ cniVersion: '1.0.0', name: 'ip6net', plugins: [bridge] }));
}

describe.skipIf(process.getuid?.() !== 0)('ips capability with the real plugins (network namespaces)', () => {
  const plugin = new ExecCniPlugin({ binDirs: BIN_DIRS, cacheDir: `${ROOT}/cache`, run: runInNode });
  const hostLocal = { type: 'host-local', dataDir: `${ROOT}/ipam`, ranges: [[{ subnet: '10.215.1.0/24' }], [{ subnet: 'fd15:0:0:1::/64' }]] };

  beforeAll(() => {
    for (const ns of [NODE_NS, ...PODS]) delNs(ns);
    rmSync(ROOT, { recursive: true, force: true });
    execFileSync('ip', ['netns', 'add', NODE_NS]);
    execFileSync('ip', ['netns', 'exec', NODE_NS, 'ip', 'link', 'set', 'lo', 'up']);
    for (const ns of PODS) execFileSync('ip', ['netns', 'add', ns]);
  });

  afterAll(() => {
    for (const ns of [...PODS, NODE_NS]) delNs(ns);
    rmSync(ROOT, { recursive: true, force: true });
  });

  const sandbox = (i: number, annotations: Record<string, string>) => ({
    id: `ip6ips${i}`,
    netns: `/run/netns/${PODS[i]}`,
    namespace: 'ns',
    name: `p${i}`,
    uid: `u${i}`,
    portMappings: [],
    annotations,
  });

  it('host-local assigns the requested dual-stack addresses when the plugin declares ips, and releases them on DEL', async () => {
    const confDir = `${ROOT}/net-hl`;
    writeNet(confDir, { ips: true }, hostLocal);
    const net = new CniPodNetwork({ plugin, confDir });
    const sb = sandbox(0, { [IPS_ANNOTATION]: '["10.215.1.77/24", "fd15:0:0:1::77/64"]' });
    try {
      expect(await net.setUp(sb)).toEqual(['10.215.1.77', 'fd15:0:0:1::77']);
      const addrs = podAddrs(PODS[0]!);
      expect(addrs).toMatch(/inet 10\.215\.1\.77\/24/);
      expect(addrs).toMatch(/inet6 fd15:0:0:1::77\/64/);
      const cached = await plugin.cached('ip6net', sb.id, 'eth0');
      expect(cached?.capabilityArgs['ips']).toEqual(['10.215.1.77/24', 'fd15:0:0:1::77/64']);
    } finally {
      await net.tearDown(sb);
    }
    expect(execFileSync('ls', [`${ROOT}/ipam/ip6net`], { encoding: 'utf8' })).not.toContain('10.215.1.77');
  });

  it('without the capability declared the plugin never sees the request: host-local allocates as usual', async () => {
    const confDir = `${ROOT}/net-nocap`;
    writeNet(confDir, undefined, hostLocal);
    const net = new CniPodNetwork({ plugin, confDir });
    const sb = sandbox(1, { [IPS_ANNOTATION]: '10.215.1.77/24' });
    try {
      const ips = await net.setUp(sb);
      expect(ips[0]).toMatch(/^10\.215\.1\.\d+$/);
      expect(ips[0]).not.toBe('10.215.1.77');
    } finally {
      await net.tearDown(sb);
    }
  });

  it('static IPAM takes its address from the ips capability', async () => {
    const confDir = `${ROOT}/net-static`;
    writeNet(confDir, { ips: true }, { type: 'static' });
    const net = new CniPodNetwork({ plugin, confDir });
    const sb = sandbox(2, { [IPS_ANNOTATION]: '10.215.1.99/24' });
    try {
      expect(await net.setUp(sb)).toEqual(['10.215.1.99']);
      expect(podAddrs(PODS[2]!)).toMatch(/inet 10\.215\.1\.99\/24/);
    } finally {
      await net.tearDown(sb);
    }
  });
});
