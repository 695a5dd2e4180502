/**
 * The QoS and pod cgroup hierarchy with cgroupsPerQOS (upstream qosContainerManager + podContainerManager):
 * `kubepods` (sized to node allocatable when enforceNodeAllocatable has `pods`, else to capacity),
 * `kubepods/burstable` (cpu.shares = the summed requests of its pods), `kubepods/besteffort` (minimum shares), and
 * a `pod<uid>` cgroup per pod carrying the pod-level limits, created before the sandbox and given to the runtime as
 * the sandbox's cgroup parent. Orphaned pod cgroups (no pod, no containers) are removed. Only cgroups under
 * `<cgroupRoot>/kubepods` are ever created or removed.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../util/logger.js';
import { milliCPUToShares, MIN_SHARES } from '../security/resources.js';
import { qosClass, type QOSClass } from '../security/qos.js';
import type { Cgroups } from './cgroups.js';
import { cgroupPath, kubepodsName, parseCgroupRoot, podCgroupName, qosCgroupName, runtimeCgroupParent, type CgroupDriver, type CgroupName } from './names.js';
import { burstableShares, podCgroupResources, type CgroupResources } from './resources.js';

/** Options of {@link PodCgroupManager}. */
export interface PodCgroupManagerOptions {
  cgroups: Cgroups;
  driver: CgroupDriver;
  /** KubeletConfiguration cgroupRoot (default `/`). */
  cgroupRoot: string;
  /** What `kubepods` is limited to: allocatable with enforceNodeAllocatable [pods], else capacity. */
  kubepods: { cpuMilli: number; memoryBytes: number };
  cpuCFSQuota: boolean;
  /** podPidsLimit (-1 = unlimited). */
  podPidsLimit: number;
  logger: Logger;
}

const QOS_CLASSES: QOSClass[] = ['Guaranteed', 'Burstable', 'BestEffort'];

/** See module comment. Calls for one pod come from its worker (serialized); the QoS update may run concurrently. */
export class PodCgroupManager {
  readonly #o: PodCgroupManagerOptions;
  readonly #root: CgroupName;
  /** Pods with a cgroup this agent ensured (for the burstable shares). */
  readonly #pods = new Map<string, V1Pod>();
  #burstableShares = -1;

  constructor(options: PodCgroupManagerOptions) {
    this.#o = options;
    this.#root = parseCgroupRoot(options.cgroupRoot);
  }

  /** Creates `kubepods` and the QoS cgroups with their settings. Idempotent; throws CgroupError. */
  async start(): Promise<void> {
    const { cgroups, kubepods } = this.#o;
    await cgroups.ensure(this.#path(kubepodsName(this.#root)), {
      cpuShares: milliCPUToShares(kubepods.cpuMilli),
      memoryLimit: kubepods.memoryBytes > 0 ? kubepods.memoryBytes : -1,
    });
    await cgroups.ensure(this.#path(qosCgroupName(this.#root, 'Burstable')), { cpuShares: MIN_SHARES });
    await cgroups.ensure(this.#path(qosCgroupName(this.#root, 'BestEffort')), { cpuShares: MIN_SHARES });
  }

  /** The path of `kubepods` (as the hierarchy names it). */
  kubepodsPath(): string {
    return this.#path(kubepodsName(this.#root));
  }

  /** The cgroup path of a pod (as the hierarchy names it). */
  podCgroupPath(pod: V1Pod): string {
    return this.#path(podCgroupName(this.#root, qosClass(pod), pod.metadata?.uid ?? ''));
  }

  /**
   * Creates the pod's cgroup with its limits (idempotent, called on every sync) and returns the cgroup parent to give
   * the runtime for the sandbox. Throws CgroupError (the sync fails; the pod never runs unconstrained) or
   * InvalidError for a malformed quantity. With `growOnly` (in-place resize, before the containers change) an existing
   * cgroup gets only the CPU shares, CFS quota and memory limit that grow; what shrinks is written by the next full
   * call, after the containers shrank (the kernel refuses a v1 parent quota below a child's).
   */
  async ensurePod(pod: V1Pod, opts: { growOnly?: boolean } = {}): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    let res: CgroupResources = podCgroupResources(pod, { cpuCFSQuota: this.#o.cpuCFSQuota, pidsLimit: this.#o.podPidsLimit });
    const name = podCgroupName(this.#root, qosClass(pod), uid);
    if (opts.growOnly === true) {
      const current = await this.#o.cgroups.read(this.#path(name));
      if (current !== undefined) res = growing(current, res);
    }
    await this.#o.cgroups.ensure(this.#path(name), res);
    this.#pods.set(uid, pod);
    await this.#updateBurstable();
    return runtimeCgroupParent(name, this.#o.driver);
  }

  /**
   * Upstream's check before an in-place resize changes memory (kuberuntime doPodResizeAction): the message of the
   * failure when the pod cgroup already uses at least the pod's new memory limit (lowering the limit under the
   * usage would OOM-kill the pod); undefined when the resize may go on (no pod cgroup, no limit, or usage below it).
   */
  async memoryResizeBlocked(pod: V1Pod): Promise<string | undefined> {
    const limit = podCgroupResources(pod, { cpuCFSQuota: this.#o.cpuCFSQuota, pidsLimit: this.#o.podPidsLimit }).memoryLimit ?? -1;
    if (limit <= 0) return undefined;
    const usage = await this.#o.cgroups.memoryUsage(this.podCgroupPath(pod));
    if (usage === undefined || usage < limit) return undefined;
    return `Aborting attempt to set pod memory limit less than current memory usage for pod ${pod.metadata?.name ?? ''}`;
  }

  /** Removes the pod's cgroup; false when it is still busy (retried by {@link cleanupOrphans}). */
  async removePod(uid: string): Promise<boolean> {
    const pod = this.#pods.get(uid);
    this.#pods.delete(uid);
    let ok = true;
    for (const qos of QOS_CLASSES) {
      if (pod !== undefined && qosClass(pod) !== qos) continue;
      ok = (await this.#o.cgroups.remove(this.#path(podCgroupName(this.#root, qos, uid)))) && ok;
    }
    await this.#updateBurstable();
    return ok;
  }

  /**
   * Removes the cgroups of pods not in `activeUIDs` (pods the kubelet runs or whose containers still exist).
   * Returns the UIDs whose cgroups were removed.
   */
  async cleanupOrphans(activeUIDs: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const qos of QOS_CLASSES) {
      const parent = this.#path(qosCgroupName(this.#root, qos));
      for (const child of await this.#o.cgroups.children(parent)) {
        const uid = podUIDFromCgroup(child);
        if (uid === undefined || activeUIDs.has(uid)) continue;
        if (await this.#o.cgroups.remove(this.#path(podCgroupName(this.#root, qos, uid)))) {
          this.#pods.delete(uid);
          removed.push(uid);
          this.#o.logger.info({ podUID: uid, qos }, 'removed orphaned pod cgroup');
        }
      }
    }
    if (removed.length > 0) await this.#updateBurstable();
    return removed;
  }

  async #updateBurstable(): Promise<void> {
    const shares = burstableShares([...this.#pods.values()]);
    if (shares === this.#burstableShares) return;
    await this.#o.cgroups.ensure(this.#path(qosCgroupName(this.#root, 'Burstable')), { cpuShares: shares });
    this.#burstableShares = shares;
  }

  #path(name: CgroupName): string {
    return cgroupPath(name, this.#o.driver);
  }
}

/** The pod UID in a pod cgroup's name (`pod<uid>` or systemd's `…-pod<uid_with_underscores>.slice`). */
export function podUIDFromCgroup(name: string): string | undefined {
  const fs = /^pod([0-9a-fA-F-]+)$/.exec(name);
  if (fs !== null) return fs[1];
  const sd = /-pod([0-9a-fA-F_]+)\.slice$/.exec(name);
  return sd === null ? undefined : sd[1]?.replaceAll('_', '-');
}

/** -1 (unlimited) is larger than any limit. */
const larger = (a: number | undefined, b: number | undefined): boolean =>
  a !== undefined && b !== undefined && a !== b && (a < 0 ? true : b >= 0 && a > b);

/** The part of `target` that grows over `current` (CPU shares, CFS quota with its period, memory limit). */
export function growing(current: CgroupResources, target: CgroupResources): CgroupResources {
  const out: CgroupResources = {};
  if (larger(target.cpuShares, current.cpuShares)) out.cpuShares = target.cpuShares;
  if (larger(target.cpuQuota, current.cpuQuota)) {
    out.cpuQuota = target.cpuQuota;
    if (target.cpuPeriod !== undefined) out.cpuPeriod = target.cpuPeriod;
  }
  if (larger(target.memoryLimit, current.memoryLimit)) out.memoryLimit = target.memoryLimit;
  return out;
}
