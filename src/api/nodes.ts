/**
 * Node API access for the kubelet's node agent (registration and status). Errors are classified into nodelet errors
 * (`isNotFound`, `isConflict`, `isAlreadyExists`; anything else has code API_ERROR) so callers never parse messages.
 */
import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
} from '@kubernetes/client-node';
import { AlreadyExistsError, ConflictError, NodeletError, NotFoundError } from '../util/errors.js';

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

/** Maps anything the client throws into a classified nodelet error that names `what`. */
export function classifyApiError(err: unknown, what: string): NodeletError {
  if (err instanceof NodeletError) return err;
  if (err instanceof ApiException) {
    const msg = `${what}: ${statusMessage(err.body) || `HTTP ${err.code}`}`;
    if (err.code === 404) return new NotFoundError(msg, { cause: err, object: what });
    if (err.code === 409) {
      return statusMessage(err.body).includes('already exists')
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

const SMP = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The NodeApi over @kubernetes/client-node. */
export function createNodeApi(kc: KubeConfig, fieldManager = 'nodelet'): NodeApi {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    get: (name) => wrapApiCall(`node ${name}`, () => core.readNode({ name })),
    create: (node) => wrapApiCall(`node ${node.metadata?.name ?? ''}`, () => core.createNode({ body: node, fieldManager })),
    patch: (name, body) => wrapApiCall(`node ${name}`, () => core.patchNode({ name, body, fieldManager }, SMP)),
    patchStatus: (name, body) => wrapApiCall(`node ${name} status`, () => core.patchNodeStatus({ name, body, fieldManager }, SMP)),
  };
}
