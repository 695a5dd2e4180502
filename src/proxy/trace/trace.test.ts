import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newHarness, NODE_IP } from '../testing/harness.js';
import { referenceDump, referenceObjects } from '../testing/reference.js';
import { runTrace, type TraceSource } from './cli.js';
import { traceIptables } from './iptables-trace.js';
import { traceTablesFromJSON } from './nft-json.js';
import { traceNft } from './nft-trace.js';
import { summarize } from './packet.js';

/** A live ruleset of upstream kube-proxy v1.33.3 in nftables mode (nft -j list table ip kube-proxy), node IP 10.214.7.2. */
const UPSTREAM = readFileSync(new URL('testdata/kube-proxy-v1.33.3-nft.json', import.meta.url), 'utf8');
const KP_NODE = '10.214.7.2';

describe('nft tracer over a real upstream kube-proxy ruleset (JSON)', () => {
  const tables = traceTablesFromJSON(UPSTREAM, 'kube-proxy');
  const t = (sourceIP: string, destIP: string, destPort: number, o: { protocol?: 'tcp' | 'udp'; fromNode?: boolean } = {}) =>
    traceNft(tables, { sourceIP, destIP, destPort, protocol: o.protocol ?? 'tcp', ...(o.fromNode === true ? { fromNode: true } : {}) }, { localIPs: [KP_NODE] });

  it('understands every expression of the layout', () => {
    expect(tables).toHaveLength(1);
    expect(tables[0]?.chains.get('nat-prerouting')?.hook).toEqual({ type: 'nat', hook: 'prerouting', priority: -100 });
    expect(t('10.214.7.9', '10.96.144.103', 80).unknown).toEqual([]);
  });

  it('a working VIP: both endpoints, 50% each, masqueraded from outside the cluster CIDR', () => {
    expect(summarize(t('10.214.7.9', '10.96.144.103', 80))).toBe('10.214.7.100:8080 masqueraded 50.0%, 10.214.7.101:8080 masqueraded 50.0%');
    expect(summarize(t('10.244.1.1', '10.96.144.103', 80))).toBe('10.214.7.100:8080 50.0%, 10.214.7.101:8080 50.0%');
  });

  it('a VIP without endpoints is rejected, naming the service', () => {
    const r = t('10.214.7.9', '10.96.102.108', 81, { protocol: 'udp' });
    expect(r.paths).toMatchObject([{ outcome: 'rejected', reason: 'nl7-probe/empty: @no-endpoint-services', probability: 1 }]);
    expect(r.paths[0]?.steps.map((s) => s.chain)).toContain('reject-chain');
  });

  it('ITP Local without a local endpoint drops ClusterIP traffic; its NodePort (ETP Cluster) still works', () => {
    expect(t('10.214.7.9', '10.96.194.32', 80).paths).toMatchObject([{ outcome: 'dropped', reason: 'nl7-probe/web2:http: @no-endpoint-services' }]);
    expect(summarize(t('10.214.7.9', KP_NODE, 30540))).toBe('10.214.7.102:8080 masqueraded 100.0%');
  });

  it('ETP Local NodePort: only the local endpoint, client IP kept; LB source ranges enforced', () => {
    expect(summarize(t('10.214.7.9', KP_NODE, 32280))).toBe('10.214.7.100:8080 100.0%');
    expect(summarize(t('10.214.7.9', '10.214.7.201', 80))).toBe('10.214.7.100:8080 100.0%');
    expect(summarize(t('10.214.7.99', '10.214.7.201', 80))).toBe('dropped (@firewall-ips) 100.0%');
  });

  it('an unallocated ClusterIP in the service CIDR is dropped, a wrong port on a ClusterIP rejected', () => {
    expect(t('10.214.7.9', '10.96.9.9', 80).paths).toMatchObject([{ outcome: 'dropped', reason: 'Drop traffic to unallocated ClusterIPs' }]);
    expect(t('10.214.7.9', '10.96.144.103', 81).paths).toMatchObject([{ outcome: 'rejected', reason: 'Reject traffic to invalid ports of ClusterIPs' }]);
  });
});

describe('iptables tracer over iptables-save', () => {
  it('agrees with the test PacketTracer on the reference rules, and gives probabilities', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    const save = await h.ipt.save();
    let n = 0;
    for (const svc of services) {
      for (const p of svc.spec?.ports ?? []) {
        const proto = (p.protocol ?? 'TCP').toLowerCase() as 'tcp' | 'udp';
        for (const [dst, port] of [[svc.spec?.clusterIP ?? '', p.port ?? 0], ...(p.nodePort !== undefined ? [[NODE_IP, p.nodePort] as const] : [])] as const) {
          for (const src of ['10.244.0.5', '192.168.99.10']) {
            const pkt = { sourceIP: src, destIP: dst, destPort: port, protocol: proto };
            const a = h.tracer.trace(pkt);
            const r = traceIptables(save, pkt, { localIPs: [NODE_IP] });
            expect(r.paths.reduce((s, x) => s + x.probability, 0)).toBeCloseTo(1, 9);
            const eps = [...new Set(r.paths.filter((x) => x.outcome === 'accepted' && x.dnat !== undefined).map((x) => x.dnat))].sort().join(', ');
            const v = [...new Set(r.paths.filter((x) => x.outcome !== 'accepted').map((x) => (x.outcome === 'rejected' ? 'REJECT' : 'DROP')))].sort().join(', ');
            expect(eps === '' ? v : eps, `${svc.metadata?.name ?? ''} ${src} ${dst}:${port}`).toBe(a.endpoints);
            n++;
          }
        }
      }
    }
    expect(n).toBeGreaterThan(30);
  });

  it('reads the upstream reference iptables-save: 1/3 per endpoint, reasons for REJECT', () => {
    const save = referenceDump();
    const web = traceIptables(save, { sourceIP: '10.0.0.9', destIP: '10.96.45.93', destPort: 80, protocol: 'tcp' }, { localIPs: [] });
    expect(web.paths.filter((p) => p.dnat !== undefined).every((p) => p.masquerade)).toBe(true);
    const empty = traceIptables(save, { sourceIP: '10.0.0.9', destIP: '10.96.25.197', destPort: 80, protocol: 'tcp' }, { localIPs: [] });
    expect(empty.paths).toMatchObject([{ outcome: 'rejected', reason: 'ref/empty has no endpoints', probability: 1 }]);
  });
});

describe('nodelet trace (CLI)', () => {
  const src = (nft?: string, save?: string): TraceSource => ({
    nftRuleset: () => Promise.resolve(nft),
    iptablesSave: () => Promise.resolve(save),
    localIPs: () => Promise.resolve([KP_NODE]),
  });

  it('prints the outcome, the endpoints with probabilities and the path', async () => {
    const out: string[] = [];
    expect(await runTrace(['--src', '10.214.7.9', '--dst', '10.96.144.103', '--dport', '80'], (s) => out.push(s), src(UPSTREAM))).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('nftables mode:');
    expect(text).toContain(' 50.0%  DNAT to 10.214.7.100:8080, masqueraded');
    expect(text).toContain('[prerouting] services: 10.96.144.103 . tcp . 80 found in @service-ips: goto service-FGFGEZY3-nl7-probe/web/tcp/http');
  });

  it('explains a reject and a no-local-endpoints drop', async () => {
    const out: string[] = [];
    await runTrace(['--src', '10.214.7.9', '--dst', '10.96.102.108', '--dport', '81', '--proto', 'udp'], (s) => out.push(s), src(UPSTREAM));
    expect(out.join('\n')).toContain('100.0%  REJECTED: nl7-probe/empty: @no-endpoint-services');
  });

  it('traces both modes when both have rules; fails clearly when none has', async () => {
    const out: string[] = [];
    expect(await runTrace(['--src', '10.0.0.9', '--dst', '10.96.25.197', '--dport', '80', '--json'], (s) => out.push(s), src(UPSTREAM, referenceDump()))).toBe(0);
    const j = JSON.parse(out.join('\n')) as { traces: { mode: string }[] };
    expect(j.traces.map((t) => t.mode)).toEqual(['nftables', 'iptables']);
    const err: string[] = [];
    expect(await runTrace(['--src', '10.0.0.9', '--dst', '10.96.25.197', '--dport', '80'], (s) => err.push(s), src(undefined, undefined))).toBe(1);
    expect(err.join('')).toMatch(/no proxy rules found/);
    expect(await runTrace(['--src', 'x', '--dst', '10.96.25.197', '--dport', '80'], (s) => err.push(s), src(UPSTREAM))).toBe(1);
  });
});
