/**
 * The pod manager (upstream pkg/kubelet/pod/pod_manager.go): the desired set merged from the sources, keyed by UID,
 * plus the mirror pods seen in the API keyed by full name. Mirror pods are never run; static pods are. Pure
 * bookkeeping: `setSource` returns the differences for the lifecycle to dispatch.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isMirrorPod } from '../sources/static-pod.js';
import type { SourceName } from '../sources/types.js';

/** What changed after a source delivered its set. */
export interface DesiredDiff {
  added: V1Pod[];
  updated: V1Pod[];
  removed: V1Pod[];
  /** Mirror pods changed (added/updated/removed). */
  mirrorsChanged: boolean;
}

/**
 * What the workers care about; status-only updates (our own writes echoed by the informer) do not count, except
 * the conditions named by readiness gates (written by others; Ready depends on them).
 */
function specKey(p: V1Pod): string {
  const m = p.metadata;
  const gates = (p.spec?.readinessGates ?? []).map((g) => p.status?.conditions?.find((c) => c.type === g.conditionType)?.status);
  return JSON.stringify([p.spec, m?.labels, m?.annotations, m?.deletionTimestamp, m?.deletionGracePeriodSeconds, gates]);
}

const fullName = (p: V1Pod): string => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`;

/** See module comment. */
export class DesiredPods {
  readonly #bySource = new Map<SourceName, Map<string, V1Pod>>();
  #mirrors = new Map<string, V1Pod>();

  /** Replaces the set of one source; returns the differences of the merged desired set. */
  setSource(source: SourceName, pods: V1Pod[]): DesiredDiff {
    const before = this.#merged();
    const next = new Map<string, V1Pod>();
    let mirrorsChanged = false;
    if (source === 'api') {
      const mirrors = new Map<string, V1Pod>();
      for (const p of pods) {
        if (isMirrorPod(p)) mirrors.set(fullName(p), p);
        else if (p.metadata?.uid !== undefined) next.set(p.metadata.uid, p);
      }
      mirrorsChanged = mirrors.size !== this.#mirrors.size ||
        [...mirrors].some(([k, v]) => this.#mirrors.get(k)?.metadata?.resourceVersion !== v.metadata?.resourceVersion);
      this.#mirrors = mirrors;
    } else {
      for (const p of pods) if (p.metadata?.uid !== undefined) next.set(p.metadata.uid, p);
    }
    this.#bySource.set(source, next);
    const after = this.#merged();
    const diff: DesiredDiff = { added: [], updated: [], removed: [], mirrorsChanged };
    for (const [uid, p] of after) {
      const old = before.get(uid);
      if (old === undefined) diff.added.push(p);
      else if (old !== p && specKey(old) !== specKey(p)) diff.updated.push(p);
    }
    for (const [uid, p] of before) if (!after.has(uid)) diff.removed.push(p);
    return diff;
  }

  #merged(): Map<string, V1Pod> {
    const out = new Map<string, V1Pod>();
    for (const m of this.#bySource.values()) for (const [uid, p] of m) if (!out.has(uid)) out.set(uid, p);
    return out;
  }

  /** The desired pod with `uid`. */
  get(uid: string): V1Pod | undefined {
    for (const m of this.#bySource.values()) {
      const p = m.get(uid);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /** All desired pods. */
  list(): V1Pod[] {
    return [...this.#merged().values()];
  }

  /** Desired pods of one source. */
  fromSource(source: SourceName): V1Pod[] {
    return [...(this.#bySource.get(source)?.values() ?? [])];
  }

  /** The mirror pod named like `pod` (same namespace/name), if the API has one. */
  mirrorOf(pod: V1Pod): V1Pod | undefined {
    return this.#mirrors.get(fullName(pod));
  }

  /** All mirror pods in the API. */
  mirrors(): V1Pod[] {
    return [...this.#mirrors.values()];
  }
}
