/**
 * Access denials (403 Forbidden) seen by the API clients of one kubeconfig — one identity. A role whose identity
 * lacks an RBAC rule (or is refused by the Node authorizer) would otherwise retry forever with nothing but a warning
 * per attempt; this keeps the open denials so the daemon can log each one once, with the resource and identity the
 * server names, and fail a health check until a later request for the same resource succeeds.
 */
import type { KubeConfig } from './kubeconfig.js';

/** One open denial: a request the server refused with 403. */
export interface AccessDenial {
  /** `GET /apis/discovery.k8s.io/v1/endpointslices` (method and path, no query). */
  request: string;
  /** The server's message, which names the user, verb, resource and scope (upstream RBAC wording). */
  message: string;
  /** Epoch ms of the first refusal. */
  since: number;
}

/** 403 texts that refuse one object for a while, not the identity: over once the object is gone. */
const TRANSIENT_REFUSALS = [
  // The Node authorizer, for an object no pod of the node uses any more.
  'no relationship found between node',
  // Admission, for a namespace being deleted.
  'because it is being terminated',
  // NodeRestriction, for a pod that moved to another node.
  'node requested token bound to a pod scheduled on a different node',
];

/**
 * Whether a 403 refuses this role's identity (RBAC's `User "…" cannot <verb> resource "…"`, NodeRestriction's
 * `node "a" is not allowed to modify node "b"`, a 403 without the server's Status text) — what the log and the
 * api-access health check report — as opposed to a refusal of one object that is over once the object is gone and
 * that no RBAC rule could fix ({@link TRANSIENT_REFUSALS}).
 */
export function isAuthorizationDenial(message: string): boolean {
  return !TRANSIENT_REFUSALS.some((t) => message.includes(t));
}

/** Listener of new denials (called once per request key until it succeeds again). */
export type DenialListener = (d: AccessDenial) => void;

/** The request key: method and path with the object name kept (NodeRestriction denies per object). */
export function denialKey(method: string, path: string): string {
  return `${method} ${path.split('?')[0] ?? path}`;
}

/** Open denials of one identity. */
export class AccessDenials {
  readonly #open = new Map<string, AccessDenial>();
  readonly #listeners = new Set<DenialListener>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Records a 403 for `method path`; listeners hear about it only the first time until it is cleared. A 403 that is
   * not an authorization refusal RBAC could fix (see {@link isAuthorizationDenial}) is not recorded: it would never be
   * cleared (its object is gone) and would fail the health check for good.
   */
  denied(method: string, path: string, message: string): void {
    if (!isAuthorizationDenial(message)) return;
    const key = denialKey(method, path);
    if (this.#open.has(key)) return;
    const d: AccessDenial = { request: key, message, since: this.#now() };
    this.#open.set(key, d);
    for (const l of this.#listeners) l(d);
  }

  /** A request for `method path` succeeded: its denial (if any) is over. Cheap when there is none. */
  allowed(method: string, path: string): void {
    if (this.#open.size === 0) return;
    this.#open.delete(denialKey(method, path));
  }

  /** The open denials, oldest first. */
  open(): AccessDenial[] {
    return [...this.#open.values()];
  }

  /** Subscribes to new denials; returns the unsubscribe function. */
  onDenied(listener: DenialListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A health check (see src/kubelet/server HealthChecks): failed while any denial is open, naming the first. */
  healthCheck(): () => string | undefined {
    return () => {
      const all = this.open();
      const first = all[0];
      if (first === undefined) return undefined;
      const more = all.length > 1 ? ` (and ${all.length - 1} more)` : '';
      return `forbidden by the API server: ${first.request}: ${first.message}${more}`;
    };
  }
}

const registry = new WeakMap<KubeConfig, AccessDenials>();

/** The denials of the identity `kc` stands for (one tracker per kubeconfig object; every ApiClient built from it reports into it). */
export function accessDenials(kc: KubeConfig): AccessDenials {
  let d = registry.get(kc);
  if (d === undefined) {
    d = new AccessDenials();
    registry.set(kc, d);
  }
  return d;
}
