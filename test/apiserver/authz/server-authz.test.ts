import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startTestApiServer, type TestApiServer } from '../index.js';
import { raw } from '../testing.js';

// End to end through HTTPS: the identities `userKubeconfig` mints authenticate with their client certificates and
// are authorized like on kube-apiserver v1.33.3 (bodies recorded there); the admin token is not restricted.
describe('test API server: node and kube-proxy identities are authorized', () => {
  let s: TestApiServer;
  let nodeA: { certPem: string; keyPem: string };
  let proxy: { certPem: string; keyPem: string };
  const certOf = (path: string) => {
    const k = parseYaml(readFileSync(path, 'utf8')) as { users: { user: Record<string, string> }[] };
    const u = k.users[0]!.user;
    return { certPem: Buffer.from(u['client-certificate-data']!, 'base64').toString(), keyPem: Buffer.from(u['client-key-data']!, 'base64').toString() };
  };
  beforeAll(async () => {
    s = await startTestApiServer({ scheduler: false });
    nodeA = certOf(s.userKubeconfig('system:node:na-a', ['system:nodes']));
    proxy = certOf(s.userKubeconfig('system:kube-proxy'));
    expect(s.userKubeconfig('system:kube-proxy')).toBe(s.userKubeconfig('system:kube-proxy'));
    await raw(s, 'POST', '/api/v1/nodes', { body: { metadata: { name: 'na-b' } } });
  });
  afterAll(() => s.stop());

  it('a node registers itself, not another node, and reads only itself', async () => {
    expect((await raw(s, 'POST', '/api/v1/nodes', { clientCert: nodeA, body: { metadata: { name: 'na-a' } } })).status).toBe(201);
    const other = await raw(s, 'POST', '/api/v1/nodes', { clientCert: nodeA, body: { metadata: { name: 'na-x' } } });
    expect(other.status).toBe(403);
    expect(other.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodes "na-x" is forbidden: node "na-a" is not allowed to modify node "na-x"',
      reason: 'Forbidden',
      details: { name: 'na-x', kind: 'nodes' },
      code: 403,
    });
    const read = await raw(s, 'GET', '/api/v1/nodes/na-b', { clientCert: nodeA });
    expect(read.status).toBe(403);
    expect(read.body.message).toBe(
      `nodes "na-b" is forbidden: User "system:node:na-a" cannot get resource "nodes" in API group "" at the cluster scope: node 'na-a' cannot read 'na-b', only its own Node object`,
    );
    expect((await raw(s, 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dna-a', { clientCert: nodeA })).body.items).toHaveLength(1);
    const taint = await raw(s, 'PATCH', '/api/v1/nodes/na-a', { clientCert: nodeA, contentType: 'application/merge-patch+json', body: { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } } });
    expect(taint.body.message).toBe('nodes "na-a" is forbidden: node "na-a" is not allowed to modify taints');
    expect((await raw(s, 'DELETE', '/api/v1/nodes/na-b')).status).toBe(200); // the admin may
  });

  it('kube-proxy lists endpointslices and services but writes no nodes', async () => {
    expect((await raw(s, 'GET', '/apis/discovery.k8s.io/v1/endpointslices', { clientCert: proxy })).status).toBe(200);
    expect((await raw(s, 'GET', '/api/v1/services?watch=true&timeoutSeconds=1', { clientCert: proxy })).status).toBe(200);
    const patch = await raw(s, 'PATCH', '/api/v1/nodes/na-a', { clientCert: proxy, contentType: 'application/merge-patch+json', body: {} });
    expect(patch.status).toBe(403);
    expect(patch.body.message).toBe('nodes "na-a" is forbidden: User "system:kube-proxy" cannot patch resource "nodes" in API group "" at the cluster scope');
  });

  it('answers SelfSubjectAccessReviews of a node as the real server does', async () => {
    const review = async (spec: object) =>
      (await raw(s, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { clientCert: nodeA, body: { spec } })).body.status;
    expect(await review({ resourceAttributes: { verb: 'list', resource: 'pods' } })).toEqual({ allowed: false, reason: 'can only list/watch pods with spec.nodeName field selector' });
    expect(await review({ resourceAttributes: { verb: 'get', resource: 'nodes', name: 'na-a' } })).toEqual({ allowed: true });
    expect(await review({ resourceAttributes: { verb: 'get', resource: 'nodes', name: 'na-b' } })).toEqual({ allowed: false, reason: "node 'na-a' cannot read 'na-b', only its own Node object" });
    expect(await review({ nonResourceAttributes: { verb: 'get', path: '/metrics' } })).toEqual({ allowed: false });
    // the admin's own review is unchanged
    expect((await raw(s, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: { spec: { resourceAttributes: { verb: 'list', resource: 'pods' } } } })).body.status).toEqual({ allowed: true });
  });
});
