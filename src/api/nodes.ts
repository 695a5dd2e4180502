/**
 * Node API access for the kubelet's node agent (registration and status). Errors are classified into nodelet errors
 * (`isNotFound`, `isConflict`, `isAlreadyExists`; anything else has code API_ERROR) so callers never parse messages.
 */
import type { V1Node } from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NodeletError, NotFoundError } from '../util/errors.js';
import { ApiClient, ApiStatusError, type ApiTransport } from './client.js';
import type { KubeConfig } from './kubeconfig.js';
import { PATCH_CONTENT_TYPE } from './patch.js';

/** Reads and writes Node objects. Every method may be called concurrently; none retries (callers back off). */
export interface NodeApi {
  /** The Node; throws NotFoundError when it does not exist. */
  get(name: string): Promise<V1Node>;
  /** Creates the Node; throws AlreadyExistsError when it exists. */
  create(node: V1Node): Promise<V1Node>;
  /** Strategic-merge-patches the Node (metadata/spec). */
  patch(name: string, patch: object): Promise<V1Node>;
  /** Strategic-merge-patches the Node's status subresource. */
  patchStatus(name: string, patch: object): Promise<V1Node>;
}

function statusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body.slice(0, 200);
    }
  }
  return '';
}

/** An error thrown by a client-node generated API (tests still use that library): an HTTP code and the raw body. */
function clientNodeError(err: unknown): { code: number; body: unknown } | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, body } = err as Error & { code?: unknown; body?: unknown };
  return typeof code === 'number' && body !== undefined ? { code, body } : undefined;
}

/** Maps anything an API call throws into a classified nodelet error whose message starts with `what`. */
export function classifyApiError(err: unknown, what: string): NodeletError {
  if (err instanceof ApiStatusError) {
    const msg = `${what}: ${err.apiStatus?.message || `HTTP ${err.httpStatus}`}`;
    return new NodeletError(err.code, msg, { cause: err, object: what });
  }
  if (err instanceof NodeletError) return err;
  const ce = clientNodeError(err);
  if (ce !== undefined) {
    const msg = `${what}: ${statusMessage(ce.body) || `HTTP ${ce.code}`}`;
    if (ce.code === 404) return new NotFoundError(msg, { cause: err, object: what });
    if (ce.code === 409) {
      return statusMessage(ce.body).includes('already exists')
        ? new AlreadyExistsError(msg, { cause: err, object: what })
        : new ConflictError(msg, { cause: err, object: what });
    }
    return new NodeletError('API_ERROR', msg, { cause: err, object: what });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return new NodeletError('API_ERROR', `${what}: ${err instanceof Error ? err.message : String(err)}${cause}`, {
    cause: err,
    object: what,
  });
}

/** Runs one client call, rethrowing any failure as {@link classifyApiError} of it (naming `what`). */
export async function wrapApiCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw classifyApiError(err, what);
  }
}

/** `kc` itself when it is already a client/transport, else a new {@link ApiClient} over it. */
export function transportOf(kc: KubeConfig | ApiTransport): ApiTransport {
  return 'stream' in kc && 'request' in kc ? kc : new ApiClient(kc);
}

const nodePath = (name?: string): string => `/api/v1/nodes${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

/** The NodeApi over REST (`kc` or an existing client/transport). */
export function createNodeApi(kc: KubeConfig | ApiTransport, fieldManager = 'nodelet'): NodeApi {
  const api = transportOf(kc);
  const smp = (name: string, body: object, sub: string): Promise<V1Node> =>
    api.request<V1Node>({ method: 'PATCH', path: nodePath(name) + sub, query: { fieldManager }, body, contentType: PATCH_CONTENT_TYPE.strategic });
  return {
    get: (name) => wrapApiCall(`node ${name}`, () => api.request<V1Node>({ path: nodePath(name) })),
    create: (node) =>
      wrapApiCall(`node ${node.metadata?.name ?? ''}`, () => api.request<V1Node>({ method: 'POST', path: nodePath(), query: { fieldManager }, body: node })),
    patch: (name, body) => wrapApiCall(`node ${name}`, () => smp(name, body, '')),
    patchStatus: (name, body) => wrapApiCall(`node ${name} status`, () => smp(name, body, '/status')),
  };
}
