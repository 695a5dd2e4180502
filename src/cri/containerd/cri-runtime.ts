import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hasCode, ImageNotFoundError, InvalidError, RealClock, silentLogger, type Clock, type Logger } from '../../util/index.js';
import { forwardPort, NsenterDialer, type NetnsDialer, type NetnsTarget } from '../netns/index.js';
import { checkPodCIDRs, type PodCidrUpdater } from '../pod-cidr.js';
import { matchesLabels } from '../refs.js';
import type {
  Container,
  ContainerConfig,
  ContainerEvent,
  ContainerFilter,
  ContainerLogs,
  ContainerRuntime,
  ContainerStatus,
  ContainerStreaming,
  ExecPreparer,
  ExecShape,
  PreparedExec,
  ExecResult,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  PullOptions,
  RuntimeCondition,
  RuntimeStatus,
  RuntimeVersion,
  ImageFsInfo,
  LinuxContainerResources,
  StreamIO,
  StreamSession,
} from '../types.js';
import type { Duplex } from 'node:stream';
import { CriClient } from './client.js';
import type { RuntimeMethods } from './messages.js';
import { CriStreaming } from './streaming.js';
import { ExecReaper } from './exec-reaper.js';
import { GrpcContainerdTasks } from './tasks.js';
import {
  defaultLogDirectory,
  fromCriContainer,
  fromCriContainerStatus,
  fromCriSandbox,
  fromCriSandboxStatus,
  toCriContainerConfig,
  toCriSandboxConfig,
  toCriState,
  toCriUpdateResources,
} from './convert.js';
import { EventTracker, type ListedObject } from './events.js';
import { scanContainerList, scanSandboxList } from './list-scan.js';
import * as images from './images.js';
import { readCriLogFile, type LogOptions } from './logs.js';
import { sandboxNetnsInfo } from './sandbox-info.js';

/** Options for {@link CriRuntime}. */
export interface CriRuntimeOptions {
  /** The CRI socket, e.g. /run/containerd/containerd.sock. */
  socketPath: string;
  /** Deadline of ordinary calls (upstream --runtime-request-timeout, default 2 min). */
  requestTimeoutMs?: number;
  /** Root of pod log directories for sandboxes configured without one (default /var/log/pods). */
  podLogsRoot?: string;
  /** Poll period of the event tracker (default 1000 ms). */
  eventPollIntervalMs?: number;
  logger?: Logger;
  clock?: Clock;
  /**
   * Kill the process of an exec whose client went away, found through containerd's own Tasks service on the same
   * socket (exec-reaper.ts; default true). Runtimes without it (CRI-O) are detected and left alone.
   */
  killAbortedExecs?: boolean;
  /** Makes port-forward's connections inside sandboxes' network namespaces (default: an NsenterDialer). */
  netnsDialer?: NetnsDialer;
}

const CONDITIONS = new Set(['RuntimeReady', 'NetworkReady']);

/**
 * ContainerRuntime over CRI v1 gRPC (containerd 1.6+, CRI-O): sandboxes, containers and images map one to one onto
 * CRI calls, which keep labels, annotations and metadata themselves. Events come from an {@link EventTracker} (CRI
 * 1.6 runtimes have no event stream). Safe for concurrent calls.
 */
export class CriRuntime implements ContainerRuntime, ContainerLogs, ContainerStreaming, ExecPreparer, PodCidrUpdater {
  readonly #client: CriClient;
  readonly #log: Logger;
  readonly #logsRoot: string;
  readonly #timeoutMs: number;
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  readonly #events: EventTracker;
  /** container id → sandbox id (immutable, so cached; CRI ContainerStatus does not carry it). */
  readonly #sandboxOf = new Map<string, string>();
  readonly #streaming: CriStreaming;
  readonly #tasks: GrpcContainerdTasks | undefined;
  readonly #reaper: ExecReaper | undefined;
  readonly #dialer: NetnsDialer;
  /** Where ready sandboxes' network namespaces are (port-forward), until nodelet stops or removes them. */
  readonly #netnsOf = new Map<string, NetnsTarget>();

  constructor(options: CriRuntimeOptions) {
    this.#timeoutMs = options.requestTimeoutMs ?? 120_000;
    this.#client = new CriClient({ socketPath: options.socketPath, timeoutMs: this.#timeoutMs });
    this.#log = (options.logger ?? silentLogger()).child({ component: 'cri-runtime' });
    this.#logsRoot = options.podLogsRoot ?? '/var/log/pods';
    this.#dialer = options.netnsDialer ?? new NsenterDialer({ logger: this.#log });
    const url = async <M extends 'Exec' | 'Attach'>(m: M, req: RuntimeMethods[M][0], object: string): Promise<string> =>
      (await this.#client.runtime(m, req, { op: m.toLowerCase(), object })).url;
    if (options.killAbortedExecs !== false) {
      this.#tasks = new GrpcContainerdTasks({ socketPath: options.socketPath });
      this.#reaper = new ExecReaper({ tasks: this.#tasks, clock: options.clock ?? new RealClock(), logger: this.#log });
    }
    this.#streaming = new CriStreaming(
      {
        exec: (req) => url('Exec', req, `container ${req.containerId}`),
        attach: (req) => url('Attach', req, `container ${req.containerId}`),
      },
      this.#log,
      this.#reaper,
    );
    this.#events = new EventTracker({
      list: () => this.#listAll(),
      onEvent: (e) => this.#dispatch(e),
      logger: this.#log,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.eventPollIntervalMs === undefined ? {} : { intervalMs: options.eventPollIntervalMs }),
    });
  }

  // ---- sandboxes -----------------------------------------------------------------------------------------------

  /**
   * Runs the sandbox. The infra image must be present (ImageNotFoundError otherwise); note that containerd runs its
   * own configured `sandbox_image`, CRI has no field for it.
   */
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    if ((await images.imageWithConfig(this.#client, config.image)) === null) {
      const own = await this.#runtimeSandboxImage();
      const hint = own === undefined || own === config.image ? '' : ` (the runtime runs its own sandbox image ${own}; set --pod-infra-container-image=${own})`;
      throw new ImageNotFoundError(`sandbox image ${config.image} is not present in the runtime${hint}`, { object: `image ${config.image}` });
    }
    const logDirectory = config.logDirectory ?? defaultLogDirectory(this.#logsRoot, config);
    await mkdir(logDirectory, { recursive: true, mode: 0o755 });
    const what = { op: 'run', object: `pod sandbox ${config.metadata.namespace}/${config.metadata.name}` };
    const res = await this.#client.runtime('RunPodSandbox', { config: toCriSandboxConfig(config, logDirectory), runtimeHandler: '' }, what);
    const id = res.podSandboxId;
    this.#events.report({ id, podSandboxId: id, isSandbox: true, phase: 1 });
    this.#log.debug({ sandbox: what.object, id }, 'Started pod sandbox');
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.#netnsOf.delete(id);
    if (!(await this.#idempotent(this.#client.runtime('StopPodSandbox', { podSandboxId: id }, { op: 'stop', object: `pod sandbox ${id}` })))) return;
    this.#events.report({ id, podSandboxId: id, isSandbox: true, phase: 2 });
  }

  async removePodSandbox(id: string): Promise<void> {
    this.#netnsOf.delete(id);
    await this.#idempotent(this.#client.runtime('RemovePodSandbox', { podSandboxId: id }, { op: 'remove', object: `pod sandbox ${id}` }));
    for (const c of this.#events.containersOf(id)) this.#events.report({ id: c, podSandboxId: id, isSandbox: false, phase: 'deleted' });
    this.#events.report({ id, podSandboxId: id, isSandbox: true, phase: 'deleted' });
    for (const [c, sb] of this.#sandboxOf) if (sb === id) this.#sandboxOf.delete(c);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const res = await this.#client.runtime('PodSandboxStatus', { podSandboxId: id, verbose: false }, { op: 'inspect', object: `pod sandbox ${id}` });
    if (res.status === null || res.status === undefined) throw new Error(`runtime returned no status for pod sandbox ${id}`);
    return fromCriSandboxStatus(res.status);
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const f = {
      ...(filter.id === undefined ? {} : { id: filter.id }),
      ...(filter.state === undefined ? {} : { state: { state: filter.state === 'ready' ? ('SANDBOX_READY' as const) : ('SANDBOX_NOTREADY' as const) } }),
      labelSelector: filter.labelSelector ?? {},
    };
    const res = await this.#client.runtime('ListPodSandbox', { filter: f }, { op: 'list', object: 'pod sandboxes' });
    return res.items
      .map(fromCriSandbox)
      .filter((s) => (filter.id === undefined || s.id.startsWith(filter.id)) && (filter.state === undefined || s.state === filter.state))
      .filter((s) => matchesLabels(s.labels, filter.labelSelector));
  }

  // ---- containers ----------------------------------------------------------------------------------------------

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const img = await images.imageWithConfig(this.#client, config.image);
    if (img === null) throw new ImageNotFoundError(`image ${config.image} is not present`, { object: `image ${config.image}` });
    const logDirectory = sandboxConfig.logDirectory ?? defaultLogDirectory(this.#logsRoot, sandboxConfig);
    const logPath = config.logPath ?? `${config.metadata.name}/${config.metadata.attempt}.log`;
    await mkdir(dirname(join(logDirectory, logPath)), { recursive: true, mode: 0o755 });
    const req = {
      podSandboxId,
      config: toCriContainerConfig(config, sandboxConfig, logPath, img.config.env),
      sandboxConfig: toCriSandboxConfig(sandboxConfig, logDirectory),
    };
    const what = { op: 'create', object: `container ${config.metadata.name} in pod sandbox ${podSandboxId}` };
    const id = (await this.#client.runtime('CreateContainer', req, what)).containerId;
    this.#sandboxOf.set(id, podSandboxId);
    this.#events.report({ id, podSandboxId, isSandbox: false, phase: 0 });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.#client.runtime('StartContainer', { containerId: id }, { op: 'start', object: `container ${id}` });
    } catch (err) {
      // Starting a running container is not an error (as with Docker's 304).
      if (!hasCode(err, 'RUNTIME_ERROR') || (await this.containerStatus(id).catch(() => undefined))?.state !== 'running') throw err;
    }
    this.#reportContainer(id, 1);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const timeout = Math.max(0, Math.round(timeoutSeconds));
    const call = this.#client.runtime('StopContainer', { containerId: id, timeout }, { op: 'stop', object: `container ${id}` }, {
      timeoutMs: Math.max(this.#timeoutMs, timeout * 1000 + 30_000),
    });
    // Not reported locally: a container that was only created stays so; the tracker's poll sees real exits.
    await this.#idempotent(call);
  }

  async removeContainer(id: string): Promise<void> {
    await this.#idempotent(this.#client.runtime('RemoveContainer', { containerId: id }, { op: 'remove', object: `container ${id}` }));
    const sb = this.#sandboxOf.get(id) ?? '';
    this.#sandboxOf.delete(id);
    this.#events.report({ id, podSandboxId: sb, isSandbox: false, phase: 'deleted' });
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const f = {
      ...(filter.id === undefined ? {} : { id: filter.id }),
      ...(filter.podSandboxId === undefined ? {} : { podSandboxId: filter.podSandboxId }),
      ...(filter.state === undefined ? {} : { state: { state: toCriState(filter.state) } }),
      labelSelector: filter.labelSelector ?? {},
    };
    const res = await this.#client.runtime('ListContainers', { filter: f }, { op: 'list', object: 'containers' });
    const out = res.containers.map(fromCriContainer);
    for (const c of out) this.#sandboxOf.set(c.id, c.podSandboxId);
    return out.filter(
      (c) =>
        (filter.id === undefined || c.id.startsWith(filter.id)) &&
        (filter.podSandboxId === undefined || c.podSandboxId === filter.podSandboxId) &&
        (filter.state === undefined || c.state === filter.state) &&
        matchesLabels(c.labels, filter.labelSelector),
    );
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const res = await this.#client.runtime('ContainerStatus', { containerId: id, verbose: false }, { op: 'inspect', object: `container ${id}` });
    if (res.status === null || res.status === undefined) throw new Error(`runtime returned no status for container ${id}`);
    let sandboxId = this.#sandboxOf.get(res.status.id);
    if (sandboxId === undefined) sandboxId = (await this.listContainers({ id: res.status.id }))[0]?.podSandboxId ?? '';
    return fromCriContainerStatus(res.status, sandboxId);
  }

  /** CRI ContainerStats: `writable_layer.used_bytes` (containerd reads the snapshot's usage). */
  async containerWritableLayerBytes(id: string): Promise<number> {
    const res = await this.#client.runtime('ContainerStats', { containerId: id }, { op: 'read stats of', object: `container ${id}` });
    return Math.max(0, Number(res.stats?.writableLayer?.usedBytes?.value ?? 0));
  }

  /** CRI UpdateContainerResources with the CPU and memory settings of `resources`. */
  async updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void> {
    const linux = toCriUpdateResources(resources);
    await this.#client.runtime('UpdateContainerResources', { containerId: id, linux }, { op: 'update resources of', object: `container ${id}` });
  }

  /** Asks the runtime to reopen the container's log file after it was rotated (CRI ReopenContainerLog). */
  async reopenContainerLog(id: string): Promise<void> {
    await this.#client.runtime('ReopenContainerLog', { containerId: id }, { op: 'reopen log of', object: `container ${id}` });
  }

  /** Interactive exec through the runtime's streaming server (see src/cri/containerd/streaming.ts). */
  async exec(id: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    const shape = { tty: io.tty, stdin: io.stdin !== undefined, stdout: io.stdout !== undefined, stderr: io.stderr !== undefined };
    return (await this.prepareExec(id, cmd, shape)).start(io);
  }

  /**
   * ExecPreparer: the CRI Exec URL and the connection to the streaming server. NotFoundError for an unknown container,
   * InvalidError for one that is not running (containerd's own check, mapped).
   */
  async prepareExec(id: string, cmd: string[], shape: ExecShape): Promise<PreparedExec> {
    // No ContainerStatus first: containerd's Exec checks the container itself (NOT_FOUND; "container is in <state>
    // state" for one that is not running), and one runtime call less is the point of preparing.
    try {
      return await this.#streaming.prepareExec(id, cmd, shape);
    } catch (err) {
      const state = /container is in (\w+) state/.exec(err instanceof Error ? err.message : '')?.[1];
      if (state === undefined) throw err;
      const st = state.replace(/^CONTAINER_/, '').toLowerCase();
      throw new InvalidError(`cannot exec in container ${id}: container not running (${st})`, { object: `container ${id}`, cause: err });
    }
  }


  /** Attach through the runtime's streaming server. */
  async attach(id: string, io: StreamIO): Promise<StreamSession> {
    await this.#requireRunning(id, 'attach to');
    return this.#streaming.attach(id, io);
  }

  /**
   * Port-forward inside the sandbox's network namespace (its netns file from the verbose sandbox status, else its
   * pause process), connected by nodelet itself rather than through containerd's streaming server: the same target
   * as containerd's own port-forward, without a second relay process copying every byte.
   */
  async portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidError(`invalid port ${String(port)}`);
    const target = this.#netnsOf.get(podSandboxId) ?? (await this.#sandboxNetns(podSandboxId));
    try {
      await forwardPort({ dialer: this.#dialer, target, port, stream, signal, object: `pod sandbox ${podSandboxId}` });
    } catch (err) {
      this.#netnsOf.delete(podSandboxId); // asked again next time: the sandbox may have changed state
      throw err;
    }
  }

  /**
   * Where the sandbox's network namespace is (remembered for its next connections: a netns does not move); InvalidError
   * when the sandbox is not ready or its netns is closed.
   */
  async #sandboxNetns(id: string): Promise<NetnsTarget> {
    const res = await this.#client.runtime('PodSandboxStatus', { podSandboxId: id, verbose: true }, { op: 'inspect', object: `pod sandbox ${id}` });
    const info = sandboxNetnsInfo(res.info);
    if (res.status?.state !== 'SANDBOX_READY' || info.closed) {
      throw new InvalidError(`pod sandbox ${id} is not ready`, { object: `pod sandbox ${id}` });
    }
    if (this.#netnsOf.size > 4096) this.#netnsOf.clear(); // sandboxes removed behind nodelet's back
    this.#netnsOf.set(id, info.target);
    return info.target;
  }

  async #requireRunning(id: string, op: string): Promise<void> {
    const st = await this.containerStatus(id);
    if (st.state !== 'running') throw new InvalidError(`cannot ${op} container ${id}: container not running (${st.state})`, { object: `container ${id}` });
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    const timeout = Math.max(0, Math.ceil(timeoutSeconds));
    const settled = this.#reaper?.noteExecSync(id); // its process is not an aborted exec's
    const res = await this.#client
      .runtime('ExecSync', { containerId: id, cmd, timeout }, { op: 'exec in', object: `container ${id}` }, {
        // The runtime enforces `timeout` itself; the deadline only guards against a runtime that does not.
        timeoutMs: timeout > 0 ? timeout * 1000 + 10_000 : 0,
      })
      .finally(() => settled?.());
    return { exitCode: res.exitCode, stdout: res.stdout.toString('utf8'), stderr: res.stderr.toString('utf8') };
  }

  /** Reads the container's CRI log file (see logs.ts); with `follow`, until the container stops or `signal` aborts. */
  async readLogs(id: string, options: LogOptions, out: NodeJS.WritableStream, signal?: AbortSignal): Promise<void> {
    const st = await this.containerStatus(id);
    if (st.logPath === '') return;
    await readCriLogFile({
      path: st.logPath,
      options,
      out,
      ...(signal === undefined ? {} : { signal }),
      stillRunning: async () => {
        const s = await this.containerStatus(id).catch(() => undefined);
        return s?.state === 'running' || s?.state === 'created';
      },
    });
  }

  // ---- runtime info --------------------------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    const v = await this.#client.runtime('Version', { version: 'v1' }, { op: 'query version of', object: 'container runtime' });
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion, runtimeApiVersion: v.runtimeApiVersion };
  }

  async status(): Promise<RuntimeStatus> {
    const res = await this.#client.runtime('Status', { verbose: false }, { op: 'query status of', object: 'container runtime' });
    const conditions = (res.status?.conditions ?? [])
      .filter((c) => CONDITIONS.has(c.type))
      .map((c): RuntimeCondition => ({ type: c.type as RuntimeCondition['type'], status: c.status, reason: c.reason, message: c.message }));
    return { conditions };
  }

  /**
   * {@link PodCidrUpdater}: CRI `UpdateRuntimeConfig{runtime_config: {network_config: {pod_cidr}}}` with the CIDRs
   * comma-joined, as the upstream kubelet sends them. containerd renders its CNI config from `conf_template` with them
   * when one is configured (otherwise it only records them). Idempotent. Throws InvalidError for malformed CIDRs
   * (nothing sent), RuntimeUnavailableError when the runtime is not there.
   */
  async updatePodCIDR(cidrs: readonly string[]): Promise<void> {
    checkPodCIDRs(cidrs);
    const podCidr = cidrs.join(',');
    await this.#client.runtime('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } }, { op: 'update pod CIDR of', object: 'container runtime' });
    this.#log.info({ podCIDR: podCidr }, 'Updated the runtime config with the pod CIDR');
  }

  /** See {@link ContainerRuntime.subscribeEvents}: events come from polling plus this instance's own calls. */
  subscribeEvents(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    this.#events.start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#events.stop();
    };
  }

  // ---- images --------------------------------------------------------------------------------------------------

  pullImage(image: string, options: PullOptions = {}): Promise<string> {
    return images.pullImage(this.#client, image, options);
  }

  async imageStatus(image: string): Promise<Image | null> {
    return (await images.imageWithConfig(this.#client, image))?.image ?? null;
  }

  listImages(): Promise<Image[]> {
    return images.listImages(this.#client);
  }

  removeImage(image: string): Promise<void> {
    return images.removeImage(this.#client, image);
  }

  imageFsInfo(): Promise<ImageFsInfo> {
    return images.imageFsInfo(this.#client);
  }

  async close(): Promise<void> {
    this.#dialer.close();
    this.#listeners.clear();
    this.#events.stop();
    this.#client.close();
    this.#reaper?.close();
    this.#tasks?.close();
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** Awaits a stop/remove call; a missing object counts as done (returns false), other errors propagate. */
  async #idempotent(call: Promise<unknown>): Promise<boolean> {
    try {
      await call;
      return true;
    } catch (err) {
      if (hasCode(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  /** The sandbox image the runtime is configured with (containerd: Status verbose info.config.sandboxImage). */
  async #runtimeSandboxImage(): Promise<string | undefined> {
    try {
      const res = await this.#client.runtime('Status', { verbose: true }, { op: 'query status of', object: 'container runtime' });
      const image = (JSON.parse(res.info['config'] ?? '{}') as { sandboxImage?: unknown }).sandboxImage;
      return typeof image === 'string' && image !== '' ? image : undefined;
    } catch {
      return undefined;
    }
  }

  #reportContainer(id: string, phase: 1): void {
    const sb = this.#sandboxOf.get(id);
    if (sb !== undefined) this.#events.report({ id, podSandboxId: sb, isSandbox: false, phase });
  }

  async #listAll(): Promise<ListedObject[]> {
    // Every second: only ids and states are decoded (list-scan.ts), not the whole objects with labels and annotations.
    const [sandboxes, containers] = await Promise.all([
      this.#client.runtimeRaw('ListPodSandbox', scanSandboxList, { op: 'list', object: 'pod sandboxes' }),
      this.#client.runtimeRaw('ListContainers', scanContainerList, { op: 'list', object: 'containers' }),
    ]);
    for (const c of containers) if (!this.#sandboxOf.has(c.id)) this.#sandboxOf.set(c.id, c.podSandboxId);
    return [...sandboxes, ...containers];
  }

  #dispatch(e: ContainerEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(e);
      } catch (err) {
        this.#log.warn({ err, event: e }, 'Container event listener failed');
      }
    }
  }
}
