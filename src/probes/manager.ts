/**
 * The prober manager (upstream prober_manager.go): owns the workers and the three results caches, merges results into
 * pod status, and fans changes out to the kubelet. All methods are synchronous and idempotent; listeners are called
 * synchronously from worker steps and must not throw (a throwing listener is logged and ignored).
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../util/index.js';
import { probeUserAgent } from './handlers/http-request.js';
import { ProbeMetrics } from './metrics.js';
import type { ProberManagerOptions } from './options.js';
import { Prober, defaultProbeHandlers } from './prober.js';
import { ResultsCache } from './results.js';
import { probeOf } from './spec.js';
import type { ContainerProbeFailure, ProberManager, ProbeType } from './types.js';
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
    (pod.spec?.containers ?? []).forEach((c, i) => {
      for (const t of TYPES_IN_ORDER) {
        if (!probeOf(c, t)) continue;
        const key = keyOf(uid, c.name, t);
        const existing = this.#workers.get(key);
        if (existing !== undefined) {
          existing.updatePod(pod);
          continue;
        }
        const w = new ProbeWorker(this.#host, t, pod, c, i);
        this.#workers.set(key, w);
        if (this.#o.autoRun !== false) void w.run();
      }
    });
  }

  removePod(podUID: string): void {
    for (const w of [...this.#workers.values()]) if (w.podUID === podUID) this.#drop(w);
  }

  cleanupPods(keepUIDs: ReadonlySet<string>): void {
    for (const w of [...this.#workers.values()]) if (!keepUIDs.has(w.podUID)) this.#drop(w);
  }

  updatePodStatus(podUID: string, status: V1PodStatus): void {
    for (const c of status.containerStatuses ?? []) {
      const running = c.state?.running !== undefined && c.state.running !== null;
      const id = c.containerID ?? '';
      const started = running && this.#isStarted(podUID, c.name, id);
      c.started = started;
      if (!started) {
        c.ready = false;
        continue;
      }
      if (this.#results.readiness.get(id) === 'success') {
        c.ready = true;
        continue;
      }
      const w = this.#workers.get(keyOf(podUID, c.name, 'readiness'));
      c.ready = w === undefined; // no readiness probe ⇒ ready once started
      // A readiness probe that has not succeeded yet: probe now rather than at the next tick (upstream).
      w?.trigger();
    }
    for (const c of status.initContainerStatuses ?? []) {
      c.ready = c.state?.terminated?.exitCode === 0;
    }
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
        this.#log.error({ err: errorMessage(err), podUID }, 'Result change listener threw');
      }
    }
  }

  #emitFailure(f: ContainerProbeFailure): void {
    this.#log.info({ podUID: f.podUID, container: f.containerName, probeType: f.probeType }, f.message);
    for (const l of this.#failureListeners) {
      try {
        l(f);
      } catch (err) {
        this.#log.error({ err: errorMessage(err), podUID: f.podUID }, 'Container failure listener threw');
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
