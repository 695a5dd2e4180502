import { beforeAll, describe, expect, it } from 'vitest';
import { newHarness, NODE_IP } from './testing/harness.js';
import { referenceDump, referenceObjects } from './testing/reference.js';

const POD = '10.244.0.5';
const OUTSIDE = '203.0.113.99';

describe('reference case set (kube-proxy v1.24 dump, current layout)', () => {
  const h = newHarness();
  beforeAll(async () => {
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    const r = await h.proxier.sync();
    expect(r).toMatchObject({ kind: 'full', ok: true });
  });
  const trace = (destIP: string, destPort: number, sourceIP = POD, extra: { protocol?: 'udp'; fromNode?: boolean } = {}) =>
    h.tracer.trace({ sourceIP, destIP, destPort, ...extra });

  it('uses exactly kube-proxy chain names: every SVC/SEP/FW hash of the reference dump exists', () => {
    const ours = new Set(h.ipt.chains('nat').map((c) => c.replace(/^KUBE-(SVC|SVL|EXT|FW|SEP)-/, '')));
    const theirs = [...referenceDump().matchAll(/^:KUBE-(SVC|SEP|FW|XLB)-([A-Z2-7]{16}) /gm)].map((m) => m[2]);
    expect(theirs.length).toBeGreaterThan(25);
    for (const hash of theirs) expect(ours, hash).toContain(hash);
  });

  it('web: ClusterIP spreads over both endpoints; pod traffic is not masqueraded, off-cluster traffic is', () => {
    expect(trace('10.96.45.93', 80)).toEqual({ endpoints: '10.244.1.10:8080, 10.244.2.11:8080', masquerade: false });
    expect(trace('10.96.45.93', 80, OUTSIDE)).toEqual({ endpoints: '10.244.1.10:8080, 10.244.2.11:8080', masquerade: true });
    expect(h.ipt.rules('nat', 'KUBE-SVC-QPFXUWBW77EZGX4C')).toContain(
      '-A KUBE-SVC-QPFXUWBW77EZGX4C -m comment --comment "ref/web -> 10.244.1.10:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-QYEJEB33D55WTEQL',
    );
    expect(trace('10.96.45.93', 81).endpoints).toBe('');
  });

  it('np: NodePort on the node IP from outside reaches all endpoints, masqueraded', () => {
    expect(trace(NODE_IP, 30080, OUTSIDE)).toEqual({ endpoints: '10.244.1.12:8080, 10.244.9.5:8080', masquerade: true });
    expect(trace('127.0.0.1', 30080, '127.0.0.1', { fromNode: true })).toEqual({ endpoints: '10.244.1.12:8080, 10.244.9.5:8080', masquerade: true });
  });

  it('local: externalTrafficPolicy Local keeps the client IP and only uses local endpoints; pods and the node short-circuit', () => {
    expect(trace(NODE_IP, 30081, OUTSIDE)).toEqual({ endpoints: '10.244.9.6:8080', masquerade: false });
    expect(trace(NODE_IP, 30081, POD)).toEqual({ endpoints: '10.244.1.13:8080, 10.244.9.6:8080', masquerade: false });
    expect(trace(NODE_IP, 30081, NODE_IP, { fromNode: true })).toEqual({ endpoints: '10.244.1.13:8080, 10.244.9.6:8080', masquerade: true });
    expect(trace('10.96.224.196', 80)).toEqual({ endpoints: '10.244.1.13:8080, 10.244.9.6:8080', masquerade: false });
    expect(h.ipt.chains('nat')).toEqual(expect.arrayContaining(['KUBE-EXT-54LTGVRDYX33Q3VF', 'KUBE-SVL-54LTGVRDYX33Q3VF']));
  });

  it('sticky: ClientIP affinity with the configured timeout (recent module)', () => {
    const svc = h.ipt.rules('nat', 'KUBE-SVC-ZAF4JDFPXPCCU4RX');
    expect(svc.filter((r) => r.includes('-m recent --rcheck --seconds 600 --reap --name KUBE-SEP-'))).toHaveLength(2);
    expect(h.ipt.rules('nat', 'KUBE-SEP-VEOHZE2VSME3BPCI').join('\n')).toContain(
      '-m recent --set --name KUBE-SEP-VEOHZE2VSME3BPCI --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.14:8080',
    );
    expect(trace('10.96.66.35', 80).endpoints).toBe('10.244.1.14:8080, 10.244.2.15:8080');
  });

  it('empty: no endpoints → REJECT in filter KUBE-SERVICES', () => {
    expect(trace('10.96.25.197', 80)).toMatchObject({ endpoints: 'REJECT' });
    expect(h.ipt.rules('filter', 'KUBE-SERVICES')).toContain(
      '-A KUBE-SERVICES -d 10.96.25.197/32 -p tcp -m comment --comment "ref/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    );
  });

  it('udp: named UDP port', () => {
    expect(trace('10.96.6.89', 53, POD, { protocol: 'udp' }).endpoints).toBe('10.244.1.16:53, 10.244.2.17:53');
    expect(trace('10.96.6.89', 53, POD).endpoints).toBe('');
  });

  it('ext: external IP goes through KUBE-EXT and is masqueraded', () => {
    expect(trace('203.0.113.10', 80, OUTSIDE)).toEqual({ endpoints: '10.244.1.18:8080', masquerade: true });
  });

  it('lb: loadBalancerSourceRanges admit the range, everything else is dropped by KUBE-PROXY-FIREWALL', () => {
    expect(trace('198.51.100.20', 80, '192.0.2.7')).toEqual({ endpoints: '10.244.1.19:8080', masquerade: true });
    expect(trace('198.51.100.20', 80, OUTSIDE).endpoints).toBe('DROP');
    expect(trace(NODE_IP, 30082, OUTSIDE).endpoints).toBe('10.244.1.19:8080');
  });

  it('multi: each port has its own chain and endpoints', () => {
    expect(trace('10.96.229.150', 80).endpoints).toBe('10.244.1.20:8080, 10.244.2.21:8080');
    expect(trace('10.96.229.150', 443).endpoints).toBe('10.244.1.20:8443, 10.244.2.21:8443');
  });

  it('itp: internalTrafficPolicy Local only reaches node-local endpoints (KUBE-SVL)', () => {
    expect(trace('10.96.136.158', 80).endpoints).toBe('10.244.9.7:8080');
    expect(h.ipt.chains('nat')).toContain('KUBE-SVL-MS2VBCDJMANLNAFW');
  });

  it('terminating: falls back to serving-but-terminating endpoints (current upstream, 1.24 rejected)', () => {
    expect(trace('10.96.21.56', 80).endpoints).toBe('10.244.1.23:8080');
  });

  it('kubernetes: the API service', () => {
    expect(trace('10.96.0.1', 443).endpoints).toBe('172.17.0.1:6443');
  });

  it('installs the jump rules, masquerade chains and canaries', () => {
    expect(h.ipt.rules('nat', 'PREROUTING')).toEqual(['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']);
    expect(h.ipt.rules('nat', 'KUBE-MARK-MASQ')).toEqual(['-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000']);
    expect(h.ipt.rules('nat', 'KUBE-POSTROUTING').at(-1)).toContain('-j MASQUERADE --random-fully');
    for (const t of ['mangle', 'nat', 'filter'] as const) expect(h.ipt.chains(t)).toContain('KUBE-PROXY-CANARY');
    expect(h.ipt.rules('nat', 'KUBE-SERVICES').at(-1)).toContain('-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  });
});
