import { describe, expect, it } from 'vitest';
import type { EndpointSliceObject, EndpointSpec, ServiceObject } from './apitypes.js';
import { categorizeEndpoints, mergeSlices } from './endpoints.js';
import { servicePorts } from './serviceport.js';
import { newHarness } from './testing/harness.js';
import { canUseZoneHints, topologyRequested } from './topology.js';

const VIP = '10.96.7.7';
const AUTO = { 'service.kubernetes.io/topology-mode': 'Auto' };

function service(annotations: Record<string, string> = AUTO, spec: Partial<NonNullable<ServiceObject['spec']>> = {}): ServiceObject {
  return { metadata: { namespace: 'topo', name: 'web', annotations }, spec: { clusterIP: VIP, ports: [{ port: 80, protocol: 'TCP' }], ...spec } };
}

/** Endpoint `10.244.0.<n>` hinted for `zones` (none = no hints); ready unless said otherwise. */
function ep(n: number, zones: string[] | undefined, ready = true, nodeName = 'other'): EndpointSpec {
  return {
    addresses: [`10.244.0.${n}`],
    nodeName,
    conditions: { ready, serving: ready, terminating: false },
    ...(zones === undefined ? {} : { hints: { forZones: zones.map((name) => ({ name })) } }),
  };
}

function slice(endpoints: EndpointSpec[]): EndpointSliceObject {
  return {
    metadata: { namespace: 'topo', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints,
  };
}

/** Where a pod's connection to the VIP can land, with the node in `zone`. */
async function reach(svc: ServiceObject, endpoints: EndpointSpec[], zone: string | undefined): Promise<string> {
  const h = newHarness();
  h.proxier.onNodeLabels(zone === undefined ? {} : { 'topology.kubernetes.io/zone': zone });
  h.load([svc], [slice(endpoints)]);
  expect((await h.proxier.sync()).ok).toBe(true);
  return h.tracer.trace({ sourceIP: '10.244.9.9', destIP: VIP, destPort: 80 }).endpoints;
}

const ALL = '10.244.0.1:8080, 10.244.0.2:8080, 10.244.0.3:8080';

describe('topology-aware hints (upstream CategorizeEndpoints)', () => {
  it('uses only the endpoints hinted for the node zone when every ready endpoint has a hint', async () => {
    const eps = [ep(1, ['zone-a']), ep(2, ['zone-b']), ep(3, ['zone-a', 'zone-c'])];
    expect(await reach(service(), eps, 'zone-a')).toBe('10.244.0.1:8080, 10.244.0.3:8080');
    expect(await reach(service(), eps, 'zone-b')).toBe('10.244.0.2:8080');
    expect(await reach(service(), eps, 'zone-c')).toBe('10.244.0.3:8080');
  });

  it('falls back to all endpoints when a ready endpoint lacks a hint, the zone has none, or the node has no zone', async () => {
    expect(await reach(service(), [ep(1, ['zone-a']), ep(2, undefined), ep(3, ['zone-b'])], 'zone-a')).toBe(ALL);
    expect(await reach(service(), [ep(1, ['zone-b']), ep(2, ['zone-b']), ep(3, ['zone-c'])], 'zone-a')).toBe(ALL);
    expect(await reach(service(), [ep(1, ['zone-a']), ep(2, ['zone-b']), ep(3, ['zone-a'])], undefined)).toBe(ALL);
  });

  it('ignores hints of services that do not ask for topology-aware routing', async () => {
    const eps = [ep(1, ['zone-a']), ep(2, ['zone-b']), ep(3, ['zone-b'])];
    expect(await reach(service({}), eps, 'zone-a')).toBe(ALL);
    expect(await reach(service({ 'service.kubernetes.io/topology-mode': 'Disabled', 'service.kubernetes.io/topology-aware-hints': 'Auto' }), eps, 'zone-a')).toBe(ALL);
    expect(await reach(service({ 'service.kubernetes.io/topology-aware-hints': 'auto' }), eps, 'zone-a')).toBe('10.244.0.1:8080');
    expect(await reach(service({}, { trafficDistribution: 'PreferClose' }), eps, 'zone-a')).toBe('10.244.0.1:8080');
  });

  it('a not-ready endpoint without a hint does not disable hints; terminating fallback ignores hints', async () => {
    expect(await reach(service(), [ep(1, ['zone-a']), ep(2, undefined, false), ep(3, ['zone-b'])], 'zone-a')).toBe('10.244.0.1:8080');
    const terminating: EndpointSpec[] = [1, 2].map((n) => ({ ...ep(n, [n === 1 ? 'zone-a' : 'zone-b'], false), conditions: { ready: false, serving: true, terminating: true } }));
    expect(await reach(service(), terminating, 'zone-a')).toBe('10.244.0.1:8080, 10.244.0.2:8080');
  });

  it('internalTrafficPolicy Local ignores hints (node-local endpoints only)', async () => {
    const eps = [ep(1, ['zone-b'], true, 'kpnode'), ep(2, ['zone-a']), ep(3, ['zone-a'])];
    expect(await reach(service(AUTO, { internalTrafficPolicy: 'Local' }), eps, 'zone-a')).toBe('10.244.0.1:8080');
  });

  it('a change of the node zone label re-renders the service in the next sync', async () => {
    const h = newHarness();
    h.proxier.onNodeLabels({ 'topology.kubernetes.io/zone': 'zone-a' });
    h.load([service()], [slice([ep(1, ['zone-a']), ep(2, ['zone-b'])])]);
    await h.proxier.sync();
    const trace = (): string => h.tracer.trace({ sourceIP: '10.244.9.9', destIP: VIP, destPort: 80 }).endpoints;
    expect(trace()).toBe('10.244.0.1:8080');
    h.proxier.onNodeLabels({ 'topology.kubernetes.io/zone': 'zone-b', other: 'x' });
    expect(await h.proxier.sync()).toMatchObject({ kind: 'partial', ok: true });
    expect(trace()).toBe('10.244.0.2:8080');
    // Other label changes are no-ops.
    h.proxier.onNodeLabels({ 'topology.kubernetes.io/zone': 'zone-b' });
    expect(h.ipt.restores.length).toBe(2);
  });

  it('pure helpers: requested modes and the all-hinted rule', () => {
    expect(topologyRequested(service({ 'service.kubernetes.io/topology-mode': 'auto' }))).toBe(true);
    expect(topologyRequested(service({ 'service.kubernetes.io/topology-mode': 'Other' }))).toBe(false);
    expect(canUseZoneHints([], 'zone-a')).toBe(false);
    expect(canUseZoneHints([{ ready: true, zoneHints: ['zone-a'] }], '')).toBe(false);
    const eps = mergeSlices([slice([ep(1, ['zone-a']), ep(2, ['zone-b'])])], 'IPv4', 'kpnode').get('/tcp') ?? [];
    const port = [...servicePorts(service(), 'IPv4').values()][0];
    if (port === undefined) throw new Error('no port');
    expect(categorizeEndpoints(eps, port, 'zone-b').cluster.map((e) => e.ip)).toEqual(['10.244.0.2']);
    expect(categorizeEndpoints(eps, port).cluster.map((e) => e.ip)).toEqual(['10.244.0.1', '10.244.0.2']);
  });
});
