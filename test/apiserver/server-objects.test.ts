import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from './index.js';
import { raw } from './testing.js';

// Each expectation mirrors a recorded exchange in shared/reference/apiserver-v1.24 (file number in the test name).
let s: TestApiServer;
const NS = '/api/v1/namespaces/rec';
const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p1', labels: { app: 'demo' } },
  spec: {
    nodeName: 'rec-node',
    containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 'http' } } }],
  },
};

beforeAll(async () => {
  s = await startTestApiServer();
  expect((await raw(s, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'rec' } } })).status).toBe(201);
  // The namespace controller creates the default ServiceAccount asynchronously, as upstream does.
  for (let i = 0; i < 50 && (await raw(s, 'GET', `${NS}/serviceaccounts/default`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
});
afterAll(() => s.stop());

describe('pods', () => {
  it('07: create applies defaults and admission like a real server', async () => {
    const r = await raw(s, 'POST', `${NS}/pods`, { body: POD });
    expect(r.status).toBe(201);
    const p = r.body;
    expect(p.kind).toBe('Pod');
    expect(p.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(p.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(p.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const vol = p.spec.volumes[0];
    expect(vol.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(vol.projected).toEqual({
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 420,
    });
    expect(p.spec.containers[0]).toEqual({
      name: 'c',
      image: 'busybox',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      resources: {},
      volumeMounts: [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
      readinessProbe: { httpGet: { path: '/', port: 'http', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'Always',
    });
    const { volumes: _v, containers: _c, ...rest } = p.spec;
    expect(rest).toEqual({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: 'rec-node',
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    });
    expect(p.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('08/10: AlreadyExists and NotFound Status', async () => {
    const again = await raw(s, 'POST', `${NS}/pods`, { body: POD });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "p1" already exists', reason: 'AlreadyExists', details: { name: 'p1', kind: 'pods' }, code: 409 });
    const missing = await raw(s, 'GET', `${NS}/pods/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404 });
  });

  it('11/12/13: field and label selectors; unknown field label is 400', async () => {
    const byNode = await raw(s, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Drec-node');
    expect(byNode.body.kind).toBe('PodList');
    expect(byNode.body.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['p1']);
    expect(byNode.body.items[0].kind).toBeUndefined(); // list items carry no kind, as from a real server
    expect((await raw(s, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dother')).body.items).toEqual([]);
    expect((await raw(s, 'GET', `${NS}/pods?labelSelector=app%20in%20(demo,x)`)).body.items).toHaveLength(1);
    expect((await raw(s, 'GET', `${NS}/pods?labelSelector=app!%3Ddemo`)).body.items).toHaveLength(0);
    expect((await raw(s, 'GET', `${NS}/pods?labelSelector=!app`)).body.items).toHaveLength(0);
    const bad = await raw(s, 'GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'field label not supported: spec.bogus', reason: 'BadRequest', code: 400 });
  });

  it('14: Table output for kubectl get', async () => {
    const r = await raw(s, 'GET', `${NS}/pods`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' });
    expect(r.body.kind).toBe('Table');
    expect(r.body.apiVersion).toBe('meta.k8s.io/v1');
    expect(r.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    expect(r.body.rows[0].cells).toEqual(['p1', '0/1', 'Pending', '0', expect.stringMatching(/^\d+s$/), '<none>', 'rec-node', '<none>', '<none>']);
    expect(r.body.rows[0].object.kind).toBe('PartialObjectMetadata');
  });

  it('15/16/17/18: status patches: strategic merges conditions by type, merge replaces lists, spec is ignored', async () => {
    const smp = await raw(s, 'PATCH', `${NS}/pods/p1/status`, {
      contentType: 'application/strategic-merge-patch+json',
      body: {
        status: {
          phase: 'Running',
          podIP: '10.244.0.5',
          podIPs: [{ ip: '10.244.0.5' }],
          conditions: [
            { type: 'Ready', status: 'False', lastTransitionTime: '2026-11-22T05:07:48Z' },
            { type: 'ContainersReady', status: 'False', lastTransitionTime: '2026-11-22T05:07:48Z' },
          ],
          containerStatuses: [{ name: 'c', ready: false, restartCount: 0, image: 'busybox:latest', imageID: '', state: { running: { startedAt: '2026-11-22T05:07:48Z' } } }],
        },
      },
    });
    expect(smp.status).toBe(200);
    expect(smp.body.status.conditions[0]).toEqual({ type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: '2026-11-22T05:07:48Z' });
    expect(smp.body.status.containerStatuses[0].lastState).toEqual({});
    expect(smp.body.status.qosClass).toBe('BestEffort');
    const atomic = await raw(s, 'PATCH', `${NS}/pods/p1/status`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { status: { containerStatuses: [{ name: 'd', ready: true, restartCount: 1, image: 'busybox:latest', imageID: '', state: { waiting: { reason: 'X' } } }] } },
    });
    // containerStatuses has no patch strategy upstream (+listType=atomic): the list is replaced, not merged by name.
    expect(atomic.body.status.containerStatuses.map((c: { name: string }) => c.name)).toEqual(['d']);
    expect(atomic.body.status.containerStatuses[0].state).toEqual({ waiting: { reason: 'X' } });
    const one = await raw(s, 'PATCH', `${NS}/pods/p1/status`, { contentType: 'application/strategic-merge-patch+json', body: { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-22T05:07:48Z' }] } } });
    expect(one.body.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'ContainersReady=False']);
    const merge = await raw(s, 'PATCH', `${NS}/pods/p1/status`, { contentType: 'application/merge-patch+json', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } });
    expect(merge.body.status.conditions).toEqual([{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: null }]);
    const rv = Number(merge.body.metadata.resourceVersion);
    const ignored = await raw(s, 'PATCH', `${NS}/pods/p1/status`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { x: 'y' } }, spec: { activeDeadlineSeconds: 5 } } });
    expect(ignored.status).toBe(200);
    expect(ignored.body.spec.activeDeadlineSeconds).toBeUndefined();
    expect(ignored.body.metadata.labels).toEqual({ app: 'demo', x: 'y' });
    expect(Number(ignored.body.metadata.resourceVersion)).toBeGreaterThan(rv);
    const statusViaMain = await raw(s, 'PATCH', `${NS}/pods/p1`, { contentType: 'application/merge-patch+json', body: { status: { phase: 'Failed' } } });
    expect(statusViaMain.body.status.phase).toBe('Running');
  });

  it('19/20: JSON patch works; a merge body sent as JSON patch is 400; unknown patch type is 415', async () => {
    const ok = await raw(s, 'PATCH', `${NS}/pods/p1`, { contentType: 'application/json-patch+json', body: [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }] });
    expect(ok.body.metadata.annotations).toEqual({ a: 'b' });
    const bad = await raw(s, 'PATCH', `${NS}/pods/p1`, { contentType: 'application/json-patch+json', body: { metadata: { labels: { z: '1' } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expect((await raw(s, 'PATCH', `${NS}/pods/p1`, { contentType: 'text/plain', body: '{}' })).status).toBe(415);
  });

  it('21: update with a stale resourceVersion is 409 Conflict; a no-op update does not bump it', async () => {
    const cur = (await raw(s, 'GET', `${NS}/pods/p1`)).body;
    const same = await raw(s, 'PUT', `${NS}/pods/p1`, { body: cur });
    expect(same.body.metadata.resourceVersion).toBe(cur.metadata.resourceVersion);
    const changed = await raw(s, 'PUT', `${NS}/pods/p1`, { body: { ...cur, metadata: { ...cur.metadata, labels: { app: 'demo', w: '1' } } } });
    expect(changed.status).toBe(200);
    const stale = await raw(s, 'PUT', `${NS}/pods/p1`, { body: cur });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    expect(stale.body.message).toBe('Operation cannot be fulfilled on pods "p1": the object has been modified; please apply your changes to the latest version and try again');
    const specChange = await raw(s, 'PUT', `${NS}/pods/p1`, { body: { ...changed.body, spec: { ...changed.body.spec, restartPolicy: 'Never' } } });
    expect(specChange.status).toBe(422);
  });

  it('22/23/24: invalid names, strict field validation and malformed JSON are Status errors', async () => {
    const inv = await raw(s, 'POST', `${NS}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [] } } });
    expect(inv.status).toBe(422);
    expect(inv.body.reason).toBe('Invalid');
    expect(inv.body.details.causes.map((c: { field: string; reason: string }) => `${c.field}:${c.reason}`)).toEqual(['metadata.name:FieldValueInvalid', 'spec.containers:FieldValueRequired']);
    expect(inv.body.message).toMatch(/^Pod "Bad_Name" is invalid: \[metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain .*, spec.containers: Required value\]$/);
    const strict = await raw(s, 'POST', `${NS}/pods?fieldValidation=Strict`, {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p9', lables: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'v', emptuDir: {} }] } },
    });
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "metadata.lables", unknown field "spec.volumes[0].emptuDir"');
    const bad = await raw(s, 'POST', `${NS}/pods`, { body: '{"apiVersion":"v1","kind":"Pod",' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('the object provided is unrecognized (must be of type Pod): couldn\'t get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1","kind":"Pod ...)');
  });

  it('30: generateName, automountServiceAccountToken=false and pull policy by tag', async () => {
    const r = await raw(s, 'POST', `${NS}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'gen-' }, spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(r.body.spec.volumes).toBeUndefined();
    expect(r.body.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(r.body.spec.containers[0].volumeMounts).toBeUndefined();
    // unbound pods are deleted at once
    const del = await raw(s, 'DELETE', `${NS}/pods/${r.body.metadata.name}`);
    expect(del.status).toBe(200);
    expect((await raw(s, 'GET', `${NS}/pods/${r.body.metadata.name}`)).status).toBe(404);
  });

  it('27/28/29: graceful delete of a bound pod, uid preconditions', async () => {
    const del = await raw(s, 'DELETE', `${NS}/pods/p1`);
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(30);
    const got = (await raw(s, 'GET', `${NS}/pods/p1`)).body;
    expect(got.metadata.deletionTimestamp).toBeDefined();
    const wrong = await raw(s, 'DELETE', `${NS}/pods/p1`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } });
    expect(wrong.status).toBe(409);
    expect(wrong.body.message).toBe(
      `Operation cannot be fulfilled on Pod "p1": the UID in the precondition (00000000-0000-0000-0000-000000000000) does not match the UID in record (${got.metadata.uid}). The object might have been deleted and then recreated`,
    );
    expect(wrong.body.details).toEqual({ name: 'p1', kind: 'Pod' });
    const ok = await raw(s, 'DELETE', `${NS}/pods/p1`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: got.metadata.uid } } });
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.deletionGracePeriodSeconds).toBe(0);
    expect((await raw(s, 'GET', `${NS}/pods/p1`)).status).toBe(404);
  });
});

describe('priority admission', () => {
  it('resolves the system PriorityClasses and refuses unknown ones', async () => {
    const ok = await raw(s, 'POST', `${NS}/pods`, { body: { metadata: { name: 'crit' }, spec: { priorityClassName: 'system-node-critical', containers: [{ name: 'c', image: 'x:1' }] } } });
    expect(ok.body.spec.priority).toBe(2000001000);
    const bad = await raw(s, 'POST', `${NS}/pods`, { body: { metadata: { name: 'nopc' }, spec: { priorityClassName: 'gold', containers: [{ name: 'c', image: 'x:1' }] } } });
    expect(bad.status).toBe(403);
    expect(bad.body.message).toBe('pods "nopc" is forbidden: no PriorityClass with name gold was found');
  });
});

describe('resource quantities', () => {
  it('are canonicalised like upstream; requests default to limits; QoS follows', async () => {
    const r = await raw(s, 'POST', `${NS}/pods`, { body: { metadata: { name: 'q1' }, spec: { containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: 0.5, memory: '131072Ki' } } }] } } });
    expect(r.status).toBe(201);
    expect(r.body.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
    expect(r.body.status.qosClass).toBe('Guaranteed');
    const b = await raw(s, 'POST', `${NS}/pods`, { body: { metadata: { name: 'q2' }, spec: { containers: [{ name: 'c', image: 'x:1', resources: { requests: { cpu: '100m' } } }] } } });
    expect(b.body.status.qosClass).toBe('Burstable');
    const bad = await raw(s, 'POST', `${NS}/pods`, { body: { metadata: { name: 'q3' }, spec: { containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: 'lots' } } }] } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression/);
  });
});
