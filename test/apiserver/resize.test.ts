/** The pods/resize subresource, answered as kube-apiserver v1.33.3 answers (messages recorded against it). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from './index.js';
import { raw } from './testing.js';

let s: TestApiServer;
const NS = '/api/v1/namespaces/default';
const SMP = 'application/strategic-merge-patch+json';

const pod = (name: string, policy = 'NotRequired', init = true) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeName: 'n1',
    ...(init ? { initContainers: [{ name: 'i', image: 'busybox', command: ['true'], resources: { requests: { cpu: '10m' } } }] } : {}),
    containers: [{
      name: 'c',
      image: 'busybox',
      resizePolicy: [{ resourceName: 'memory', restartPolicy: policy }],
      resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
    }],
  },
});

const resize = (name: string, spec: unknown) =>
  raw(s, 'PATCH', `${NS}/pods/${name}/resize`, { body: { spec }, contentType: SMP });

beforeAll(async () => {
  s = await startTestApiServer();
  for (let i = 0; i < 50 && (await raw(s, 'GET', `${NS}/serviceaccounts/default`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
  expect((await raw(s, 'POST', `${NS}/pods`, { body: pod('rz') })).status).toBe(201);
  expect((await raw(s, 'POST', `${NS}/pods`, { body: pod('rs', 'RestartContainer') })).status).toBe(201);
  expect((await raw(s, 'POST', `${NS}/pods`, { body: pod('rq', 'NotRequired', false) })).status).toBe(201);
});
afterAll(() => s.stop());

describe('pods/resize', () => {
  it('changes only container resources; other fields in the request are ignored', async () => {
    const r = await resize('rz', { containers: [{ name: 'c', image: 'other', resources: { limits: { cpu: '0.3' }, requests: { cpu: '150m' } } }] });
    expect(r.status).toBe(200);
    expect(r.body.spec.containers[0].image).toBe('busybox');
    expect(r.body.spec.containers[0].resources).toEqual({ limits: { cpu: '300m', memory: '64Mi' }, requests: { cpu: '150m', memory: '32Mi' } });
    // The main resource still refuses a resources change (pod spec immutability).
    const put = await raw(s, 'PATCH', `${NS}/pods/rz`, { body: { spec: { containers: [{ name: 'c', resources: { limits: { cpu: '1' } } }] } }, contentType: SMP });
    expect(put.status).toBe(422);
  });

  it('is listed in discovery', async () => {
    const r = await raw(s, 'GET', '/api/v1');
    expect(r.body.resources.map((x: { name: string }) => x.name)).toContain('pods/resize');
  });

  it.each([
    ['a memory limit decrease under NotRequired', 'rz', { containers: [{ name: 'c', resources: { limits: { memory: '32Mi' } } }] },
      'spec.containers[0].resources.limits[memory]: Forbidden: memory limits cannot be decreased unless resizePolicy is RestartContainer'],
    ['a removed limit', 'rz', { containers: [{ name: 'c', resources: { limits: { cpu: null } } }] },
      'spec.containers[0].resources.limits: Forbidden: resource limits cannot be removed'],
    ['a QoS class change', 'rq', { containers: [{ name: 'c', resources: { requests: { cpu: '200m', memory: '64Mi' } } }] },
      'spec: Invalid value: "Burstable": Pod QOS Class may not change as a result of resizing'],
    ['another resource', 'rz', { containers: [{ name: 'c', resources: { requests: { 'ephemeral-storage': '1Gi' } } }] },
      'spec: Forbidden: only cpu and memory resources are mutable'],
    ['a resizePolicy change', 'rz', { containers: [{ name: 'c', resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'RestartContainer' }] }] },
      'spec: Forbidden: only cpu and memory resources are mutable'],
    ['a regular init container', 'rz', { initContainers: [{ name: 'i', resources: { requests: { cpu: '20m' } } }] },
      'spec: Forbidden: resources for non-sidecar init containers are immutable'],
  ])('refuses %s with 422', async (_what, name, spec, message) => {
    const r = await resize(name, spec);
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(`Pod "${name}" is invalid: ${message}`);
  });

  it('allows a memory limit decrease under RestartContainer', async () => {
    const r = await resize('rs', { containers: [{ name: 'c', resources: { limits: { memory: '48Mi' } } }] });
    expect(r.status).toBe(200);
    expect(r.body.spec.containers[0].resources.limits.memory).toBe('48Mi');
  });
});
