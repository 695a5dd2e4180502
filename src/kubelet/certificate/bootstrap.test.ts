import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCerts } from '../../../test/apiserver/certs.js';
import { issueCertificate, parseCsr } from '../../../test/apiserver/certificates/signer.js';
import { loadKubeConfig } from '../../api/kubeconfig.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { bootstrapClientCertificate, PENDING_KEY_FILE } from './bootstrap.js';
import { CLIENT_USAGES } from './csr.js';
import { FakeCsrApi } from './fake-csr-api.js';
import { FileCertificateStore } from './store.js';

describe('TLS bootstrap', () => {
  let dir: string;
  let clock: FakeClock;
  let api: FakeCsrApi;
  const ca = generateCerts();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nodelet-bootstrap-'));
    clock = new FakeClock(Date.now());
    api = new FakeCsrApi({ sign: (pem, exp) => issueCertificate(ca, parseCsr(pem), CLIENT_USAGES, exp ?? 3600, clock.now()) });
    writeFileSync(join(dir, 'ca.crt'), ca.caCertPem);
    writeFileSync(
      join(dir, 'bootstrap.conf'),
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", certificate-authority: ca.crt}}]\nusers: [{name: t, user: {token: abcdef.0123456789abcdef}}]\ncontexts: [{name: x, context: {cluster: c, user: t}}]\ncurrent-context: x\n`,
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = () =>
    bootstrapClientCertificate({
      kubeconfigPath: join(dir, 'kubelet.conf'),
      bootstrap: loadKubeConfig(join(dir, 'bootstrap.conf')),
      api,
      store: new FileCertificateStore({ dir: join(dir, 'pki'), prefix: 'kubelet-client', now: () => clock.now() }),
      certDir: join(dir, 'pki'),
      nodeName: 'nl5-b',
      load: loadKubeConfig,
      clock,
      logger: silentLogger(),
      expirationSeconds: 600,
    });

  it('requests a certificate, stores it as upstream, and writes a kubeconfig naming kubelet-client-current.pem', async () => {
    expect(await run()).toBe('issued');
    expect(api.created).toHaveLength(1);
    expect(api.created[0]!.metadata.name).toMatch(/^node-csr-/);
    expect(api.created[0]!.spec.expirationSeconds).toBe(600);
    const current = join(dir, 'pki', 'kubelet-client-current.pem');
    expect(lstatSync(current).isSymbolicLink()).toBe(true);
    expect(readlinkSync(current)).toMatch(/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
    expect((lstatSync(readlinkSync(current)).mode & 0o777).toString(8)).toBe('600');
    expect(readFileSync(current, 'utf8')).toMatch(/BEGIN CERTIFICATE[\s\S]*BEGIN EC PRIVATE KEY/);
    expect(existsSync(join(dir, 'pki', PENDING_KEY_FILE))).toBe(false);
    const kc = loadKubeConfig(join(dir, 'kubelet.conf'));
    expect(kc.cluster.server).toBe('https://127.0.0.1:1');
    expect(Buffer.from(kc.cluster.certificateAuthorityData!, 'base64').toString()).toBe(ca.caCertPem);
    expect(kc.user.clientCertificate).toBe(current);
    expect(kc.user.clientKey).toBe(current);
    expect(kc.namespace).toBe('default');
  });

  it('keeps a valid kubeconfig, reuses a valid stored certificate, and bootstraps again when the certificate expired', async () => {
    await run();
    expect(await run()).toBe('valid');
    rmSync(join(dir, 'kubelet.conf'));
    expect(await run()).toBe('reused');
    expect(api.created).toHaveLength(1);
    clock.advance(11 * 60_000);
    expect(await run()).toBe('issued');
    expect(api.created).toHaveLength(2);
  });

  it('bootstraps when the kubeconfig has no client certificate (a token), as upstream', async () => {
    writeFileSync(join(dir, 'kubelet.conf'), readFileSync(join(dir, 'bootstrap.conf')));
    expect(await run()).toBe('issued');
  });

  it('after a restart while waiting, reuses the pending key and so finds its own CSR again', async () => {
    api.autoApprove = false;
    const first = run();
    await new Promise((r) => setImmediate(r));
    const name = api.created[0]!.metadata.name!;
    expect(existsSync(join(dir, 'pki', PENDING_KEY_FILE))).toBe(true);
    // a second process with the same key: the create answers AlreadyExists and the existing request is used
    const second = run();
    await new Promise((r) => setImmediate(r));
    api.approve(name);
    expect(await first).toBe('issued');
    expect(await second).toBe('issued');
    expect(api.created).toHaveLength(1);
  });

  it('fails with the reason when the request is denied', async () => {
    api.autoApprove = false;
    const p = run();
    await new Promise((r) => setImmediate(r));
    api.deny(api.created[0]!.metadata.name!, 'NotAllowed', 'no');
    await expect(p).rejects.toThrow(/was denied, reason: NotAllowed, message: no/);
    expect(existsSync(join(dir, 'kubelet.conf'))).toBe(false);
  });
});

describe('TLS bootstrap before the API server is up', () => {
  it('retries the CSR create while the server is unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodelet-bootstrap-'));
    try {
      const clock = new FakeClock(Date.now());
      const ca = generateCerts();
      const api = new FakeCsrApi({ sign: (pem) => issueCertificate(ca, parseCsr(pem), CLIENT_USAGES, 3600, clock.now()) });
      let failures = 2;
      const create = api.create.bind(api);
      api.create = (csr) => (failures-- > 0 ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' })) : create(csr));
      writeFileSync(join(dir, 'b.conf'), `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: t, user: {token: abcdef.0123456789abcdef}}]\ncontexts: [{name: x, context: {cluster: c, user: t}}]\ncurrent-context: x\n`);
      const p = bootstrapClientCertificate({
        kubeconfigPath: join(dir, 'kubelet.conf'),
        bootstrap: loadKubeConfig(join(dir, 'b.conf')),
        api,
        store: new FileCertificateStore({ dir: join(dir, 'pki'), prefix: 'kubelet-client' }),
        certDir: join(dir, 'pki'),
        nodeName: 'n',
        load: loadKubeConfig,
        clock,
        logger: silentLogger(),
      });
      for (const ms of [1000, 2000]) {
        await new Promise((r) => setImmediate(r));
        clock.advance(ms);
      }
      expect(await p).toBe('issued');
      expect(failures).toBe(-1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
