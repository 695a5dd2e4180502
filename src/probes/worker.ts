/**
 * One probe worker per (pod UID, container, probe type), after upstream prober/worker.go. `doProbe()` performs exactly
 * one probe step and returns whether to keep going; `run()` is only the timer loop around it (injected Clock), so
 * tests drive `doProbe()` directly.
 *
 * Rules (upstream): the result of a new container starts at the type's initial value (readiness: failure, liveness:
 * success, startup: unknown); a non-running container reads as failure; nothing is probed before
 * initialDelaySeconds have passed since the container started; liveness and readiness wait until the container has
 * started (startup probe succeeded, or none); a result is stored only once it has repeated successThreshold /
 * failureThreshold times in a row; after a liveness/startup failure the worker holds (probes and reports nothing)
 * until the container ID changes; during pod deletion liveness/startup report success and stop.
 */
import type { V1Container, V1ContainerStatus, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { type Clock, type Logger, type TimerHandle, errorFields } from '../util/index.js';
import type { ProbeMetrics, WorkerMetricLabels } from './metrics.js';
import { containerRef } from '../api/refs.js';
import { probeTypeName, type Prober } from './prober.js';
import type { ResultsCache } from './results.js';
import { probeField, probeOf, resolveProbe, type ResolvedProbe } from './spec.js';
import type { ContainerProbeFailure, ProbeResult, ProbeType } from './types.js';
import type { EventRecorder } from '../api/types.js';

/** What a worker needs from its manager. */
export interface WorkerHost {
  clock: Clock;
  /** Uniform [0, 1) source for the start jitter. */
  random: () => number;
  logger: Logger;
  prober: Prober;
  metrics: ProbeMetrics;
  recorder: EventRecorder | undefined;
  /** Monotonic time the manager started (start jitter applies only within one period of it, as upstream). */
  startedAtMono: number;
  getPodStatus(podUID: string): V1PodStatus | undefined;
  results(type: ProbeType): ResultsCache;
  /** True when the container (this ID) has started: startup probe succeeded, or there is none. */
  isStarted(podUID: string, containerName: string, containerID: string): boolean;
  /** A liveness/startup failure reached its threshold: the container must be killed. */
  onKill(failure: ContainerProbeFailure): void;
  /** The run loop ended (stop, terminated pod, deletion). */
  onWorkerExit(worker: ProbeWorker): void;
}

const INITIAL_VALUE: Record<ProbeType, ProbeResult> = { readiness: 'failure', liveness: 'success', startup: 'unknown' };

/** Why a wait ended. */
type WakeReason = 'timer' | 'trigger' | 'stop';

/** The probe worker. Not re-entrant: `run()` never overlaps two `doProbe()` calls; tests must await each call. */
export class ProbeWorker {
  readonly probeType: ProbeType;
  readonly podUID: string;
  readonly containerName: string;
  readonly #host: WorkerHost;
  readonly #container: V1Container;
  readonly #spec: ResolvedProbe | Error;
  readonly #labels: WorkerMetricLabels;
  readonly #log: Logger;
  #pod: V1Pod;
  #containerID = '';
  #lastResult: ProbeResult | undefined;
  #resultRun = 0;
  #onHold = false;
  #invalidReportedFor = '';
  #stopped = false;
  #disposed = false;
  #triggered = false;
  #wake: ((why: WakeReason) => void) | undefined;

  /** Whether the container is a sidecar (a restartable init container), found in initContainerStatuses. */
  readonly #isInit: boolean;

  constructor(host: WorkerHost, probeType: ProbeType, pod: V1Pod, container: V1Container, containerIndex: number, isInit = false) {
    this.#isInit = isInit;
    this.#host = host;
    this.probeType = probeType;
    this.#pod = pod;
    this.#container = container;
    this.podUID = pod.metadata?.uid ?? '';
    this.containerName = container.name;
    const field = `spec.${isInit ? 'initContainers' : 'containers'}[${containerIndex}].${probeField(probeType)}`;
    let spec: ResolvedProbe | Error;
    try {
      spec = resolveProbe(probeOf(container, probeType) ?? {}, probeType, field);
    } catch (err) {
      spec = err instanceof Error ? err : new Error(String(err));
    }
    this.#spec = spec;
    const podName = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    this.#labels = {
      probe_type: probeTypeName(probeType),
      container: container.name,
      pod: podName,
      namespace,
      pod_uid: this.podUID,
    };
    this.#log = host.logger.child({ pod: `${namespace}/${podName}`, podUID: this.podUID, container: container.name, probeType });
    if (spec instanceof Error) this.#log.error({ err: spec.message }, 'Invalid probe, not probing');
  }

  /** The container ID the worker currently follows ('' before the first status). */
  get containerID(): string {
    return this.#containerID;
  }

  /** The resolved probe, or the validation error. */
  get spec(): ResolvedProbe | Error {
    return this.#spec;
  }

  /** Replaces the pod object (e.g. to see a deletionTimestamp); the probe spec stays as created. */
  updatePod(pod: V1Pod): void {
    this.#pod = pod;
  }

  /** Performs one probe step; resolves to whether the worker should keep going. Never rejects. */
  async doProbe(): Promise<boolean> {
    try {
      return await this.#step();
    } catch (err) {
      this.#log.error({ ...errorFields(err) }, 'Probe step failed');
      return true;
    }
  }

  async #step(): Promise<boolean> {
    const h = this.#host;
    const startMono = h.clock.monotonic();
    const status = h.getPodStatus(this.podUID);
    if (status === undefined) return true;
    if (status.phase === 'Failed' || status.phase === 'Succeeded') return false;
    const c = (this.#isInit ? status.initContainerStatuses : status.containerStatuses)?.find((s) => s.name === this.containerName);
    if (c === undefined || !c.containerID) return true;
    const results = h.results(this.probeType);
    if (this.#containerID !== c.containerID) {
      if (this.#containerID !== '') results.remove(this.#containerID);
      this.#containerID = c.containerID;
      this.#lastResult = undefined;
      this.#resultRun = 0;
      this.#onHold = false;
      results.set(this.#containerID, INITIAL_VALUE[this.probeType], this.podUID);
    }
    if (this.#onHold) return true;
    const id = this.#containerID;
    if (c.state?.running === undefined || c.state.running === null) {
      results.set(id, 'failure', this.podUID);
      // A sidecar restarts whatever the pod's restart policy says.
      return c.state?.terminated === undefined || this.#pod.spec?.restartPolicy !== 'Never' || this.#isInit;
    }
    if (this.#pod.metadata?.deletionTimestamp && this.probeType !== 'readiness') {
      results.set(id, 'success', this.podUID);
      return false;
    }
    const spec = this.#spec;
    if (spec instanceof Error) {
      this.#reportInvalid(spec, id);
      return true;
    }
    if (this.#secondsSinceStart(c) < spec.initialDelaySeconds) return true;
    const started = h.isStarted(this.podUID, this.containerName, id);
    if (this.probeType === 'startup' ? started : !started) return true;

    this.#log.trace('Probing');
    const run = await h.prober.probe({
      probeType: this.probeType,
      pod: this.#pod,
      container: this.#container,
      status,
      containerID: id,
      spec,
    });
    if (this.#stopped || this.#containerID !== id) return !this.#stopped;
    if (run.kind === 'pending') return true;
    if (run.kind === 'error') {
      this.#log.debug({ ...errorFields(run.error) }, 'Probe errored, result discarded');
      return true;
    }
    const result = run.result;
    h.metrics.record(this.#labels, result, (h.clock.monotonic() - startMono) / 1000);
    if (this.#lastResult === result) this.#resultRun++;
    else {
      this.#lastResult = result;
      this.#resultRun = 1;
    }
    if (
      (result === 'failure' && this.#resultRun < spec.failureThreshold) ||
      (result === 'success' && this.#resultRun < spec.successThreshold)
    ) {
      return true;
    }
    if (results.set(id, result, this.podUID)) this.#log.info({ result }, 'Probe result changed');
    if (this.probeType !== 'readiness' && result === 'failure') {
      // Hold until a new container ID: probing a container being killed is pointless (upstream #21751).
      this.#onHold = true;
      this.#resultRun = 0;
      h.onKill({
        podUID: this.podUID,
        containerName: this.containerName,
        containerID: id,
        probeType: this.probeType,
        message: `Container ${this.containerName} failed ${this.probeType} probe, will be restarted`,
        ...(spec.terminationGracePeriodSeconds === undefined
          ? {}
          : { terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds }),
      });
    }
    return true;
  }

  #secondsSinceStart(c: V1ContainerStatus): number {
    const raw = c.state?.running?.startedAt as Date | string | undefined;
    const at = raw === undefined ? NaN : new Date(raw).getTime();
    if (Number.isNaN(at)) return Number.POSITIVE_INFINITY;
    return Math.trunc((this.#host.clock.now() - at) / 1000);
  }

  #reportInvalid(err: Error, id: string): void {
    if (this.#invalidReportedFor === id) return;
    this.#invalidReportedFor = id;
    const msg = `${probeTypeName(this.probeType)} probe errored: ${err.message}`;
    try {
      this.#host.recorder?.event(containerRef(this.#pod, this.containerName), 'Warning', 'Unhealthy', msg);
    } catch {
      // recorders must not throw; ignore if one does
    }
  }

  /**
   * The timer loop: a random start delay in [0, period) when the manager started less than a period ago (so a
   * restarted agent does not probe every pod at once), then one step per period on a fixed grid (missed ticks are
   * dropped, like Go's ticker), or at once after `trigger()`. Ends on `stop()` or when a step says so.
   */
  async run(): Promise<void> {
    const h = this.#host;
    const periodMs = (this.#spec instanceof Error ? 10 : this.#spec.periodSeconds) * 1000;
    try {
      if (periodMs > h.clock.monotonic() - h.startedAtMono) {
        if ((await this.#sleepUntil(h.clock.monotonic() + h.random() * periodMs, false)) === 'stop') return;
      }
      let next = h.clock.monotonic() + periodMs;
      while (!this.#stopped) {
        if (!(await this.doProbe()) || this.#stopped) return;
        const now = h.clock.monotonic();
        if (now >= next) {
          next += Math.floor((now - next) / periodMs + 1) * periodMs;
          continue;
        }
        const why = await this.#sleepUntil(next, true);
        if (why === 'stop') return;
        if (why === 'timer') next += periodMs;
      }
    } finally {
      h.onWorkerExit(this);
    }
  }

  #sleepUntil(at: number, triggerable: boolean): Promise<WakeReason> {
    if (this.#stopped) return Promise.resolve('stop');
    if (triggerable && this.#triggered) {
      this.#triggered = false;
      return Promise.resolve('trigger');
    }
    return new Promise<WakeReason>((resolve) => {
      const clock = this.#host.clock;
      // The timer callback runs later, after `wake` is defined.
      const handle: TimerHandle = clock.setTimeout(() => wake('timer'), Math.max(0, at - clock.monotonic()));
      const wake = (why: WakeReason): void => {
        if (why === 'trigger' && !triggerable) {
          this.#triggered = true;
          return;
        }
        clock.clearTimeout(handle);
        this.#wake = undefined;
        if (why === 'trigger') this.#triggered = false;
        resolve(why);
      };
      this.#wake = wake;
    });
  }

  /** Asks for a probe as soon as possible (non-blocking; coalesces; no effect without `run()`). */
  trigger(): void {
    if (this.#wake !== undefined) this.#wake('trigger');
    else this.#triggered = true;
  }

  /** Stops the run loop (idempotent). A probe in flight finishes but its result is not stored. */
  stop(): void {
    this.#stopped = true;
    this.#wake?.('stop');
  }

  /** True after `stop()`. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stops and forgets this worker's cached result and metric series (idempotent). */
  dispose(): void {
    this.stop();
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#containerID !== '') this.#host.results(this.probeType).remove(this.#containerID);
    this.#host.metrics.remove(this.#labels);
  }
}
