/**
 * TLS bootstrap (upstream `bootstrap.LoadClientCert`): when `--kubeconfig` is missing or its client certificate is
 * unusable (no certificate, unreadable, expired), use the `--bootstrap-kubeconfig` credentials (a bootstrap token) to
 * request a client certificate with a `kubernetes.io/kube-apiserver-client-kubelet` CSR, store it in `--cert-dir` as
 * `kubelet-client-<timestamp>.pem` + `kubelet-client-current.pem`, and write `--kubeconfig` naming that symlink.
 * A still-valid `kubelet-client-current.pem` from an earlier run is reused without a new request.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClientConfig } from '../../api/kubeconfig.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { requestCertificate, type CsrApi } from './csr-api.js';
import { buildCsrPem, CLIENT_SIGNER, CLIENT_USAGES, csrObject, digestedCsrName, generateKey, loadKey, nodeSubject } from './csr.js';
import type { CertificateStore } from './store.js';

/** Name of the key kept while a bootstrap CSR is pending, so a restart reuses it (and so finds its own CSR). */
export const PENDING_KEY_FILE = 'kubelet-client.key.tmp';

/**
 * True when the kubeconfig at `path` loads and has a client certificate that is not expired (upstream
 * `isClientConfigStillValid`). `load` is the kubeconfig loader.
 */
export function kubeconfigStillValid(path: string, load: (path: string) => ClientConfig, now: number): boolean {
  if (!existsSync(path)) return false;
  try {
    const kc = load(path);
    const u = kc.user;
    const pem = u.clientCertificateData !== undefined ? Buffer.from(u.clientCertificateData, 'base64').toString('utf8') : u.clientCertificate === undefined ? undefined : readFileSync(u.clientCertificate, 'utf8');
    if (pem === undefined) return false;
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    return certs.length > 0 && certs.every((c) => Date.parse(new X509Certificate(c).validTo) > now);
  } catch {
    return false;
  }
}

/** The kubeconfig a bootstrapped kubelet uses (as upstream writes it): the bootstrap cluster, the cert-dir pair. */
export function renderNodeKubeconfig(o: { server: string; caData: string | undefined; insecure?: boolean; tlsServerName?: string; certPath: string }): string {
  const cluster = [
    `    server: ${JSON.stringify(o.server)}`,
    ...(o.caData === undefined ? [] : [`    certificate-authority-data: ${o.caData}`]),
    ...(o.insecure === true ? ['    insecure-skip-tls-verify: true'] : []),
    ...(o.tlsServerName === undefined ? [] : [`    tls-server-name: ${JSON.stringify(o.tlsServerName)}`]),
  ];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: default-cluster',
    '  cluster:',
    ...cluster,
    'contexts:',
    '- name: default-context',
    '  context:',
    '    cluster: default-cluster',
    '    namespace: default',
    '    user: default-auth',
    'current-context: default-context',
    'preferences: {}',
    'users:',
    '- name: default-auth',
    '  user:',
    `    client-certificate: ${JSON.stringify(o.certPath)}`,
    `    client-key: ${JSON.stringify(o.certPath)}`,
    '',
  ].join('\n');
}

/** Writes `text` to `path` atomically, mode 0600. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Options of {@link bootstrapClientCertificate}. */
export interface BootstrapOptions {
  kubeconfigPath: string;
  /** The bootstrap kubeconfig, already loaded. */
  bootstrap: ClientConfig;
  /** The CSR API with the bootstrap credentials. */
  api: CsrApi;
  store: CertificateStore;
  certDir: string;
  nodeName: string;
  load: (path: string) => ClientConfig;
  clock: Clock;
  logger: Logger;
  /** `spec.expirationSeconds` of the request (tests); default unset. */
  expirationSeconds?: number;
  /** How long to wait for approval (upstream: 1 hour). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Makes sure `kubeconfigPath` holds usable node credentials, bootstrapping them when needed. Returns what happened.
 * Throws (API_ERROR / TIMEOUT / file errors) when no certificate could be obtained.
 */
export async function bootstrapClientCertificate(o: BootstrapOptions): Promise<'valid' | 'reused' | 'issued'> {
  if (kubeconfigStillValid(o.kubeconfigPath, o.load, o.clock.now())) return 'valid';
  const certPath = o.store.currentPath ?? join(o.certDir, 'kubelet-client-current.pem');
  const c = o.bootstrap.cluster;
  const caData = c.certificateAuthorityData ?? (c.certificateAuthority === undefined ? undefined : readFileSync(c.certificateAuthority).toString('base64'));
  const kubeconfig = renderNodeKubeconfig({ server: c.server, caData, insecure: c.insecureSkipTlsVerify, tlsServerName: c.tlsServerName, certPath });
  const existing = o.store.current();
  if (existing !== undefined && existing.notAfter > o.clock.now()) {
    o.logger.info({ cert: certPath }, 'using the existing client certificate for the kubeconfig');
    writeAtomic(o.kubeconfigPath, kubeconfig);
    return 'reused';
  }
  mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
  const pendingKeyPath = join(o.certDir, PENDING_KEY_FILE);
  let key;
  try {
    key = loadKey(readFileSync(pendingKeyPath, 'utf8'));
  } catch {
    key = generateKey();
    writeFileSync(pendingKeyPath, key.pem, { mode: 0o600 });
  }
  const subject = nodeSubject(o.nodeName);
  const csr = csrObject({
    csrPem: buildCsrPem(key.key, subject),
    signerName: CLIENT_SIGNER,
    usages: CLIENT_USAGES,
    name: digestedCsrName(key.key, subject, CLIENT_USAGES),
    expirationSeconds: o.expirationSeconds,
  });
  o.logger.info({ node: o.nodeName, server: c.server }, 'no valid client certificate: requesting one with the bootstrap credentials (TLS bootstrap)');
  const certPem = await requestCertificate({
    api: o.api,
    csr,
    clock: o.clock,
    timeoutMs: o.timeoutMs ?? 3_600_000,
    signal: o.signal,
    onCreated: (name) => o.logger.info({ csr: name, signer: CLIENT_SIGNER }, 'certificate signing request created, waiting for approval'),
    onRetry: (err, delayMs) => o.logger.warn({ err: errorMessage(err), retryInMs: delayMs }, 'cannot create the certificate signing request, retrying'),
  });
  const pair = o.store.update(certPem, key.pem);
  try {
    rmSync(pendingKeyPath, { force: true });
  } catch (err) {
    o.logger.warn({ err: errorMessage(err) }, 'cannot remove the pending key file');
  }
  writeAtomic(o.kubeconfigPath, kubeconfig);
  o.logger.info({ kubeconfig: o.kubeconfigPath, cert: certPath, notAfter: new Date(pair.notAfter).toISOString() }, 'TLS bootstrap done: client certificate issued');
  return 'issued';
}
