import { describe, expect, it } from 'vitest';
import { AccessDenials, accessDenials } from './access.js';
import type { KubeConfig } from './kubeconfig.js';

const MSG = 'endpointslices.discovery.k8s.io is forbidden: User "system:node:n1" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope';

describe('AccessDenials', () => {
  it('tells listeners once per request until it is allowed again, and fails its health check meanwhile', () => {
    const d = new AccessDenials(() => 1000);
    const heard: string[] = [];
    d.onDenied((x) => heard.push(x.request));
    const check = d.healthCheck();
    expect(check()).toBeUndefined();
    d.denied('GET', '/apis/discovery.k8s.io/v1/endpointslices?limit=500', MSG);
    d.denied('GET', '/apis/discovery.k8s.io/v1/endpointslices?limit=500', MSG);
    d.denied('WATCH', '/apis/discovery.k8s.io/v1/endpointslices', MSG);
    expect(heard).toEqual(['GET /apis/discovery.k8s.io/v1/endpointslices', 'WATCH /apis/discovery.k8s.io/v1/endpointslices']);
    expect(check()).toBe(`forbidden by the API server: GET /apis/discovery.k8s.io/v1/endpointslices: ${MSG} (and 1 more)`);
    d.allowed('GET', '/apis/discovery.k8s.io/v1/endpointslices');
    d.allowed('WATCH', '/apis/discovery.k8s.io/v1/endpointslices');
    expect(check()).toBeUndefined();
    d.denied('GET', '/apis/discovery.k8s.io/v1/endpointslices', MSG);
    expect(heard).toHaveLength(3);
    expect(d.open()[0]).toEqual({ request: 'GET /apis/discovery.k8s.io/v1/endpointslices', message: MSG, since: 1000 });
  });
  it('keeps one tracker per kubeconfig object (per identity)', () => {
    const a = { getCurrentCluster: () => null, applyToHTTPSOptions: async () => undefined } as KubeConfig;
    const b = { ...a };
    expect(accessDenials(a)).toBe(accessDenials(a));
    expect(accessDenials(a)).not.toBe(accessDenials(b));
  });
});
