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
  it('records refusals of the identity, not refusals of one object that end with it (conformance run)', () => {
    const d = new AccessDenials(() => 1000);
    const heard: string[] = [];
    d.onDenied((x) => heard.push(x.request));
    d.denied('POST', '/api/v1/namespaces/ns1/events', 'events "p.1" is forbidden: unable to create new content in namespace ns1 because it is being terminated');
    d.denied('POST', '/api/v1/namespaces/ns1/serviceaccounts/default/token', 'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node');
    d.denied('GET', '/api/v1/namespaces/ns1/configmaps/kube-root-ca.crt', 'configmaps "kube-root-ca.crt" is forbidden: User "system:node:n1" cannot get resource "configmaps" in API group "" in the namespace "ns1": no relationship found between node \'n1\' and this object');
    expect(heard).toEqual([]);
    expect(d.healthCheck()()).toBeUndefined();
    d.denied('GET', '/api/v1/nodes', 'forbidden');
    d.denied('GET', '/api/v1/services', 'services is forbidden: User "system:node:n1" cannot list resource "services" in API group "" at the cluster scope');
    // NodeRestriction refusing a node identity that does not match the node: the identity is wrong, report it.
    d.denied('POST', '/api/v1/nodes', 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    expect(heard).toEqual(['GET /api/v1/nodes', 'GET /api/v1/services', 'POST /api/v1/nodes']);
  });
  it('keeps one tracker per kubeconfig object (per identity)', () => {
    const a = { getCurrentCluster: () => null, applyToHTTPSOptions: async () => undefined } as KubeConfig;
    const b = { ...a };
    expect(accessDenials(a)).toBe(accessDenials(a));
    expect(accessDenials(a)).not.toBe(accessDenials(b));
  });
});
