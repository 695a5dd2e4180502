/**
 * The status manager (upstream pkg/kubelet/status/status_manager.go, reduced): a versioned cache of the status the
 * kubelet computed per pod UID, one coalescing writer that sends strategic merge patches to the API, and the final
 * deletion (grace 0, uid precondition) of pods whose termination finished.
 *
 * Who may touch what: the pod workers call setPodStatus/requestDeletion; only the writer calls the API. Terminal
 * phases never regress; a patch carries only the kubelet-owned fields that differ from what the API has
 * ({@link statusPatch}), so conditions written by others are never overwritten, and nothing is written when nothing
 * differs. The base of the diff is the status the API returned for our last patch of that object (the informer's
 * copy may not show that write yet), else the informer's.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodApi } from '../../api/pods.js';
import { isConflict, isNotFound, errorFields } from '../../util/errors.js';
import { isTerminalPhase } from './phase.js';
import { containerStateRegression } from './transition.js';
import { statusPatch } from './patch.js';
import { canonicalJSON } from './time.js';

/** Where a pod's status goes in the API (for static pods: the mirror pod). */
export interface StatusTarget {
  namespace: string;
  name: string;
  /** UID of the API object (the mirror pod's UID for static pods). */
  uid: string;
  /** The status the API object has now (from the informer), to skip no-op writes. */
  apiStatus?: V1PodStatus;
}

/** Options for {@link StatusManager}. */
export interface StatusManagerOptions {
  /** Undefined in standalone mode: statuses are only cached. */
  api?: PodApi;
  logger: Logger;
  /** Maps a pod UID to its API object; undefined = not (yet) in the API, retried on the next change/resync. */
  resolveTarget(uid: string): StatusTarget | undefined;
}

interface Entry {
  status: V1PodStatus;
  json: string;
  version: number;
  /** Canonical JSON last acknowledged by the API. */
  written: string | undefined;
  /** UID of the API object it was written to (a recreated mirror pod needs the status again). */
  writtenTo: string | undefined;
  /** The API object's status as our last patch of `writtenTo` returned it (the base of the next diff). */
  acked: V1PodStatus | undefined;
  /**
   * The API status object (by reference: the informer replaces it on every change) that was last found to need
   * nothing; a resync that sees the same object and an unchanged status skips the diff.
   */
  checked: V1PodStatus | undefined;
  /** The informer's status object when our last patch was sent: until it is replaced the informer lags behind us. */
  sentOver: V1PodStatus | undefined;
  deleteRequested: boolean;
}

/** See module comment. Single instance per agent. */
export class StatusManager {
  readonly #o: StatusManagerOptions;
  readonly #cache = new Map<string, Entry>();
  readonly #dirty = new Set<string>();
  #writing: Promise<void> | undefined;
  #stopped = false;

  constructor(options: StatusManagerOptions) {
    this.#o = options;
  }

  /** The cached status of `uid`. */
  getPodStatus(uid: string): V1PodStatus | undefined {
    return this.#cache.get(uid)?.status;
  }

  /** UIDs with a cached status. */
  uids(): string[] {
    return [...this.#cache.keys()];
  }

  /**
   * Records the status computed for `pod`. A terminal phase in the cache is kept (never regresses); a status that
   * shows a terminated container non-terminated again (transition.ts: a stale runtime read) is refused whole, as
   * upstream, and the cached one kept. Schedules a write when the status differs from the cached one. Returns true
   * when it changed.
   */
  setPodStatus(pod: V1Pod, status: V1PodStatus): boolean {
    const uid = pod.metadata?.uid ?? '';
    const old = this.#cache.get(uid);
    const regression = old === undefined ? undefined : containerStateRegression(old.status, status, pod.spec);
    if (regression !== undefined) {
      this.#o.logger.warn({ podUID: uid, code: 'INVALID', err: regression }, 'refusing a pod status that regresses a container state');
      return false;
    }
    const next: V1PodStatus = { ...status };
    if (old !== undefined && isTerminalPhase(old.status.phase) && !isTerminalPhase(next.phase)) {
      this.#o.logger.warn({ podUID: uid, from: old.status.phase, to: next.phase }, 'refusing to regress a terminal pod phase');
      next.phase = old.status.phase;
      next.reason = old.status.reason;
      next.message = old.status.message;
    }
    const json = canonicalJSON(next);
    if (old !== undefined && old.json === json) return false;
    this.#cache.set(uid, {
      status: next,
      json,
      version: (old?.version ?? 0) + 1,
      written: old?.written,
      writtenTo: old?.writtenTo,
      acked: old?.acked,
      checked: undefined,
      sentOver: old?.sentOver,
      deleteRequested: old?.deleteRequested ?? false,
    });
    this.#markDirty(uid);
    return true;
  }

  /** After the final status is written, delete the pod from the API (grace 0, uid precondition). */
  requestDeletion(uid: string): void {
    const e = this.#cache.get(uid);
    if (e === undefined || e.deleteRequested) return;
    e.deleteRequested = true;
    this.#markDirty(uid);
  }

  /** Forgets `uid`. */
  removePod(uid: string): void {
    this.#cache.delete(uid);
    this.#dirty.delete(uid);
  }

  /** Marks every cached pod dirty (periodic safety net, and after a target appears, e.g. a new mirror pod). */
  resyncAll(): void {
    for (const uid of this.#cache.keys()) this.#markDirty(uid);
  }

  /** Marks one pod dirty (e.g. its API object changed). */
  resync(uid: string): void {
    if (this.#cache.has(uid)) this.#markDirty(uid);
  }

  /** Resolves when no write is pending or in flight. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  /** Stops writing. */
  stop(): void {
    this.#stopped = true;
  }

  #markDirty(uid: string): void {
    if (this.#o.api === undefined || this.#stopped) return;
    this.#dirty.add(uid);
    // Coalesce: everything marked before the writer runs is sent in one pass.
    this.#writing ??= Promise.resolve().then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      while (this.#dirty.size > 0 && !this.#stopped) {
        const uids = [...this.#dirty];
        this.#dirty.clear();
        await Promise.all(uids.map((uid) => this.#syncOne(uid)));
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #syncOne(uid: string): Promise<void> {
    const api = this.#o.api;
    const e = this.#cache.get(uid);
    if (api === undefined || e === undefined) return;
    const target = this.#o.resolveTarget(uid);
    if (target === undefined) return;
    const log = this.#o.logger.child({ pod: `${target.namespace}/${target.name}`, podUID: uid });
    const { version, json, status } = e;
    // Periodic resyncs of idle pods: nothing to diff when neither our status nor the API object changed.
    if (!e.deleteRequested && e.written === json && e.writtenTo === target.uid &&
      target.apiStatus !== undefined && target.apiStatus === e.checked) return;
    try {
      const base = e.writtenTo === target.uid && e.acked !== undefined ? e.acked : target.apiStatus;
      let patch = statusPatch(base, status);
      let reconcile = false;
      if (patch === undefined && e.writtenTo === target.uid && e.written === json && target.apiStatus !== undefined &&
        target.apiStatus !== base && target.apiStatus !== e.sentOver) {
        // Our status did not change, but the API's copy (newer than our last write) differs from it: another writer
        // changed fields we own (the node lifecycle controller marks pods not Ready while the node is NotReady).
        // Write ours back, as upstream's status manager does when it needs to reconcile.
        patch = statusPatch(target.apiStatus, status);
        reconcile = patch !== undefined;
      }
      if (patch !== undefined && (reconcile || e.writtenTo !== target.uid || e.written !== json)) {
        e.sentOver = target.apiStatus;
        const res = await api.patchPodStatus(target.namespace, target.name, { metadata: { uid: target.uid }, status: patch });
        if (reconcile) log.info({ fields: Object.keys(patch) }, 'pod status in the API differed from the kubelet\'s; reconciled');
        e.acked = res?.status;
        log.debug({ version, phase: status.phase, fields: Object.keys(patch) }, 'pod status patched');
      }
      else e.checked = target.apiStatus;
      e.written = json;
      e.writtenTo = target.uid;
      if (e.deleteRequested && this.#cache.get(uid)?.version === version) {
        await api.deletePod(target.namespace, target.name, target.uid);
        log.info('pod deleted from the API after termination');
      }
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) {
        log.debug({ ...errorFields(err) }, 'pod gone or replaced; status not written');
        return;
      }
      // Left dirty-by-difference (written !== json): the periodic resyncAll retries it.
      log.warn({ ...errorFields(err) }, 'failed to update pod status; will retry');
    }
  }
}
