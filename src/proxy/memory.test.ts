import { describe, expect, it } from 'vitest';
import type { KubeConfig } from '../api/kubeconfig.js';
import type { ApiRequest, ApiTransport } from '../api/client.js';
import { createInformer } from '../api/informer.js';
import { silentLogger } from '../util/index.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { mergeSlices } from './endpoints.js';
import { buildRestoreData } from './restore-data.js';
import { servicePorts } from './serviceport.js';
import { SnapshotBuilder, rulesDigest } from './snapshot.js';
import { newHarness } from './testing/harness.js';
import { referenceObjects } from './testing/reference.js';
import { trimEndpointSlice, trimNode, trimService } from './trim.js';
import { renderTop } from './render-top.js';
import type { ServiceRules } from './render-service.js';

describe('informer transforms', () => {
  it('trimmed objects give the same ports and endpoints as the originals, without the bulk', () => {
    const { services, slices } = referenceObjects();
    for (const s of services) {
      const fat: ServiceObject = { ...s, metadata: { ...s.metadata, uid: 'u1', resourceVersion: '7', labels: { app: 'x' } } };
      (fat.metadata as Record<string, unknown>)['managedFields'] = [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }];
      const thin = trimService(fat);
      expect(JSON.stringify([...servicePorts(thin, 'IPv4')])).toBe(JSON.stringify([...servicePorts(fat, 'IPv4')]));
      expect(thin.metadata).toMatchObject({ uid: 'u1', resourceVersion: '7' });
      expect(JSON.stringify(thin)).not.toContain('managedFields');
      expect(thin.metadata?.labels).toBeUndefined();
    }
    for (const s of slices) {
      const fat = { ...s, endpoints: (s.endpoints ?? []).map((e) => ({ ...e, targetRef: { kind: 'Pod', name: 'p', uid: 'x' } })) } as EndpointSliceObject;
      const thin = trimEndpointSlice(fat);
      expect(JSON.stringify([...mergeSlices([thin], 'IPv4', 'kpnode')])).toBe(JSON.stringify([...mergeSlices([fat], 'IPv4', 'kpnode')]));
      expect(JSON.stringify(thin)).not.toContain('targetRef');
      expect(thin.metadata?.labels?.['kubernetes.io/service-name']).toBe(s.metadata?.labels?.['kubernetes.io/service-name']);
    }
    expect(trimNode({ metadata: { name: 'n', labels: { 'topology.kubernetes.io/zone': 'z', big: 'y' } } }).metadata?.labels).toEqual({ 'topology.kubernetes.io/zone': 'z' });
  });

  it('the informer caches and delivers transformed objects (listed and watched)', async () => {
    const fat = (name: string, rv: string): EndpointSliceObject =>
      ({ metadata: { namespace: 'ns', name, resourceVersion: rv, managedFields: [{ manager: 'x' }] }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod' } }] }) as unknown as EndpointSliceObject;
    let watched = false;
    const client: ApiTransport = {
      request: <T>(): Promise<T> => Promise.resolve({ kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [fat('a', '1')] } as T),
      stream: (req: ApiRequest, onLine: (v: unknown) => void): Promise<void> =>
        new Promise((resolve) => {
          if (!watched) onLine({ type: 'ADDED', object: fat('b', '2') });
          watched = true;
          req.signal?.addEventListener('abort', () => resolve());
        }),
    };
    const inf = createInformer<EndpointSliceObject>({} as KubeConfig, { path: '/apis/discovery.k8s.io/v1/endpointslices' }, silentLogger(), { client, transform: trimEndpointSlice });
    const delivered: string[] = [];
    const watchedAdd = new Promise<void>((resolve) => {
      inf.addHandlers({
        onAdd: (o) => {
          delivered.push(JSON.stringify(o));
          if (o.metadata?.name === 'b') resolve();
        },
      });
    });
    inf.start();
    await watchedAdd;
    inf.stop();
    expect(delivered).toHaveLength(2);
    for (const text of [...delivered, ...inf.list().map((o) => JSON.stringify(o))]) {
      expect(text).not.toMatch(/managedFields|targetRef/);
      expect(text).toContain('10.0.0.1');
    }
  });

  it('bad shapes pass through without throwing', () => {
    expect(() => trimService({ spec: null } as unknown as ServiceObject)).not.toThrow();
    expect(() => trimEndpointSlice({ endpoints: [null] } as unknown as EndpointSliceObject)).not.toThrow();
  });
});

describe('kernel snapshot digests', () => {
  it('a chain whose rules are not contiguous in the dump matches no rendered digest', () => {
    const b = new SnapshotBuilder();
    for (const l of ['*nat', ':KUBE-SVC-X - [0:0]', ':KUBE-SEP-A - [0:0]', '-A KUBE-SVC-X -j KUBE-SEP-A', '-A KUBE-SEP-A -j ACCEPT', '-A KUBE-SVC-X -j KUBE-SEP-B', 'COMMIT']) b.line(l);
    const snap = b.done();
    expect(snap.natDigests.get('KUBE-SEP-A')).toBe(rulesDigest(['-A KUBE-SEP-A -j ACCEPT']));
    expect(snap.natDigests.get('KUBE-SVC-X')).not.toBe(rulesDigest(['-A KUBE-SVC-X -j KUBE-SEP-A', '-A KUBE-SVC-X -j KUBE-SEP-B']));
    expect(snap.natDigests.get('KUBE-SVC-X')).not.toBe(rulesDigest(['-A KUBE-SVC-X -j KUBE-SEP-A']));
  });
});

describe('lazy restore input', () => {
  it('produces transactions on demand and releases each batch after turning it into text', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    const released: string[] = [];
    const rules = [...h.proxier.services.services().keys()].map((n, i): [string, ServiceRules] => {
      const r: ServiceRules = { natServices: [], natNodePorts: [], filterServices: [], filterExternal: [], filterNodePorts: [], filterFirewall: [], natChains: new Map(), noLocalInternal: false, noLocalExternal: false };
      r.natChains.set(`KUBE-SVC-${i}`, [`-A KUBE-SVC-${i} -j ACCEPT`]);
      return [n, r];
    });
    const top = renderTop({ family: 'IPv4', masqueradeMark: '0x4000', randomFully: true, localhostNodePorts: false, tcpBeLiberal: false, nodePortIPs: undefined });
    // A first sync into an empty kernel: every chain is new, so the batches may create them.
    const data = buildRestoreData({ services: rules, top, write: 'all', full: true, staleNatChains: [], jumps: [], canary: false, batchSize: 2, release: (n) => released.push(n), existingNatChain: () => false });
    const it = data.chunks[Symbol.iterator]();
    expect(it.next().value).toMatch(/^\*nat\n:KUBE-MARK-MASQ/); // header
    expect(released).toEqual([]);
    it.next(); // first batch
    expect(released).toHaveLength(2);
    for (let n = it.next(); n.done !== true; n = it.next());
    expect(released).toHaveLength(rules.length);
    expect(data.transactions).toBeGreaterThan(3);
    expect(data.natRules).toBeGreaterThanOrEqual(rules.length);
  });

  it('a full sync rewrites only the service whose chain was changed behind its back', async () => {
    const h = newHarness();
    const { services, slices } = referenceObjects();
    h.load(services, slices);
    await h.proxier.sync();
    const sep = h.ipt.chains('nat').find((c) => c.startsWith('KUBE-SEP-')) ?? '';
    await h.ipt.restore(`*nat\n:${sep} - [0:0]\n-A ${sep} -j RETURN\nCOMMIT\n`, { noflush: true });
    h.proxier.forceFullSync();
    expect(await h.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    const written = (h.ipt.restores.at(-1) ?? '').split('\n').filter((l) => /^:KUBE-SVC-/.test(l));
    expect(written).toHaveLength(1);
    expect(h.ipt.rules('nat', sep).join('\n')).toContain('DNAT');
  });

  it('bulk renders (> 100 services) render chain lines again while writing, with the same result', async () => {
    const svc = (i: number): ServiceObject => ({ metadata: { namespace: 'bulk', name: `s${i}` }, spec: { clusterIP: `10.97.0.${i}`, ports: [{ port: 80, protocol: 'TCP' }] } });
    const sl = (i: number, ips: string[]): EndpointSliceObject => ({
      metadata: { namespace: 'bulk', name: `s${i}-1`, labels: { 'kubernetes.io/service-name': `s${i}` } },
      addressType: 'IPv4',
      ports: [{ name: '', port: 8080, protocol: 'TCP' }],
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    });
    const idx = Array.from({ length: 150 }, (_, i) => i + 1);
    const h = newHarness();
    h.load(idx.map(svc), idx.map((i) => sl(i, [`10.250.${i}.1`, `10.250.${i}.2`])));
    await h.proxier.sync();
    const trace = (i: number): string => h.tracer.trace({ sourceIP: '10.244.0.5', destIP: `10.97.0.${i}`, destPort: 80 }).endpoints;
    expect(trace(7)).toBe('10.250.7.1:8080, 10.250.7.2:8080');
    expect(trace(150)).toBe('10.250.150.1:8080, 10.250.150.2:8080');
    // After a flush every service differs from the kernel: all are rendered again (deferred) and written.
    h.ipt.flushTable('nat');
    h.proxier.forceFullSync();
    expect(await h.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    expect(trace(99)).toBe('10.250.99.1:8080, 10.250.99.2:8080');
    h.proxier.onEndpointSlice(sl(99, ['10.250.99.3']), false);
    expect(await h.proxier.sync()).toMatchObject({ kind: 'partial', ok: true });
    expect(trace(99)).toBe('10.250.99.3:8080');
    expect(trace(100)).toBe('10.250.100.1:8080, 10.250.100.2:8080');
  });
});
