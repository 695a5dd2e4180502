import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApiServer, type TestApiServer } from './index.js';
import { raw, watchLines } from './testing.js';

let s: TestApiServer;
const NS = '/api/v1/namespaces/default';

beforeAll(async () => {
  s = await startTestApiServer();
});
afterAll(() => s.stop());

describe('services (31/32)', () => {
  it('allocates a ClusterIP and NodePorts with upstream defaults', async () => {
    const r = await raw(s, 'POST', `${NS}/services`, { body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'demo' }, ports: [{ port: 80, targetPort: 'http' }] } } });
    expect(r.status).toBe(201);
    const spec = r.body.spec;
    expect(spec.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(spec.ports[0]).toEqual({ protocol: 'TCP', port: 80, targetPort: 'http', nodePort: expect.any(Number) });
    expect(spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    expect(spec).toMatchObject({ type: 'NodePort', sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' });
    expect(r.body.status).toEqual({ loadBalancer: {} });
    const sticky = await raw(s, 'POST', `${NS}/services`, {
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'sticky' }, spec: { selector: { app: 'demo' }, sessionAffinity: 'ClientIP', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53, protocol: 'TCP' }] } },
    });
    expect(sticky.body.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    expect(sticky.body.spec.ports[0]).toEqual({ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 });
    expect(sticky.body.spec.externalTrafficPolicy).toBeUndefined();
    const taken = await raw(s, 'POST', `${NS}/services`, { body: { metadata: { name: 'dup' }, spec: { clusterIP: spec.clusterIP, ports: [{ port: 1 }] } } });
    expect(taken.status).toBe(422);
    expect(taken.body.message).toContain('provided IP is already allocated');
    // an update that omits clusterIP keeps it (kubectl apply does this)
    const upd = await raw(s, 'PATCH', `${NS}/services/web`, { contentType: 'application/strategic-merge-patch+json', body: { spec: { ports: [{ port: 80, targetPort: 8080 }] } } });
    expect(upd.body.spec.clusterIP).toBe(spec.clusterIP);
    expect(upd.body.spec.ports).toEqual([{ protocol: 'TCP', port: 80, targetPort: 8080, nodePort: spec.ports[0].nodePort }]);
    const bad = await raw(s, 'POST', `${NS}/services`, { body: { metadata: { name: '1bad' }, spec: { ports: [{ port: 1 }] } } });
    expect(bad.status).toBe(422);
  });

  it('keeps default/kubernetes pointing at itself', async () => {
    const svc = (await raw(s, 'GET', `${NS}/services/kubernetes`)).body;
    expect(svc.spec.clusterIP).toBe('10.96.0.1');
    const es = (await raw(s, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).body;
    expect(es.ports[0].port).toBe(s.port);
  });
});

describe('EndpointSlice and Endpoints controllers', () => {
  it('publish ready, serving and terminating endpoints from pods', async () => {
    await raw(s, 'POST', `${NS}/services`, { body: { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] } } });
    const podBody = { metadata: { name: 'api-1', labels: { app: 'api' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1', ports: [{ name: 'web', containerPort: 8080 }] }] } };
    await raw(s, 'POST', `${NS}/pods`, { body: podBody });
    const slices = async (): Promise<Record<string, unknown>[]> =>
      (await raw(s, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dapi')).body.items;
    await vi.waitFor(async () => expect(await slices()).toHaveLength(1));
    expect((await slices())[0]).toMatchObject({ addressType: 'IPv4', endpoints: [], metadata: { generateName: 'api-', labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } } });
    await raw(s, 'PATCH', `${NS}/pods/api-1/status`, { contentType: 'application/strategic-merge-patch+json', body: { status: { podIP: '10.244.1.2', conditions: [{ type: 'Ready', status: 'True' }] } } });
    await vi.waitFor(async () => expect((await slices())[0]?.endpoints).toHaveLength(1));
    const uid = (await raw(s, 'GET', `${NS}/pods/api-1`)).body.metadata.uid;
    expect((await slices())[0]).toMatchObject({
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: [{ addresses: ['10.244.1.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'api-1', uid } }],
    });
    const ep = (await raw(s, 'GET', `${NS}/endpoints/api`)).body;
    expect(ep.subsets).toEqual([{ ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], addresses: [{ ip: '10.244.1.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'api-1', uid } }] }]);
    await raw(s, 'DELETE', `${NS}/pods/api-1`);
    await vi.waitFor(async () => expect((await slices())[0]?.endpoints).toMatchObject([{ conditions: { ready: false, serving: true, terminating: true } }]));
    await vi.waitFor(async () => expect((await raw(s, 'GET', `${NS}/endpoints/api`)).body.subsets).toEqual([]));
    await raw(s, 'DELETE', `${NS}/pods/api-1?gracePeriodSeconds=0`);
    await vi.waitFor(async () => expect((await slices())[0]?.endpoints).toEqual([]));
    await raw(s, 'DELETE', `${NS}/services/api`);
    await vi.waitFor(async () => expect(await slices()).toEqual([]));
    await vi.waitFor(async () => expect((await raw(s, 'GET', `${NS}/endpoints/api`)).status).toBe(404));
  });
});

describe('leases, nodes, events, tokens, configmaps', () => {
  it('34/35: Lease times must be MicroTime', async () => {
    const ok = await raw(s, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-11-22T05:07:51.000000Z' } } });
    expect(ok.status).toBe(201);
    expect(ok.body.spec.renewTime).toBe('2026-11-22T05:07:51.000000Z');
    const bad = await raw(s, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n2' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-11-22T05:07:51.000Z' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Lease in version "v1" cannot be handled as a Lease: parsing time "2026-11-22T05:07:51.000Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".000Z" as ".000000"');
  });

  it('36/37: a node gets the not-ready taint until it reports Ready', async () => {
    const n = await raw(s, 'POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'rec-node', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } } } });
    expect(n.body.spec.taints).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    expect(n.body.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 0 } });
    const st = await raw(s, 'PATCH', '/api/v1/nodes/rec-node/status', {
      contentType: 'application/strategic-merge-patch+json',
      body: { status: { addresses: [{ type: 'InternalIP', address: '172.17.0.1' }, { type: 'Hostname', address: 'rec-node' }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } },
    });
    expect(st.status).toBe(200);
    await vi.waitFor(async () => expect((await raw(s, 'GET', '/api/v1/nodes/rec-node')).body.spec).toEqual({}));
    const node = (await raw(s, 'GET', '/api/v1/nodes/rec-node')).body;
    expect(node.metadata.labels['beta.kubernetes.io/os']).toBe('linux');
    expect(node.metadata.annotations['node.alpha.kubernetes.io/ttl']).toBe('0');
    const again = await raw(s, 'PATCH', '/api/v1/nodes/rec-node/status', { contentType: 'application/strategic-merge-patch+json', body: { status: { addresses: [{ type: 'Hostname', address: 'renamed' }] } } });
    expect(again.body.status.addresses).toEqual([{ type: 'InternalIP', address: '172.17.0.1' }, { type: 'Hostname', address: 'renamed' }]);
  });

  it('38: events get Go zero values; describe-style field selectors work', async () => {
    const ev = await raw(s, 'POST', `${NS}/events`, {
      body: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'p1.17a' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'p1', uid: 'u1' }, reason: 'Pulled', message: 'm', source: { component: 'kubelet', host: 'n' }, count: 1, type: 'Normal' },
    });
    expect(ev.body).toMatchObject({ eventTime: null, reportingComponent: '', reportingInstance: '' });
    const sel = await raw(s, 'GET', `${NS}/events?fieldSelector=involvedObject.name%3Dp1%2CinvolvedObject.namespace%3Ddefault%2CinvolvedObject.uid%3Du1`);
    expect(sel.body.items).toHaveLength(1);
  });

  it('39: TokenRequest returns a JWT for the service account with audience and expiry; TokenReview accepts it', async () => {
    const r = await raw(s, 'POST', `${NS}/serviceaccounts/default/token`, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3607 } } });
    expect(r.status).toBe(201);
    expect(r.body.kind).toBe('TokenRequest');
    const [, payload] = String(r.body.status.token).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    expect(claims.aud).toEqual(['https://kubernetes.default.svc']);
    expect(claims.sub).toBe('system:serviceaccount:default:default');
    expect(claims.exp - claims.iat).toBe(3607);
    expect(Date.parse(r.body.status.expirationTimestamp) / 1000).toBe(claims.exp);
    const review = await raw(s, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { spec: { token: r.body.status.token } } });
    expect(review.body.status.authenticated).toBe(true);
    // the token also authenticates requests, like a pod's projected token
    expect((await raw(s, 'GET', '/api/v1/namespaces', { token: r.body.status.token })).status).toBe(200);
    expect((await raw(s, 'GET', '/api/v1/namespaces', { token: 'nope' })).status).toBe(401);
    expect((await raw(s, 'GET', '/healthz', { token: null })).status).toBe(200);
    const short = await raw(s, 'POST', `${NS}/serviceaccounts/default/token`, { body: { spec: { expirationSeconds: 60 } } });
    expect(short.status).toBe(422);
  });

  it('40: every namespace has kube-root-ca.crt with the server CA', async () => {
    const cm = (await raw(s, 'GET', '/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt')).body;
    expect(cm.data['ca.crt']).toBe(s.caCertPem);
  });
});

describe('watch', () => {
  it('26/25: streams MODIFIED and a graceful delete, BOOKMARKs, and 410 for an expired resourceVersion', async () => {
    const p = await raw(s, 'POST', `${NS}/pods`, { body: { metadata: { name: 'w1' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } } });
    const from = p.body.metadata.resourceVersion;
    await raw(s, 'PATCH', `${NS}/pods/w1`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { w: '1' } } } });
    await raw(s, 'DELETE', `${NS}/pods/w1`);
    const lines = await watchLines(s, `${NS}/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${from}&timeoutSeconds=1&fieldSelector=metadata.name%3Dw1`);
    expect(lines.map((l) => l.type).filter((t) => t !== 'BOOKMARK')).toEqual(['MODIFIED', 'MODIFIED']);
    const last = lines.filter((l) => l.type === 'MODIFIED')[1]!.object as { metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } };
    expect(last.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(last.metadata.deletionTimestamp).toBeDefined();
    await raw(s, 'DELETE', `${NS}/pods/w1?gracePeriodSeconds=0`);
    s.faults.expireHistory();
    const gone = await watchLines(s, `${NS}/pods?watch=1&resourceVersion=1&timeoutSeconds=1`);
    expect(gone).toEqual([{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: expect.stringMatching(/^too old resource version: 1 \(\d+\)$/), reason: 'Expired', code: 410 } }]);
  });

  it('a watch without resourceVersion starts with the current objects; deletes arrive with the final object', async () => {
    const base = '/api/v1/namespaces/kube-public/configmaps';
    const lines = watchLines(s, `${base}?watch=true&timeoutSeconds=1`);
    await new Promise((r) => setTimeout(r, 100));
    await raw(s, 'POST', base, { body: { metadata: { name: 'x' }, data: { a: '1' } } });
    await raw(s, 'DELETE', `${base}/x`);
    const got = await lines;
    expect(got.map((l) => `${l.type} ${(l.object.metadata as { name: string }).name}`)).toEqual(['ADDED kube-root-ca.crt', 'ADDED x', 'DELETED x']);
  });
});

describe('discovery and errors', () => {
  it('serves discovery documents kubectl understands', async () => {
    expect((await raw(s, 'GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = (await raw(s, 'GET', '/api/v1')).body;
    expect(v1.resources.find((r: { name: string }) => r.name === 'pods')).toMatchObject({ namespaced: true, kind: 'Pod', shortNames: ['po'] });
    expect(v1.resources.find((r: { name: string }) => r.name === 'serviceaccounts/token')).toMatchObject({ kind: 'TokenRequest', group: 'authentication.k8s.io' });
    const apis = (await raw(s, 'GET', '/apis')).body;
    expect(apis.groups.map((g: { name: string }) => g.name)).toEqual(['coordination.k8s.io', 'networking.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'certificates.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io']);
    expect((await raw(s, 'GET', '/apis/coordination.k8s.io/v1')).body.resources.map((r: { name: string }) => r.name)).toEqual(['leases']);
    expect((await raw(s, 'GET', '/version')).body.gitVersion).toMatch(/^v1\./);
  });

  it('answers unknown resources, bad methods and namespaces that do not exist with Status errors', async () => {
    expect((await raw(s, 'GET', '/api/v1/foos')).body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect((await raw(s, 'GET', '/apis/nope.io/v1')).status).toBe(404);
    expect((await raw(s, 'PUT', '/api/v1/namespaces/default/pods', { body: {} })).status).toBe(405);
    const nsMissing = await raw(s, 'POST', '/api/v1/namespaces/nope/configmaps', { body: { metadata: { name: 'x' } } });
    expect(nsMissing.body).toMatchObject({ reason: 'NotFound', message: 'namespaces "nope" not found' });
    const arr = await raw(s, 'POST', `${NS}/configmaps`, { body: '[1]' });
    expect(arr.status).toBe(400);
    const noName = await raw(s, 'POST', `${NS}/configmaps`, { body: { metadata: {} } });
    expect(noName.status).toBe(422);
    const wrongNs = await raw(s, 'POST', `${NS}/configmaps`, { body: { metadata: { name: 'x', namespace: 'kube-system' } } });
    expect(wrongNs.body.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
  });

  it('pages lists with limit/continue', async () => {
    for (const n of ['p-a', 'p-b', 'p-c']) await raw(s, 'POST', '/api/v1/namespaces/kube-public/secrets', { body: { metadata: { name: n } } });
    const first = (await raw(s, 'GET', '/api/v1/namespaces/kube-public/secrets?limit=2')).body;
    expect(first.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['p-a', 'p-b']);
    expect(first.metadata.remainingItemCount).toBe(1);
    const second = (await raw(s, 'GET', `/api/v1/namespaces/kube-public/secrets?limit=2&continue=${first.metadata.continue}`)).body;
    expect(second.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['p-c']);
    expect(second.metadata.continue).toBeUndefined();
    expect(second.items[0].type).toBe('Opaque');
  });

  it('deletes a namespace: Terminating, emptied, removed', async () => {
    await raw(s, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'gone' } } });
    await vi.waitFor(async () => expect((await raw(s, 'GET', '/api/v1/namespaces/gone/serviceaccounts/default')).status).toBe(200));
    await raw(s, 'POST', '/api/v1/namespaces/gone/pods', { body: { metadata: { name: 'bound' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] } } });
    const del = await raw(s, 'DELETE', '/api/v1/namespaces/gone');
    expect(del.body.status.phase).toBe('Terminating');
    // The bound pod is deleted gracefully; the namespace waits for it (for the kubelet, on a real node).
    await vi.waitFor(async () => expect((await raw(s, 'GET', '/api/v1/namespaces/gone/pods/bound')).body.metadata.deletionTimestamp).toBeDefined());
    const refused = await raw(s, 'POST', '/api/v1/namespaces/gone/configmaps', { body: { metadata: { name: 'late' } } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace gone because it is being terminated');
    expect((await raw(s, 'GET', '/api/v1/namespaces/gone')).body.status.phase).toBe('Terminating');
    await raw(s, 'DELETE', '/api/v1/namespaces/gone/pods/bound?gracePeriodSeconds=0');
    await vi.waitFor(async () => expect((await raw(s, 'GET', '/api/v1/namespaces/gone')).status).toBe(404));
    expect((await raw(s, 'GET', '/api/v1/namespaces/gone/configmaps')).body.items).toEqual([]);
  });
});

describe('create on update', () => {
  it('a PUT of a missing Lease creates it (201); a PUT of a missing ConfigMap is 404', async () => {
    const lease = await raw(s, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/put-node', { body: { metadata: { name: 'put-node' }, spec: { holderIdentity: 'put-node' } } });
    expect(lease.status).toBe(201);
    expect(lease.body.metadata.uid).toBeDefined();
    const again = await raw(s, 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/put-node', { body: { ...lease.body, spec: { holderIdentity: 'x' } } });
    expect(again.status).toBe(200);
    expect((await raw(s, 'PUT', `${NS}/configmaps/nope`, { body: { metadata: { name: 'nope' } } })).status).toBe(404);
  });
});

describe('scheduler and binding', () => {
  it('binds node-less pods to a Ready node they fit, and explains why not otherwise', async () => {
    const base = '/api/v1/namespaces/kube-public/pods';
    await raw(s, 'POST', '/api/v1/nodes', { body: { metadata: { name: 'sched-node', labels: { disk: 'ssd' } } } });
    await raw(s, 'POST', base, { body: { metadata: { name: 'floating' }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'x:1' }] } } });
    await vi.waitFor(async () => {
      const cond = (await raw(s, 'GET', `${base}/floating`)).body.status.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');
      expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expect.stringContaining('node(s) had untolerated taint {node.kubernetes.io/not-ready: }') });
    });
    // rec-node (Ready, no disk label) does not match the selector; sched-node matches once Ready.
    await raw(s, 'PATCH', '/api/v1/nodes/sched-node/status', { contentType: 'application/strategic-merge-patch+json', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } });
    await vi.waitFor(async () => expect((await raw(s, 'GET', `${base}/floating`)).body.spec.nodeName).toBe('sched-node'));
    const pod = (await raw(s, 'GET', `${base}/floating`)).body;
    expect(pod.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    const again = await raw(s, 'POST', `${base}/floating/binding`, { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'floating' }, target: { kind: 'Node', name: 'rec-node' } } });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('pod floating is already assigned to node "sched-node"');
    await raw(s, 'POST', base, { body: { metadata: { name: 'manual' }, spec: { schedulerName: 'other', containers: [{ name: 'c', image: 'x:1' }] } } });
    const bound = await raw(s, 'POST', `${base}/manual/binding`, { body: { target: { name: 'rec-node' } } });
    expect(bound.status).toBe(201);
    expect((await raw(s, 'GET', `${base}/manual`)).body.spec.nodeName).toBe('rec-node');
    for (const n of ['floating', 'manual']) await raw(s, 'DELETE', `${base}/${n}?gracePeriodSeconds=0`);
  });
});
