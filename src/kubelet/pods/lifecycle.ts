/**
 * The pod lifecycle: sources → desired pods (admission) → one serialized worker per UID → runtime; runtime events
 * and relists (PLEG) wake workers; one status manager writes to the API; mirror pods follow static pods.
 * See options.ts for the public contract.
 */
import type { V1Node, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { PodFailure } from '../status/generate.js';
import { createEventRecorder } from '../../api/events.js';
import type { PodApi } from '../../api/pods.js';
import type { EventRecorder } from '../../api/types.js';
import { Backoff } from '../../util/backoff.js';
import { RealClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { ConfigError, errorFields } from '../../util/errors.js';
import { ImageManager } from '../images/manager.js';
import { Pleg, type RelistResult } from '../pleg/pleg.js';
import { StateCachingRuntime } from './state-cache.js';
import { ApiSource } from '../sources/api.js';
import { FileSource } from '../sources/file.js';
import { HttpSource } from '../sources/http.js';
import { isStaticPod } from '../sources/static-pod.js';
import type { PodSource, SourceName } from '../sources/types.js';
import { StatusManager, type StatusTarget } from '../status/manager.js';
import { admitPod } from './admission.js';
import { podRequests } from './admission-fit.js';
import { AllocationManager } from '../allocation/manager.js';
import { MemoryAllocationState } from '../allocation/state.js';
import { minimalPodEnvironment } from './default-env.js';
import { podRef } from '../../api/refs.js';
import type { PodDeps } from './deps.js';
import { DesiredPods } from './desired.js';
import { reconcileMirrors } from './mirror.js';
import type { HealthCheck, PodLifecycle, PodLifecycleOptions, PodMemoryStats } from './options.js';
import { LABELS } from '../../cri/types.js';
import { ownerLabels } from './state.js';
import { createSteps, ORPHAN_ANNOTATION, type PodMemory } from './steps.js';
import { PodWorkers, type WorkerSteps } from './workers.js';

function defaultLabels(nodeName: string): Record<string, string> {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch };
}

class Lifecycle implements PodLifecycle {
  readonly #o: PodLifecycleOptions;
  readonly #clock: Clock;
  readonly #api: PodApi | undefined;
  readonly #recorder: EventRecorder & { flush?: () => Promise<void> };
  readonly #deps: PodDeps;
  readonly #status: StatusManager;
  readonly #desired = new DesiredPods();
  /** One record per pod (steps.ts PodMemory), created when the pod is first seen, deleted with the pod. */
  readonly #memory = new Map<string, PodMemory>();
  readonly #workers: PodWorkers;
  /** Pod allocations and resize decisions (in-place resize). */
  readonly #alloc: AllocationManager;
  /** Sources that delivered a set at least once (a synced source may not have delivered yet). */
  readonly #delivered = new Set<SourceName>();
  readonly #pleg: Pleg;
  readonly #sources: PodSource[] = [];
  #apiSource: ApiSource | undefined;
  #node: V1Node | undefined;
  #timer: TimerHandle | undefined;
  #lastHousekeeping = 0;
  #mirrorBusy = false;
  #mirrorAgain = false;
  #stopped = false;

  constructor(o: PodLifecycleOptions) {
    this.#o = o;
    this.#clock = o.clock ?? new RealClock();
    this.#alloc = new AllocationManager({
      state: o.allocationState ?? new MemoryAllocationState(),
      requestsOf: (p) => podRequests(p),
      clock: this.#clock,
      logger: o.logger.child({ component: 'allocation' }),
    });
    // Only src/cli builds real implementations: the API access comes in as podApi/podInformer (none: standalone).
    this.#api = o.podApi;
    this.#recorder = o.recorder ?? createEventRecorder({ host: o.nodeName, clock: this.#clock, logger: o.logger.child({ component: 'events' }) });
    const api = this.#api;
    const logsDir = o.podLogsDir ?? '/var/log/pods';
    // Pod workers read runtime state through a cache the PLEG invalidates (state-cache.ts): idle resyncs cost no runtime call.
    const runtime = new StateCachingRuntime(o.runtime, { clock: this.#clock });
    this.#deps = {
      runtime,
      env: o.podEnvironment ?? minimalPodEnvironment(o.podInfraImage),
      images: new ImageManager({
        runtime: o.runtime,
        recorder: this.#recorder,
        clock: this.#clock,
        logger: o.logger.child({ component: 'images' }),
        getSecret: api === undefined ? undefined : (ns, name) => api.getSecret(ns, name),
      }),
      recorder: this.#recorder,
      clock: this.#clock,
      logger: o.logger.child({ component: 'pods' }),
      crashBackoff: new Backoff({ initialMs: 10_000, maxMs: 300_000 }),
      podInfraImage: o.podInfraImage,
      runtimeName: 'docker',
      owner: ownerLabels(o.nodeName),
      track: (id, uid) => this.#pleg.track(id, uid),
      hostIPs: () => this.#hostIPs(),
      logDirectory: (uid) => {
        const p = this.#desired.get(uid) ?? this.#workers.pod(uid);
        return `${logsDir}/${p?.metadata?.namespace ?? 'default'}_${p?.metadata?.name ?? ''}_${uid}`;
      },
      podCgroups: o.podCgroups,
      legacyLogLinks: o.legacyLogLinks,
      resize: { cpuCFSQuota: o.cpuCFSQuota ?? true, setInProgress: (uid, on, error) => this.#alloc.setInProgress(uid, on, error) },
      deadContainersToKeep: Math.max(1, o.maxDeadPerContainer ?? 1),
    };
    this.#status = new StatusManager({
      api: this.#api,
      logger: o.logger.child({ component: 'status' }),
      resolveTarget: (uid) => this.#target(uid),
    });
    const steps = createSteps(
      {
        deps: this.#deps,
        status: this.#status,
        prober: o.prober,
        apiStatus: (pod) => this.#apiObject(pod)?.status,
        rejection: (uid) => this.#memory.get(uid)?.rejection,
        syncFrequencyMs: o.syncFrequencyMs ?? 60_000,
        errorRetryMs: 10_000,
        hasApi: this.#api !== undefined,
        onRunning: (pod) => {
          const seen = this.#memory.get(pod.metadata?.uid ?? '')?.firstSeenMono;
          if (seen !== undefined) o.metrics?.podStartDuration?.observe((this.#clock.monotonic() - seen) / 1000);
        },
        allocate: (pod) => this.#allocate(pod),
        resizeStatus: (uid) => ({ resizeConditions: this.#alloc.conditions(uid), allocation: this.#alloc.allocation(uid) }),
        track: (state) => {
          for (const s of state.sandboxes) this.#pleg.track(s.id, state.uid);
          for (const c of state.containers) this.#pleg.track(c.id, state.uid);
        },
      },
      this.#memory,
    );
    const timed = (op: 'sync' | 'terminating', fn: WorkerSteps['sync']): WorkerSteps['sync'] => async (pod, removed) => {
      const uid = pod.metadata?.uid ?? '';
      const t0 = this.#clock.monotonic();
      try {
        return await fn(pod, removed);
      } finally {
        const m = this.#memory.get(uid);
        const operation = op === 'terminating' ? 'kill' : m?.synced === true ? 'sync' : 'create';
        if (m !== undefined) m.synced = true;
        o.metrics?.podWorkerDuration?.observe({ operation_type: operation }, (this.#clock.monotonic() - t0) / 1000);
      }
    };
    steps.sync = timed('sync', steps.sync.bind(steps));
    steps.terminating = timed('terminating', steps.terminating.bind(steps));
    steps.forgotten = (uid) => {
      this.#alloc.removePod(uid);
      // The record went with the terminated step; what is left keyed by the UID elsewhere goes now.
      this.#memory.delete(uid);
      runtime.invalidatePod(uid);
      const again = this.#desired.get(uid);
      if (again !== undefined) this.#workers.update(again);
    };
    this.#workers = new PodWorkers({ steps, clock: this.#clock, logger: o.logger.child({ component: 'podworkers' }) });
    this.#pleg = new Pleg({
      runtime: o.runtime,
      clock: this.#clock,
      logger: o.logger.child({ component: 'pleg' }),
      relistPeriodMs: o.relistPeriodMs,
      owner: ownerLabels(o.nodeName),
      onPodChanged: (uid) => {
        runtime.invalidatePod(uid);
        this.#workers.resync(uid);
      },
      onRelist: (r) => this.#orphans(r),
      observeRelist: (s) => o.metrics?.plegRelistDuration?.observe(s),
    });
  }

  async start(): Promise<void> {
    const o = this.#o;
    try {
      this.#deps.runtimeName = (await o.runtime.version()).runtimeName || 'docker';
    } catch (err) {
      o.logger.warn({ ...errorFields(err) }, 'runtime version unavailable; assuming docker');
    }
    await this.#refreshNode();
    if (o.prober !== undefined) {
      o.prober.onResultChange((uid) => this.#workers.resync(uid));
      o.prober.onContainerFailure((f) => {
        const m = this.#mem(f.podUID);
        m.probeKills.set(f.containerID.replace(/^[a-z]+:\/\//, ''), { message: f.message, gracePeriodSeconds: f.terminationGracePeriodSeconds });
        this.#workers.resync(f.podUID);
      });
    }
    const onPods = (source: SourceName, pods: V1Pod[]): void => this.#onPods(source, pods);
    const log = o.logger.child({ component: 'sources' });
    const onHandlerError = (source: SourceName): void => o.metrics?.podSourceHandlerErrors?.inc({ source });
    if (o.staticPodPath !== undefined && o.staticPodPath !== '') {
      this.#sources.push(new FileSource({ path: o.staticPodPath, nodeName: o.nodeName, periodMs: o.fileCheckFrequencyMs, clock: this.#clock, logger: log, onPods, onHandlerError }));
    }
    if (o.manifestURL !== undefined && o.manifestURL !== '') {
      this.#sources.push(new HttpSource({ url: o.manifestURL, headers: o.manifestURLHeaders, nodeName: o.nodeName, periodMs: o.httpCheckFrequencyMs, clock: this.#clock, logger: log, onPods, onHandlerError }));
    }
    if (o.podInformer !== undefined) {
      this.#apiSource = new ApiSource(o.podInformer, onPods, { logger: log, clock: this.#clock, onHandlerError });
      this.#sources.push(this.#apiSource);
    }
    this.#pleg.start();
    for (const s of this.#sources) s.start();
    this.#housekeeping();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    for (const s of this.#sources) s.stop();
    this.#pleg.stop();
    this.#workers.stop();
    await this.#status.flush();
    this.#status.stop();
    await this.#recorder.flush?.();
  }

  healthChecks(): HealthCheck[] {
    const period = this.#o.housekeepingPeriodMs ?? 10_000;
    return [
      { name: 'pleg', check: () => this.#pleg.healthy() },
      {
        name: 'syncloop',
        check: () => {
          const age = this.#clock.monotonic() - this.#lastHousekeeping;
          return age <= Math.max(3 * period, 60_000) ? true : `sync loop last ran ${Math.round(age / 1000)}s ago`;
        },
      },
    ];
  }

  runningPods(): number {
    return this.#workers.uids().filter((u) => this.#workers.phase(u) === 'sync').length;
  }

  pods(): V1Pod[] {
    return this.#desired.list().map((p) => ({ ...p, status: this.#status.getPodStatus(p.metadata?.uid ?? '') ?? p.status }));
  }

  activePods(): V1Pod[] {
    return this.#workers
      .uids()
      .filter((u) => this.#workers.phase(u) === 'sync' && this.#memory.get(u)?.rejection === undefined)
      .map((u) => this.#workers.pod(u))
      .filter((p): p is V1Pod => p !== undefined);
  }

  podTerminated(uid: string): boolean {
    const phase = this.#workers.phase(uid);
    return phase === undefined || phase === 'terminated';
  }

  podRemoval(uid: string): { content: boolean; runtime: boolean } {
    const phase = this.#workers.phase(uid);
    if (phase === undefined) {
      const synced = this.allSourcesReady();
      return { content: synced, runtime: synced };
    }
    const terminated = phase === 'terminated';
    const pod = this.#workers.pod(uid);
    const deleted = this.#desired.get(uid) === undefined || (pod?.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null);
    const evicted = this.#memory.get(uid)?.rejection?.evicted === true;
    return { content: evicted || (deleted && terminated), runtime: terminated };
  }

  allSourcesReady(): boolean {
    return !this.#stopped && this.#sources.every((s) => s.hasSynced());
  }

  failPod(uid: string, failure: PodFailure): void {
    const pod = this.#workers.pod(uid);
    if (pod === undefined || this.#workers.phase(uid) !== 'sync' || this.#memory.get(uid)?.rejection !== undefined) return;
    this.#mem(uid).rejection = failure;
    this.#workers.update(pod);
  }

  podStatus(uid: string): V1PodStatus | undefined {
    return this.#status.getPodStatus(uid);
  }

  memoryStats(): PodMemoryStats {
    return { records: this.#memory.size, statuses: this.#status.uids().length, workers: this.#workers.uids().length, backoffEntries: this.#deps.crashBackoff.size };
  }

  async settled(): Promise<void> {
    await this.#workers.settled();
    await this.#status.flush();
    await this.#recorder.flush?.();
  }

  #mem(uid: string): PodMemory {
    let m = this.#memory.get(uid);
    if (m === undefined) {
      m = { reasons: new Map(), probeKills: new Map() };
      this.#memory.set(uid, m);
    }
    return m;
  }

  #hostIPs(): string[] {
    if (this.#o.hostIPs !== undefined) return this.#o.hostIPs;
    return (this.#node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  }

  async #refreshNode(): Promise<void> {
    try {
      this.#node = (await this.#o.getNode?.()) ?? this.#node;
    } catch (err) {
      this.#o.logger.debug({ ...errorFields(err) }, 'node not available');
    }
  }

  #apiObject(pod: V1Pod): V1Pod | undefined {
    if (isStaticPod(pod)) return this.#desired.mirrorOf(pod);
    return this.#desired.get(pod.metadata?.uid ?? '');
  }

  #target(uid: string): StatusTarget | undefined {
    const pod = this.#desired.get(uid);
    if (pod === undefined) return undefined;
    const obj = this.#apiObject(pod);
    if (obj === undefined) return undefined;
    return {
      namespace: obj.metadata?.namespace ?? 'default',
      name: obj.metadata?.name ?? '',
      uid: obj.metadata?.uid ?? '',
      apiStatus: obj.status,
    };
  }

  #onPods(source: SourceName, pods: V1Pod[]): void {
    if (this.#stopped) return;
    this.#delivered.add(source);
    const diff = this.#desired.setSource(source, pods);
    const added = [...diff.added].sort((a, b) =>
      new Date(a.metadata?.creationTimestamp ?? 0).getTime() - new Date(b.metadata?.creationTimestamp ?? 0).getTime());
    for (const pod of added) {
      const uid = pod.metadata?.uid ?? '';
      this.#mem(uid).firstSeenMono ??= this.#clock.monotonic();
      this.#admit(pod);
      this.#workers.update(pod);
    }
    for (const pod of diff.updated) {
      this.#workers.update(pod);
      this.#status.resync(pod.metadata?.uid ?? '');
    }
    for (const pod of diff.removed) this.#workers.update(pod, true);
    if (source !== 'api' || diff.mirrorsChanged) {
      this.#reconcileMirrors();
      if (diff.mirrorsChanged) for (const p of this.#desired.list()) if (isStaticPod(p)) this.#status.resync(p.metadata?.uid ?? '');
    }
  }

  /** The other admitted, syncing pods with their allocated resources (what admission and resizes count). */
  #allocatedOthers(uid: string): V1Pod[] {
    return this.#workers.uids()
      .filter((u) => u !== uid && this.#workers.phase(u) === 'sync' && this.#memory.get(u)?.rejection === undefined)
      .map((u) => this.#workers.pod(u))
      .filter((p): p is V1Pod => p !== undefined)
      .map((p) => this.#alloc.allocatedPod(p));
  }

  /** Decides a pending resize of a syncing pod (worker step) and returns the pod to run. */
  #allocate(pod: V1Pod): V1Pod {
    const uid = pod.metadata?.uid ?? '';
    return this.#alloc.handleResize(pod, {
      allocatable: this.#node?.status?.allocatable,
      otherPods: this.#allocatedOthers(uid),
      admit: (p, others) => this.#admission(p, others),
    });
  }

  #admit(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.#workers.phase(uid) !== undefined || this.#memory.get(uid)?.rejection !== undefined) return;
    // Admission counts allocations: a restarted agent admits a pod at what it allocated before, not a pending resize.
    const r2 = this.#admission(this.#alloc.allocatedPod(pod), this.#allocatedOthers(uid));
    if (r2 === undefined) {
      this.#alloc.admitted(pod);
      return;
    }
    this.#rejectPod(pod, r2);
  }

  /** The admission checks (built-in, then the admit handlers) of `pod` next to `active`. */
  #admission(pod: V1Pod, active: V1Pod[]): { reason: string; message: string } | undefined {
    const labels = this.#node?.metadata?.labels ?? this.#o.nodeLabels ?? defaultLabels(this.#o.nodeName);
    const r = admitPod(pod, {
      nodeLabels: labels,
      activePods: active,
      maxPods: this.#o.maxPods ?? 110,
      allowedUnsafeSysctls: this.#o.allowedUnsafeSysctls ?? [],
      allocatable: this.#node?.status?.allocatable,
      taints: this.#node?.spec?.taints,
    });
    return r ?? this.#o.admitHandlers?.map((h) => h(pod)).find((x) => x !== undefined);
  }

  #rejectPod(pod: V1Pod, r: { reason: string; message: string }): void {
    const uid = pod.metadata?.uid ?? '';
    this.#o.logger.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason: r.reason, message: r.message }, 'pod rejected');
    this.#recorder.event(podRef(pod), 'Warning', r.reason, r.message);
    this.#mem(uid).rejection = { reason: r.reason, message: `Pod was rejected: ${r.message}` };
  }

  #orphans(r: RelistResult): void {
    if (this.#stopped || !this.#sources.every((s) => s.hasSynced())) return;
    for (const uid of r.pods.keys()) {
      if (this.#desired.get(uid) !== undefined || this.#workers.phase(uid) !== undefined) continue;
      const l = r.labels.get(uid) ?? {};
      this.#o.logger.info({ podUID: uid, pod: `${l[LABELS.podNamespace]}/${l[LABELS.podName]}` }, 'removing containers of a pod that is no longer assigned');
      this.#workers.update(
        {
          metadata: { uid, name: l[LABELS.podName] ?? uid, namespace: l[LABELS.podNamespace] ?? 'default', annotations: { [ORPHAN_ANNOTATION]: 'true' } },
          spec: { containers: [] },
        },
        true,
      );
    }
  }

  #reconcileMirrors(): void {
    const api = this.#api;
    if (api === undefined || this.#apiSource === undefined || !this.#apiSource.hasSynced()) return;
    if (this.#mirrorBusy) {
      this.#mirrorAgain = true;
      return;
    }
    this.#mirrorBusy = true;
    const node = this.#node?.metadata?.uid === undefined ? undefined : { name: this.#o.nodeName, uid: this.#node.metadata.uid };
    const statics = this.#desired.list().filter((p) => isStaticPod(p) && this.#workers.phase(p.metadata?.uid ?? '') !== 'terminated');
    void reconcileMirrors({ api, logger: this.#o.logger.child({ component: 'mirror' }), node }, statics, this.#desired.mirrors())
      .finally(() => {
        this.#mirrorBusy = false;
        if (this.#mirrorAgain) {
          this.#mirrorAgain = false;
          this.#reconcileMirrors();
        }
      });
  }

  #housekeeping(): void {
    if (this.#stopped) return;
    this.#lastHousekeeping = this.#clock.monotonic();
    // Back-off entries of containers that stopped failing (or are gone) age out here (bounded by age: 2 × 5 min).
    this.#deps.crashBackoff.gc(this.#clock.now());
    // Allocations of pods that went while the agent was down (upstream RemoveOrphanedPods), once every source synced.
    if (this.#delivered.size >= this.#sources.length && this.#sources.every((s) => s.hasSynced())) {
      this.#alloc.removeOrphans(new Set([...this.#desired.list().map((p) => p.metadata?.uid ?? ''), ...this.#workers.uids()]));
    }
    void this.#refreshNode().then(() => {
      this.#status.resyncAll();
      this.#reconcileMirrors();
    });
    this.#timer = this.#clock.setTimeout(() => this.#housekeeping(), this.#o.housekeepingPeriodMs ?? 10_000);
  }
}

/**
 * Creates the pod lifecycle of the kubelet role. Nothing runs until `start()`. See {@link PodLifecycleOptions}.
 * Throws ConfigError for unusable options (empty nodeName or podInfraImage).
 */
export function createPodLifecycle(options: PodLifecycleOptions): PodLifecycle {
  if (options.nodeName === '') throw new ConfigError('nodeName must not be empty', { field: 'nodeName' });
  if (options.podInfraImage === '') throw new ConfigError('podInfraImage must not be empty', { field: 'podInfraImage' });
  return new Lifecycle(options);
}
