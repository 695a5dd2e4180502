/**
 * The container garbage collection policy of the kubelet (upstream pkg/kubelet/kuberuntime/kuberuntime_gc.go), as
 * pure selection functions: given what the runtime lists and what the pod workers know, which dead containers and
 * which sandboxes to remove, in removal order. The effectful shell is {@link ContainerGcManager}.
 */
import type { ContainerState } from '../../cri/types.js';

/**
 * Upstream kubecontainer.GCPolicy, set by the deprecated kubelet flags `--minimum-container-ttl-duration` (minAge,
 * default 0), `--maximum-dead-containers-per-container` (default 1) and `--maximum-dead-containers` (default -1).
 */
export interface ContainerGcPolicy {
  /** Minimum age (since creation) of a dead container before it may be removed; 0 = no limit. */
  minAgeMs: number;
  /** Dead containers kept per (pod UID, container name); < 0 = no limit. */
  maxPerPodContainer: number;
  /** Dead containers kept on the node in total; < 0 = no limit. */
  maxContainers: number;
}

/** Upstream defaults of {@link ContainerGcPolicy}. */
export const DEFAULT_CONTAINER_GC_POLICY: Readonly<ContainerGcPolicy> = { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 };

/** A container as the GC sees it. */
export interface GcContainer {
  id: string;
  podUID: string;
  /** Container name in the pod. */
  name: string;
  podSandboxId: string;
  state: ContainerState;
  /** Epoch ms. */
  createdAt: number;
}

/** A sandbox as the GC sees it. */
export interface GcSandbox {
  id: string;
  podUID: string;
  ready: boolean;
  /** Epoch ms. */
  createdAt: number;
}

/**
 * What the pod workers say about a pod UID (upstream podStateProvider): `content` = ShouldPodContentBeRemoved
 * (evicted, or deleted and terminated; an unknown UID once all sources synced), `runtime` = ShouldPodRuntimeBeRemoved
 * (terminated; an unknown UID once all sources synced).
 */
export interface PodRemoval {
  content: boolean;
  runtime: boolean;
}

/** Inputs of {@link selectContainers}. */
export interface ContainerSelectionInput {
  containers: readonly GcContainer[];
  policy: ContainerGcPolicy;
  /** Epoch ms. */
  now: number;
  /** Every pod source has delivered its complete set (containers of deleted pods are removed only then). */
  allSourcesReady: boolean;
  /** The eviction manager's reclaim (DeleteAllUnusedContainers): containers of terminated pods go too. */
  evictNonDeletedPods: boolean;
  podRemoval(uid: string): PodRemoval;
}

const newestFirst = (a: { createdAt: number }, b: { createdAt: number }): number => b.createdAt - a.createdAt;

/**
 * Dead containers to remove, oldest first within each step (upstream evictContainers): containers that are not
 * running and were created at least `minAgeMs` ago are grouped by (pod UID, container name); every group of a pod
 * whose content should be removed goes whole (only once all sources are ready); each remaining group keeps its
 * `maxPerPodContainer` newest; then, while more than `maxContainers` remain, every group is cut to
 * max(1, maxContainers / groups) and finally the oldest overall go. Containers in state `unknown` are in the result
 * too (the caller stops them first). Pure.
 */
export function selectContainers(input: ContainerSelectionInput): GcContainer[] {
  const { policy } = input;
  const newestGcTime = input.now - policy.minAgeMs;
  const units = new Map<string, GcContainer[]>();
  for (const c of input.containers) {
    if (c.state === 'running' || c.createdAt > newestGcTime) continue;
    const key = `${c.podUID}\u0000${c.name}`;
    const unit = units.get(key);
    if (unit === undefined) units.set(key, [c]);
    else unit.push(c);
  }
  const out: GcContainer[] = [];
  const removeOldestN = (list: GcContainer[], n: number): GcContainer[] => {
    const sorted = [...list].sort(newestFirst);
    const keep = Math.max(0, sorted.length - n);
    out.push(...sorted.slice(keep).reverse());
    return sorted.slice(0, keep);
  };
  const enforcePerUnit = (max: number): void => {
    for (const [key, unit] of units) if (unit.length > max) units.set(key, removeOldestN(unit, unit.length - max));
  };
  const count = (): number => [...units.values()].reduce((n, u) => n + u.length, 0);

  if (input.allSourcesReady) {
    for (const [key, unit] of units) {
      const r = input.podRemoval(unit[0]?.podUID ?? '');
      if (r.content || (input.evictNonDeletedPods && r.runtime)) {
        removeOldestN(unit, unit.length);
        units.delete(key);
      }
    }
  }
  if (policy.maxPerPodContainer >= 0) enforcePerUnit(policy.maxPerPodContainer);
  if (policy.maxContainers >= 0 && count() > policy.maxContainers) {
    // An equal share per (pod, container) first (at least one each), then the oldest overall.
    enforcePerUnit(Math.max(1, Math.floor(policy.maxContainers / units.size)));
    const total = count();
    if (total > policy.maxContainers) removeOldestN([...units.values()].flat(), total - policy.maxContainers);
  }
  return out;
}

/** Inputs of {@link selectSandboxes}. */
export interface SandboxSelectionInput {
  sandboxes: readonly GcSandbox[];
  /** Every container the runtime lists now (after the container step), running or not. */
  containers: readonly Pick<GcContainer, 'podSandboxId'>[];
  evictNonDeletedPods: boolean;
  podRemoval(uid: string): PodRemoval;
}

/**
 * Sandbox ids to remove, oldest first (upstream evictSandboxes): a sandbox is removable when it is not ready and no
 * container refers to it; of a pod whose content should be removed (or, for the eviction manager, whose runtime
 * should) every removable sandbox goes, otherwise the newest sandbox of the pod is always kept. Pure.
 */
export function selectSandboxes(input: SandboxSelectionInput): string[] {
  const used = new Set(input.containers.map((c) => c.podSandboxId));
  const byPod = new Map<string, GcSandbox[]>();
  for (const s of input.sandboxes) {
    const list = byPod.get(s.podUID);
    if (list === undefined) byPod.set(s.podUID, [s]);
    else list.push(s);
  }
  const out: string[] = [];
  for (const [uid, list] of byPod) {
    const r = input.podRemoval(uid);
    const all = r.content || (input.evictNonDeletedPods && r.runtime);
    const sorted = [...list].sort(newestFirst);
    const keep = all ? 0 : 1;
    for (let i = sorted.length - 1; i >= keep; i--) {
      const s = sorted[i];
      if (s !== undefined && !s.ready && !used.has(s.id)) out.push(s.id);
    }
  }
  return out;
}
