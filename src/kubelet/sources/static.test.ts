import { describe, expect, it } from 'vitest';
import { ManifestError, staticPodsFromText } from './static-pod.js';

const src = { kind: 'file' as const, location: '/etc/kubernetes/manifests/web.yaml', nodeName: 'node1', seenAt: Date.UTC(2026, 0, 1) };

const GOOD = `
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: localhost/nodelet/testbox:1.0
    resources:
      requests: {cpu: 1, memory: 64Mi}
    livenessProbe:
      httpGet: {path: /, port: 80}
  volumes:
  - name: data
    emptyDir: {}
`;

function problems(text: string): { field: string; message: string }[] {
  try {
    staticPodsFromText(text, src);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).code).toBe('MANIFEST_INVALID');
    expect((err as ManifestError).message).toContain('file /etc/kubernetes/manifests/web.yaml');
    return (err as ManifestError).problems;
  }
  throw new Error('expected a ManifestError');
}

describe('static pod manifests', () => {
  it('gives a static pod its identity: name-node, default namespace, hash UID, config annotations, nodeName', () => {
    const [pod] = staticPodsFromText(GOOD, src);
    expect(pod?.metadata?.name).toBe('web-node1');
    expect(pod?.metadata?.namespace).toBe('default');
    expect(pod?.metadata?.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod?.metadata?.annotations).toMatchObject({
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.hash': pod?.metadata?.uid,
      'kubernetes.io/config.seen': '2026-01-01T00:00:00.000Z',
    });
    expect(pod?.spec?.nodeName).toBe('node1');
    expect(pod?.spec?.restartPolicy).toBe('Always');
    expect(pod?.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
  });

  it('derives the UID from content and source: same file same UID, other content or path another', () => {
    const uid = (text: string, location = src.location) => staticPodsFromText(text, { ...src, location })[0]?.metadata?.uid;
    expect(uid(GOOD)).toBe(uid(GOOD));
    expect(uid(GOOD.replace('app: web', 'app: web2'))).not.toBe(uid(GOOD));
    expect(uid(GOOD, '/etc/kubernetes/manifests/other.yaml')).not.toBe(uid(GOOD));
  });

  it('names misspelled fields with their path and a suggestion', () => {
    expect(problems(GOOD.replace('emptyDir', 'emptuDir'))).toEqual([
      { field: 'spec.volumes[0].emptuDir', message: 'unknown field "emptuDir" (did you mean "emptyDir"?)' },
    ]);
    expect(problems(GOOD.replace('  labels:', '  lables:'))).toEqual([
      { field: 'metadata.lables', message: 'unknown field "lables" (did you mean "labels"?)' },
    ]);
    expect(problems(GOOD.replace('    image:', '    VolumeMounts: []\n    image:'))[0]?.field).toBe('spec.containers[0].VolumeMounts');
  });

  it('catches a mis-indented probe', () => {
    const bad = GOOD.replace('    livenessProbe:\n      httpGet: {path: /, port: 80}', '    livenessProbe:\n    httpGet: {path: /, port: 80}');
    expect(problems(bad)).toEqual([{ field: 'spec.containers[0].httpGet', message: 'unknown field "httpGet"' }]);
  });

  it('reports wrong value types, not YAML, not a Pod, and missing essentials', () => {
    expect(problems(GOOD.replace('  labels: {app: web}', '  labels: {version: 1}'))).toEqual([
      { field: 'metadata.labels.version', message: 'expected a string, got number' },
    ]);
    expect(problems('kind: Pod\nmetadata: {name: x\n')[0]?.message).toMatch(/not valid YAML/);
    expect(problems('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n')[0]).toMatchObject({ field: 'kind' });
    expect(problems('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n')).toEqual([
      { field: 'spec.containers[0].image', message: 'Required value' },
    ]);
    expect(problems('apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: a, image: x}]}\n')[0]?.field).toBe('metadata.name');
  });

  it('accepts JSON and PodLists', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'PodList', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } }] });
    expect(staticPodsFromText(json, { ...src, kind: 'http', location: 'http://127.0.0.1/x' }).map((p) => p.metadata?.name)).toEqual(['a-node1']);
  });
});
