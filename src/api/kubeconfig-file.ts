/**
 * Parsing of kubeconfig documents (clientcmd v1 `Config`) into the few things nodelet needs: named clusters, users and
 * contexts plus `current-context`. Pure: no file access here except through the `read` callback of
 * {@link mergeKubeConfigs}' callers. Errors are ConfigErrors naming the file and the field (`users[0].user.exec`).
 */
import { parse } from 'yaml';
import { ConfigError, errorMessage } from '../util/errors.js';

/** One `clusters[].cluster`. Paths are already resolved against the kubeconfig's directory. */
export interface KubeCluster {
  name: string;
  server: string;
  certificateAuthority?: string;
  /** Base64 PEM, as in the file. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
}

/** One `users[].user`. Paths are already resolved against the kubeconfig's directory. */
export interface KubeUser {
  name: string;
  token?: string;
  tokenFile?: string;
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  username?: string;
  password?: string;
}

/** One `contexts[].context`. */
export interface KubeContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

/** A parsed (or merged) kubeconfig. */
export interface KubeConfigData {
  clusters: KubeCluster[];
  users: KubeUser[];
  contexts: KubeContext[];
  currentContext: string | undefined;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Auth mechanisms nodelet does not implement: a kubeconfig using one is rejected instead of silently ignored. */
const UNSUPPORTED_USER = ['exec', 'auth-provider', 'as', 'impersonate'];
const UNSUPPORTED_CLUSTER = ['proxy-url'];

class Reader {
  constructor(
    readonly file: string,
    readonly dir: string | undefined,
  ) {}

  fail(field: string, message: string): never {
    throw new ConfigError(`kubeconfig ${this.file}: ${field}: ${message}`, { object: `file ${this.file}`, field });
  }

  str(o: Obj, key: string, field: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') this.fail(`${field}.${key}`, `must be a string, not ${typeof v}`);
    return v;
  }

  path(o: Obj, key: string, field: string): string | undefined {
    const p = this.str(o, key, field);
    if (p === undefined || p.startsWith('/') || this.dir === undefined) return p;
    return `${this.dir}/${p}`;
  }

  list(doc: Obj, key: string, inner: string): { name: string; body: Obj; field: string }[] {
    const v = doc[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, 'must be a list');
    return v.map((item: unknown, i) => {
      const field = `${key}[${i}]`;
      if (!isObj(item)) this.fail(field, 'must be a mapping');
      const name = this.str(item, 'name', field) ?? this.fail(`${field}.name`, 'is required');
      const body = item[inner] ?? {};
      if (!isObj(body)) this.fail(`${field}.${inner}`, 'must be a mapping');
      return { name, body, field: `${field}.${inner}` };
    });
  }
}

function cluster(r: Reader, name: string, c: Obj, field: string): KubeCluster {
  for (const k of UNSUPPORTED_CLUSTER) if (c[k] !== undefined) r.fail(`${field}.${k}`, 'is not supported by nodelet');
  const server = r.str(c, 'server', field) ?? r.fail(`${field}.server`, 'is required');
  try {
    new URL(server);
  } catch {
    r.fail(`${field}.server`, `"${server}" is not a URL`);
  }
  const insecure = c['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean') r.fail(`${field}.insecure-skip-tls-verify`, 'must be true or false');
  return {
    name,
    server,
    certificateAuthority: r.path(c, 'certificate-authority', field),
    certificateAuthorityData: r.str(c, 'certificate-authority-data', field),
    insecureSkipTlsVerify: insecure === true,
    tlsServerName: r.str(c, 'tls-server-name', field),
  };
}

function user(r: Reader, name: string, u: Obj, field: string): KubeUser {
  for (const k of UNSUPPORTED_USER) if (u[k] !== undefined) r.fail(`${field}.${k}`, 'is not supported by nodelet (use a token, tokenFile or client certificate)');
  return {
    name,
    token: r.str(u, 'token', field),
    tokenFile: r.path(u, 'tokenFile', field),
    clientCertificate: r.path(u, 'client-certificate', field),
    clientCertificateData: r.str(u, 'client-certificate-data', field),
    clientKey: r.path(u, 'client-key', field),
    clientKeyData: r.str(u, 'client-key-data', field),
    username: r.str(u, 'username', field),
    password: r.str(u, 'password', field),
  };
}

/**
 * Parses one kubeconfig document. `file` names it in errors; relative paths in it are resolved against `dir` (the
 * file's directory, as kubectl does). Throws ConfigError for YAML errors, wrong types and unsupported auth.
 */
export function parseKubeConfig(text: string, file: string, dir?: string): KubeConfigData {
  const r: Reader = new Reader(file, dir);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`kubeconfig ${file}: not valid YAML: ${errorMessage(err)}`, { object: `file ${file}`, cause: err });
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObj(doc)) r.fail('(document)', 'must be a mapping');
  const contexts = r.list(doc, 'contexts', 'context').map(({ name, body, field }) => ({
    name,
    cluster: r.str(body, 'cluster', field) ?? '',
    user: r.str(body, 'user', field) ?? '',
    namespace: r.str(body, 'namespace', field),
  }));
  return {
    clusters: r.list(doc, 'clusters', 'cluster').map(({ name, body, field }) => cluster(r, name, body, field)),
    users: r.list(doc, 'users', 'user').map(({ name, body, field }) => user(r, name, body, field)),
    contexts,
    currentContext: r.str(doc, 'current-context', '(document)'),
  };
}

/** Merges kubeconfigs as kubectl merges a $KUBECONFIG list: the first file to define a name or current-context wins. */
export function mergeKubeConfigs(configs: KubeConfigData[]): KubeConfigData {
  const out: KubeConfigData = { clusters: [], users: [], contexts: [], currentContext: undefined };
  for (const c of configs) {
    for (const x of c.clusters) if (!out.clusters.some((y) => y.name === x.name)) out.clusters.push(x);
    for (const x of c.users) if (!out.users.some((y) => y.name === x.name)) out.users.push(x);
    for (const x of c.contexts) if (!out.contexts.some((y) => y.name === x.name)) out.contexts.push(x);
    out.currentContext ??= c.currentContext;
  }
  return out;
}
