import { describe, expect, it } from 'vitest';
import { FakeClock, hasCode, silentLogger } from '../util/index.js';
import { defaultProxyConfig, parseDuration, parseListenAddress, resolveProxyConfig } from './config.js';
import { canonicalIP, categorizeEndpoints, mergeSlices } from './endpoints.js';
import { goTime, ProxierHealth } from './healthz.js';
import { endpointChainName, portProtoHash, serviceChainNames } from './names.js';
import { BoundedFrequencyRunner } from './runner.js';
import { servicePorts } from './serviceport.js';
import { serviceHealthBody } from './svchealth.js';
import { staleConntrackFilters } from './conntrack.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from './tracker.js';
import { CanaryMonitor } from './monitor.js';
import { FakeIptables } from './testing/fake-iptables.js';
import { cleanupIptables } from './cleanup.js';
import ipaddr from 'ipaddr.js';
import { newHarness } from './testing/harness.js';
import { referenceObjects } from './testing/reference.js';

describe('chain names', () => {
  it('match kube-proxy (sha256 → base32 → 16 chars)', () => {
    expect(portProtoHash('ref/web', 'tcp')).toBe('QPFXUWBW77EZGX4C');
    expect(serviceChainNames('ref/udp:dns', 'udp').cluster).toBe('KUBE-SVC-OBETIREJGNOEUNPG');
    expect(serviceChainNames('ref/lb', 'tcp').firewall).toBe('KUBE-FW-QE4JKGOJJC5ONJPK');
    expect(endpointChainName('default/kubernetes:https', 'tcp', '172.17.0.1:6443')).toBe('KUBE-SEP-74C57LLTW7EOQL7Q');
  });
});

describe('canonicalIP', () => {
  it('keeps dotted quads, prints the rest as ipaddr.js does, rejects non-IPs', () => {
    expect(canonicalIP('10.244.1.2')).toBe('10.244.1.2');
    expect(canonicalIP('fd00:0:0::0001')).toBe('fd00::1');
    expect(canonicalIP('010.1.1.1')).toBe(ipaddr.parse('010.1.1.1').toString());
    expect(canonicalIP('10.244.1.999')).toBeUndefined();
    expect(canonicalIP('not-an-ip')).toBeUndefined();
  });
});

describe('config', () => {
  it('has upstream defaults and resolves them', () => {
    const c = defaultProxyConfig();
    expect(c.iptables).toEqual({ masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '1s', syncPeriod: '30s', localhostNodePorts: true });
    expect(c.healthzBindAddress).toBe('0.0.0.0:10256');
    expect(c.metricsBindAddress).toBe('127.0.0.1:10249');
    const r = resolveProxyConfig({ ...c, clusterCIDR: '10.244.0.0/16' });
    expect(r).toMatchObject({ masqueradeMark: '0x4000', minSyncPeriodMs: 1000, syncPeriodMs: 30000, healthz: { host: '0.0.0.0', port: 10256 } });
    expect(r.localDetector).toEqual({ ifLocal: ['-s', '10.244.0.0/16'], ifNotLocal: ['!', '-s', '10.244.0.0/16'] });
  });
  it('names the bad field', () => {
    const bad = (mut: (c: ReturnType<typeof defaultProxyConfig>) => void): unknown => {
      const c = defaultProxyConfig();
      mut(c);
      try {
        resolveProxyConfig(c);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(bad((c) => (c.iptables.masqueradeBit = 32))).toMatchObject({ code: 'CONFIG_INVALID', field: 'iptables.masqueradeBit' });
    expect(bad((c) => (c.iptables.syncPeriod = '30x'))).toMatchObject({ field: 'iptables.syncPeriod' });
    expect(bad((c) => (c.iptables.minSyncPeriod = '1m'))).toMatchObject({ field: 'iptables.minSyncPeriod' });
    expect(bad((c) => (c.clusterCIDR = '10.0.0.0/33'))).toMatchObject({ field: 'clusterCIDR' });
    expect(bad((c) => (c.detectLocalMode = 'BridgeInterface'))).toMatchObject({ field: 'detectLocal.bridgeInterface' });
    expect(hasCode(bad((c) => (c.healthzBindAddress = 'nope')), 'CONFIG_INVALID')).toBe(true);
  });
  it('parses durations and listen addresses', () => {
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseListenAddress('', 'x')).toBeUndefined();
    expect(parseListenAddress('[::1]:0', 'x')).toEqual({ host: '::1', port: 0 });
  });
  it('interface-based local detection', () => {
    const c = defaultProxyConfig();
    c.detectLocalMode = 'InterfaceNamePrefix';
    c.detectLocal.interfaceNamePrefix = 'veth';
    expect(resolveProxyConfig(c).localDetector.ifNotLocal).toEqual(['!', '-i', 'veth+']);
  });
});

describe('services and endpoints', () => {
  it('ignores headless, ExternalName and opted-out services', () => {
    expect(servicePorts({ metadata: { namespace: 'a', name: 'b' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } }, 'IPv4').size).toBe(0);
    expect(servicePorts({ metadata: { namespace: 'a', name: 'b' }, spec: { type: 'ExternalName', ports: [{ port: 80 }] } }, 'IPv4').size).toBe(0);
    expect(servicePorts({ metadata: { namespace: 'a', name: 'b' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }, { port: 70000 }, { port: 53, protocol: 'UDP', name: 'dns' }] } }, 'IPv4')).toHaveProperty('size', 2);
  });
  it('merges slices: first address, dedupe by ip:port, sorted, nil conditions are ready', () => {
    const eps = mergeSlices(
      [
        { addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.1', '10.0.0.9'], nodeName: 'n' }] },
        { addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.0.0.2'], conditions: { ready: false } }] },
        { addressType: 'IPv6', ports: [{ port: 80 }], endpoints: [{ addresses: ['fd00::1'] }] },
      ],
      'IPv4',
      'n',
    ).get('/tcp');
    expect(eps?.map((e) => [e.endpoint, e.ready, e.isLocal])).toEqual([
      ['10.0.0.1:80', true, true],
      ['10.0.0.2:80', true, false],
    ]);
  });
  it('terminating fallback applies separately to cluster and local sets', () => {
    const svc = [...servicePorts({ metadata: { namespace: 'a', name: 'b' }, spec: { clusterIP: '10.0.0.1', type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30000 }] } }, 'IPv4').values()][0];
    if (svc === undefined) throw new Error('no port');
    const ep = (ip: string, local: boolean, ready: boolean) => ({ ip, port: 80, endpoint: `${ip}:80`, isLocal: local, ready, serving: true, terminating: !ready });
    const c = categorizeEndpoints([ep('10.0.0.1', false, true), ep('10.0.0.2', true, false)], svc);
    expect(c.cluster.map((e) => e.ip)).toEqual(['10.0.0.1']);
    expect(c.local.map((e) => e.ip)).toEqual(['10.0.0.2']);
    expect(c.allReachable).toHaveLength(2);
  });
});

describe('change trackers', () => {
  it('drop no-ops and report (previous, current)', () => {
    const t = new ServiceChangeTracker('IPv4');
    const s = { metadata: { namespace: 'a', name: 'b' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] } };
    expect(t.update('a/b', s)).toBe(true);
    expect(t.update('a/b', undefined)).toBe(false);
    expect(t.pending).toBe(0);
    t.update('a/b', s);
    expect(t.apply()).toHaveLength(1);
    expect(t.update('a/b', structuredClone(s))).toBe(false);
    const e = new EndpointsChangeTracker('IPv4', 'n', () => 0);
    const sl = { metadata: { namespace: 'a', name: 'b-1', labels: { 'kubernetes.io/service-name': 'b' } }, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [{ addresses: ['10.1.1.1'] }] };
    expect(e.update(sl, false)).toBe(true);
    expect(e.update(sl, true)).toBe(false);
    expect(e.update({ metadata: { name: 'x' } }, false)).toBe(false);
    // First sight of an object with nothing to program (no ports / no endpoints) is no change either.
    expect(t.update('a/none', { metadata: { namespace: 'a', name: 'none' }, spec: { clusterIP: '10.0.0.2', ports: [] } })).toBe(false);
    expect(e.update({ ...sl, metadata: { ...sl.metadata, name: 'b-2', labels: { 'kubernetes.io/service-name': 'empty' } }, endpoints: [] }, false)).toBe(false);
    e.update(sl, false);
    e.apply();
    expect(e.update({ ...sl, endpoints: [{ addresses: ['10.1.1.2'] }] }, false)).toBe(true);
  });
});

describe('BoundedFrequencyRunner', () => {
  it('runs at once up to the burst, then rate-limits to minInterval, and periodically', async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const r = new BoundedFrequencyRunner({ fn: async () => void runs.push(clock.monotonic()), minIntervalMs: 1000, maxIntervalMs: 30000, burst: 2, clock });
    r.start();
    const flush = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    r.run();
    await flush(0);
    r.run();
    await flush(0);
    r.run();
    await flush(0);
    expect(runs).toEqual([0, 0]);
    await flush(1000);
    expect(runs).toEqual([0, 0, 1000]);
    await flush(30000);
    expect(runs).toEqual([0, 0, 1000, 31000]);
    r.stop();
    await flush(60000);
    expect(runs).toHaveLength(4);
  });
});

describe('health', () => {
  it('is unhealthy when a queued update is older than the timeout', () => {
    const clock = new FakeClock();
    const h = new ProxierHealth(clock, 60000);
    h.updated();
    h.queued();
    clock.advance(59000);
    expect(h.status().healthy).toBe(true);
    clock.advance(2000);
    expect(h.status().healthy).toBe(false);
    h.updated();
    expect(h.status().healthy).toBe(true);
    expect(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02 03:04:05.006 +0000 UTC');
  });
  it('service health body matches kube-proxy', () => {
    expect(JSON.parse(serviceHealthBody('ns/svc', 2, true))).toEqual({ service: { namespace: 'ns', name: 'svc' }, localEndpoints: 2, serviceProxyHealthy: true });
  });
});

describe('conntrack', () => {
  it('deletes UDP entries for removed endpoints and for services that got their first endpoint', () => {
    const ports = servicePorts({ metadata: { namespace: 'a', name: 'dns' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] } }, 'IPv4');
    const ep = (ip: string) => ({ ip, port: 53, endpoint: `${ip}:53`, isLocal: false, ready: true, serving: true, terminating: false });
    const f = staleConntrackFilters([], [{ name: 'a/dns', previous: new Map([['/udp', [ep('10.1.0.1'), ep('10.1.0.2')]]]), current: new Map([['/udp', [ep('10.1.0.2')]]]) }], () => ports);
    expect(f).toEqual([{ kind: 'origDst', ip: '10.96.0.10', dnat: '10.1.0.1' }]);
    const g = staleConntrackFilters([], [{ name: 'a/dns', previous: undefined, current: new Map([['/udp', [ep('10.1.0.2')]]]) }], () => ports);
    expect(g).toEqual([{ kind: 'origDst', ip: '10.96.0.10' }]);
  });
});

describe('canary monitor and cleanup', () => {
  it('detects a flushed nat table and forces a full sync', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    let lost = 0;
    const m = new CanaryMonitor({ iptables: h.ipt, clock: h.clock, intervalMs: 1000, logger: silentLogger(), onLost: () => lost++ });
    expect(await m.check()).toBe(true);
    h.ipt.flushTable('nat');
    expect(await m.check()).toBe(false);
    expect(lost).toBe(1);
  });
  it('cleanup removes every KUBE chain and jump, including KUBE-FIREWALL, but keeps other rules', async () => {
    const h = newHarness();
    await h.ipt.restore('*nat\n:DOCKER - [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT\n', { noflush: true });
    await h.ipt.restore('*filter\n-A INPUT -s 10.9.9.9/32 -j ACCEPT\nCOMMIT\n', { noflush: true });
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    expect(h.ipt.chains('filter')).toContain('KUBE-FIREWALL');
    expect(h.ipt.rules('filter', 'INPUT')).toContain('-A INPUT -j KUBE-FIREWALL');
    expect(await cleanupIptables(h.ipt, silentLogger())).toBe(true);
    expect(h.ipt.chains('nat').filter((c) => c.startsWith('KUBE-'))).toEqual([]);
    expect(h.ipt.rules('nat', 'PREROUTING')).toEqual(['-A PREROUTING -j DOCKER']);
    expect(h.ipt.chains('filter').filter((c) => c.startsWith('KUBE-'))).toEqual([]);
    expect(h.ipt.rules('filter', 'INPUT')).toEqual(['-A INPUT -s 10.9.9.9/32 -j ACCEPT']);
    expect(h.ipt.rules('filter', 'OUTPUT')).toEqual([]);
    expect(h.ipt.chains('mangle')).not.toContain('KUBE-PROXY-CANARY');
  });
  it('cleanup of a node without iptables-mode rules reads one dump and runs nothing else', async () => {
    const ipt = new FakeIptables();
    await ipt.restore('*nat\n:DOCKER - [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT\n*filter\n-A INPUT -s 10.9.9.9/32 -j ACCEPT\nCOMMIT\n', { noflush: true });
    const calls: string[] = [];
    const counted = new Proxy(ipt, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(`${String(prop)}(${typeof args[0] === 'string' ? args[0] : ''})`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    expect(await cleanupIptables(counted, silentLogger())).toBe(true);
    expect(calls).toEqual(['save()']);
    expect(ipt.rules('nat', 'PREROUTING')).toEqual(['-A PREROUTING -j DOCKER']);
  });
  it('cleanup keeps KUBE-FIREWALL and foreign jumps to it when another rule still references it', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    await h.ipt.restore('*filter\n-A FORWARD -s 10.9.9.9/32 -j KUBE-FIREWALL\nCOMMIT\n', { noflush: true });
    expect(await cleanupIptables(h.ipt, silentLogger())).toBe(true);
    expect(h.ipt.chains('filter').filter((c) => c.startsWith('KUBE-'))).toEqual(['KUBE-FIREWALL']);
    expect(h.ipt.rules('filter', 'FORWARD')).toEqual(['-A FORWARD -s 10.9.9.9/32 -j KUBE-FIREWALL']);
    expect(h.ipt.rules('filter', 'INPUT')).toEqual([]);
    expect(h.ipt.rules('filter', 'OUTPUT')).toEqual([]);
  });
  it('FakeIptables rejects what the kernel rejects', async () => {
    const f = new FakeIptables();
    await expect(f.restore('*nat\n-A KUBE-NOPE -j ACCEPT\nCOMMIT\n', { noflush: true })).rejects.toMatchObject({ code: 'IPTABLES_FAILED', line: 2 });
    await expect(f.restore('*nat\n:A - [0:0]\n-A A -j KUBE-MISSING\nCOMMIT\n', { noflush: true })).rejects.toMatchObject({ line: 3 });
    await f.restore('*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\nCOMMIT\n', { noflush: true });
    await expect(f.restore('*nat\n-X KUBE-B\nCOMMIT\n', { noflush: true })).rejects.toThrow(/not empty|referenced/);
    expect(f.chains('nat')).toContain('KUBE-B');
  });
});

describe('kernel snapshot', () => {
  it('streams iptables-save lines into chain digests that ignore the kernel probability rounding', async () => {
    const { SnapshotBuilder, rulesDigest } = await import('./snapshot.js');
    const rendered = ['-A KUBE-SVC-X -m statistic --mode random --probability 0.2000000000 -j KUBE-SEP-A', '-A KUBE-SVC-X -j KUBE-SEP-B'];
    const b = new SnapshotBuilder();
    for (const l of ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SVC-X - [0:0]', ':KUBE-SEP-A - [0:0]', '-A PREROUTING -j KUBE-SERVICES', '-A KUBE-SVC-X -m statistic --mode random --probability 0.20000000019 -j KUBE-SEP-A', '-A KUBE-SVC-X -j KUBE-SEP-B', 'COMMIT']) b.line(l);
    const snap = b.done();
    expect(snap.natDigests.get('KUBE-SVC-X')).toBe(rulesDigest(rendered));
    expect(snap.natDigests.get('KUBE-SEP-A')).toBe(rulesDigest([]));
    expect(snap.natDigests.get('KUBE-SVC-X')).not.toBe(rulesDigest(rendered.slice(1)));
    expect(snap.nat.rules.get('PREROUTING')).toEqual(['-A PREROUTING -j KUBE-SERVICES']);
  });
});
