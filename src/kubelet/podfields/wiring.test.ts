import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { admitPod } from '../pods/admission.js';
import { ManifestError, staticPodsFromText } from '../sources/static-pod.js';

// The table drives the static-pod checks and admission (the two cases of issue 12: pod-level resources that would
// run without a memory limit, and restartPolicy on a regular container, which the API server refuses).
const MANIFEST = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  resources:
    limits: {memory: 64Mi}
  containers:
  - name: app
    image: localhost/nodelet/testbox:1.0
    restartPolicy: Always
`;

describe('pod field table in use', () => {
  it('a static pod setting unsupported v1.33 fields is refused with file, field and reason', () => {
    let err: unknown;
    try {
      staticPodsFromText(MANIFEST, { kind: 'file', location: '/etc/kubernetes/manifests/web.yaml', nodeName: 'n', seenAt: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    const m = (err as Error).message;
    expect(m).toContain('/etc/kubernetes/manifests/web.yaml');
    expect(m).toContain('spec.resources: not supported by nodelet: pod-level resources (PodLevelResources) are not implemented');
    expect(m).toContain('spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers');
  });

  it('a static pod with a field newer than v1.33 is invalid (unknown field)', () => {
    expect(() => staticPodsFromText(MANIFEST.replace(/  resources:\n.*\n/, '  hostnameOverride: x\n').replace('    restartPolicy: Always\n', ''), { kind: 'file', location: 'x.yaml', nodeName: 'n', seenAt: 0 })).toThrow(
      /spec\.hostnameOverride: unknown field "hostnameOverride" \(not a field of a Kubernetes v1\.33 Pod/,
    );
  });

  it('admission refuses an API pod with pod-level resources (reason and message for the Failed status and event)', () => {
    const pod: V1Pod = { metadata: { name: 'p', namespace: 'd', uid: 'u' }, spec: { resources: { limits: { memory: '64Mi' } }, containers: [{ name: 'c', image: 'i' }] } };
    expect(admitPod(pod, { nodeLabels: {}, activePods: [], maxPods: 10 })).toEqual({
      reason: 'UnsupportedPodField',
      message: 'spec.resources: not supported by nodelet: pod-level resources (PodLevelResources) are not implemented: a pod-level limit would not be enforced',
    });
  });
});
