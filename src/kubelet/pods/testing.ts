/**
 * Test doubles for the pod lifecycle: an in-memory API (pods by namespace/name, status patches, deletions) that also
 * acts as the pod informer, and a recorder that keeps events. Used by the unit tests of this area.
 */
import { randomUUID } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { PodApi } from '../../api/pods.js';
import type { EventRecorder, Informer, InformerHandlers, ObjectReference } from '../../api/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../util/errors.js';
import { applyStatusPatch } from '../status/patch.js';

/** A recorded event. */
export interface RecordedEvent {
  ref: ObjectReference;
  type: string;
  reason: string;
  message: string;
}

/** Keeps every event. */
export class MemoryRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  event(ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ ref, type, reason, message });
  }
  /** Events with `reason`. */
  of(reason: string): RecordedEvent[] {
    return this.events.filter((e) => e.reason === reason);
  }
}

const key = (ns: string, name: string): string => `${ns}/${name}`;

/** An in-memory API server for pods that is also the informer of the node's pods. */
export class FakePodApi implements PodApi, Informer<V1Pod> {
  readonly pods = new Map<string, V1Pod>();
  readonly secrets = new Map<string, V1Secret>();
  readonly patches: { key: string; patch: Record<string, unknown> }[] = [];
  readonly deletes: { key: string; uid: string }[] = [];
  readonly #handlers = new Set<InformerHandlers<V1Pod>>();
  #rv = 1;
  #synced = false;

  /** Adds or replaces a pod as a client would (fills uid/resourceVersion). */
  apply(pod: V1Pod): V1Pod {
    const meta = pod.metadata ?? {};
    const k = key(meta.namespace ?? 'default', meta.name ?? '');
    const old = this.pods.get(k);
    const next: V1Pod = structuredClone({
      ...pod,
      metadata: { ...meta, namespace: meta.namespace ?? 'default', uid: meta.uid ?? old?.metadata?.uid ?? randomUUID(), resourceVersion: String(this.#rv++) },
    });
    this.pods.set(k, next);
    for (const h of this.#handlers) {
      if (old === undefined) h.onAdd?.(next);
      else h.onUpdate?.(old, next);
    }
    return next;
  }

  /** Marks a pod deleted the way the API server does for a graceful delete. */
  markDeleted(ns: string, name: string, graceSeconds: number, now: number): void {
    const p = this.pods.get(key(ns, name));
    if (p === undefined) throw new NotFoundError(name);
    this.apply({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date(now + graceSeconds * 1000), deletionGracePeriodSeconds: graceSeconds } });
  }

  /** Removes a pod outright (informer delete). */
  remove(ns: string, name: string): void {
    const p = this.pods.get(key(ns, name));
    if (p === undefined) return;
    this.pods.delete(key(ns, name));
    for (const h of this.#handlers) h.onDelete?.(p);
  }

  async getPod(ns: string, name: string): Promise<V1Pod> {
    const p = this.pods.get(key(ns, name));
    if (p === undefined) throw new NotFoundError(`pods "${name}" not found`);
    return structuredClone(p);
  }

  async patchPodStatus(ns: string, name: string, patch: Record<string, unknown>): Promise<V1Pod> {
    const p = this.pods.get(key(ns, name));
    if (p === undefined) throw new NotFoundError(`pods "${name}" not found`);
    const uid = (patch.metadata as { uid?: string } | undefined)?.uid;
    if (uid !== undefined && uid !== p.metadata?.uid) throw new ConflictError('uid mismatch');
    this.patches.push({ key: key(ns, name), patch });
    return this.apply({ ...p, status: applyStatusPatch(p.status, patch.status as Record<string, unknown>) });
  }

  async deletePod(ns: string, name: string, uid: string): Promise<void> {
    const p = this.pods.get(key(ns, name));
    if (p === undefined) return;
    if (p.metadata?.uid !== uid) throw new ConflictError('uid precondition failed');
    this.deletes.push({ key: key(ns, name), uid });
    this.remove(ns, name);
  }

  async createPod(pod: V1Pod): Promise<V1Pod> {
    const k = key(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '');
    if (this.pods.has(k)) throw new AlreadyExistsError(`pods "${pod.metadata?.name}" already exists`);
    return this.apply({ ...pod, metadata: { ...pod.metadata, uid: undefined } });
  }

  async getSecret(ns: string, name: string): Promise<V1Secret> {
    const s = this.secrets.get(key(ns, name));
    if (s === undefined) throw new NotFoundError(`secrets "${name}" not found`);
    return s;
  }

  // ---- Informer ----
  start(): void {
    this.#synced = true;
    for (const h of this.#handlers) h.onSynced?.();
  }
  stop(): void {}
  hasSynced(): boolean {
    return this.#synced;
  }
  async waitForSync(): Promise<void> {}
  list(): V1Pod[] {
    return [...this.pods.values()];
  }
  get(k: string): V1Pod | undefined {
    return this.pods.get(k);
  }
  addHandlers(h: InformerHandlers<V1Pod>): () => void {
    this.#handlers.add(h);
    for (const p of this.pods.values()) h.onAdd?.(p);
    return () => this.#handlers.delete(h);
  }
}
