import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, loadKubeConfig } from '../../src/api/index.js';
import { ApiCsrApi, buildCsrPem, CLIENT_SIGNER, CLIENT_USAGES, csrObject, generateKey, nodeSubject, requestCertificate, SERVING_SIGNER, SERVING_USAGES } from '../../src/kubelet/certificate/index.js';
import { RealClock } from '../../src/util/clock.js';
import { startTestApiServer, type TestApiServer } from './index.js';
import { raw } from './testing.js';

// CertificateSigningRequests as on a kubeadm cluster (kube-apiserver v1.33 + kube-controller-manager's csrapproving
// and csrsigning): bootstrap tokens, auto-approval of kubelet client CSRs, manual approval of serving CSRs,
// certificates signed by the cluster CA that then authenticate the node.
describe('test API server: certificates.k8s.io CSRs and TLS bootstrap', () => {
  let s: TestApiServer;
  let dir: string;
  const clock = new RealClock();
  beforeAll(async () => {
    s = await startTestApiServer();
    dir = mkdtempSync(join(tmpdir(), 'nodelet-csr-'));
  });
  afterAll(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const csrFor = (node: string, signer: string, usages: readonly string[], extra: { dns?: string[]; expirationSeconds?: number } = {}) => {
    const key = generateKey();
    const pem = buildCsrPem(key.key, { ...nodeSubject(node), dnsNames: extra.dns });
    return { key, csr: csrObject({ csrPem: pem, signerName: signer, usages, expirationSeconds: extra.expirationSeconds }) };
  };

  it('authenticates a bootstrap token, stamps the requester, auto-approves and signs a kubelet client CSR; the certificate then authenticates', async () => {
    const bootstrapPath = join(dir, 'bootstrap.kubeconfig');
    const token = s.writeBootstrapKubeconfig(bootstrapPath);
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const bootstrap = new ApiClient(loadKubeConfig(bootstrapPath));
    const { key, csr } = csrFor('nl5-a', CLIENT_SIGNER, CLIENT_USAGES, { expirationSeconds: 600 });
    const api = new ApiCsrApi(bootstrap);
    const created = await api.create(csr);
    expect(created.spec.username).toBe(`system:bootstrap:${token.split('.')[0]}`);
    expect(created.spec.groups).toContain('system:bootstrappers');
    const certPem = await requestCertificate({ api, csr: { ...csr, metadata: { name: created.metadata.name } }, clock, timeoutMs: 10_000 });
    bootstrap.close();
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toContain('CN=system:node:nl5-a');
    expect(cert.subject).toContain('O=system:nodes');
    expect(cert.verify(new X509Certificate(s.caCertPem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(key.key)).toBe(true);
    // upstream's validity: backdated 5 minutes, 600 s from issue
    const nb = Date.parse(cert.validFrom);
    const na = Date.parse(cert.validTo);
    expect(Math.abs(Date.now() - 300_000 - nb)).toBeLessThan(5000);
    expect(Math.abs(na - nb - 900_000)).toBeLessThan(2000);
    const got = await raw(s, 'GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${created.metadata.name}`);
    expect(got.body.status.conditions[0]).toMatchObject({ type: 'Approved', status: 'True', reason: 'AutoApproved' });
    // the issued certificate authenticates the node; a wrong bootstrap token does not
    const nodeKc = join(dir, 'node.pem');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(nodeKc, `${certPem}${key.pem}`);
    const kcPath = join(dir, 'node.kubeconfig');
    writeFileSync(
      kcPath,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${s.url}", certificate-authority-data: ${Buffer.from(s.caCertPem).toString('base64')}}}]\nusers: [{name: u, user: {client-certificate: ${nodeKc}, client-key: ${nodeKc}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    const node = new ApiClient(loadKubeConfig(kcPath));
    await expect(node.request({ path: '/api/v1/services' })).resolves.toBeDefined(); // a node may list services (not namespaces)
    node.close();
    expect((await raw(s, 'GET', '/api/v1/namespaces', { token: 'abcdef.0123456789abcdef' })).status).toBe(401);
    expect((await raw(s, 'GET', '/api/v1/namespaces', { token: null })).status).toBe(401);
  });

  it('leaves a kubelet-serving CSR pending until it is approved through the approval subresource, then signs it with the SANs', async () => {
    const { csr } = csrFor('nl5-b', SERVING_SIGNER, SERVING_USAGES, { dns: ['nl5-b'] });
    const created = (await raw(s, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: csr })).body;
    const name = created.metadata.name as string;
    await new Promise((r) => setTimeout(r, 50));
    const got = (await raw(s, 'GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).body;
    expect(got.status?.conditions).toBeUndefined();
    expect(got.status?.certificate).toBeUndefined();
    // what `kubectl certificate approve` sends
    got.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' }] };
    const put = await raw(s, 'PUT', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/approval`, { body: got });
    expect(put.status).toBe(200);
    let cert = '';
    for (let i = 0; i < 50 && cert === ''; i++) {
      await new Promise((r) => setTimeout(r, 20));
      cert = (await raw(s, 'GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).body.status?.certificate ?? '';
    }
    const x = new X509Certificate(Buffer.from(cert, 'base64'));
    expect(x.subjectAltName).toBe('DNS:nl5-b');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: server auth only
  });

  it('rejects invalid CSRs as upstream validation does, and fails serving CSRs without SANs at signing', async () => {
    const short = csrFor('nl5-c', CLIENT_SIGNER, CLIENT_USAGES, { expirationSeconds: 599 }).csr;
    const r1 = await raw(s, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: short });
    expect(r1.status).toBe(422);
    expect(r1.body.message).toContain('spec.expirationSeconds');
    const bad = { ...short, spec: { ...short.spec, expirationSeconds: 600, request: Buffer.from('not a csr').toString('base64') } };
    const r2 = await raw(s, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: bad });
    expect(r2.status).toBe(422);
    expect(r2.body.message).toContain('spec.request');
    const noSan = csrFor('nl5-d', SERVING_SIGNER, SERVING_USAGES).csr;
    const name = (await raw(s, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: noSan })).body.metadata.name as string;
    const got = (await raw(s, 'GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).body;
    got.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove' }] };
    await raw(s, 'PUT', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/approval`, { body: got });
    await new Promise((r) => setTimeout(r, 50));
    const after = (await raw(s, 'GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`)).body;
    expect(after.status.conditions.map((c: { type: string }) => c.type)).toEqual(['Approved', 'Failed']);
    await expect(requestCertificate({ api: new ApiCsrApi(new ApiClient(loadKubeConfig(s.kubeconfigPath))), csr: { ...noSan, metadata: { name } }, clock, timeoutMs: 2000 })).rejects.toThrow(/failed, reason: SignerValidationFailure/);
  });
});

describe('test API server: CSR names', () => {
  it('accepts the path-segment names TLS bootstrap uses (upper case, "_"), as kube-apiserver does', async () => {
    const s = await startTestApiServer();
    try {
      const csr = csrObject({ csrPem: buildCsrPem(generateKey().key, nodeSubject('n')), signerName: CLIENT_SIGNER, usages: CLIENT_USAGES, name: 'node-csr-AbC_d-9' });
      expect((await raw(s, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: csr })).status).toBe(201);
      const bad = { ...csr, metadata: { name: 'a%b' } };
      expect((await raw(s, 'POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: bad })).status).toBe(422);
    } finally {
      await s.stop();
    }
  });
});
