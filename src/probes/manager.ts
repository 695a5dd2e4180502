/**
 * The prober manager (upstream prober_manager.go): owns the workers and the three results caches, merges results into
 * pod status, and fans changes out to the kubelet. All methods are synchronous and idempotent; listeners are called
 * synchronously from worker steps and must not throw (a throwing listener is logged and ignored).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { type Logger, errorFields } from '../util/index.js';
import { probeUserAgent } from './handlers/http-request.js';
import { ProbeMetrics } from './metrics.js';
import type { ProberManagerOptions } from './options.js';
import { Prober, defaultProbeHandlers } from './prober.js';
import { ResultsCache } from './results.js';
import { probeOf } from './spec.js';
import type { ContainerProbeFailure, ProberManager, ProbeResult, ProbeType } from './types.js';
import type { PodProbeResults } from './view.js';
import { ProbeWorker, type WorkerHost } from './worker.js';

const TYPES_IN_ORDER: ProbeType[] = ['startup', 'readiness', 'liveness'];

const keyOf = (podUID: string, container: string, type: ProbeType): string => `${podUID}/${container}/${type}`;

/** The ProberManager implementation; use {@link createProberManager}. */
export class DefaultProberManager implements ProberManager {
  readonly #o: ProberManagerOptions;
  readonly #log: Logger;
  readonly #workers = new Map<string, ProbeWorker>();
  readonly #results: Record<ProbeType, ResultsCache> = {
    liveness: new ResultsCache(),
    readiness: new ResultsCache(),
    startup: new ResultsCache(),
  };
  readonly #changeListeners = new Set<(podUID: string) => void>();
  readonly #failureListeners = new Set<(f: ContainerProbeFailure) => void>();
  readonly #host: WorkerHost;

  constructor(options: ProberManagerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'prober' });
    const prober = new Prober({
      runtime: options.runtime,
      clock: options.clock,
      nodeIP: options.nodeIP,
      recorder: options.recorder,
      logger: this.#log,
      userAgent: probeUserAgent(options.kubeletVersion ?? 'v1.24.0'),
      handlers: { ...defaultProbeHandlers, ...options.handlers },
    });
    for (const cache of Object.values(this.#results)) {
      cache.onChange((u) => this.#emitChange(u.podUID));
    }
    this.#host = {
      clock: options.clock,
      random: options.random ?? Math.random,
      logger: this.#log,
      prober,
      metrics: new ProbeMetrics(options.metrics),
      recorder: options.recorder,
      startedAtMono: options.clock.monotonic(),
      getPodStatus: (uid) => options.getPodStatus(uid),
      results: (t) => this.#results[t],
      isStarted: (uid, name, id) => this.#isStarted(uid, name, id),
      onKill: (f) => this.#emitFailure(f),
      onWorkerExit: (w) => this.#workerExited(w),
    };
  }

  addPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) {
      this.#log.error({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'Pod without metadata.uid, not probing');
      return;
    }
    const add = (c: V1Container, i: number, isInit: boolean): void => {
      for (const t of TYPES_IN_ORDER) {
        if (!probeOf(c, t)) continue;
        const key = keyOf(uid, c.name, t);
        const existing = this.#workers.get(key);
        if (existing !== undefined) {
          existing.updatePod(pod);
          continue;
        }
        const w = new ProbeWorker(this.#host, t, pod, c, i, isInit);
        this.#workers.set(key, w);
        if (this.#o.autoRun !== false) void w.run();
      }
    };
    (pod.spec?.containers ?? []).forEach((c, i) => add(c, i, false));
    // Sidecars (restartable init containers) are probed like app containers (upstream since v1.29).
    (pod.spec?.initContainers ?? []).forEach((c, i) => {
      if (c.restartPolicy === 'Always') add(c, i, true);
    });
  }

  removePod(podUID: string): void {
    for (const w of [...this.#workers.values()]) if (w.podUID === podUID) this.#drop(w);
  }

  cleanupPods(keepUIDs: ReadonlySet<string>): void {
    for (const w of [...this.#workers.values()]) if (!keepUIDs.has(w.podUID)) this.#drop(w);
  }

  results(podUID: string): PodProbeResults {
    const out = { startupProbed: new Set<string>(), readinessProbed: new Set<string>(), startup: new Map<string, ProbeResult>(), readiness: new Map<string, ProbeResult>() };
    for (const w of this.#workers.values()) {
      if (w.podUID !== podUID || w.probeType === 'liveness') continue;
      const type = w.probeType;
      (type === 'startup' ? out.startupProbed : out.readinessProbed).add(w.containerName);
      const r = w.containerID === '' ? undefined : this.#results[type].get(w.containerID);
      if (r !== undefined) (type === 'startup' ? out.startup : out.readiness).set(w.containerID, r);
      // A readiness probe that has not succeeded yet: probe now rather than at the next tick (upstream).
      if (type === 'readiness' && r !== 'success') w.trigger();
    }
    return out;
  }

  onResultChange(listener: (podUID: string) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  onContainerFailure(listener: (failure: ContainerProbeFailure) => void): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  stop(): void {
    for (const w of [...this.#workers.values()]) this.#drop(w);
  }

  /** The worker for (pod, container, type), if any (tests, diagnostics). */
  getWorker(podUID: string, containerName: string, type: ProbeType): ProbeWorker | undefined {
    return this.#workers.get(keyOf(podUID, containerName, type));
  }

  /** Number of live workers. */
  workerCount(): number {
    return this.#workers.size;
  }

  /** The cached result of a container ID for a probe type (tests, diagnostics). */
  cachedResult(type: ProbeType, containerID: string): string | undefined {
    return this.#results[type].get(containerID);
  }

  #isStarted(podUID: string, containerName: string, containerID: string): boolean {
    const r = this.#results.startup.get(containerID);
    if (r !== undefined) return r === 'success';
    // A startup probe that has not run yet means not started; no startup probe means started.
    return !this.#workers.has(keyOf(podUID, containerName, 'startup'));
  }

  #drop(w: ProbeWorker): void {
    const key = keyOf(w.podUID, w.containerName, w.probeType);
    if (this.#workers.get(key) === w) this.#workers.delete(key);
    w.dispose();
  }

  #workerExited(w: ProbeWorker): void {
    this.#drop(w);
  }

  #emitChange(podUID: string): void {
    for (const l of this.#changeListeners) {
      try {
        l(podUID);
      } catch (err) {
        this.#log.error({ ...errorFields(err), podUID }, 'Result change listener threw');
      }
    }
  }

  #emitFailure(f: ContainerProbeFailure): void {
    this.#log.info({ podUID: f.podUID, container: f.containerName, probeType: f.probeType }, f.message);
    for (const l of this.#failureListeners) {
      try {
        l(f);
      } catch (err) {
        this.#log.error({ ...errorFields(err), podUID: f.podUID }, 'Container failure listener threw');
      }
    }
  }
}

/**
 * Creates the prober manager. Workers start when `addPod` is called (their timer loops run on `options.clock`) and
 * stop on `removePod` / `cleanupPods` / `stop`.
 */
export function createProberManager(options: ProberManagerOptions): DefaultProberManager {
  return new DefaultProberManager(options);
}
