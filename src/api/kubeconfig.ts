/**
 * nodelet's own kubeconfig loader (no @kubernetes/client-node at run time: loading that library costs the agent about
 * 50 MB of memory). It supports what a node agent's kubeconfig uses: clusters/users/contexts and current-context,
 * server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name, client-certificate/key(-data), token,
 * tokenFile, username/password, and the in-cluster service account. exec and auth-provider plugins are rejected with
 * a ConfigError naming the field.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { ConfigError, errorMessage } from '../util/errors.js';
import { mergeKubeConfigs, parseKubeConfig, type KubeCluster, type KubeConfigData, type KubeContext, type KubeUser } from './kubeconfig-file.js';

/**
 * What an API client needs from a kubeconfig: the current cluster's server and the TLS/credential options of each
 * request. Implemented by {@link ClientConfig}; @kubernetes/client-node's KubeConfig satisfies it too (tests use it).
 */
export interface KubeConfig {
  /** The current context's cluster, or null when there is none. */
  getCurrentCluster(): { readonly name: string; readonly server: string } | null;
  /** Sets CA, client certificate/key, TLS verification and the Authorization header on `opts`. */
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

/** Where the in-cluster service account is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long a tokenFile's content is reused before it is read again (client-go's cached file token source). */
const TOKEN_FILE_TTL_MS = 60_000;

/** How often client certificate files are checked for a change (rotation). */
const CERT_FILE_CHECK_MS = 1000;

function readField(path: string, field: string, file: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`kubeconfig ${file}: ${field}: cannot read ${path}: ${errorMessage(err)}`, { object: `file ${file}`, field, cause: err });
  }
}

function pem(data: string | undefined, path: string | undefined, field: string, file: string): Buffer | undefined {
  if (data !== undefined) return Buffer.from(data, 'base64');
  return path === undefined ? undefined : readField(path, field, file);
}

/**
 * A resolved kubeconfig context (cluster + user). Reads certificate files once at construction (errors name the
 * field); a tokenFile is re-read at most once a minute so rotated tokens are picked up. Safe for concurrent use.
 */
export class ClientConfig implements KubeConfig {
  readonly cluster: KubeCluster;
  readonly user: KubeUser;
  /** The context's default namespace, if any. */
  readonly namespace: string | undefined;
  readonly #ca: Buffer | undefined;
  #cert: Buffer | undefined;
  #key: Buffer | undefined;
  readonly #file: string;
  readonly #now: () => number;
  #token: { value: string; at: number } | undefined;
  /** Identity (inode, mtime, size) of the certificate/key files last read, and when it was checked. */
  #certStamp: { id: string; at: number } | undefined;

  constructor(o: { cluster: KubeCluster; user: KubeUser; namespace?: string; file: string; now?: () => number }) {
    this.cluster = o.cluster;
    this.user = o.user;
    this.namespace = o.namespace;
    this.#file = o.file;
    this.#now = o.now ?? Date.now;
    const c = o.cluster;
    const u = o.user;
    this.#ca = pem(c.certificateAuthorityData, c.certificateAuthority, 'certificate-authority', o.file);
    this.#cert = pem(u.clientCertificateData, u.clientCertificate, 'client-certificate', o.file);
    this.#key = pem(u.clientKeyData, u.clientKey, 'client-key', o.file);
    if ((this.#cert === undefined) !== (this.#key === undefined)) {
      throw new ConfigError(`kubeconfig ${o.file}: user "${u.name}" has a client certificate without a key or a key without a certificate`, {
        object: `file ${o.file}`,
        field: this.#cert === undefined ? 'client-certificate' : 'client-key',
      });
    }
    if (u.clientCertificateData === undefined && u.clientCertificate !== undefined) this.#certStamp = { id: this.#certFilesId(), at: this.#now() };
  }

  #certFilesId(): string {
    const id = (p: string | undefined): string => {
      if (p === undefined) return '';
      try {
        const st = statSync(p);
        return `${st.ino}:${st.mtimeMs}:${st.size}`;
      } catch {
        return 'missing';
      }
    };
    return `${id(this.user.clientCertificate)}|${id(this.user.clientKey)}`;
  }

  /**
   * Client certificate files are re-read when they change (checked at most once per second), so a rotated
   * certificate (kubelet-client-current.pem re-pointed by the certificate manager) is used by the next request.
   * A pair that cannot be read (mid-rotation) keeps the previous one.
   */
  #refreshCert(): void {
    const stamp = this.#certStamp;
    if (stamp === undefined || this.#now() - stamp.at < CERT_FILE_CHECK_MS) return;
    const id = this.#certFilesId();
    this.#certStamp = { id: stamp.id, at: this.#now() };
    if (id === stamp.id) return;
    try {
      const cert = readFileSync(this.user.clientCertificate ?? '');
      const key = this.user.clientKey === undefined ? undefined : readFileSync(this.user.clientKey);
      this.#cert = cert;
      this.#key = key;
      this.#certStamp = { id, at: this.#now() };
    } catch {
      // keep the previous pair; the next check tries again
    }
  }

  getCurrentCluster(): { readonly name: string; readonly server: string } {
    return this.cluster;
  }

  #bearer(): string | undefined {
    if (this.user.token !== undefined) return this.user.token;
    const path = this.user.tokenFile;
    if (path === undefined) return undefined;
    const now = this.#now();
    if (this.#token === undefined || now - this.#token.at >= TOKEN_FILE_TTL_MS) {
      this.#token = { value: readField(path, 'tokenFile', this.#file).toString('utf8').trim(), at: now };
    }
    return this.#token.value;
  }

  applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    try {
      this.#refreshCert();
      if (this.#ca !== undefined) opts.ca = this.#ca;
      if (this.#cert !== undefined) opts.cert = this.#cert;
      if (this.#key !== undefined) opts.key = this.#key;
      opts.rejectUnauthorized = !this.cluster.insecureSkipTlsVerify;
      if (this.cluster.tlsServerName !== undefined) opts.servername = this.cluster.tlsServerName;
      const headers = (opts.headers ??= {}) as Record<string, string>;
      const token = this.#bearer();
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      else if (this.user.username !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(`${this.user.username}:${this.user.password ?? ''}`).toString('base64')}`;
      }
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/**
 * Resolves `data`'s current context into a {@link ClientConfig}; null when there is no current context or it names
 * no cluster. Throws ConfigError when the context names a user that is not defined.
 */
export function resolveContext(data: KubeConfigData, file: string): ClientConfig | null {
  const ctx: KubeContext | undefined = data.contexts.find((c) => c.name === data.currentContext);
  const cluster = ctx === undefined ? undefined : data.clusters.find((c) => c.name === ctx.cluster);
  if (ctx === undefined || cluster === undefined) return null;
  const user = ctx.user === '' ? { name: '' } : data.users.find((u) => u.name === ctx.user);
  if (user === undefined) {
    throw new ConfigError(`kubeconfig ${file}: context "${ctx.name}" names user "${ctx.user}", which is not defined`, { object: `file ${file}`, field: 'users' });
  }
  return new ClientConfig({ cluster, user, namespace: ctx.namespace, file });
}

/** The in-cluster config (service account token and CA, KUBERNETES_SERVICE_HOST/PORT), or undefined outside a pod. */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ClientConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(`${dir}/token`)) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const nsFile = `${dir}/namespace`;
  return new ClientConfig({
    cluster: { name: 'inCluster', server, certificateAuthority: `${dir}/ca.crt` },
    user: { name: 'inClusterUser', tokenFile: `${dir}/token` },
    namespace: existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined,
    file: 'in-cluster service account',
  });
}

function readKubeConfigFile(file: string): KubeConfigData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot load kubeconfig: ${errorMessage(err)}`, { cause: err, object: `file ${file}` });
  }
  return parseKubeConfig(text, file, dirname(file));
}

/**
 * Loads a kubeconfig: from `path` when given, else from $KUBECONFIG (a colon list, merged as kubectl merges it;
 * missing files are skipped), else ~/.kube/config when it exists, else the in-cluster service account when running in
 * a pod. Throws ConfigError naming the file when it cannot be read or parsed, or has no current cluster.
 */
export function loadKubeConfig(path?: string): ClientConfig {
  const list = path === undefined ? (process.env.KUBECONFIG ?? '').split(':').filter((p) => p !== '') : [path];
  let files = path === undefined ? list.filter((f) => existsSync(f)) : list;
  if (files.length === 0 && list.length === 0) {
    const home = `${homedir()}/.kube/config`;
    if (existsSync(home)) files = [home];
    else {
      const inCluster = inClusterConfig();
      if (inCluster !== undefined) return inCluster;
      files = [home];
    }
  }
  if (files.length === 0) files = list.slice(0, 1);
  const name = files.join(':');
  const kc = resolveContext(mergeKubeConfigs(files.map(readKubeConfigFile)), name);
  if (kc === null) {
    throw new ConfigError('kubeconfig has no current cluster (check current-context)', { object: `file ${name}`, field: 'current-context' });
  }
  return kc;
}
