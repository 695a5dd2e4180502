import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  AlreadyExistsError,
  ImageNotFoundError,
  NodeletError,
  NotFoundError,
  RealClock,
  RuntimeUnavailableError,
  type Clock,
} from '../../util/index.js';
import { matchesLabels, normalizeImageRef } from '../refs.js';
import type { PodCidrUpdater } from '../pod-cidr.js';
import type {
  Container,
  ContainerConfig,
  ContainerEvent,
  ContainerFilter,
  ContainerLogs,
  ContainerRuntime,
  ContainerStatus,
  ContainerStreaming,
  ExecResult,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  PullOptions,
  RuntimeStatus,
  RuntimeVersion,
  ImageFsInfo,
  LinuxContainerResources,
  StreamIO,
  StreamSession,
  TerminalSize,
} from '../types.js';
import { FakeImageStore, type FakeImage, type FakeImageSpec } from './images.js';
import { readFakeLogs, type ReadLogsOptions } from './logs.js';
import { FakePodIps } from './pod-ips.js';
import { FakeProcesses } from './processes.js';
import { FakeStreaming, type FakePortHandler } from './streaming.js';
import {
  FAKE_DEFAULT_IMAGES,
  type FakeExecHandler,
  type FakeRuntimeOptions,
  type RecordedCall,
  type RuntimeMethod,
} from './options.js';
import { containerStatus, sandboxStatus, type FakeContainer, type FakeSandbox } from './state.js';

const newId = (): string => randomBytes(32).toString('hex');

/**
 * An in-memory {@link ContainerRuntime} that passes the same contract suite as DockerRuntime, with test controls.
 * Container programs are modelled (see programs.ts): `sh -c 'exit 3'` exits 3 right after start, `sleep 2` exits after
 * 2 s on the clock, `dd bs=64M` under a smaller memory limit is OOMKilled, unknown commands run until stopped.
 * Events are delivered synchronously to subscribers, after the state change they describe.
 */
export class FakeRuntime implements ContainerRuntime, ContainerLogs, ContainerStreaming, PodCidrUpdater {
  readonly #clock: Clock;
  readonly #images = new FakeImageStore();
  readonly #sandboxes = new Map<string, FakeSandbox>();
  readonly #containers = new Map<string, FakeContainer>();
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  readonly #failures = new Map<RuntimeMethod, Error[]>();
  readonly #calls: RecordedCall[] = [];
  readonly #honorStopTimeout: boolean;
  #execHandler: FakeExecHandler | undefined;
  #unavailable = false;
  /** What {@link imageFsInfo} reports as the image filesystem's mount point (tests set it). */
  imageFsMountpoint = '/';
  #runtimeReady = { status: true, reason: '', message: '' };
  #networkReady = { status: true, reason: '', message: '' };
  readonly #podIps: FakePodIps;
  readonly #procs: FakeProcesses;
  readonly #streaming: FakeStreaming;

  readonly #recordCalls: boolean;
  readonly #pullAnyImage: boolean;

  constructor(options: FakeRuntimeOptions = {}) {
    this.#clock = options.clock ?? new RealClock();
    this.#honorStopTimeout = options.honorStopTimeout ?? true;
    this.#recordCalls = options.recordCalls ?? true;
    this.#pullAnyImage = options.pullAnyImage ?? false;
    this.#podIps = new FakePodIps(options.podCIDRs ?? ['10.88.0.0/16']);
    this.#procs = new FakeProcesses(this.#clock, (c, type) => this.#emitFor(c.id, c.sandboxId, false, type));
    this.#streaming = new FakeStreaming({
      container: (id) => this.#container(id),
      sandbox: (id) => this.#sandbox(id),
      run: (c, cmd, signal) => this.#procs.exec(c, cmd, 0, this.#execHandler, signal),
    });
    for (const spec of options.images ?? FAKE_DEFAULT_IMAGES) this.#images.addLocal(spec);
    for (const spec of options.remoteImages ?? []) this.#images.addRemote(spec);
  }

  // ---- test controls -------------------------------------------------------------------------------------------

  /** Every call made so far, in order (including failed ones). */
  get calls(): readonly RecordedCall[] {
    return this.#calls;
  }

  /** The calls made to one method. */
  callsTo(method: RuntimeMethod): RecordedCall[] {
    return this.#calls.filter((c) => c.method === method);
  }

  /** Forgets recorded calls. */
  clearCalls(): void {
    this.#calls.length = 0;
  }

  /** Makes the next `times` calls of `method` throw `error` (queued after earlier injected failures). */
  failNext(method: RuntimeMethod, error: Error, times = 1): void {
    const q = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) q.push(error);
    this.#failures.set(method, q);
  }

  /** While true, every call throws RuntimeUnavailableError (as if the engine's socket were gone). */
  setUnavailable(down: boolean): void {
    this.#unavailable = down;
  }

  /** Sets the RuntimeReady condition reported by status(). */
  setRuntimeReady(status: boolean, reason = status ? '' : 'RuntimeNotReady', message = ''): void {
    this.#runtimeReady = { status, reason, message };
  }

  /** Sets the NetworkReady condition reported by status(). */
  setNetworkReady(status: boolean, reason = status ? '' : 'NetworkPluginNotReady', message = ''): void {
    this.#networkReady = { status, reason, message };
  }

  /** Makes an image present locally; returns its ID. */
  addImage(spec: FakeImageSpec): string {
    return this.#images.addLocal(spec);
  }

  /** Makes an image pullable from the fake registry. */
  addRemoteImage(spec: FakeImageSpec): void {
    this.#images.addRemote(spec);
  }

  /** Overrides exec results (return undefined from the handler to use the modelled command). */
  setExecHandler(handler: FakeExecHandler | undefined): void {
    this.#execHandler = handler;
  }

  /** Ends a running container now with `exitCode` (OOMKilled when asked); emits `stopped`. */
  exitContainer(id: string, exitCode: number, opts: { oomKilled?: boolean; message?: string } = {}): void {
    const c = this.#container(id);
    if (c.state !== 'running') throw new NodeletError('RUNTIME_ERROR', `container ${id} is not running`);
    this.#procs.exit(c, exitCode, opts.oomKilled ?? false, opts.message ?? '');
  }

  /** Appends a line to a container's log. */
  appendLog(id: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.#procs.log(this.#container(id), line, stream);
  }

  /** Delivers an arbitrary event to subscribers. */
  emit(event: ContainerEvent): void {
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch {
        // A throwing listener must not break the runtime or other listeners.
      }
    }
  }

  /** The config a container was created with. */
  containerConfig(id: string): ContainerConfig {
    return this.#container(id).config;
  }

  /** The config a sandbox was created with. */
  sandboxConfig(id: string): PodSandboxConfig {
    return this.#sandbox(id).config;
  }

  // ---- sandboxes -----------------------------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.#enter('runPodSandbox', [config]);
    if (this.#images.find(config.image) === undefined) {
      throw new ImageNotFoundError(`image ${config.image} not found`, { field: 'image' });
    }
    const m = config.metadata;
    for (const s of this.#sandboxes.values()) {
      const o = s.config.metadata;
      if (o.name === m.name && o.namespace === m.namespace && o.uid === m.uid && o.attempt === m.attempt) {
        throw new AlreadyExistsError(`sandbox k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt} already exists`);
      }
    }
    const hostNet = config.linux.namespaceOptions.network === 'node';
    const ips = hostNet ? [] : this.#podIps.allocate();
    const s: FakeSandbox = {
      id: newId(),
      config: structuredClone(config),
      state: 'ready',
      createdAt: this.#clock.now(),
      ip: ips[0] ?? '',
      additionalIps: ips.slice(1),
    };
    this.#sandboxes.set(s.id, s);
    this.#emitFor(s.id, s.id, true, 'created');
    this.#emitFor(s.id, s.id, true, 'started');
    return s.id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.#enter('stopPodSandbox', [id]);
    const s = this.#sandboxes.get(id);
    if (s === undefined) return;
    for (const c of this.#inSandbox(id)) if (c.state === 'running') this.#procs.exit(c, 137, false, '');
    if (s.state === 'ready') {
      s.state = 'notready';
      this.#emitFor(id, id, true, 'stopped');
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    this.#enter('removePodSandbox', [id]);
    const s = this.#sandboxes.get(id);
    if (s === undefined) return;
    for (const c of this.#inSandbox(id)) this.#remove(c);
    if (s.state === 'ready') this.#emitFor(id, id, true, 'stopped');
    this.#sandboxes.delete(id);
    this.#podIps.release([s.ip, ...s.additionalIps]);
    this.#emitFor(id, id, true, 'deleted');
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    this.#enter('podSandboxStatus', [id]);
    return sandboxStatus(this.#sandbox(id));
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    this.#enter('listPodSandboxes', [filter]);
    return [...this.#sandboxes.values()]
      .filter((s) => filter.id === undefined || s.id.startsWith(filter.id))
      .filter((s) => filter.state === undefined || s.state === filter.state)
      .filter((s) => matchesLabels(s.config.labels, filter.labelSelector))
      .map((s) => {
        const { ip: _ip, additionalIps: _a, namespaceOptions: _n, ...rest } = sandboxStatus(s);
        return rest;
      });
  }

  // ---- containers ----------------------------------------------------------------------------------------------

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    this.#enter('createContainer', [podSandboxId, config, sandboxConfig]);
    this.#sandbox(podSandboxId);
    const image = this.#images.find(config.image);
    if (image === undefined) throw new ImageNotFoundError(`image ${config.image} not found`, { field: 'image' });
    for (const o of this.#inSandbox(podSandboxId)) {
      if (o.config.metadata.name === config.metadata.name && o.config.metadata.attempt === config.metadata.attempt) {
        throw new AlreadyExistsError(`container ${config.metadata.name} attempt ${config.metadata.attempt} exists`);
      }
    }
    const logDir = sandboxConfig.logDirectory;
    const c: FakeContainer = {
      id: newId(),
      sandboxId: podSandboxId,
      config: structuredClone(config),
      image,
      state: 'created',
      createdAt: this.#clock.now(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      oomKilled: false,
      message: '',
      program: undefined,
      exitTimer: undefined,
      logs: [],
      waiters: new Set(),
      logPath: logDir !== undefined && config.logPath !== undefined ? join(logDir, config.logPath) : '',
      writableBytes: 0,
    };
    this.#containers.set(c.id, c);
    this.#emitFor(c.id, podSandboxId, false, 'created');
    return c.id;
  }

  async startContainer(id: string): Promise<void> {
    this.#enter('startContainer', [id]);
    const c = this.#container(id);
    if (c.state === 'running') return;
    if (c.state === 'exited') throw new NodeletError('RUNTIME_ERROR', `container ${id} has exited; create a new one`);
    if (this.#sandboxes.get(c.sandboxId)?.state !== 'ready') {
      throw new NodeletError('RUNTIME_ERROR', `cannot start container ${id}: its sandbox is not running`);
    }
    this.#procs.run(c);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.#enter('stopContainer', [id, timeoutSeconds]);
    const c = this.#containers.get(id);
    if (c === undefined || c.state !== 'running') return;
    await this.#procs.stop(c, this.#honorStopTimeout ? timeoutSeconds * 1000 : 0);
  }

  async removeContainer(id: string): Promise<void> {
    this.#enter('removeContainer', [id]);
    const c = this.#containers.get(id);
    if (c !== undefined) this.#remove(c);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    this.#enter('listContainers', [filter]);
    return [...this.#containers.values()]
      .filter((c) => filter.id === undefined || c.id.startsWith(filter.id))
      .filter((c) => filter.podSandboxId === undefined || c.sandboxId === filter.podSandboxId)
      .filter((c) => filter.state === undefined || c.state === filter.state)
      .filter((c) => matchesLabels(c.config.labels, filter.labelSelector))
      .map((c) => {
        const { startedAt: _s, finishedAt: _f, exitCode: _e, reason: _r, message: _m, mounts: _mo, logPath: _l, resources: _res, ...rest } =
          containerStatus(c);
        return rest;
      });
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    this.#enter('containerStatus', [id]);
    return containerStatus(this.#container(id));
  }

  /** What the container's modelled programs wrote to its root filesystem (`dd of=<file>`), see programs.ts. */
  async containerWritableLayerBytes(id: string): Promise<number> {
    this.#enter('containerWritableLayerBytes', [id]);
    return this.#container(id).writableBytes;
  }

  /** Records the new CPU/memory settings (reported by containerStatus from then on). */
  async updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void> {
    this.#enter('updateContainerResources', [id, resources]);
    const c = this.#container(id);
    const r = c.config.linux.resources;
    for (const f of ['cpuShares', 'cpuPeriod', 'cpuQuota', 'memoryLimitInBytes'] as const) {
      const v = resources[f];
      if (v !== undefined && v > 0) r[f] = v;
    }
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    this.#enter('execSync', [id, cmd, timeoutSeconds]);
    const c = this.#container(id);
    if (c.state !== 'running') throw new NodeletError('RUNTIME_ERROR', `container ${id} is not running`);
    return this.#procs.exec(c, cmd, timeoutSeconds, this.#execHandler);
  }

  /** Interactive exec: the modelled command, or `cat` copying stdin (see src/cri/fake/streaming.ts). */
  async exec(id: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    this.#enter('exec', [id, cmd]);
    return this.#streaming.exec(id, cmd, io);
  }

  /** Attach: echoes stdin to stdout until stdin ends. */
  async attach(id: string, io: StreamIO): Promise<StreamSession> {
    this.#enter('attach', [id]);
    return this.#streaming.attach(id, io);
  }

  /** Port-forward to the handler registered with {@link setPortHandler} (refused otherwise). */
  async portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    this.#enter('portForward', [podSandboxId, port]);
    return this.#streaming.portForward(podSandboxId, port, stream, signal);
  }

  /** Serves forwarded connections to `port` of every fake sandbox with `handler` (undefined: refused again). */
  setPortHandler(port: number, handler: FakePortHandler | undefined): void {
    this.#streaming.setPortHandler(port, handler);
  }

  /** Terminal resizes received by sessions of container `id`. */
  resizesOf(id: string): TerminalSize[] {
    return this.#streaming.resizes(id);
  }

  /** Streaming sessions still open (0 once every client went away and everything was freed). */
  get openStreamingSessions(): number {
    return this.#streaming.openSessions;
  }

  /** Writes the container's log (lines from its modelled program and {@link appendLog}). */
  async readLogs(id: string, options: ReadLogsOptions, out: NodeJS.WritableStream, signal?: AbortSignal): Promise<void> {
    this.#enter('readLogs', [id, options]);
    await readFakeLogs(this.#container(id), options, out, signal);
  }

  // ---- runtime info --------------------------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    this.#enter('version', []);
    return { runtimeName: 'fake', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async status(): Promise<RuntimeStatus> {
    this.#enter('status', []);
    return {
      conditions: [
        { type: 'RuntimeReady', ...this.#runtimeReady },
        { type: 'NetworkReady', ...this.#networkReady },
      ],
    };
  }

  /**
   * CRI UpdateRuntimeConfig's pod CIDR ({@link PodCidrUpdater}): sandboxes created from now on get their IPs from
   * `cidrs` (one per family); existing ones keep theirs. Throws InvalidError for a malformed CIDR.
   */
  async updatePodCIDR(cidrs: readonly string[]): Promise<void> {
    if (this.#unavailable) throw new RuntimeUnavailableError('cannot connect to the fake runtime (set unavailable by the test)');
    this.#podIps.setRanges(cidrs);
  }

  /** The ranges new pod IPs come from (tests). */
  podCIDRs(): string[] {
    return this.#podIps.ranges();
  }

  subscribeEvents(listener: (event: ContainerEvent) => void): () => void {
    this.#enter('subscribeEvents', []);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  // ---- images --------------------------------------------------------------------------------------------------

  async pullImage(image: string, options: PullOptions = {}): Promise<string> {
    this.#enter('pullImage', [image, { ...options, auth: options.auth === undefined ? undefined : '[REDACTED]' }]);
    if (options.signal?.aborted === true) {
      throw new NodeletError('CANCELLED', `pull of ${image} cancelled`, { cause: options.signal.reason });
    }
    if (this.#pullAnyImage) {
      // Hollow nodes: an image present stays as it is ("up to date"), any other one is made up.
      const local = this.#images.find(image);
      if (local !== undefined) return local.id;
      this.#images.addRemote({ ref: image });
    }
    const img = this.#images.pull(image);
    if (img === undefined) {
      throw new NodeletError('IMAGE_PULL_FAILED', `failed to pull image ${image}: not found in registry`, {
        object: `image ${image}`,
      });
    }
    options.onProgress?.({ status: `Pulling from ${normalizeImageRef(image)}` });
    options.onProgress?.({ status: `Status: Downloaded newer image for ${normalizeImageRef(image)}` });
    return img.id;
  }

  async imageStatus(image: string): Promise<Image | null> {
    this.#enter('imageStatus', [image]);
    const img = this.#images.find(image);
    return img === undefined ? null : toPublicImage(img);
  }

  async listImages(): Promise<Image[]> {
    this.#enter('listImages', []);
    return this.#images.list().map(toPublicImage);
  }

  async removeImage(image: string): Promise<void> {
    this.#enter('removeImage', [image]);
    this.#images.remove(image);
  }

  async imageFsInfo(): Promise<ImageFsInfo> {
    this.#enter('imageFsInfo', []);
    return { mountpoint: this.imageFsMountpoint, usedBytes: this.#images.list().reduce((n, i) => n + toPublicImage(i).size, 0) };
  }

  async close(): Promise<void> {
    this.#calls.push({ method: 'close', args: [] });
    this.#listeners.clear();
    for (const c of this.#containers.values()) this.#procs.dispose(c);
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  #enter(method: RuntimeMethod, args: unknown[]): void {
    if (this.#recordCalls) this.#calls.push({ method, args });
    if (this.#unavailable) {
      throw new RuntimeUnavailableError('cannot connect to the fake runtime (set unavailable by the test)');
    }
    const injected = this.#failures.get(method)?.shift();
    if (injected !== undefined) throw injected;
  }

  #sandbox(id: string): FakeSandbox {
    const s = this.#sandboxes.get(id);
    if (s === undefined) throw new NotFoundError(`pod sandbox ${id} not found`, { object: `sandbox ${id}` });
    return s;
  }

  #container(id: string): FakeContainer {
    const c = this.#containers.get(id);
    if (c === undefined) throw new NotFoundError(`container ${id} not found`, { object: `container ${id}` });
    return c;
  }

  #inSandbox(sandboxId: string): FakeContainer[] {
    return [...this.#containers.values()].filter((c) => c.sandboxId === sandboxId);
  }

  #emitFor(containerId: string, podSandboxId: string, isSandbox: boolean, type: ContainerEvent['type']): void {
    this.emit({ type, containerId, podSandboxId, isSandbox, at: this.#clock.now() });
  }

  #remove(c: FakeContainer): void {
    if (c.state === 'running') this.#procs.exit(c, 137, false, '');
    this.#procs.dispose(c);
    this.#containers.delete(c.id);
    this.#emitFor(c.id, c.sandboxId, false, 'deleted');
  }
}

function toPublicImage(img: FakeImage): Image {
  return {
    id: img.id,
    repoTags: [...img.repoTags],
    repoDigests: [...img.repoDigests],
    size: img.size,
    user: img.user,
    stopSignal: img.stopSignal,
  };
}
