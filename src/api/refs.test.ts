import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerRef, podRef } from './refs.js';

const pod: V1Pod = { metadata: { name: 'web', namespace: 'app', uid: 'u1', resourceVersion: '7' } };

describe('object references', () => {
  it('references the pod with its uid and resourceVersion', () => {
    expect(podRef(pod)).toEqual({ kind: 'Pod', apiVersion: 'v1', namespace: 'app', name: 'web', uid: 'u1', resourceVersion: '7' });
    expect(podRef({}).namespace).toBe('default');
  });

  it('references app and init containers by field path', () => {
    expect(containerRef(pod, 'c').fieldPath).toBe('spec.containers{c}');
    expect(containerRef(pod, 'i', true)).toMatchObject({ name: 'web', uid: 'u1', fieldPath: 'spec.initContainers{i}' });
  });
});
