/**
 * Node status heartbeat (upstream updateNodeStatus + the nodeStatusReportFrequency rule): every
 * nodeStatusUpdateFrequency the status is computed from fresh readings; it is written (strategic merge patch of
 * /status) when anything but the heartbeat times changed, or when nodeStatusReportFrequency passed since the last
 * write. A failed write leaves the last-written state alone, so the next step writes again (catch-up).
 */
import type { V1Node, V1NodeCondition, V1NodeStatus } from '@kubernetes/client-node';
import type { NodeApi } from '../../api/nodes.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage, isNotFound } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { computeConditions } from './conditions.js';
import type { HostReader } from './host.js';
import type { RuntimeMonitor } from './runtime-monitor.js';
import { buildNodeStatus, statusFingerprint, type NodeSettings, type NodeVersions } from './status.js';

/** Options for {@link NodeStatusReporter}. */
export interface NodeStatusReporterOptions {
  nodeName: string;
  nodeIP: string | undefined;
  rootDir: string;
  settings: NodeSettings;
  versions: Omit<NodeVersions, 'containerRuntimeVersion'>;
  kubeletPort: number;
  reportFrequencyMs: number;
  nodes: NodeApi;
  host: HostReader;
  runtime: Pick<RuntimeMonitor, 'check' | 'version'>;
  clock: Clock;
  logger: Logger;
  /** Further not-ready reasons from the roles (e.g. PLEG), in upstream wording. */
  extraReadinessErrors?: () => string[];
  /** The eviction manager's pressure conditions (see ConditionInputs.pressure). */
  pressure?: () => ReadonlySet<string> | undefined;
}

/** What one step did. */
export type StatusStepResult = 'written' | 'unchanged' | 'failed' | 'node-missing';

/** Computes and writes node status. One owner; `step()` must not be called concurrently (the Loop guarantees it). */
export class NodeStatusReporter {
  readonly #o: NodeStatusReporterOptions;
  #conditions: V1NodeCondition[] = [];
  #lastFingerprint: string | undefined;
  #lastWriteAt: number | undefined;
  #failures = 0;
  #last: V1NodeStatus | undefined;
  #node: V1Node | undefined;

  constructor(options: NodeStatusReporterOptions) {
    this.#o = options;
  }

  /** Starts over after (re-)registration: seeds the previous conditions from the Node and forces the next write. */
  seed(conditions: V1NodeCondition[] | undefined): void {
    this.#conditions = conditions ?? [];
    this.#lastFingerprint = undefined;
    this.#lastWriteAt = undefined;
  }

  /** The Node as the API server returned it after the last successful write. */
  lastNode(): V1Node | undefined {
    return this.#node;
  }

  /** The status computed last (written or not). */
  lastStatus(): V1NodeStatus | undefined {
    return this.#last;
  }

  /** Computes the current status (checks the runtime). Pure apart from the readings. */
  async compute(): Promise<V1NodeStatus> {
    const o = this.#o;
    const runtime = await o.runtime.check();
    const readings = o.host.readings(o.rootDir);
    const conditions = computeConditions({
      runtime,
      extraErrors: o.extraReadinessErrors?.() ?? [],
      readings,
      evictionHard: o.settings.evictionHard,
      pressure: o.pressure?.(),
      previous: this.#conditions,
      now: new Date(o.clock.now()),
    });
    return buildNodeStatus({
      nodeName: o.nodeName,
      nodeIP: o.nodeIP,
      identity: o.host.identity(),
      readings,
      settings: o.settings,
      versions: { ...o.versions, containerRuntimeVersion: o.runtime.version() },
      conditions,
      kubeletPort: o.kubeletPort,
    });
  }

  /** One tick: compute, and write when changed or when the report period passed. */
  async step(): Promise<StatusStepResult> {
    const o = this.#o;
    const prevReady = this.#conditions.find((c) => c.type === 'Ready');
    const status = await this.compute();
    this.#last = status;
    this.#conditions = status.conditions ?? [];
    const ready = this.#conditions.find((c) => c.type === 'Ready');
    if (ready?.status !== prevReady?.status || ready?.message !== prevReady?.message) {
      o.logger.info({ ready: ready?.status, reason: ready?.reason, message: ready?.message }, 'node readiness changed');
    }
    const fp = statusFingerprint(status);
    const now = o.clock.now();
    const due = this.#lastWriteAt === undefined || now - this.#lastWriteAt >= o.reportFrequencyMs;
    if (fp === this.#lastFingerprint && !due) return 'unchanged';
    try {
      this.#node = await o.nodes.patchStatus(o.nodeName, { status });
    } catch (err) {
      if (isNotFound(err)) return 'node-missing';
      this.#failures++;
      const log = { err: errorMessage(err), failures: this.#failures };
      if (this.#failures === 1) o.logger.warn(log, 'updating node status failed, will retry');
      else o.logger.debug(log, 'updating node status failed, will retry');
      return 'failed';
    }
    if (this.#failures > 0) o.logger.info({ failures: this.#failures }, 'node status updated again');
    this.#failures = 0;
    this.#lastFingerprint = fp;
    this.#lastWriteAt = now;
    return 'written';
  }
}
