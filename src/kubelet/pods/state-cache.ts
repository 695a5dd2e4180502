/**
 * A ContainerRuntime decorator that caches each pod's runtime state (upstream kubelet's pod cache: pod workers read
 * the state the PLEG last saw instead of asking the runtime on every sync). An idle resync of a healthy pod then costs
 * no runtime call; 100 idle pods used to cost 2 lists + 1 inspect per container and sandbox, twice, per minute each.
 *
 * Correctness stays level-triggered because every way the state can change invalidates it:
 * - the agent's own changes: every mutating call made through this decorator (run/stop/remove sandbox, create/start/
 *   stop/remove container) drops the pod's entry (all entries when the id's pod is unknown);
 * - changes made by others (a container exits, `docker rm`): the PLEG's events and its relist fingerprint (ids and
 *   states of every sandbox and container, every relist period) call {@link StateCachingRuntime.invalidatePod};
 * - a maximum age (default 5 min) as a last safety net.
 * A load that overlapped any invalidation is returned but not stored, so a stale read never outlives a change.
 */
import type {
  Container,
  ContainerConfig,
  ContainerEvent,
  ContainerFilter,
  ContainerRuntime,
  ContainerStatus,
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
} from '../../cri/types.js';
import { LABELS } from '../../cri/types.js';
import type { Clock } from '../../util/clock.js';
import type { PodRuntimeState } from './state.js';

/** Options of {@link StateCachingRuntime}. */
export interface StateCacheOptions {
  clock: Clock;
  /** Entries older than this are read again (default 5 min). */
  maxAgeMs?: number;
}

interface Entry<T> {
  uid: string;
  value: T;
  at: number;
}

function copyState(s: PodRuntimeState): PodRuntimeState {
  return { uid: s.uid, sandboxes: s.sandboxes.map((x) => ({ ...x, ips: [...x.ips] })), containers: s.containers.map((x) => ({ ...x })) };
}

/**
 * See module comment. Reads of pod state go through {@link podState} (readPodRuntimeState does this when handed this
 * decorator); `podSandboxStatus` is cached the same way. Everything else passes through to `inner`. Safe for
 * concurrent callers.
 */
export class StateCachingRuntime implements ContainerRuntime {
  /** The undecorated runtime (fresh reads). */
  readonly inner: ContainerRuntime;
  readonly #clock: Clock;
  readonly #maxAge: number;
  readonly #states = new Map<string, Entry<PodRuntimeState>>();
  readonly #sandboxes = new Map<string, Entry<PodSandboxStatus>>();
  /** Sandbox/container id → pod UID, for invalidating by id. */
  readonly #podOf = new Map<string, string>();
  /** Bumped by every invalidation; a load that saw it change is not stored. */
  #tick = 0;

  constructor(inner: ContainerRuntime, options: StateCacheOptions) {
    this.inner = inner;
    this.#clock = options.clock;
    this.#maxAge = options.maxAgeMs ?? 300_000;
  }

  /** Drops what is cached for pod `uid` (the PLEG saw a change, or the pod is gone). */
  invalidatePod(uid: string): void {
    this.#tick++;
    this.#states.delete(uid);
    for (const [id, e] of this.#sandboxes) if (e.uid === uid) this.#sandboxes.delete(id);
  }

  /** Drops everything cached. */
  invalidateAll(): void {
    this.#tick++;
    this.#states.clear();
    this.#sandboxes.clear();
    this.#podOf.clear();
  }

  /** Number of pods with a cached state (tests, debugging). */
  get size(): number {
    return this.#states.size;
  }

  #invalidateId(id: string): void {
    const uid = this.#podOf.get(id);
    if (uid === undefined) this.invalidateAll();
    else this.invalidatePod(uid);
  }

  #fresh<T>(e: Entry<T> | undefined): e is Entry<T> {
    return e !== undefined && this.#clock.monotonic() - e.at < this.#maxAge;
  }

  async #load<T>(load: () => Promise<T>, store: (value: T, at: number) => void): Promise<T> {
    const tick = this.#tick;
    const at = this.#clock.monotonic();
    const value = await load();
    if (tick === this.#tick) store(value, at);
    return value;
  }

  /** Pod `uid`'s state from the cache, or from `load` (then cached). Callers get their own copy. */
  async podState(uid: string, load: () => Promise<PodRuntimeState>): Promise<PodRuntimeState> {
    const hit = this.#states.get(uid);
    if (this.#fresh(hit)) return copyState(hit.value);
    const value = await this.#load(load, (v, at) => {
      this.#states.set(uid, { uid, value: copyState(v), at });
      for (const s of v.sandboxes) this.#podOf.set(s.id, uid);
      for (const c of v.containers) this.#podOf.set(c.id, uid);
    });
    return value;
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const hit = this.#sandboxes.get(id);
    if (this.#fresh(hit)) return structuredClone(hit.value);
    return this.#load(() => this.inner.podSandboxStatus(id), (v, at) => {
      const uid = v.labels[LABELS.podUID];
      if (uid === undefined) return;
      this.#podOf.set(id, uid);
      this.#sandboxes.set(id, { uid, value: structuredClone(v), at });
    });
  }

  /** Runs a mutation of pod `uid` (or of the pod owning `id`), invalidating before and after it. */
  async #mutate<T>(target: { uid: string } | { id: string }, run: () => Promise<T>): Promise<T> {
    const drop = (): void => ('uid' in target ? this.invalidatePod(target.uid) : this.#invalidateId(target.id));
    drop();
    try {
      return await run();
    } finally {
      drop();
    }
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const uid = config.metadata.uid;
    const id = await this.#mutate({ uid }, () => this.inner.runPodSandbox(config));
    this.#podOf.set(id, uid);
    return id;
  }

  stopPodSandbox(id: string): Promise<void> {
    return this.#mutate({ id }, () => this.inner.stopPodSandbox(id));
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.#mutate({ id }, () => this.inner.removePodSandbox(id));
    this.#podOf.delete(id);
  }

  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return this.inner.listPodSandboxes(filter);
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const uid = sandboxConfig.metadata.uid;
    const id = await this.#mutate({ uid }, () => this.inner.createContainer(podSandboxId, config, sandboxConfig));
    this.#podOf.set(id, uid);
    return id;
  }

  startContainer(id: string): Promise<void> {
    return this.#mutate({ id }, () => this.inner.startContainer(id));
  }

  stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    return this.#mutate({ id }, () => this.inner.stopContainer(id, timeoutSeconds));
  }

  updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void> {
    return this.#mutate({ id }, () => this.inner.updateContainerResources(id, resources));
  }

  async removeContainer(id: string): Promise<void> {
    await this.#mutate({ id }, () => this.inner.removeContainer(id));
    this.#podOf.delete(id);
  }

  listContainers(filter?: ContainerFilter): Promise<Container[]> {
    return this.inner.listContainers(filter);
  }

  containerStatus(id: string): Promise<ContainerStatus> {
    return this.inner.containerStatus(id);
  }

  containerWritableLayerBytes(id: string): Promise<number> {
    return this.inner.containerWritableLayerBytes(id);
  }

  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    return this.inner.execSync(id, cmd, timeoutSeconds);
  }

  version(): Promise<RuntimeVersion> {
    return this.inner.version();
  }

  status(): Promise<RuntimeStatus> {
    return this.inner.status();
  }

  subscribeEvents(listener: (event: ContainerEvent) => void): () => void {
    return this.inner.subscribeEvents(listener);
  }

  pullImage(image: string, options?: PullOptions): Promise<string> {
    return this.inner.pullImage(image, options);
  }

  imageStatus(image: string): Promise<Image | null> {
    return this.inner.imageStatus(image);
  }

  listImages(): Promise<Image[]> {
    return this.inner.listImages();
  }

  removeImage(image: string): Promise<void> {
    return this.inner.removeImage(image);
  }

  imageFsInfo(): Promise<ImageFsInfo> {
    return this.inner.imageFsInfo();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
