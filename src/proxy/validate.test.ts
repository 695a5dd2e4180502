import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FakeClock } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { defaultProxyConfig } from './config.js';
import { createProxy, type ProxyRoleInternals } from './role.js';
import { FakeProxyHost } from './testing/fake-host.js';
import { FakeInformer } from './testing/fake-informer.js';
import { endpointsOf, newNftHarness } from './nft/testing.js';
import { serviceProblems, sliceProblems } from './validate.js';

const slice = (addresses: string[], port = 8080): EndpointSliceObject => ({
  metadata: { namespace: 'ns', name: 'a-1', labels: { 'kubernetes.io/service-name': 'a' } },
  addressType: 'IPv4',
  ports: [{ name: '', port, protocol: 'TCP' }],
  endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
});
const service = (externalIPs: string[] = []): ServiceObject => ({
  metadata: { namespace: 'ns', name: 'a' },
  spec: { clusterIP: '10.96.1.1', clusterIPs: ['10.96.1.1'], externalIPs, ports: [{ port: 80, protocol: 'TCP' }] },
});

describe('serviceProblems / sliceProblems', () => {
  it('names each bad field', () => {
    const svc: ServiceObject = {
      metadata: { namespace: 'ns', name: 'a' },
      spec: { clusterIP: '10.96.0.300', externalIPs: ['1.2.3.4', 'nope'], ports: [{ port: 70000 }, { port: 80, protocol: 'ICMP', nodePort: -1 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } },
    };
    expect(serviceProblems(svc)).toEqual([
      'spec.clusterIP: "10.96.0.300" is not an IP',
      'spec.externalIPs[1]: "nope" is not an IP',
      'spec.ports[0].port: 70000 is not a port',
      'spec.ports[1].protocol: "ICMP" is not TCP, UDP or SCTP',
      'spec.ports[1].nodePort: -1 is not a port',
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is not in 1..86400',
    ]);
    expect(serviceProblems({ metadata: { name: 'ok' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } })).toEqual([]);
    expect(sliceProblems(slice(['10.244.1.1', 'fd00::1', '10.244.1.999'], 0))).toEqual([
      'ports[0].port: 0 is not a port',
      'endpoints[1].addresses[0]: "fd00::1" is not an IPv4 address',
      'endpoints[2].addresses[0]: "10.244.1.999" is not an IPv4 address',
    ]);
  });
});

describe('the valid parts of an invalid EndpointSlice (nftables proxier)', () => {
  it('are programmed by a partial sync', async () => {
    const h = newNftHarness();
    h.load([service()], [slice(['10.244.1.1'])]);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice(['10.244.1.2', 'not-an-ip']), false);
    expect(await h.proxier.sync()).toMatchObject({ kind: 'partial', ok: true });
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.1.1', destPort: 80 })).endpoints).toBe('10.244.1.2:8080');
  });
});

for (const mode of ['iptables', 'nftables'] as const) {
  describe(`invalid Services and EndpointSlices through the role (${mode} mode)`, () => {
    let role: ProxyRoleInternals | undefined;
    afterEach(async () => role?.stop());

    it('counts each invalid object once per event (also on a dual-stack node), logs it and programs its valid parts', async () => {
      const cfg = defaultProxyConfig();
      cfg.mode = mode;
      cfg.clusterCIDR = '10.244.0.0/16,fd00:244::/64';
      cfg.healthzBindAddress = '';
      cfg.metricsBindAddress = '127.0.0.1:0';
      cfg.iptables.minSyncPeriod = '0s';
      const clock = new FakeClock();
      const settle = async (): Promise<void> => {
        clock.advance(0);
        for (let i = 0; i < 200; i++) await Promise.resolve();
      };
      // The role's warn lines, as pino writes them.
      const lines: { msg: string; service?: string; endpointSlice?: string; problems?: string[] }[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) });
      const host = new FakeProxyHost();
      const services = new FakeInformer<ServiceObject>([service(['203.0.113.7', 'not-an-ip'])]);
      const slices = new FakeInformer<EndpointSliceObject>([slice(['10.244.1.2', 'not-an-ip'])]);
      role = createProxy({ config: cfg, informers: { services, endpointSlices: slices }, nodeName: 'kpnode', nodeIPs: ['192.168.99.2', 'fd00::2'], logger, host, clock });
      await role.start();
      await settle();
      expect(role.proxiers).toHaveLength(2);
      const counts = async (): Promise<Record<string, number>> =>
        Object.fromEntries((await role!.metrics.invalidObjects.get()).values.map((v) => [String(v.labels.kind), v.value]));
      expect(await counts()).toEqual({ service: 1, endpointslice: 1 });
      expect(lines.filter((l) => l.msg.startsWith('Skipping')).map((l) => [l.msg, l.service ?? l.endpointSlice, l.problems])).toEqual([
        ['Skipping the invalid parts of a Service', 'ns/a', ['spec.externalIPs[1]: "not-an-ip" is not an IP']],
        ['Skipping the invalid parts of an EndpointSlice', 'ns/a-1', ['endpoints[1].addresses[0]: "not-an-ip" is not an IPv4 address']],
      ]);
      // The valid parts are programmed: the good endpoint and the good external IP; the bad ones appear nowhere.
      const written =
        mode === 'iptables' ? (host.iptablesByFamily.get('IPv4')?.dump('nat') ?? '') : (host.nftByFamily.get('IPv4')?.transactions.flat().join('\n') ?? '');
      expect(written).toContain('10.244.1.2');
      expect(written).toContain('203.0.113.7');
      expect(written).not.toContain('not-an-ip');
      // Another invalid update counts again; a valid one and deletions do not.
      slices.set(slice(['10.244.1.3', 'still-not-an-ip']));
      services.set(service());
      services.remove('ns/a');
      slices.remove('ns/a-1');
      await settle();
      expect(await counts()).toEqual({ service: 1, endpointslice: 2 });
      // Served under the same name in both modes.
      const text = await (await fetch(`http://127.0.0.1:${role.metricsPort}/metrics`)).text();
      expect(text).toContain('kubeproxy_sync_proxy_rules_invalid_objects_total{kind="endpointslice"} 2');
    });
  });
}
