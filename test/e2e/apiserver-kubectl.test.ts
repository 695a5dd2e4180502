import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnKubectl, startCluster, waitFor, type Cluster } from './harness/index.js';

// Proves the test API server against the machine's kubectl (1.32): each command's output must be what kubectl
// prints against a real cluster (shared/reference/apiserver-v1.24/41-kubectl-requests.txt lists its requests).
let c: Cluster;
const MANIFEST = (extraLabel = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: kc
  labels: {app: web${extraLabel}}
spec:
  nodeName: kc-node
  containers:
  - name: c
    image: localhost/nodelet/testbox:1.0
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: http}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kc}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

beforeAll(async () => {
  c = await startCluster({ forceLocal: true }); // the test API server's own tests (and the harness's)
  await c.kubectlOk(['create', 'namespace', 'kc']);
  await waitFor(async () => (await c.kubectl(['get', 'sa', 'default', '-n', 'kc'])).code === 0, { description: 'default service account' });
});
afterAll(() => c.stop());

describe('kubectl against the test API server', () => {
  it('apply creates, leaves unchanged, then configures (openapi v3 + strict field validation path)', async () => {
    expect(await c.kubectlOk(['apply', '-f', '-'], { input: MANIFEST() })).toBe('pod/web created\nservice/web created\n');
    expect(await c.kubectlOk(['apply', '-f', '-'], { input: MANIFEST() })).toBe('pod/web unchanged\nservice/web unchanged\n');
    expect(await c.kubectlOk(['apply', '-f', '-'], { input: MANIFEST(', tier: front') })).toBe('pod/web configured\nservice/web unchanged\n');
    const typo = await c.kubectl(['apply', '-f', '-'], { input: MANIFEST().replace('containerPort: 8080', 'containerPort: 8080, hostPotr: 1') });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('unknown field "spec.containers[0].ports[0].hostPotr"');
  });

  it('get -o json shows the object with server defaults', async () => {
    const pod = JSON.parse(await c.kubectlOk(['get', 'pod', 'web', '-n', 'kc', '-o', 'json'])) as Record<string, never>;
    expect(pod).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { labels: { app: 'web', tier: 'front' } }, spec: { restartPolicy: 'Always', serviceAccountName: 'default' }, status: { phase: 'Pending', qosClass: 'BestEffort' } });
    const svc = JSON.parse(await c.kubectlOk(['get', 'svc', 'web', '-n', 'kc', '-o', 'json'])) as { spec: { clusterIP: string; ports: { nodePort: number }[] } };
    expect(svc.spec.clusterIP).toMatch(/^10\./);
    expect(svc.spec.ports[0]!.nodePort).toBeGreaterThanOrEqual(30000);
  });

  it('get prints server-side table columns; selectors work; get nodes', async () => {
    const out = await c.kubectlOk(['get', 'pods', '-n', 'kc']);
    expect(out).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+0\/1\s+Pending\s+0\s+\d+s\n$/);
    expect(await c.kubectlOk(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=kc-node', '-l', 'app=web', '-o', 'name'])).toBe('pod/web\n');
    expect(await c.kubectlOk(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=other', '-o', 'name'])).toBe('');
    const bad = await c.kubectl(['get', 'pods', '--field-selector', 'spec.bogus=x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('field label not supported: spec.bogus');
    await c.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'kc-node' } }) });
    await c.kubectlOk(['patch', 'node', 'kc-node', '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }], nodeInfo: { kubeletVersion: 'v1.32.0' } } })]);
    expect(await c.kubectlOk(['get', 'nodes'])).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nkc-node\s+Ready\s+<none>\s+\d+s\s+v1\.32\.0\n$/);
  });

  it('patch --type strategic|merge|json and --subresource=status', async () => {
    expect(await c.kubectlOk(['patch', 'pod', 'web', '-n', 'kc', '--type=strategic', '-p', '{"metadata":{"labels":{"v":"2"}}}'])).toBe('pod/web patched\n');
    expect(await c.kubectlOk(['patch', 'pod', 'web', '-n', 'kc', '--type=merge', '-p', '{"metadata":{"annotations":{"a":"b"}}}'])).toBe('pod/web patched\n');
    expect(await c.kubectlOk(['patch', 'pod', 'web', '-n', 'kc', '--type=json', '-p', '[{"op":"remove","path":"/metadata/labels/v"}]'])).toBe('pod/web patched\n');
    const status = { status: { phase: 'Running', podIP: '10.244.9.9', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 2, image: 'x', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] } };
    expect(await c.kubectlOk(['patch', 'pod', 'web', '-n', 'kc', '--subresource=status', '--type=strategic', '-p', JSON.stringify(status)])).toBe('pod/web patched\n');
    expect(await c.kubectlOk(['patch', 'pod', 'web', '-n', 'kc', '--type=strategic', '-p', '{"metadata":{"labels":{"app":"web"}}}'])).toBe('pod/web patched (no change)\n');
    const wide = await c.kubectlOk(['get', 'pod', 'web', '-n', 'kc', '-o', 'wide', '--no-headers']);
    expect(wide.split(/\s+/).slice(0, 7)).toEqual(['web', '1/1', 'Running', '2', expect.stringMatching(/s$/), '10.244.9.9', 'kc-node']);
    const labels = await c.kubectlOk(['get', 'pod', 'web', '-n', 'kc', '-o', 'jsonpath={.metadata.labels}{" "}{.metadata.annotations.a}']);
    expect(labels).toBe('{"app":"web","tier":"front"} b');
    const epOut = await c.kubectlOk(['describe', 'svc', 'web', '-n', 'kc']);
    expect(epOut).toMatch(/Endpoints:\s+10\.244\.9\.9:8080/);
  });

  it('describe pod shows defaults, mounts, tolerations and events', async () => {
    await c.kubectlOk(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'kc' }, involvedObject: { kind: 'Pod', namespace: 'kc', name: 'web', uid: JSON.parse(await c.kubectlOk(['get', 'pod', 'web', '-n', 'kc', '-o', 'json'])).metadata.uid }, reason: 'Pulled', message: 'Container image already present on machine', type: 'Normal', count: 1, source: { component: 'kubelet', host: 'kc-node' }, firstTimestamp: new Date().toISOString().replace(/\.\d+Z/, 'Z'), lastTimestamp: new Date().toISOString().replace(/\.\d+Z/, 'Z') }),
    });
    const d = await c.kubectlOk(['describe', 'pod', 'web', '-n', 'kc']);
    expect(d).toMatch(/Service Account:\s+default/);
    expect(d).toMatch(/\/var\/run\/secrets\/kubernetes.io\/serviceaccount from kube-api-access-\w{5} \(ro\)/);
    expect(d).toMatch(/Readiness:\s+http-get http:\/\/:http\/ delay=0s timeout=1s period=10s #success=1 #failure=3/);
    expect(d).toContain('node.kubernetes.io/not-ready:NoExecute op=Exists for 300s');
    expect(d).toMatch(/Normal\s+Pulled\s+\S+\s+kubelet\s+Container image already present on machine/);
  });

  it('get -w sees updates and the graceful delete; delete --grace-period keeps the pod Terminating until grace 0', async () => {
    const watching = spawnKubectl(c.kubeconfigPath, ['get', 'pods', '-n', 'kc', '-w', '--output-watch-events', '--no-headers']);
    let lines: string[];
    try {
      await watching.waitForLine((l) => l.startsWith('ADDED'));
      await c.kubectlOk(['label', 'pod', 'web', '-n', 'kc', 'w=1']);
      expect(await c.kubectlOk(['delete', 'pod', 'web', '-n', 'kc', '--grace-period=5', '--wait=false'])).toBe('pod "web" deleted\n');
      await watching.waitForLine((l) => l.includes('Terminating'));
    } finally {
      lines = (await watching.stop()).stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 4).join(' '));
    }
    expect(lines).toEqual(['ADDED web 1/1 Running', 'MODIFIED web 1/1 Running', 'MODIFIED web 1/1 Terminating']);
    const ts = await c.kubectlOk(['get', 'pod', 'web', '-n', 'kc', '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}']);
    expect(ts).toBe('5');
    const forced = await c.kubectl(['delete', 'pod', 'web', '-n', 'kc', '--grace-period=0', '--force']);
    expect(forced.stdout).toBe('pod "web" force deleted\n');
    const gone = await c.kubectl(['get', 'pod', 'web', '-n', 'kc']);
    expect(gone.stderr.trim()).toBe('Error from server (NotFound): pods "web" not found');
  });

  it('bad requests get Status errors that kubectl prints, and the server keeps serving', async () => {
    const invalid = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name', namespace: 'kc' } }) });
    expect(invalid.stderr).toContain('The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"');
    // A real server answers `no matches for kind "Widget"`; kubectl gets there only with /openapi/v2 (protobuf),
    // which this server does not serve, so kubectl stops earlier — still an error, never a server crash.
    const unknownKind = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Widget\nmetadata: {name: x}\n' });
    expect(unknownKind.code).not.toBe(0);
    const unknownKindNoValidate = await c.kubectl(['apply', '--validate=false', '-f', '-'], { input: 'apiVersion: v1\nkind: Widget\nmetadata: {name: x}\n' });
    expect(unknownKindNoValidate.stderr).toContain('no matches for kind "Widget" in version "v1"');
    const noType = await c.kubectl(['get', 'widgets']);
    expect(noType.stderr).toContain(`the server doesn't have a resource type "widgets"`);
    const exists = await c.kubectl(['create', 'namespace', 'kc']);
    expect(exists.stderr.trim()).toBe('Error from server (AlreadyExists): namespaces "kc" already exists');
    expect((await c.kubectl(['get', 'ns', 'kc'])).code).toBe(0);
  });
});
