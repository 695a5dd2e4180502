/**
 * The seam to the Kubernetes API. Everything that reads or writes API objects goes through src/api so that the same
 * code runs against the test API server and a real cluster (any server named by a kubeconfig).
 */

/** Minimal shape of any API object this package handles. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: Date | string;
  };
}

/** Callbacks of an informer. Handlers must not throw and must not block; they should only record and mark dirty. */
export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
  /** Called once after the first full list has been delivered (and again after every relist). */
  onSynced?(): void;
}

/**
 * A resilient list+watch cache of one resource type (like client-go's SharedInformer).
 *
 * Contract: after `start()` it lists, delivers onAdd for every object, marks itself synced, then watches from the
 * list's resourceVersion. A dropped watch resumes from the last seen resourceVersion; a 410 Gone relists and delivers
 * the difference as add/update/delete (never duplicates, never loses); any other error retries with backoff,
 * forever, until `stop()`.
 */
export interface Informer<T extends KubeObject> {
  start(): void;
  stop(): void;
  hasSynced(): boolean;
  /** Resolves once the initial list has been delivered; rejects if the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** Snapshot of the cache. */
  list(): T[];
  /** Object by key `namespace/name` (or `name` for cluster-scoped objects). */
  get(key: string): T | undefined;
  /** Adds handlers; returns a function that removes them. Objects already cached are replayed as onAdd. */
  addHandlers(handlers: InformerHandlers<T>): () => void;
}

/** What to list+watch. */
export interface InformerOptions {
  /** Collection path, e.g. `/api/v1/pods`, `/api/v1/namespaces/default/configmaps`, `/apis/discovery.k8s.io/v1/endpointslices`. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Ask for BOOKMARK events (default true). */
  allowWatchBookmarks?: boolean;
}

/** Cache key of an object: `namespace/name` or `name`. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** Reference to the object an event is about (core/v1 ObjectReference). */
export interface ObjectReference {
  kind: string;
  apiVersion?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  /** e.g. `spec.containers{web}` for container-level events. */
  fieldPath?: string;
}

/**
 * Records Kubernetes events (reasons and messages as upstream: Pulling, Pulled, Created, Started, Killing, BackOff,
 * Unhealthy, FailedMount, …). Never throws and never blocks: implementations queue, count repeats (`count`,
 * `lastTimestamp`) instead of duplicating, and rate-limit so one crash-looping pod cannot flood the API.
 */
export interface EventRecorder {
  event(ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void;
}
