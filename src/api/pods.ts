/**
 * Pod (and secret) calls the kubelet role needs, over a small REST client built from a KubeConfig: status patches
 * (strategic merge patch with an explicit Content-Type), deletion with grace 0 and a uid precondition, mirror pod
 * create/delete, secret reads for imagePullSecrets. Errors are NodeletErrors classified by HTTP status:
 * 404 → NOT_FOUND, 409 → CONFLICT (or ALREADY_EXISTS for creates), 422/400 → INVALID, else API_ERROR.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig, V1Pod, V1Secret } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, InvalidError, NodeletError, NotFoundError } from '../util/errors.js';

/** Content types of the patch flavours the API server accepts. */
export const PATCH_CONTENT_TYPES = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
} as const;

/** One REST request. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute path with query, e.g. `/api/v1/namespaces/default/pods/web/status`. */
  path: string;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** A minimal JSON REST client; `request` throws classified NodeletErrors. */
export interface RestClient {
  request<T>(req: ApiRequest): Promise<T>;
}

interface StatusBody {
  reason?: string;
  message?: string;
}

function classify(code: number, body: string, what: string): NodeletError {
  let parsed: StatusBody = {};
  try {
    parsed = JSON.parse(body) as StatusBody;
  } catch {
    parsed = { message: body.slice(0, 200) };
  }
  const msg = `${what}: HTTP ${code}${parsed.reason ? ` ${parsed.reason}` : ''}: ${parsed.message || body.slice(0, 200) || 'no message'}`;
  if (code === 404) return new NotFoundError(msg);
  if (code === 409) return parsed.reason === 'AlreadyExists' ? new AlreadyExistsError(msg) : new ConflictError(msg);
  if (code === 422 || code === 400) return new InvalidError(msg);
  return new NodeletError('API_ERROR', msg);
}

/** Builds a {@link RestClient} for the current context of `kc` (TLS, tokens and client certs as kubectl would). */
export function createRestClient(kc: KubeConfig): RestClient {
  return {
    async request<T>(req: ApiRequest): Promise<T> {
      const cluster = kc.getCurrentCluster();
      if (cluster === null) throw new NodeletError('CONFIG_INVALID', 'kubeconfig has no current cluster');
      const url = new URL(req.path, cluster.server.endsWith('/') ? cluster.server : `${cluster.server}/`);
      const opts: https.RequestOptions = { method: req.method, headers: { Accept: 'application/json' } };
      await kc.applyToHTTPSOptions(opts);
      const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
      const headers = (opts.headers ?? {}) as Record<string, string>;
      if (payload !== undefined) {
        headers['Content-Type'] = req.contentType ?? 'application/json';
        // Explicit length: some servers reject chunked bodies on DELETE.
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      opts.headers = headers;
      const mod = url.protocol === 'https:' ? https : http;
      return await new Promise<T>((resolve, reject) => {
        const r = mod.request(url, { ...opts, signal: req.signal }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) {
              try {
                resolve((text === '' ? {} : JSON.parse(text)) as T);
              } catch (err) {
                reject(new NodeletError('API_ERROR', `${req.method} ${req.path}: invalid JSON`, { cause: err }));
              }
            } else reject(classify(code, text, `${req.method} ${url.pathname}`));
          });
        });
        r.on('error', (err) => reject(new NodeletError('API_ERROR', `${req.method} ${req.path}: ${err.message}`, { cause: err })));
        if (payload !== undefined) r.write(payload);
        r.end();
      });
    },
  };
}

const podPath = (ns: string, name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

/**
 * The pod calls of the kubelet role. Implemented over REST by {@link createPodApi}; tests use an in-memory fake.
 * All methods may be called concurrently.
 */
export interface PodApi {
  getPod(namespace: string, name: string): Promise<V1Pod>;
  /** Strategic-merge-patches `/status`; returns the updated pod. */
  patchPodStatus(namespace: string, name: string, patch: Record<string, unknown>): Promise<V1Pod>;
  /** Deletes with grace 0 and a uid precondition; a missing pod is success, a different uid is CONFLICT. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
  /** Creates a pod (mirror pods); ALREADY_EXISTS when the name is taken. */
  createPod(pod: V1Pod): Promise<V1Pod>;
  getSecret(namespace: string, name: string): Promise<V1Secret>;
}

/** The REST implementation of {@link PodApi}. */
export function createPodApi(client: RestClient): PodApi {
  return {
    getPod: (ns, name) => client.request<V1Pod>({ method: 'GET', path: podPath(ns, name) }),
    patchPodStatus: (ns, name, patch) =>
      client.request<V1Pod>({
        method: 'PATCH',
        path: `${podPath(ns, name)}/status`,
        body: patch,
        contentType: PATCH_CONTENT_TYPES.strategic,
      }),
    async deletePod(ns, name, uid) {
      try {
        await client.request({
          method: 'DELETE',
          path: podPath(ns, name),
          body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } },
        });
      } catch (err) {
        if (err instanceof NotFoundError) return;
        throw err;
      }
    },
    createPod: (pod) =>
      client.request<V1Pod>({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(pod.metadata?.namespace ?? 'default')}/pods`,
        body: pod,
      }),
    getSecret: (ns, name) =>
      client.request<V1Secret>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`,
      }),
  };
}
