/**
 * Shutdown grace periods by pod priority (upstream nodeshutdown migrateConfig / groupByPriority). Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';

/** Pods at or above `priority` (up to the next group) get `shutdownGracePeriodSeconds`. */
export interface ShutdownGroupConfig {
  priority: number;
  shutdownGracePeriodSeconds: number;
}

/** Upstream's SystemCriticalPriority: critical pods are terminated last. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/**
 * The groups, lowest priority first: `byPriority` when given, else two groups from shutdownGracePeriod and
 * shutdownGracePeriodCriticalPods (regular pods get the difference, critical pods the critical period). Empty when
 * graceful shutdown is off.
 */
export function shutdownGroups(totalSeconds: number, criticalSeconds: number, byPriority: readonly ShutdownGroupConfig[]): ShutdownGroupConfig[] {
  if (byPriority.length > 0) return [...byPriority].sort((a, b) => a.priority - b.priority);
  if (totalSeconds <= 0) return [];
  return [
    { priority: 0, shutdownGracePeriodSeconds: totalSeconds - criticalSeconds },
    { priority: SYSTEM_CRITICAL_PRIORITY, shutdownGracePeriodSeconds: criticalSeconds },
  ];
}

/** The pods of each group (same order as `groups`); a pod goes to the highest group whose priority it reaches. */
export function groupPods(pods: readonly V1Pod[], groups: readonly ShutdownGroupConfig[]): V1Pod[][] {
  const out = groups.map(() => [] as V1Pod[]);
  for (const p of pods) {
    const prio = p.spec?.priority ?? 0;
    let idx = 0;
    for (let i = 0; i < groups.length; i++) if (prio >= (groups[i]?.priority ?? 0)) idx = i;
    out[idx]?.push(p);
  }
  return out;
}

/** The whole budget: the sum of the groups' periods (what the inhibitor delay must cover). */
export function totalShutdownSeconds(groups: readonly ShutdownGroupConfig[]): number {
  return groups.reduce((n, g) => n + g.shutdownGracePeriodSeconds, 0);
}
