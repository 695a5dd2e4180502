/**
 * e2e (issue 12 item 3, issue 13 item 1): a node joins with only a bootstrap token — TLS bootstrap of its client
 * certificate (`--bootstrap-kubeconfig`), registration with the issued `system:node:<name>` identity — rotates that
 * certificate before it expires (`--rotate-certificates`) and keeps working with the new one, and gets its serving
 * certificate from a `kubernetes.io/kubelet-serving` CSR once it is approved with `kubectl certificate approve`
 * (`--rotate-server-certificates`, serverTLSBootstrap).
 *
 * Short lifetimes: every CSR asks `spec.expirationSeconds: 600` (the API server's minimum) and the rotation threshold
 * is lowered with NODELET_CERT_ROTATION_FRACTION=0.36 / NODELET_CERT_ROTATION_JITTER=0: the signer backdates
 * notBefore by 5 minutes, so a certificate is rotated 0.36 × 900 s − 300 s = 24 s after it was issued.
 *
 * Runs on the test API server (bootstrap token Secret, auto-approving csrapproving and the csrsigning signer of
 * test/apiserver/certificates) and on a real control plane, whose bootstrap kubeconfig is
 * $NODELET_E2E_BOOTSTRAP_KUBECONFIG or `bootstrap.kubeconfig` next to the admin kubeconfig (../shared/k8s/up.sh writes
 * it); without one the test skips on a real cluster and says why.
 */
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCsr, seenClientCertSerials } from '../apiserver/index.js';
import { dumpOnFailure, externalKubeconfig, runNodelet, startCluster, waitFor, type Cluster, type NodeletProcess } from './harness/index.js';
import { fastKubeletConfig, tempDir } from './node-helpers.js';

const external = externalKubeconfig();
const realBootstrap = external === undefined ? undefined : (process.env.NODELET_E2E_BOOTSTRAP_KUBECONFIG ?? join(dirname(external), 'bootstrap.kubeconfig'));
const skipReason = realBootstrap !== undefined && !existsSync(realBootstrap) ? `no bootstrap kubeconfig for the real cluster (${realBootstrap})` : undefined;
// nl-join-1 is this suite's node name on the shared real control plane.
const NODE = external === undefined ? 'nl5-join' : 'nl-join-1';
const HEALTHZ_PORT = 20510;
const KUBELET_PORT = 20511;

interface Csr {
  metadata: { name: string; creationTimestamp: string };
  spec: { signerName: string; username: string; request: string; usages: string[]; expirationSeconds?: number };
  status?: { conditions?: { type: string; status: string }[]; certificate?: string };
}

let cluster: Cluster;
let nodelet: NodeletProcess | undefined;
let dir: ReturnType<typeof tempDir>;

async function nodeCsrs(): Promise<Csr[]> {
  const out = await cluster.kubectlOk(['get', 'csr', '-o', 'json']);
  return (JSON.parse(out) as { items: Csr[] }).items
    .filter((c) => {
      try {
        return parseCsr(Buffer.from(c.spec.request, 'base64').toString('utf8')).commonName === `system:node:${NODE}`;
      } catch {
        return false;
      }
    })
    .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
}

async function cleanUp(): Promise<void> {
  for (const c of await nodeCsrs()) await cluster.kubectl(['delete', 'csr', c.metadata.name, '--wait=false']);
  await cluster.kubectl(['delete', 'node', NODE, '--wait=false']);
}

function certOf(path: string): X509Certificate {
  return new X509Certificate(readFileSync(path, 'utf8'));
}

beforeAll(async () => {
  cluster = await startCluster();
  dir = tempDir('nl5-tls-');
  if (skipReason !== undefined) return;
  await cleanUp();
  const bootstrap = realBootstrap ?? join(dir.path, 'bootstrap.kubeconfig');
  if (realBootstrap === undefined) cluster.server!.writeBootstrapKubeconfig(bootstrap);
  nodelet = runNodelet(
    [
      `--bootstrap-kubeconfig=${bootstrap}`,
      `--kubeconfig=${dir.path}/kubelet.conf`, // does not exist yet: TLS bootstrap writes it
      `--cert-dir=${dir.path}/pki`,
      '--rotate-certificates',
      '--rotate-server-certificates',
      `--config=${fastKubeletConfig(dir.path)}`,
      '--roles=kubelet',
      `--hostname-override=${NODE}`,
      '--node-ip=127.0.0.1',
      `--root-dir=${dir.path}/root`,
      `--healthz-port=${HEALTHZ_PORT}`,
      `--port=${KUBELET_PORT}`,
      '--fail-swap-on=false',
    ],
    { name: 'nl5-tls-bootstrap', env: { NODELET_CERT_EXPIRATION_SECONDS: '600', NODELET_CERT_ROTATION_FRACTION: '0.36', NODELET_CERT_ROTATION_JITTER: '0' } },
  );
}, 60_000);

afterAll(async () => {
  await nodelet?.stop();
  if (skipReason === undefined) await cleanUp().catch(() => undefined);
  await cluster?.stop();
  dir?.remove();
});

describe.skipIf(skipReason !== undefined)(`TLS bootstrap and certificate rotation${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  beforeEach(() => dumpOnFailure(cluster, () => (nodelet === undefined ? [] : [nodelet])));
  let firstSerial = '';

  it('joins with only a bootstrap token: CSR by system:bootstrap:<id>, kubeconfig + kubelet-client-current.pem written, node Ready as system:node:<name>', async () => {
    const current = join(dir.path, 'pki', 'kubelet-client-current.pem');
    await waitFor(() => existsSync(join(dir.path, 'kubelet.conf')) && existsSync(current), { timeoutMs: 30_000, description: 'kubeconfig and client certificate written' });
    const cert = certOf(current);
    expect(cert.subject).toBe(`O=system:nodes\nCN=system:node:${NODE}`);
    firstSerial = cert.serialNumber;
    expect(readFileSync(join(dir.path, 'kubelet.conf'), 'utf8')).toContain(`client-certificate: "${current}"`);
    const csrs = await nodeCsrs();
    const boot = csrs.find((c) => c.metadata.name.startsWith('node-csr-'));
    expect(boot?.spec).toMatchObject({ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], expirationSeconds: 600 });
    expect(boot?.spec.username).toMatch(/^system:bootstrap:[a-z0-9]{6}$/);
    await waitFor(async () => {
      const r = await cluster.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return r.stdout === 'True';
    }, { timeoutMs: 30_000, description: `node ${NODE} Ready` });
  });

  it('gets its serving certificate from a kubelet-serving CSR once `kubectl certificate approve` approves it', async () => {
    const serving = await waitFor(async () => (await nodeCsrs()).find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving'), { timeoutMs: 30_000, description: 'kubelet-serving CSR' });
    expect(serving.spec.username).toBe(`system:node:${NODE}`);
    expect(serving.spec.usages).toEqual(['digital signature', 'server auth']);
    expect(serving.status?.certificate).toBeUndefined(); // not approved automatically, as with kubeadm
    await cluster.kubectlOk(['certificate', 'approve', serving.metadata.name]);
    const path = join(dir.path, 'pki', 'kubelet-server-current.pem');
    await waitFor(() => existsSync(path), { timeoutMs: 30_000, description: 'kubelet-server-current.pem' });
    const cert = certOf(path);
    expect(cert.subjectAltName).toBe(`DNS:${NODE}, IP Address:127.0.0.1`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    // the kubelet API (port --port) serves it
    const served = await waitFor(async () => {
      const serial = await new Promise<string | undefined>((resolve) => {
        const sock = tlsConnect({ host: '127.0.0.1', port: KUBELET_PORT, rejectUnauthorized: false }, () => {
          const s = sock.getPeerCertificate().serialNumber;
          sock.destroy();
          resolve(s);
        });
        sock.on('error', () => resolve(undefined));
      });
      return serial?.toUpperCase() === cert.serialNumber.toUpperCase() ? serial : undefined;
    }, { timeoutMs: 15_000, description: 'the kubelet API serving the issued certificate' });
    expect(served).toBeDefined();
  });

  it('rotates the client certificate before it expires, renewing with its own identity, and keeps using the new one', async () => {
    const current = join(dir.path, 'pki', 'kubelet-client-current.pem');
    const target = realpathSync(current);
    const rotated = await waitFor(() => (realpathSync(current) !== target ? certOf(current) : undefined), { timeoutMs: 60_000, description: 'client certificate rotated' });
    expect(rotated.serialNumber).not.toBe(firstSerial);
    const lifetime = Date.parse(rotated.validTo) - Date.parse(rotated.validFrom);
    expect(lifetime).toBeGreaterThan(890_000); // 600 s + 5 minutes of backdating
    expect(lifetime).toBeLessThan(910_000);
    // the renewal CSR was authenticated with the first certificate, not the bootstrap token
    const renewals = (await nodeCsrs()).filter((c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' && !c.metadata.name.startsWith('node-csr-'));
    expect(renewals.length).toBeGreaterThan(0);
    expect(renewals[0]!.spec.username).toBe(`system:node:${NODE}`);
    // the lease keeps being renewed after the rotation (with the new certificate: on the test server, seen directly)
    const renewTime = async (): Promise<string> => (await cluster.kubectlOk(['-n', 'kube-node-lease', 'get', 'lease', NODE, '-o', 'jsonpath={.spec.renewTime}'])).trim();
    const before = await renewTime();
    await waitFor(async () => (await renewTime()) !== before, { timeoutMs: 15_000, description: 'lease renewed after the rotation' });
    if (!cluster.external) {
      await waitFor(() => seenClientCertSerials.has(certOf(current).serialNumber.toUpperCase()), { timeoutMs: 15_000, description: 'the rotated certificate used by the node' });
    }
    expect(nodelet?.logs()).toContain('certificate rotated');
  }, 90_000);
});
