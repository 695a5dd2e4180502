/**
 * Wiring of TLS bootstrap and certificate rotation (src/kubelet/certificate) with the real API client and file store:
 * `--bootstrap-kubeconfig` before the kubeconfig is loaded, then the client certificate manager (`rotateCertificates`)
 * and the serving certificate manager (`serverTLSBootstrap`) as roles.
 *
 * Two environment variables exist for tests only (a real signer issues certificates for a year; these make a
 * rotation observable within a minute): `NODELET_CERT_EXPIRATION_SECONDS` sets `spec.expirationSeconds` of every CSR
 * (the API server requires ≥ 600), `NODELET_CERT_ROTATION_FRACTION` replaces upstream's 0.7 base fraction of the
 * lifetime after which a certificate is rotated and `NODELET_CERT_ROTATION_JITTER` upstream's 0.2 jitter (0 = none).
 * Signers backdate notBefore by 5 minutes, so with 600 s, fraction 0.36 and jitter 0 a certificate is rotated 24 s
 * after it was issued.
 */
import { realpathSync } from 'node:fs';
import { ApiClient, loadKubeConfig, type ClientConfig, type KubeConfig } from '../api/index.js';
import type { NodeletConfig } from '../config/index.js';
import {
  ApiCsrApi,
  bootstrapClientCertificate,
  CertificateManager,
  CLIENT_SIGNER,
  CLIENT_USAGES,
  FileCertificateStore,
  nodeSubject,
  SERVING_SIGNER,
  SERVING_USAGES,
  UPSTREAM_ROTATION,
  type RotationPolicy,
} from '../kubelet/certificate/index.js';
import type { ServingCertificateSource } from '../kubelet/server/api/types.js';
import type { Clock } from '../util/clock.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Role } from './role.js';

function envNumber(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`environment variable ${name}: expected a positive number (got "${v}")`, { field: name });
  return n;
}

/** Test-only tuning from the environment (see the file comment). */
export function certificateTuning(env: NodeJS.ProcessEnv = process.env): { expirationSeconds: number | undefined; policy: RotationPolicy } {
  const fraction = envNumber('NODELET_CERT_ROTATION_FRACTION', env);
  if (fraction !== undefined && fraction >= 1) throw new ConfigError('environment variable NODELET_CERT_ROTATION_FRACTION: must be below 1', { field: 'NODELET_CERT_ROTATION_FRACTION' });
  // "0" turns the jitter off (envNumber rejects 0, so it is read here).
  const jitter = env.NODELET_CERT_ROTATION_JITTER === '0' ? 0 : envNumber('NODELET_CERT_ROTATION_JITTER', env);
  return {
    expirationSeconds: envNumber('NODELET_CERT_EXPIRATION_SECONDS', env),
    policy: { baseFraction: fraction ?? UPSTREAM_ROTATION.baseFraction, jitter: jitter ?? UPSTREAM_ROTATION.jitter },
  };
}

function loadBootstrap(path: string): ClientConfig {
  try {
    return loadKubeConfig(path);
  } catch (err) {
    throw new ConfigError(`flag --bootstrap-kubeconfig: cannot load ${path}: ${errorMessage(err)}`, { field: '--bootstrap-kubeconfig', cause: err });
  }
}

/**
 * TLS bootstrap: with `--bootstrap-kubeconfig`, makes sure `--kubeconfig` holds valid node credentials before anything
 * loads it (blocks until the CSR is approved, as upstream). No-op without it.
 */
export async function runTlsBootstrap(config: NodeletConfig, clock: Clock, logger: Logger): Promise<void> {
  if (config.bootstrapKubeconfig === undefined) return;
  if (config.kubeconfig === undefined) throw new ConfigError('flag --bootstrap-kubeconfig needs --kubeconfig (the file TLS bootstrap writes)', { field: '--bootstrap-kubeconfig' });
  const bootstrap = loadBootstrap(config.bootstrapKubeconfig);
  const api = new ApiClient(bootstrap);
  try {
    await bootstrapClientCertificate({
      kubeconfigPath: config.kubeconfig,
      bootstrap,
      api: new ApiCsrApi(api),
      store: new FileCertificateStore({ dir: config.certDir, prefix: 'kubelet-client' }),
      certDir: config.certDir,
      nodeName: config.nodeName,
      load: loadKubeConfig,
      clock,
      logger: logger.child({ component: 'tls-bootstrap' }),
      expirationSeconds: certificateTuning().expirationSeconds,
    });
  } finally {
    api.close();
  }
}

function managerRole(name: string, m: CertificateManager, close: () => void): Role {
  return {
    name,
    start() {
      m.start();
      return Promise.resolve();
    },
    async stop() {
      await m.stop();
      close();
    },
  };
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b) || a === b;
  } catch {
    return a === b;
  }
}

/** What {@link certificateRoles} builds. */
export interface CertificateParts {
  roles: Role[];
  /** The serving certificate source for the kubelet API (serverTLSBootstrap), undefined otherwise. */
  serving: ServingCertificateSource | undefined;
}

/**
 * The client certificate manager (`rotateCertificates`, when the kubeconfig uses `<cert-dir>/kubelet-client-current.pem`
 * as TLS bootstrap writes it) and the serving certificate manager (`serverTLSBootstrap`).
 */
export function certificateRoles(config: NodeletConfig, kubeConfig: KubeConfig | undefined, clock: Clock, logger: Logger): CertificateParts {
  const out: CertificateParts = { roles: [], serving: undefined };
  if (kubeConfig === undefined || !config.roles.kubelet) return out;
  const tuning = certificateTuning();
  const log = logger.child({ component: 'certificates' });
  if (config.kubelet.rotateCertificates) {
    const store = new FileCertificateStore({ dir: config.certDir, prefix: 'kubelet-client' });
    const certFile = (kubeConfig as Partial<ClientConfig>).user?.clientCertificate;
    if (certFile === undefined || !samePath(certFile, store.currentPath)) {
      log.warn({ expected: store.currentPath, kubeconfigCert: certFile }, 'rotateCertificates: the kubeconfig does not use the cert-dir certificate (as TLS bootstrap writes it); client certificate rotation is off');
    } else {
      const client = new ApiClient(kubeConfig);
      const bootstrap = config.bootstrapKubeconfig === undefined ? undefined : new ApiClient(loadBootstrap(config.bootstrapKubeconfig));
      const manager = new CertificateManager({
        kind: 'client',
        store,
        // An expired certificate cannot authenticate its own renewal: fall back to the bootstrap token then.
        api: (cur) => new ApiCsrApi(cur === undefined && bootstrap !== undefined ? bootstrap : client),
        subject: () => nodeSubject(config.nodeName),
        signerName: CLIENT_SIGNER,
        usages: CLIENT_USAGES,
        clock,
        logger: log.child({ certificate: 'client' }),
        policy: tuning.policy,
        expirationSeconds: tuning.expirationSeconds,
      });
      out.roles.push(managerRole('client-certificate', manager, () => {
        client.close();
        bootstrap?.close();
      }));
    }
  }
  if (config.kubelet.server.serverTLSBootstrap) {
    const client = new ApiClient(kubeConfig);
    const manager = new CertificateManager({
      kind: 'serving',
      store: new FileCertificateStore({ dir: config.certDir, prefix: 'kubelet-server' }),
      api: () => new ApiCsrApi(client),
      subject: () => ({ ...nodeSubject(config.nodeName), dnsNames: [config.nodeName], ipAddresses: config.nodeIP === undefined ? [] : [config.nodeIP] }),
      signerName: SERVING_SIGNER,
      usages: SERVING_USAGES,
      clock,
      logger: log.child({ certificate: 'serving' }),
      policy: tuning.policy,
      expirationSeconds: tuning.expirationSeconds,
    });
    out.serving = manager;
    out.roles.push(managerRole('serving-certificate', manager, () => client.close()));
  }
  return out;
}
