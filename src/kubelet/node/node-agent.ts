/**
 * The kubelet's node agent: registers the Node (retrying with backoff while the API server is away), then runs the
 * node status heartbeat and the Lease heartbeat. Nothing here blocks startup: `start()` returns at once and the
 * agent catches up whenever the API server answers.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { LeaseApi } from '../../api/leases.js';
import type { NodeApi } from '../../api/nodes.js';
import { Backoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { HostReader } from './host.js';
import { LeaseController } from './lease.js';
import { Loop } from './loop.js';
import { registerNode } from './registration.js';
import type { RuntimeMonitor } from './runtime-monitor.js';
import { initialNode, type NodeSettings } from './status.js';
import { NodeStatusReporter } from './status-reporter.js';

/** Options for {@link NodeAgent}. */
export interface NodeAgentOptions {
  nodeName: string;
  /** --node-ip; when undefined the default-route address is used. */
  nodeIP: string | undefined;
  rootDir: string;
  settings: NodeSettings & {
    registerNode: boolean;
    nodeStatusUpdateFrequencyMs: number;
    nodeStatusReportFrequencyMs: number;
    nodeLeaseDurationSeconds: number;
  };
  versions: { kubeletVersion: string; kubeProxyVersion: string };
  kubeletPort: number;
  nodes: NodeApi;
  leases: LeaseApi;
  host: HostReader;
  runtime: RuntimeMonitor;
  clock: Clock;
  logger: Logger;
  extraReadinessErrors?: () => string[];
}

/** Registration + node status + lease. start/stop are idempotent. */
export class NodeAgent {
  #pressure: (() => ReadonlySet<string>) | undefined;
  readonly #readinessChecks: (() => string | undefined)[] = [];
  readonly #o: NodeAgentOptions;
  readonly #nodeIP: string | undefined;
  readonly #status: NodeStatusReporter;
  readonly #lease: LeaseController;
  readonly #backoff = new Backoff({ initialMs: 100, maxMs: 7000 });
  readonly #registerLoop: Loop;
  readonly #statusLoop: Loop;
  readonly #leaseLoop: Loop;
  #registered = false;
  #registeredNode: V1Node | undefined;

  constructor(options: NodeAgentOptions) {
    this.#o = options;
    const logger = options.logger;
    this.#nodeIP = options.nodeIP ?? options.host.defaultAddress();
    this.#status = new NodeStatusReporter({
      nodeName: options.nodeName,
      nodeIP: this.#nodeIP,
      rootDir: options.rootDir,
      settings: options.settings,
      versions: options.versions,
      kubeletPort: options.kubeletPort,
      reportFrequencyMs: options.settings.nodeStatusReportFrequencyMs,
      nodes: options.nodes,
      host: options.host,
      runtime: options.runtime,
      clock: options.clock,
      logger,
      pressure: () => this.#pressure?.(),
      extraReadinessErrors: () => [...(options.extraReadinessErrors?.() ?? []), ...this.#readinessChecks.map((c) => c()).filter((e): e is string => e !== undefined)],
    });
    this.#lease = new LeaseController({
      nodeName: options.nodeName,
      leaseDurationSeconds: options.settings.nodeLeaseDurationSeconds,
      // Upstream: renew interval = 0.25 × lease duration (10 s for the default 40 s).
      renewIntervalMs: options.settings.nodeLeaseDurationSeconds * 250,
      leases: options.leases,
      clock: options.clock,
      logger,
    });
    const clock = options.clock;
    this.#registerLoop = new Loop({ clock, logger, errorDelayMs: 7000, step: () => this.registerStep() });
    this.#statusLoop = new Loop({ clock, logger, errorDelayMs: options.settings.nodeStatusUpdateFrequencyMs, step: () => this.statusStep() });
    this.#leaseLoop = new Loop({ clock, logger, errorDelayMs: this.#lease.intervalMs, step: () => this.#lease.step() });
  }

  /** True once the Node is registered (or registration is off). */
  registered(): boolean {
    return this.#registered;
  }

  /** The Node as last seen from the API server (undefined before registration). Cheap; never throws. */
  node(): V1Node | undefined {
    return this.#status.lastNode() ?? this.#registeredNode;
  }

  /** The InternalIP reported. */
  nodeIP(): string | undefined {
    return this.#nodeIP;
  }

  /** Wall-clock ms of the last lease renew. */
  lastLeaseRenewAt(): number | undefined {
    return this.#lease.lastRenewAt();
  }

  /** Starts registration; status and lease loops start once the Node exists. */
  start(): void {
    if (this.#o.settings.registerNode) this.#registerLoop.start(0);
    else this.#afterRegistration(undefined);
  }

  /** Stops all loops (waits for writes in flight). */
  async stop(): Promise<void> {
    await Promise.all([this.#registerLoop.stop(), this.#statusLoop.stop(), this.#leaseLoop.stop()]);
  }

  /** One registration attempt; returns the delay to the next (a very long one once done, the loop is stopped then). */
  async registerStep(): Promise<number> {
    const o = this.#o;
    try {
      const desired: V1Node = initialNode({
        nodeName: o.nodeName,
        nodeIP: this.#nodeIP,
        identity: o.host.identity(),
        readings: o.host.readings(o.rootDir),
        settings: o.settings,
        versions: { ...o.versions, containerRuntimeVersion: o.runtime.version() },
        conditions: [],
        kubeletPort: o.kubeletPort,
      });
      // Status is written by the status loop right after; creating with a partial status is what upstream does too.
      const { node, created } = await registerNode(o.nodes, desired);
      o.logger.info({ created }, created ? 'successfully registered node' : 'node was previously registered');
      this.#backoff.reset('register');
      this.#afterRegistration(node);
      void this.#registerLoop.stop();
      return 24 * 3600_000;
    } catch (err) {
      const delay = this.#backoff.next('register', o.clock.now());
      o.logger.warn({ err: errorMessage(err), retryInMs: delay }, 'unable to register node with API server');
      return delay;
    }
  }

  /** One status tick; re-registers when the Node was deleted. Returns the delay to the next tick. */
  async statusStep(): Promise<number> {
    const r = await this.#status.step();
    if (r === 'node-missing' && this.#o.settings.registerNode) {
      this.#o.logger.warn('node object is missing, registering again');
      this.#registered = false;
      void this.#statusLoop.stop();
      void this.#leaseLoop.stop();
      this.#registerLoop.start(0);
    }
    return this.#o.settings.nodeStatusUpdateFrequencyMs;
  }

  /** From now on the pressure conditions come from `source` (the eviction manager) instead of evictionHard alone. */
  setPressureSource(source: () => ReadonlySet<string>): void {
    this.#pressure = source;
  }

  /** Adds a check whose error (a string) turns the node's Ready condition False, e.g. `node is shutting down`. */
  addReadinessCheck(check: () => string | undefined): void {
    this.#readinessChecks.push(check);
  }

  /** Recomputes status now (e.g. right after the runtime changed state). */
  kickStatus(): void {
    this.#statusLoop.kick();
  }

  #afterRegistration(node: V1Node | undefined): void {
    this.#registered = true;
    this.#registeredNode = node;
    this.#status.seed(node?.status?.conditions);
    const uid = node?.metadata?.uid;
    if (uid !== undefined) this.#lease.setOwner(uid);
    this.#statusLoop.start(0);
    this.#leaseLoop.start(0);
  }
}
