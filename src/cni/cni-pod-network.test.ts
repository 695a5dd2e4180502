import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniPodNetwork } from './cni-pod-network.js';
import { isCniError } from './errors.js';
import { FakeCniPlugin } from './fake-plugin.js';
import type { SandboxNetworkSpec } from './pod-network.js';
import { IPS_ANNOTATION } from './capabilities.js';

const NET = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }, { type: 'bandwidth', capabilities: { bandwidth: true } }],
});

function spec(id: string, extra: Partial<SandboxNetworkSpec> = {}): SandboxNetworkSpec {
  return { id, netns: `/proc/1${id.length}/ns/net`, namespace: 'default', name: `pod-${id}`, uid: `uid-${id}`, portMappings: [], annotations: {}, ...extra };
}

describe('CniPodNetwork', () => {
  let dir: string;
  let plugin: FakeCniPlugin;
  let net: CniPodNetwork;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl8-cni-'));
    plugin = new FakeCniPlugin({ ipv6Prefix: 'fd00:10:88::' });
    net = new CniPodNetwork({ plugin, confDir: dir });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is not ready without a config, with the upstream message, and setUp fails with no-config', async () => {
    expect(await net.status()).toEqual({ ready: false, reason: 'NetworkPluginNotReady', message: 'docker: network plugin is not ready: cni config uninitialized' });
    await expect(net.setUp(spec('a'))).rejects.toSatisfy((e: unknown) => isCniError(e, 'no-config'));
    expect(plugin.calls).toEqual([]);
  });

  it('names the broken file when the only config is bad JSON or misses a plugin binary', async () => {
    writeFileSync(join(dir, '10-bad.conflist'), '{"cniVersion": ');
    let st = await net.status();
    expect(st.ready).toBe(false);
    expect(st.message).toContain('10-bad.conflist: error parsing configuration');
    writeFileSync(join(dir, '10-bad.conflist'), NET);
    plugin.setMissing('portmap', true);
    st = await net.status();
    expect(st.message).toContain('failed to find plugin "portmap"');
    plugin.setMissing('portmap', false);
    expect((await net.status()).ready).toBe(true);
  });

  it('uses the first loadable file in lexical order, wrapping a .conf into a list', async () => {
    writeFileSync(join(dir, '20-other.conflist'), NET.replace('podnet', 'other'));
    writeFileSync(join(dir, '10-single.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'single', type: 'bridge' }));
    writeFileSync(join(dir, '05-notes.txt'), 'ignored');
    await net.setUp(spec('a'));
    expect(plugin.calls.filter((c) => c.command === 'ADD').map((c) => c.network)).toEqual(['cni-loopback', 'single']);
  });

  it('ADDs loopback then the network with the upstream CNI_ARGS and capabilities, and returns dual-stack IPs', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    const ips = await net.setUp(
      spec('abc', {
        portMappings: [
          { protocol: 'TCP', containerPort: 80, hostPort: 8080 },
          { protocol: 'UDP', containerPort: 53, hostPort: 0 },
        ],
        annotations: { 'kubernetes.io/ingress-bandwidth': '10M' },
      }),
    );
    expect(ips).toEqual(['10.88.0.2', 'fd00:10:88::2']);
    const add = plugin.calls.find((c) => c.network === 'podnet');
    expect(add?.ifName).toBe('eth0');
    expect(add?.netns).toBe('/proc/13/ns/net');
    expect(add?.args).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', 'default'],
      ['K8S_POD_NAME', 'pod-abc'],
      ['K8S_POD_INFRA_CONTAINER_ID', 'abc'],
      ['K8S_POD_UID', 'uid-abc'],
    ]);
    expect(add?.capabilityArgs).toEqual({
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      bandwidth: { ingressRate: 10_000_000, ingressBurst: 2 ** 31 - 1 },
    });
    expect(await net.podIps('abc')).toEqual(['10.88.0.2', 'fd00:10:88::2']);
  });

  it('passes the requested IPs of the pod annotation as the ips capability (main network only); a bad one fails before ADD', async () => {
    writeFileSync(join(dir, '10-net.conflist'), NET);
    await net.setUp(spec('ipsa', { annotations: { [IPS_ANNOTATION]: '["10.88.0.77/24"]' } }));
    const adds = plugin.calls.filter((c) => c.command === 'ADD');
    expect(adds.map((c) => [c.network, c.capabilityArgs['ips']])).toEqual([
      ['cni-loopback', undefined],
      ['podnet', ['10.88.0.77/24']],
    ]);
    plugin.calls.length = 0;
    await expect(net.setUp(spec('ipsb', { annotations: { [IPS_ANNOTATION]: 'not-an-ip' } }))).rejects.toSatisfy((e: unknown) => isCniError(e, 'bad-config'));
    expect(plugin.calls).toEqual([]);
  });

  it('a plugin declaring ips gets the requested addresses; a taken one fails the ADD and leaves nothing allocated', async () => {
    const withIps = JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', plugins: [{ type: 'bridge', capabilities: { ips: true } }] });
    writeFileSync(join(dir, '10-net.conflist'), withIps);
    const ask = { [IPS_ANNOTATION]: '10.88.0.77/24,fd00:10:88::77/64' };
    expect(await net.setUp(spec('ipsc', { annotations: ask }))).toEqual(['10.88.0.77', 'fd00:10:88::77']);
    expect(await net.setUp(spec('ipsd'))).toEqual(['10.88.0.2', 'fd00:10:88::2']);
    await expect(net.setUp(spec('ipse', { annotations: ask }))).rejects.toSatisfy((e: unknown) => isCniError(e, 'plugin-error'));
    expect(plugin.allocations('podnet')).toEqual(['10.88.0.2', '10.88.0.77']);
    await expect(net.setUp(spec('ipsf', { annotations: { [IPS_ANNOTATION]: '10.99.0.5/24' } }))).rejects.toThrow(/not in any range/);
  });

  it('a failed ADD releases what it allocated and throws the plugin error', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    await net.setUp(spec('ok'));
    plugin.failNext('ADD', 'portmap: iptables failed', true, 'podnet');
    await expect(net.setUp(spec('x'))).rejects.toThrow('plugin type="bandwidth" name="podnet" failed (add): portmap: iptables failed');
    expect(plugin.allocations('podnet')).toEqual(['10.88.0.2']);
    expect((await plugin.listCached()).map((a) => a.containerId)).toEqual(['ok', 'ok']);
    expect(plugin.calls.filter((c) => c.containerId === 'x').map((c) => `${c.command} ${c.network}`)).toEqual([
      'ADD cni-loopback',
      'ADD podnet',
      'DEL podnet',
      'DEL cni-loopback',
    ]);
  });

  it('tears down from the cache after a restart and with the config gone; DEL is idempotent', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    await net.setUp(spec('a'));
    rmSync(join(dir, '10-podnet.conflist'));
    const restarted = new CniPodNetwork({ plugin, confDir: dir });
    expect(await restarted.podIps('a')).toEqual(['10.88.0.2', 'fd00:10:88::2']);
    await restarted.tearDown({ id: 'a', netns: '', namespace: 'default', name: 'pod-a', uid: 'uid-a' });
    expect(plugin.allocations('podnet')).toEqual([]);
    expect(plugin.calls.filter((c) => c.command === 'DEL').map((c) => c.network)).toEqual(['podnet', 'cni-loopback']);
    await restarted.tearDown({ id: 'a', netns: '', namespace: 'default', name: 'pod-a', uid: 'uid-a' });
    expect(await restarted.podIps('a')).toEqual([]);
  });

  it('an ADD cut short (no cache entry) is released on teardown with the current config', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    await net.setUp(spec('k'));
    plugin.forgetCached('k');
    await net.tearDown({ id: 'k', netns: '', namespace: 'default', name: 'pod-k', uid: 'uid-k' });
    expect(plugin.allocations('podnet')).toEqual([]);
  });

  it('CHECKs the cached attachment and reports a broken one', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    await net.setUp(spec('c'));
    await net.check({ id: 'c', netns: '/proc/1/ns/net', namespace: 'default', name: 'pod-c', uid: 'uid-c' });
    expect(plugin.calls.filter((c) => c.command === 'CHECK').map((c) => c.network)).toEqual(['podnet']);
    plugin.breakAttachment('c');
    await expect(net.check({ id: 'c', netns: '/proc/1/ns/net', namespace: 'default', name: 'pod-c', uid: 'uid-c' })).rejects.toThrow(/failed \(check\)/);
  });

  it('garbage-collects attachments of sandboxes that are gone, never one attached while listing', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    await net.setUp(spec('live'));
    await net.setUp(spec('gone'));
    const n = await net.garbageCollect(async () => {
      await net.setUp(spec('new')); // attached after the records were read
      return new Set(['live', 'new']);
    });
    expect(n).toBe(1);
    expect((await plugin.listCached()).map((a) => a.containerId).sort()).toEqual(['live', 'live', 'new', 'new']);
    expect(plugin.allocations('podnet')).toEqual(['10.88.0.2', '10.88.0.4']);
  });

  it('garbage collection never touches records of another runtime sharing the cache', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    const containerd = new CniPodNetwork({ plugin, confDir: dir, owner: 'containerd' });
    await containerd.setUp(spec('theirs'));
    await net.setUp(spec('ours'));
    expect(await net.garbageCollect(async () => new Set())).toBe(1);
    expect((await plugin.listCached()).map((a) => `${a.containerId} ${a.owner}`)).toEqual(['theirs containerd', 'theirs containerd']);
  });

  it('serializes calls for one sandbox', async () => {
    writeFileSync(join(dir, '10-podnet.conflist'), NET);
    const up = net.setUp(spec('s'));
    const down = net.tearDown({ id: 's', netns: '', namespace: 'default', name: 'pod-s', uid: 'uid-s' });
    await Promise.all([up, down]);
    expect(plugin.calls.map((c) => `${c.command} ${c.network}`)).toEqual(['ADD cni-loopback', 'ADD podnet', 'DEL podnet', 'DEL cni-loopback']);
    expect(plugin.allocations('podnet')).toEqual([]);
  });
});
