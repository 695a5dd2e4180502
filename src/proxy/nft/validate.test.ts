import { describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import { newNftHarness, endpointsOf } from './testing.js';
import { serviceProblems, sliceProblems } from './validate.js';

const slice = (addresses: string[], port = 8080): EndpointSliceObject => ({
  metadata: { namespace: 'ns', name: 'a-1', labels: { 'kubernetes.io/service-name': 'a' } },
  addressType: 'IPv4',
  ports: [{ name: '', port, protocol: 'TCP' }],
  endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
});

describe('invalid Services and EndpointSlices (nftables mode)', () => {
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

  it('programs the valid parts, counts the invalid objects and stays partial', async () => {
    const h = newNftHarness();
    h.load([{ metadata: { namespace: 'ns', name: 'a' }, spec: { clusterIP: '10.96.1.1', ports: [{ port: 80, protocol: 'TCP' }] } }], [slice(['10.244.1.1'])]);
    await h.proxier.sync();
    h.proxier.onEndpointSlice(slice(['10.244.1.2', 'not-an-ip']), false);
    expect(await h.proxier.sync()).toMatchObject({ kind: 'partial', ok: true });
    expect(endpointsOf(h.trace({ sourceIP: '10.244.0.5', destIP: '10.96.1.1', destPort: 80 })).endpoints).toBe('10.244.1.2:8080');
    const m = await h.metrics.invalidObjects.get();
    expect(m.values).toEqual([{ value: 1, labels: { kind: 'endpointslice' } }]);
  });
});
