/**
 * The eviction manager (upstream pkg/kubelet/eviction/eviction_manager.go): every `monitoringIntervalMs` (10 s) it
 * observes the signals, finds the thresholds met (hard at once, soft after their grace period, held until the
 * minimum reclaim), keeps the pressure conditions for `transitionPeriodMs` after they were last seen, reclaims
 * node-level resources first (unused images for disk pressure), then evicts at most one pod per interval in
 * upstream's order, never a static or critical pod. Evicted pods end Failed with reason `Evicted` and the upstream
 * message, and a `Evicted` Warning event. Admission refuses BestEffort pods under memory pressure and every pod under
 * disk or PID pressure (critical pods excepted), as upstream.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { EventRecorder } from '../../api/types.js';
import { podRef } from '../../api/refs.js';
import { thresholdValue } from '../../config/quantity.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { qosClass } from '../security/qos.js';
import { evictionMessage, rankForEviction, type EvictionResource, type PodUsage } from './rank.js';
import { signalCondition, signalResource, thresholdsMet, thresholdsMetGracePeriod, type EvictionThreshold, type Observations } from './thresholds.js';

/** What the manager reads: signal observations and per-pod usage. */
export interface EvictionObserver {
  observe(): Promise<Observations>;
  /**
   * Usage of `pods`, measured for the pressure on `resource`: costly readings (the containers' writable layers) are
   * taken only for the resource that needs them.
   */
  podUsage(pods: readonly V1Pod[], resource: EvictionResource): Promise<Map<string, PodUsage>>;
}

/** How a pod is ended: status Failed with this reason/message, killed with this grace period. */
export interface EvictionFailure {
  reason: string;
  message: string;
  gracePeriodSeconds: number;
  /** Always true here: the pod was evicted (its dead containers are garbage-collected, upstream IsEvicted). */
  evicted: boolean;
  /** Upstream's DisruptionTarget condition: reason `TerminationByKubelet`, the eviction message. */
  disruptionTarget: { reason: string; message: string };
}

/** Reason of the DisruptionTarget condition the kubelet sets (upstream v1.PodReasonTerminationByKubelet). */
export const TERMINATION_BY_KUBELET = 'TerminationByKubelet';

/** Options of {@link EvictionManager}. */
export interface EvictionManagerOptions {
  thresholds: EvictionThreshold[];
  observer: EvictionObserver;
  /** The pods the kubelet runs (not terminating). */
  activePods: () => V1Pod[];
  /** Ends a pod (the pod lifecycle's failPod). */
  evict: (pod: V1Pod, failure: EvictionFailure) => void;
  /**
   * Node-level reclaim of disk (upstream nodeReclaimFuncs without a separate imagefs: dead containers, then unused
   * images); the signals are observed again afterwards. Resolves with the bytes freed (informational).
   */
  reclaimDisk?: () => Promise<number>;
  /** evictionPressureTransitionPeriod (default 5 m). */
  transitionPeriodMs: number;
  /** evictionMaxPodGracePeriod for soft evictions (seconds). */
  maxPodGracePeriodSeconds: number;
  recorder: EventRecorder;
  clock: Clock;
  logger: Logger;
}

type Condition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** Static, mirror and system-critical pods are never evicted (upstream IsCriticalPod). */
export function isCriticalPod(pod: V1Pod): boolean {
  const a = pod.metadata?.annotations ?? {};
  if (a['kubernetes.io/config.source'] !== undefined && a['kubernetes.io/config.source'] !== 'api') return true;
  if (a['kubernetes.io/config.mirror'] !== undefined) return true;
  return (pod.spec?.priority ?? 0) >= 2_000_000_000;
}

/** See module comment. `synchronize()` is one step; the caller runs it on a loop. */
export class EvictionManager {
  readonly #o: EvictionManagerOptions;
  readonly #firstObserved = new Map<EvictionThreshold, number>();
  readonly #conditionLastSeen = new Map<Condition, number>();
  #met: EvictionThreshold[] = [];
  /** Pods evicted and not gone yet: no further eviction until they are (one at a time, as upstream waits). */
  readonly #evicting = new Set<string>();

  constructor(options: EvictionManagerOptions) {
    this.#o = options;
  }

  /** The pressure conditions in force (seen within the transition period). */
  conditions(): Set<Condition> {
    const now = this.#o.clock.now();
    const out = new Set<Condition>();
    for (const [c, at] of this.#conditionLastSeen) if (now - at < this.#o.transitionPeriodMs || this.#met.some((t) => signalCondition(t.signal) === c)) out.add(c);
    return out;
  }

  /** Admission under pressure; undefined = admitted. */
  admit(pod: V1Pod): { reason: string; message: string } | undefined {
    const conds = [...this.conditions()];
    if (conds.length === 0 || isCriticalPod(pod)) return undefined;
    const onlyMemory = conds.every((c) => c === 'MemoryPressure');
    if (onlyMemory && qosClass(pod) !== 'BestEffort') return undefined;
    return { reason: 'Evicted', message: `The node had condition: [${conds.join(' ')}]. ` };
  }

  /** One monitoring step; returns the evicted pod, if any. Never throws (errors are logged with their code). */
  async synchronize(): Promise<V1Pod | undefined> {
    const { clock, logger } = this.#o;
    try {
      const active = this.#o.activePods();
      for (const uid of [...this.#evicting]) if (!active.some((p) => p.metadata?.uid === uid)) this.#evicting.delete(uid);
      let obs = await this.#o.observer.observe();
      let met = thresholdsMet(this.#o.thresholds, obs, this.#met);
      const now = clock.now();
      for (const t of met) this.#conditionLastSeen.set(signalCondition(t.signal), now);
      met = thresholdsMetGracePeriod(met, this.#firstObserved, now);
      this.#met = met;
      if (met.length === 0 || this.#evicting.size > 0) return undefined;
      // Memory first, then disk, then pids (upstream's signal order).
      const order = ['memory', 'ephemeral-storage', 'inodes', 'pids'];
      const t = [...met].sort((a, b) => order.indexOf(signalResource(a.signal)) - order.indexOf(signalResource(b.signal)))[0];
      if (t === undefined) return undefined;
      const resource = signalResource(t.signal);
      logger.warn({ code: 'EVICTION_THRESHOLD_MET', signal: t.signal, available: obs[t.signal]?.available }, 'eviction threshold met, attempting to reclaim resources');
      if ((resource === 'ephemeral-storage' || resource === 'inodes') && this.#o.reclaimDisk !== undefined) {
        // As upstream reclaimNodeLevelResources: observe again whatever the reclaim reports (removing dead
        // containers frees their writable layers and logs, which no byte count covers).
        const freed = await this.#o.reclaimDisk();
        obs = await this.#o.observer.observe();
        if (thresholdsMet([t], obs).length === 0) {
          logger.info({ signal: t.signal, freed }, 'eviction threshold resolved by node-level reclaim');
          return undefined;
        }
      }
      const candidates = active.filter((p) => !isCriticalPod(p));
      const usage = await this.#o.observer.podUsage(candidates, resource);
      const victim = rankForEviction(candidates, usage, resource)[0];
      if (victim === undefined) {
        logger.warn({ code: 'EVICTION_NO_CANDIDATE', signal: t.signal }, 'eviction manager: no pod to evict');
        return undefined;
      }
      const o = obs[t.signal];
      const message = evictionMessage({
        pod: victim,
        usage: usage.get(victim.metadata?.uid ?? ''),
        resource,
        thresholdQuantity: o === undefined ? undefined : thresholdValue(t.value, o.capacity),
        observation: o,
      });
      const grace = t.hard ? 0 : Math.min(this.#o.maxPodGracePeriodSeconds, victim.spec?.terminationGracePeriodSeconds ?? 30);
      this.#o.recorder.event(podRef(victim), 'Warning', 'Evicted', message);
      logger.info({ pod: `${victim.metadata?.namespace}/${victim.metadata?.name}`, podUID: victim.metadata?.uid, signal: t.signal, message }, 'evicting pod');
      this.#evicting.add(victim.metadata?.uid ?? '');
      this.#o.evict(victim, {
        reason: 'Evicted',
        message,
        gracePeriodSeconds: grace,
        evicted: true,
        disruptionTarget: { reason: TERMINATION_BY_KUBELET, message },
      });
      return victim;
    } catch (err) {
      logger.warn({ code: 'EVICTION_FAILED', err: errorMessage(err) }, 'eviction manager step failed');
      return undefined;
    }
  }
}
