/**
 * Eviction signals and thresholds as upstream (pkg/kubelet/eviction/helpers.go): which thresholds are met by an
 * observation, soft thresholds' grace periods, minimum reclaim, and the pressure transition period. Pure.
 */
import type { Threshold } from '../../config/quantity.js';
import type { EvictionThresholds } from '../../config/types.js';
import { thresholdValue } from '../../config/quantity.js';

/** The signals nodelet observes (those KubeletConfiguration's eviction fields accept). */
export type Signal = keyof EvictionThresholds;

/** One observation: what is available of what capacity. */
export interface Observation {
  available: number;
  capacity: number;
}

/** Observations by signal (a signal that could not be read is absent). */
export type Observations = Partial<Record<Signal, Observation>>;

/** A configured threshold. */
export interface EvictionThreshold {
  signal: Signal;
  value: Threshold;
  /** 0 for hard thresholds; the evictionSoftGracePeriod for soft ones. */
  gracePeriodMs: number;
  /** evictionMinimumReclaim: once met, a threshold stays met until available exceeds value + this. */
  minReclaim?: Threshold;
  hard: boolean;
}

/** The resource a signal starves (for messages and ranking). */
export function signalResource(signal: Signal): 'memory' | 'ephemeral-storage' | 'inodes' | 'pids' {
  if (signal === 'memory.available' || signal === 'allocatableMemory.available') return 'memory';
  if (signal === 'nodefs.inodesFree' || signal === 'imagefs.inodesFree') return 'inodes';
  if (signal === 'pid.available') return 'pids';
  return 'ephemeral-storage';
}

/** The node condition a signal drives. */
export function signalCondition(signal: Signal): 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' {
  const r = signalResource(signal);
  return r === 'memory' ? 'MemoryPressure' : r === 'pids' ? 'PIDPressure' : 'DiskPressure';
}

/**
 * Thresholds whose signal is below the threshold (upstream thresholdsMet). With `metBefore`, those thresholds are
 * held until available exceeds threshold + minimum reclaim (enforceMinReclaim).
 */
export function thresholdsMet(
  thresholds: readonly EvictionThreshold[],
  obs: Observations,
  metBefore: readonly EvictionThreshold[] = [],
): EvictionThreshold[] {
  return thresholds.filter((t) => {
    const o = obs[t.signal];
    if (o === undefined || o.capacity <= 0) return false;
    let quantity = thresholdValue(t.value, o.capacity);
    if (t.minReclaim !== undefined && metBefore.includes(t)) quantity += thresholdValue(t.minReclaim, o.capacity);
    return o.available < quantity;
  });
}

/**
 * Thresholds met long enough: hard ones at once, soft ones after their grace period since first observed
 * (`firstObserved` is updated in place: entries of thresholds no longer met are dropped).
 */
export function thresholdsMetGracePeriod(
  met: readonly EvictionThreshold[],
  firstObserved: Map<EvictionThreshold, number>,
  nowMs: number,
): EvictionThreshold[] {
  for (const t of [...firstObserved.keys()]) if (!met.includes(t)) firstObserved.delete(t);
  const out: EvictionThreshold[] = [];
  for (const t of met) {
    if (!firstObserved.has(t)) firstObserved.set(t, nowMs);
    if (nowMs - (firstObserved.get(t) ?? nowMs) >= t.gracePeriodMs) out.push(t);
  }
  return out;
}

/**
 * Builds thresholds from evictionHard / evictionSoft / evictionSoftGracePeriod / evictionMinimumReclaim. A soft
 * threshold without a grace period is refused (upstream: "no grace period specified for soft eviction threshold").
 */
export function buildThresholds(input: {
  hard: Partial<Record<string, Threshold>>;
  soft: Partial<Record<string, Threshold>>;
  softGracePeriodMs: Partial<Record<string, number>>;
  minReclaim: Partial<Record<string, Threshold>>;
}): EvictionThreshold[] {
  const out: EvictionThreshold[] = [];
  for (const [signal, value] of Object.entries(input.hard)) {
    if (value === undefined) continue;
    out.push({ signal: signal as Signal, value, gracePeriodMs: 0, hard: true, minReclaim: input.minReclaim[signal] });
  }
  for (const [signal, value] of Object.entries(input.soft)) {
    if (value === undefined) continue;
    const grace = input.softGracePeriodMs[signal];
    if (grace === undefined) throw new Error(`no grace period specified for soft eviction threshold ${signal}`);
    out.push({ signal: signal as Signal, value, gracePeriodMs: grace, hard: false, minReclaim: input.minReclaim[signal] });
  }
  return out;
}
