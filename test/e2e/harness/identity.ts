import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { kubectlOk } from './kubectl.js';
import { E2E_LOG_DIR } from './nodelet.js';

/** Where minted identities are kept between runs (per cluster: keyed by server URL and CA). */
const IDENTITY_DIR = join(E2E_LOG_DIR, '..', 'e2e-identities');

/** An identity to mint: the certificate subject and the CSR signer that may sign it. */
interface IdentitySpec {
  /** File name of the kubeconfig (`node-<name>.kubeconfig`, `kube-proxy.kubeconfig`), as up.sh names them. */
  file: string;
  commonName: string;
  organization?: string;
  signerName: string;
}

/** The identity of node `name` (`system:node:<name>` in group `system:nodes`), as a kubelet has in a real cluster. */
export function nodeIdentity(name: string): IdentitySpec {
  return { file: `node-${name}.kubeconfig`, commonName: `system:node:${name}`, organization: 'system:nodes', signerName: 'kubernetes.io/kube-apiserver-client-kubelet' };
}

/** kube-proxy's identity (`system:kube-proxy`, bound to the `system:node-proxier` ClusterRole by default RBAC). */
export function kubeProxyIdentity(): IdentitySpec {
  return { file: 'kube-proxy.kubeconfig', commonName: 'system:kube-proxy', signerName: 'kubernetes.io/kube-apiserver-client' };
}

interface FlatKubeconfig {
  clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
}

/**
 * The CA file of the cluster of `adminKubeconfig` (its `certificate-authority`, or the `-data` written to
 * .tmp/e2e-identities): on kubeadm-like clusters (and up.sh's) it also signs the API server's kubelet-client
 * certificate, so it is what a node's `--client-ca-file` needs for `kubectl logs/exec` through the API server.
 */
export async function clusterCaFile(adminKubeconfig: string): Promise<string> {
  const flat = JSON.parse(await kubectlOk(adminKubeconfig, ['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'])) as FlatKubeconfig;
  const cluster = flat.clusters?.[0]?.cluster;
  const data = cluster?.['certificate-authority-data'];
  if (cluster?.server === undefined || data === undefined) throw new Error(`no cluster CA in ${adminKubeconfig}`);
  const key = createHash('sha256').update(`${cluster.server}\n${data}`).digest('hex').slice(0, 16);
  const out = join(IDENTITY_DIR, key, 'ca.crt');
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
    writeFileSync(out, Buffer.from(data, 'base64'));
  }
  return out;
}

/**
 * A kubeconfig for `spec` on the cluster of `adminKubeconfig`: the file up.sh wrote next to the admin kubeconfig
 * when there is one (`node-<name>.kubeconfig`, `kube-proxy.kubeconfig`), else one minted with the admin's rights
 * through a CertificateSigningRequest (created, approved, signed by kube-controller-manager) and cached under
 * .tmp/e2e-identities. Works on any cluster whose controller-manager signs the standard signers.
 */
export async function identityKubeconfig(adminKubeconfig: string, spec: IdentitySpec): Promise<string> {
  if (!adminKubeconfig.includes(':')) {
    const beside = join(dirname(adminKubeconfig), spec.file);
    if (existsSync(beside)) return beside;
  }
  const flat = JSON.parse(await kubectlOk(adminKubeconfig, ['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json'])) as FlatKubeconfig;
  const cluster = flat.clusters?.[0]?.cluster;
  if (cluster?.server === undefined) throw new Error(`no cluster server in ${adminKubeconfig}`);
  const key = createHash('sha256').update(`${cluster.server}\n${cluster['certificate-authority-data'] ?? ''}`).digest('hex').slice(0, 16);
  const out = join(IDENTITY_DIR, key, spec.file);
  if (existsSync(out)) return out;

  const work = mkdtempSync(join(tmpdir(), 'nodelet-identity-'));
  try {
    const subject = `${spec.organization === undefined ? '' : `/O=${spec.organization}`}/CN=${spec.commonName}`;
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(work, 'key.pem'), '-out', join(work, 'csr.pem'), '-subj', subject], { stdio: 'ignore' });
    const csrName = `nodelet-e2e-${randomBytes(4).toString('hex')}`;
    const csr = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: csrName },
      spec: {
        request: readFileSync(join(work, 'csr.pem')).toString('base64'),
        signerName: spec.signerName,
        usages: ['digital signature', 'key encipherment', 'client auth'],
      },
    };
    await kubectlOk(adminKubeconfig, ['create', '-f', '-'], { input: JSON.stringify(csr) });
    try {
      await kubectlOk(adminKubeconfig, ['certificate', 'approve', csrName]);
      let certB64 = '';
      for (let i = 0; i < 150 && certB64 === ''; i++) {
        certB64 = (await kubectlOk(adminKubeconfig, ['get', 'csr', csrName, '-o', 'jsonpath={.status.certificate}'])).trim();
        if (certB64 === '') await new Promise((r) => setTimeout(r, 200));
      }
      if (certB64 === '') throw new Error(`CSR ${csrName} for ${spec.commonName} was approved but not signed within 30 s (is kube-controller-manager signing ${spec.signerName}?)`);
      const kubeconfig = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster }],
        users: [{ name: spec.commonName, user: { 'client-certificate-data': certB64, 'client-key-data': readFileSync(join(work, 'key.pem')).toString('base64') } }],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: spec.commonName } }],
        'current-context': 'e2e',
      };
      mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
      writeFileSync(out, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
      return out;
    } finally {
      await kubectlOk(adminKubeconfig, ['delete', 'csr', csrName, '--ignore-not-found']).catch(() => undefined);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
