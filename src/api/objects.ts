/**
 * Read access to the API objects a pod's environment refers to (ConfigMaps, Secrets, Services) and the TokenRequest
 * API for projected service account tokens. {@link ApiObjectSource} implements it over REST ({@link ApiClient}) with a
 * short TTL cache (the kubelet's "TTL" change-detection strategy), so repeated pod syncs see updates within the TTL.
 */
import type { AuthenticationV1TokenRequest, V1ConfigMap, V1Secret, V1Service, V1ServiceList } from '@kubernetes/client-node';
import { RealClock, type Clock } from '../util/clock.js';
import { NodeletError, errorMessage } from '../util/errors.js';
import { ApiStatusError, type ApiTransport } from './client.js';
import type { KubeConfig } from './kubeconfig.js';
import { transportOf } from './nodes.js';
import type { Informer } from './types.js';

/** What a projected serviceAccountToken source asks for (authentication.k8s.io/v1 TokenRequestSpec). */
export interface TokenRequestSpec {
  /** Empty = the API server's default audiences. */
  audiences: string[];
  expirationSeconds: number;
  /** The pod the token is bound to. */
  boundObjectRef: { kind: 'Pod'; apiVersion: 'v1'; name: string; uid: string };
}

/** An issued token; `expiresAt` in epoch ms. */
export interface IssuedToken {
  token: string;
  expiresAt: number;
}

/**
 * Objects a pod's volumes and environment read. `undefined` means "does not exist"; any other failure throws a
 * NodeletError with code API_ERROR. Implementations may cache; callers call again on every pod sync.
 */
export interface PodObjectSource {
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Services of one namespace (with cluster IPs). Throws API_ERROR when they cannot be listed (yet). */
  listServices(namespace: string): Promise<V1Service[]>;
  /** Issues a token via `POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token`. Throws API_ERROR on failure. */
  requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken>;
}

/** Options for {@link ApiObjectSource}. */
export interface ApiObjectSourceOptions {
  /** The API to read from: a kubeconfig, or an existing client to share. */
  kubeConfig: KubeConfig | ApiTransport;
  /** Cache lifetime for gets and lists (default 5 s). */
  ttlMs?: number;
  /** A synced service informer (all namespaces); when given, services come from it instead of lists. */
  services?: Informer<V1Service>;
  clock?: Clock;
}

interface CacheEntry<T> {
  at: number;
  value: T;
}

function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiStatusError) return err.httpStatus;
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

/** The API Status message of a failed request (not the transport's longer text). */
function apiMessage(err: unknown): string {
  if (err instanceof ApiStatusError && err.apiStatus?.message) return err.apiStatus.message;
  return errorMessage(err);
}

const nsPath = (ns: string, resource: string, name?: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/${resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/** {@link PodObjectSource} over the Kubernetes API with a TTL cache. Safe for concurrent callers. */
export class ApiObjectSource implements PodObjectSource {
  readonly #api: ApiTransport;
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #services: Informer<V1Service> | undefined;
  readonly #cache = new Map<string, CacheEntry<unknown>>();
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: ApiObjectSourceOptions) {
    this.#api = transportOf(options.kubeConfig);
    this.#ttl = options.ttlMs ?? 5000;
    this.#clock = options.clock ?? new RealClock();
    this.#services = options.services;
  }

  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    return this.#cached(`cm/${namespace}/${name}`, () =>
      this.#orUndefined(this.#api.request<V1ConfigMap>({ path: nsPath(namespace, 'configmaps', name) }), `configmap ${namespace}/${name}`),
    );
  }

  getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return this.#cached(`secret/${namespace}/${name}`, () =>
      this.#orUndefined(this.#api.request<V1Secret>({ path: nsPath(namespace, 'secrets', name) }), `secret ${namespace}/${name}`),
    );
  }

  async listServices(namespace: string): Promise<V1Service[]> {
    const inf = this.#services;
    if (inf !== undefined) {
      if (!inf.hasSynced()) {
        throw new NodeletError('API_ERROR', 'services have not yet been read at least once, cannot construct envvars');
      }
      return inf.list().filter((s) => s.metadata?.namespace === namespace);
    }
    return this.#cached(`svc/${namespace}`, async () => {
      try {
        return (await this.#api.request<V1ServiceList>({ path: nsPath(namespace, 'services') })).items;
      } catch (err) {
        throw new NodeletError('API_ERROR', 'failed to list services when setting up env vars', { cause: err });
      }
    });
  }

  async requestToken(namespace: string, serviceAccount: string, spec: TokenRequestSpec): Promise<IssuedToken> {
    const body: AuthenticationV1TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: spec.audiences, expirationSeconds: spec.expirationSeconds, boundObjectRef: spec.boundObjectRef },
    };
    try {
      const tr = await this.#api.request<AuthenticationV1TokenRequest>({ method: 'POST', path: `${nsPath(namespace, 'serviceaccounts', serviceAccount)}/token`, body });
      const token = tr.status?.token;
      if (!token) throw new Error('empty token in TokenRequest status');
      const exp = tr.status?.expirationTimestamp;
      const expiresAt = exp ? new Date(exp).getTime() : this.#clock.now() + spec.expirationSeconds * 1000;
      return { token, expiresAt };
    } catch (err) {
      throw new NodeletError(
        'API_ERROR',
        `failed to fetch token: ${statusCode(err) === 404 ? `serviceaccounts "${serviceAccount}" not found` : apiMessage(err)}`,
        { cause: err },
      );
    }
  }

  async #orUndefined<T>(p: Promise<T>, what: string): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw new NodeletError('API_ERROR', `failed to get ${what}: ${apiMessage(err)}`, { cause: err });
    }
  }

  async #cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.#cache.get(key);
    if (hit !== undefined && this.#clock.now() - hit.at < this.#ttl) return hit.value as T;
    const running = this.#inflight.get(key);
    if (running !== undefined) return running as Promise<T>;
    const p = load()
      .then((value) => {
        this.#cache.set(key, { at: this.#clock.now(), value });
        return value;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }
}
