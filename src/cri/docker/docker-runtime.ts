import { NsenterDialer, type NetnsDialer } from '../netns/index.js';
import Docker from 'dockerode';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { PodNetwork } from '../../cni/pod-network.js';
import { errorMessage, NotFoundError, silentLogger, type Logger } from '../../util/index.js';
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
  StreamIO,
  StreamSession,
  ImageFsInfo,
  LinuxContainerResources,
} from '../types.js';
import { defaultOomScoreAdjFloor } from './capabilities.js';
import { engineStatus, mapDockerError, type DockerErrorContext } from './errors.js';
import { DockerEventStream } from './events.js';
import { dockerExec } from './exec.js';
import * as images from './images.js';
import { DOCKER_LABELS, type DockerObjectType } from './labels.js';
import { createLogLink, removeLogLink } from './log-link.js';
import { readDockerLogs, type DockerLogOptions } from './logs.js';
import { dockerUpdate } from './resources.js';
import { containerCreateOptions, sandboxCreateOptions, type SpecOptions } from './specs.js';
import { DockerStreaming } from './streaming.js';
import { containerFromInspect, containerFromList, containerState, sandboxFromInspect, sandboxFromList } from './status.js';

/** Options for {@link DockerRuntime}. */
export interface DockerRuntimeOptions {
  /** Docker engine socket (default /var/run/docker.sock). */
  socketPath?: string;
  /** json-file log rotation size per container (default '10m', upstream containerLogMaxSize 10Mi). */
  logMaxSize?: string;
  /** json-file log files kept per container (default 5, upstream containerLogMaxFiles). */
  logMaxFiles?: number;
  logger?: Logger;
  /**
   * Lowest oom_score_adj to request; lower values are raised to it. Default: the agent's own oom_score_adj when it
   * lacks CAP_SYS_RESOURCE (runc could not lower it and the container would fail to start), else no floor.
   * `null` disables the floor.
   */
  oomScoreAdjFloor?: number | null;
  /** Docker network whose presence means NetworkReady (default 'bridge'). */
  networkName?: string;
  /** Seconds the pause container gets to stop on SIGTERM in stopPodSandbox (default 10). */
  sandboxStopTimeoutSeconds?: number;
  /**
   * CNI mode (cri-dockerd's network plugin): non-host sandboxes get network mode `none` and this network attaches
   * them (ADD after start, DEL on stop/remove, CHECK at most every `networkCheckIntervalMs`); it also answers
   * NetworkReady. Unset: Docker's bridge network.
   */
  podNetwork?: PodNetwork;
  /** Minimum interval between CNI CHECKs of one sandbox, done while reading its status (default 60 s; 0 = never). */
  networkCheckIntervalMs?: number;
  /** Interval of releasing the networks of sandboxes that vanished (default 60 s). */
  networkGcIntervalMs?: number;
  /** Makes port-forward's connections inside sandboxes' network namespaces (default: an NsenterDialer). */
  netnsDialer?: NetnsDialer;
}

/**
 * ContainerRuntime on the Docker engine (dockerode), shaped like dockershim: a sandbox is a pause container owning
 * the pod's network, IPC and UTS namespaces; app containers join it (`container:<sandboxId>`). Everything the agent
 * needs after a restart (metadata, sandbox id, annotations) is stored in Docker labels. Safe for concurrent calls.
 */
export class DockerRuntime implements ContainerRuntime, ContainerLogs, ContainerStreaming {
  readonly #docker: Docker;
  readonly #socketPath: string;
  readonly #log: Logger;
  readonly #spec: SpecOptions;
  readonly #networkName: string;
  readonly #sandboxStopTimeout: number;
  readonly #podNetwork: PodNetwork | undefined;
  readonly #checkInterval: number;
  readonly #lastCheck = new Map<string, number>();
  #gcTimer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(e: ContainerEvent) => void>();
  #events: DockerEventStream | undefined;
  readonly #streaming: DockerStreaming;
  readonly #dialer: NetnsDialer;

  constructor(options: DockerRuntimeOptions = {}) {
    this.#socketPath = options.socketPath ?? '/var/run/docker.sock';
    this.#docker = new Docker({ socketPath: this.#socketPath });
    this.#log = (options.logger ?? silentLogger()).child({ component: 'docker-runtime' });
    const floor = options.oomScoreAdjFloor === undefined ? defaultOomScoreAdjFloor() : options.oomScoreAdjFloor;
    this.#spec = { logMaxSize: options.logMaxSize ?? '10m', logMaxFiles: options.logMaxFiles ?? 5 };
    if (floor !== null && floor !== undefined) this.#spec.oomScoreAdjFloor = floor;
    this.#networkName = options.networkName ?? 'bridge';
    this.#sandboxStopTimeout = options.sandboxStopTimeoutSeconds ?? 10;
    this.#podNetwork = options.podNetwork;
    this.#checkInterval = options.networkCheckIntervalMs ?? 60_000;
    if (this.#podNetwork !== undefined) {
      this.#spec.podNetwork = 'cni';
      this.#gcTimer = setInterval(() => void this.releaseStaleNetworks().catch(() => undefined), options.networkGcIntervalMs ?? 60_000);
      this.#gcTimer.unref();
    }
    this.#dialer = options.netnsDialer ?? new NsenterDialer({ logger: this.#log });
    this.#streaming = new DockerStreaming({ docker: this.#docker, socketPath: this.#socketPath, logger: this.#log, dialer: this.#dialer });
  }

  // ---- sandboxes -----------------------------------------------------------------------------------------------

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const opts = sandboxCreateOptions(config, this.#spec);
    const what = { op: 'create', object: `sandbox ${opts.name ?? ''}`, createCall: true };
    const created = await this.#call(what, () => this.#docker.createContainer(opts));
    try {
      await this.#call({ op: 'start', object: `sandbox ${created.id}` }, () => created.start());
      if (opts.HostConfig?.NetworkMode === 'none') await this.#attach(created.id, config);
    } catch (err) {
      await created.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    this.#log.debug({ sandbox: opts.name, id: created.id }, 'Started pod sandbox');
    return created.id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const info = await this.#inspectOrNull(id, 'podsandbox');
    if (info === null) return;
    // Like cri-dockerd: detach the network first (while the netns exists), stop anyway, then report a DEL failure.
    const detachErr = await this.#detach(info).then(() => undefined, (err: unknown) => err);
    for (const c of await this.#listRaw('container', [`${DOCKER_LABELS.sandboxId}=${info.Id}`])) {
      if (containerState(c.State) === 'running') await this.stopContainer(c.Id, 0);
    }
    await this.#stop(info.Id, this.#sandboxStopTimeout, 'sandbox');
    if (detachErr !== undefined) throw detachErr;
  }

  async removePodSandbox(id: string): Promise<void> {
    const info = await this.#inspectOrNull(id, 'podsandbox');
    if (info === null) return;
    // DEL again (idempotent) so an IP is released even when stop was skipped; on failure keep the container as the
    // record of what still needs a DEL.
    await this.#detach(info);
    for (const c of await this.#listRaw('container', [`${DOCKER_LABELS.sandboxId}=${info.Id}`])) {
      await this.removeContainer(c.Id);
    }
    await this.#remove(info.Id, 'sandbox');
    this.#lastCheck.delete(info.Id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const info = await this.#inspect(id, 'podsandbox');
    const st = sandboxFromInspect(info);
    if (this.#podNetwork === undefined || info.HostConfig.NetworkMode !== 'none') return st;
    const [ip = '', ...more] = await this.#podNetwork.podIps(info.Id);
    st.ip = ip;
    st.additionalIps = more;
    if (st.state === 'ready' && !(await this.#networkHealthy(info))) st.state = 'notready';
    return st;
  }

  /**
   * Releases the CNI attachments of sandboxes that no longer exist (removed behind nodelet's back, or the agent was
   * killed between ADD and removal). Returns how many. No-op without a pod network.
   */
  async releaseStaleNetworks(): Promise<number> {
    if (this.#podNetwork === undefined) return 0;
    // The network reads its records before this lists the sandboxes: a sandbox created meanwhile is never released.
    return this.#podNetwork.garbageCollect(async () => new Set((await this.#listRaw('podsandbox', [])).map((c) => c.Id)));
  }

  async listPodSandboxes(filter: PodSandboxFilter = {}): Promise<PodSandbox[]> {
    const raw = await this.#listRaw('podsandbox', selectorFilters(filter.labelSelector), filter.id);
    return raw
      .map(sandboxFromList)
      .filter((s) => filter.id === undefined || s.id.startsWith(filter.id))
      .filter((s) => filter.state === undefined || s.state === filter.state);
  }

  // ---- containers ----------------------------------------------------------------------------------------------

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const sandbox = await this.#inspect(podSandboxId, 'podsandbox');
    const logPath =
      sandboxConfig.logDirectory !== undefined && config.logPath !== undefined
        ? join(sandboxConfig.logDirectory, config.logPath)
        : '';
    const opts = containerCreateOptions(sandbox.Id, config, sandboxConfig, logPath, this.#spec);
    const what = { op: 'create', object: `container ${opts.name ?? ''}`, createCall: true };
    const created = await this.#call(what, () => this.#docker.createContainer(opts));
    return created.id;
  }

  async startContainer(id: string): Promise<void> {
    let failure: unknown;
    try {
      await this.#docker.getContainer(id).start();
    } catch (err) {
      if (engineStatus(err) === 304) return;
      failure = err;
    }
    // As cri-dockerd: the CRI log path links to the engine's log, for started and failed containers alike.
    const info = await this.#inspectOrNull(id, 'container').catch(() => null);
    if (info !== null) await createLogLink(info.Config.Labels?.[DOCKER_LABELS.logPath] ?? '', info.LogPath, this.#log);
    if (failure !== undefined) throw mapDockerError(failure, { op: 'start', object: `container ${id}` }, this.#socketPath);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.#stop(id, timeoutSeconds, 'container');
  }

  async removeContainer(id: string): Promise<void> {
    const info = await this.#inspectOrNull(id, 'container').catch(() => null);
    if (info !== null) await removeLogLink(info.Config.Labels?.[DOCKER_LABELS.logPath] ?? '', this.#log);
    await this.#remove(id, 'container');
  }

  async listContainers(filter: ContainerFilter = {}): Promise<Container[]> {
    const extra = selectorFilters(filter.labelSelector);
    if (filter.podSandboxId !== undefined) extra.push(`${DOCKER_LABELS.sandboxId}=${filter.podSandboxId}`);
    const raw = await this.#listRaw('container', extra, filter.id);
    return raw
      .map(containerFromList)
      .filter((c) => filter.id === undefined || c.id.startsWith(filter.id))
      .filter((c) => filter.state === undefined || c.state === filter.state);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const info = await this.#inspect(id, 'container');
    const st = containerFromInspect(info);
    if (st.logPath === '') st.logPath = info.LogPath;
    return st;
  }

  /** SizeRw of `docker inspect --size` (the engine walks the container's layer: asked only under disk pressure). */
  async containerWritableLayerBytes(id: string): Promise<number> {
    const info = await this.#inspect(id, 'container');
    const what = { op: 'measure the writable layer of', object: `container ${id}` };
    // The engine's `size` query parameter (dockerode passes options through; its types omit it).
    const sized = await this.#call(what, () => this.#docker.getContainer(info.Id).inspect({ size: true } as Docker.ContainerInspectOptions));
    return Math.max(0, (sized as { SizeRw?: number }).SizeRw ?? 0);
  }

  /** docker update (CPU shares, CFS quota/period, memory with an equal swap limit); see resources.ts. */
  async updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void> {
    const info = await this.#inspect(id, 'container');
    const body = dockerUpdate(resources);
    if (Object.keys(body).length === 0) return;
    await this.#call({ op: 'update resources of', object: `container ${id}` }, () => this.#docker.getContainer(info.Id).update(body));
  }

  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    const what = { op: 'exec in', object: `container ${id}` };
    return this.#call(what, () => dockerExec(this.#docker, this.#docker.getContainer(id), cmd, timeoutSeconds));
  }

  /** Streams the container's log from Docker's json-file log (see {@link ContainerLogs.readLogs}). */
  async readLogs(id: string, options: DockerLogOptions, out: NodeJS.WritableStream, signal?: AbortSignal): Promise<void> {
    const info = await this.#inspect(id, 'container');
    const c = this.#docker.getContainer(info.Id);
    await this.#call({ op: 'read logs of', object: `container ${id}` }, () =>
      readDockerLogs(this.#docker, c, info.Config.Tty, options, out, signal),
    );
  }

  /** Interactive exec (see {@link ContainerStreaming.exec}). */
  exec(containerId: string, cmd: string[], io: StreamIO): Promise<StreamSession> {
    return this.#streaming.exec(containerId, cmd, io);
  }

  /** Attach to the container's PID 1 (see {@link ContainerStreaming.attach}). */
  attach(containerId: string, io: StreamIO): Promise<StreamSession> {
    return this.#streaming.attach(containerId, io);
  }

  /** Port-forward inside the sandbox's network namespace (see {@link ContainerStreaming.portForward}). */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void> {
    return this.#streaming.portForward(podSandboxId, port, stream, signal);
  }

  // ---- runtime info --------------------------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    const v = await this.#call({ op: 'query version of', object: 'docker engine' }, () => this.#docker.version());
    return { runtimeName: 'docker', runtimeVersion: v.Version, runtimeApiVersion: v.ApiVersion };
  }

  async status(): Promise<RuntimeStatus> {
    await this.#call({ op: 'ping', object: 'docker engine' }, () => this.#docker.ping());
    if (this.#podNetwork !== undefined) {
      const n = await this.#podNetwork.status();
      return {
        conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          { type: 'NetworkReady', status: n.ready, reason: n.reason, message: n.message },
        ],
      };
    }
    let network = { status: true, reason: '', message: '' };
    // A filtered list, not an inspect: the inspect answer lists every container on the network (pods × 5 s).
    const name = this.#networkName;
    const networks = await this.#call({ op: 'list', object: `network ${name}` }, () => this.#docker.listNetworks({ filters: { name: [name] } }));
    if (!networks.some((n) => n.Name === name)) {
      network = {
        status: false,
        reason: 'NetworkPluginNotReady',
        message: `docker: network plugin is not ready: network ${this.#networkName} not found`,
      };
    }
    return {
      conditions: [
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        { type: 'NetworkReady', ...network },
      ],
    };
  }

  subscribeEvents(listener: (event: ContainerEvent) => void): () => void {
    this.#listeners.add(listener);
    if (this.#events === undefined) {
      this.#events = new DockerEventStream({
        docker: this.#docker,
        logger: this.#log,
        onEvent: (e) => {
          for (const l of [...this.#listeners]) {
            try {
              l(e);
            } catch (err) {
              this.#log.warn({ err, event: e }, 'Container event listener failed');
            }
          }
        },
      });
      this.#events.start();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopEvents();
    };
  }

  // ---- images --------------------------------------------------------------------------------------------------

  pullImage(image: string, options: PullOptions = {}): Promise<string> {
    return images.pullImage(this.#docker, image, options, this.#socketPath);
  }

  imageStatus(image: string): Promise<Image | null> {
    return images.imageStatus(this.#docker, image, this.#socketPath);
  }

  listImages(): Promise<Image[]> {
    return images.listImages(this.#docker, this.#socketPath);
  }

  removeImage(image: string): Promise<void> {
    return images.removeImage(this.#docker, image, this.#socketPath);
  }

  imageFsInfo(): Promise<ImageFsInfo> {
    return images.imageFsInfo(this.#docker, this.#socketPath);
  }

  async close(): Promise<void> {
    if (this.#gcTimer !== undefined) clearInterval(this.#gcTimer);
    this.#listeners.clear();
    this.#stopEvents();
    this.#dialer.close();
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  /** CNI ADD for a started `none`-network sandbox. */
  async #attach(id: string, config: PodSandboxConfig): Promise<void> {
    if (this.#podNetwork === undefined) return;
    const info = await this.#inspect(id, 'podsandbox');
    const m = config.metadata;
    await this.#podNetwork.setUp({
      id,
      netns: netnsOf(info),
      namespace: m.namespace,
      name: m.name,
      uid: m.uid,
      portMappings: config.portMappings,
      annotations: config.annotations,
    });
    this.#lastCheck.set(id, Date.now());
  }

  /** CNI DEL of a `none`-network sandbox (idempotent). */
  async #detach(info: Docker.ContainerInspectInfo): Promise<void> {
    if (this.#podNetwork === undefined || info.HostConfig.NetworkMode !== 'none') return;
    const m = sandboxFromInspect(info).metadata;
    await this.#podNetwork.tearDown({ id: info.Id, netns: netnsOf(info), namespace: m.namespace, name: m.name, uid: m.uid });
  }

  /** CNI CHECK, at most once per interval per sandbox; false when the attachment is broken. */
  async #networkHealthy(info: Docker.ContainerInspectInfo): Promise<boolean> {
    if (this.#podNetwork === undefined || this.#checkInterval <= 0) return true;
    const now = Date.now();
    const last = this.#lastCheck.get(info.Id);
    if (last !== undefined && now - last < this.#checkInterval) return true;
    this.#lastCheck.set(info.Id, now);
    const m = sandboxFromInspect(info).metadata;
    try {
      await this.#podNetwork.check({ id: info.Id, netns: netnsOf(info), namespace: m.namespace, name: m.name, uid: m.uid });
      return true;
    } catch (err) {
      this.#log.warn({ sandbox: info.Id, err: errorMessage(err) }, 'CNI CHECK of the pod sandbox failed; reporting it not ready');
      return false;
    }
  }

  #stopEvents(): void {
    this.#events?.stop();
    this.#events = undefined;
  }

  async #call<T>(ctx: DockerErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapDockerError(err, ctx, this.#socketPath);
    }
  }

  /** Inspects a container of the given kind; NotFoundError when missing or of the other kind. */
  async #inspect(id: string, kind: DockerObjectType): Promise<Docker.ContainerInspectInfo> {
    const info = await this.#inspectOrNull(id, kind);
    const what = kind === 'podsandbox' ? 'pod sandbox' : 'container';
    if (info === null) throw new NotFoundError(`${what} ${id} not found`, { object: `${what} ${id}` });
    return info;
  }

  async #inspectOrNull(id: string, kind: DockerObjectType): Promise<Docker.ContainerInspectInfo | null> {
    const what = kind === 'podsandbox' ? 'sandbox' : 'container';
    try {
      const info = await this.#docker.getContainer(id).inspect();
      return info.Config.Labels?.[DOCKER_LABELS.type] === kind ? info : null;
    } catch (err) {
      if (engineStatus(err) === 404) return null;
      throw mapDockerError(err, { op: 'inspect', object: `${what} ${id}` }, this.#socketPath);
    }
  }

  async #listRaw(kind: DockerObjectType, labels: string[], id?: string): Promise<Docker.ContainerInfo[]> {
    const filters: Record<string, string[]> = { label: [`${DOCKER_LABELS.type}=${kind}`, ...labels] };
    if (id !== undefined) filters['id'] = [id];
    return this.#call({ op: 'list', object: `${kind}s` }, () => this.#docker.listContainers({ all: true, filters }));
  }

  /** docker stop -t; a stopped or missing container is fine. */
  async #stop(id: string, timeoutSeconds: number, what: string): Promise<void> {
    try {
      await this.#docker.getContainer(id).stop({ t: Math.max(0, Math.round(timeoutSeconds)) });
    } catch (err) {
      const status = engineStatus(err);
      if (status === 304 || status === 404) return;
      throw mapDockerError(err, { op: 'stop', object: `${what} ${id}` }, this.#socketPath);
    }
  }

  /** docker rm -f; a missing container is fine. */
  async #remove(id: string, what: string): Promise<void> {
    try {
      await this.#docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (engineStatus(err) === 404) return;
      // "removal already in progress" means a concurrent remove of the same object: also fine.
      if (engineStatus(err) === 409 && /already in progress/i.test(String(err))) return;
      throw mapDockerError(err, { op: 'remove', object: `${what} ${id}` }, this.#socketPath);
    }
  }
}

/** The network namespace of a running container, '' when it does not run. */
function netnsOf(info: Docker.ContainerInspectInfo): string {
  return info.State.Running && info.State.Pid > 0 ? `/proc/${info.State.Pid}/ns/net` : '';
}

function selectorFilters(selector: Record<string, string> | undefined): string[] {
  return Object.entries(selector ?? {}).map(([k, v]) => `${k}=${v}`);
}
