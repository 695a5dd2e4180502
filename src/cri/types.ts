/**
 * The container runtime seam, shaped after CRI v1 (RuntimeService + ImageService) so a containerd CRI backend can
 * implement it without callers changing. Plain data in, plain data out; times are epoch milliseconds (0 = unset).
 *
 * Contract shared by every implementation (DockerRuntime, CriRuntime, FakeRuntime) and checked by the contract suite
 * in src/cri/contract.ts:
 * - Every method may be called concurrently for different objects; callers serialize per pod.
 * - Stop and remove are idempotent: stopping a stopped object, or removing a missing one, succeeds.
 * - Status/inspect of a missing object throws NotFoundError (`isNotFound(err)`).
 * - An unreachable engine throws RuntimeUnavailableError (`isRuntimeUnavailable(err)`).
 * - Labels and annotations given at creation come back unchanged from list and status calls.
 */

/** Identity of a pod sandbox (CRI PodSandboxMetadata). */
export interface PodSandboxMetadata {
  name: string;
  namespace: string;
  uid: string;
  attempt: number;
}

/** Namespace mode for a pod: `pod` (shared in the sandbox), `container` (own), `node` (host's). */
export type NamespaceMode = 'pod' | 'container' | 'node';

/** Which Linux namespaces the sandbox/containers use. */
export interface NamespaceOptions {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  /**
   * Container options only: join the PID namespace of this container (runtime id) instead of `pid` — CRI
   * NamespaceMode TARGET, used by ephemeral containers with `targetContainerName`.
   */
  pidTargetId?: string;
}

/** A host port mapped on the sandbox. */
export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort: number;
  hostIp?: string;
}

/** DNS settings written into the sandbox's resolv.conf. */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** Everything needed to create a pod sandbox (CRI PodSandboxConfig). */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  /** Hostname inside the pod (ignored with host networking). */
  hostname: string;
  /** Directory where container logs of this pod are kept (CRI log_directory). */
  logDirectory?: string;
  /** Omitted: the runtime's default resolv.conf. */
  dnsConfig?: DnsConfig;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    namespaceOptions: NamespaceOptions;
    /** Extra /etc/hosts entries for the sandbox ("ip host1 host2"). */
    extraHosts?: string[];
    /** Host path of a kubelet-managed /etc/hosts file to use instead of the runtime's. */
    hostsPath?: string;
    sysctls?: Record<string, string>;
    privileged?: boolean;
    cgroupParent?: string;
    /** Pod-level resources (sum of containers), informational for runtimes that size the sandbox. */
    overhead?: LinuxContainerResources;
  };
  /** The infra (pause) image to run as the sandbox. */
  image: string;
}

/** Sandbox state as CRI reports it. */
export type PodSandboxState = 'ready' | 'notready';

/** A sandbox as listed. */
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Detailed sandbox status. */
export interface PodSandboxStatus extends PodSandbox {
  /** Primary pod IP ('' with host networking or when not yet known). */
  ip: string;
  additionalIps: string[];
  namespaceOptions: NamespaceOptions;
}

/** Filter for listing sandboxes; all given fields must match. */
export interface PodSandboxFilter {
  id?: string;
  state?: PodSandboxState;
  labelSelector?: Record<string, string>;
}

/** Identity of a container within its pod (CRI ContainerMetadata). */
export interface ContainerMetadata {
  name: string;
  attempt: number;
}

/** A bind mount into a container. */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  propagation?: 'private' | 'rslave' | 'rshared';
}

/** cgroup settings (CRI LinuxContainerResources). Zero/undefined means unlimited or runtime default. */
export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  pidsLimit?: number;
}

/** Linux capabilities to add/drop (names without CAP_ prefix, e.g. NET_ADMIN, or ALL). */
export interface Capabilities {
  add: string[];
  drop: string[];
}

/** Per-container security settings (CRI LinuxContainerSecurityContext). */
export interface LinuxContainerSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  /** A user name from the image (when runAsUser is not numeric). */
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  privileged?: boolean;
  capabilities?: Capabilities;
  noNewPrivs?: boolean;
  supplementalGroups?: number[];
  namespaceOptions: NamespaceOptions;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** Everything needed to create a container (CRI ContainerConfig). */
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: string;
  /** Entrypoint override (Kubernetes `command`); empty = image default. */
  command: string[];
  /** Arguments (Kubernetes `args`); empty = image default when command is empty too. */
  args: string[];
  workingDir?: string;
  envs: { key: string; value: string }[];
  mounts: Mount[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Log path relative to the sandbox's logDirectory. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  /** Signal to stop the container with (e.g. SIGTERM); default: the image's. */
  stopSignal?: string;
  linux: {
    resources: LinuxContainerResources;
    securityContext: LinuxContainerSecurityContext;
  };
}

/** Container state as CRI reports it. */
export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** A container as listed. */
export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: string;
  /** Image ID/digest the container runs (e.g. `sha256:…`). */
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Detailed container status (CRI ContainerStatus). */
export interface ContainerStatus extends Container {
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** 'OOMKilled' | 'Completed' | 'Error' | '' — a short machine reason for exit. */
  reason: string;
  message: string;
  mounts: Mount[];
  logPath: string;
  /**
   * The cgroup settings the container runs with now, as the runtime reports them (CRI ContainerStatus.resources):
   * the values it was created with, or the last {@link ContainerManager.updateContainerResources}. Undefined when the
   * runtime does not report them.
   */
  resources?: LinuxContainerResources;
}

/** Filter for listing containers; all given fields must match. */
export interface ContainerFilter {
  id?: string;
  podSandboxId?: string;
  state?: ContainerState;
  labelSelector?: Record<string, string>;
}

/** Result of a synchronous exec. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runtime and API version (CRI VersionResponse). */
export interface RuntimeVersion {
  /** e.g. 'docker' or 'containerd'. */
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** One readiness condition of the runtime (CRI RuntimeCondition). */
export interface RuntimeCondition {
  type: 'RuntimeReady' | 'NetworkReady';
  status: boolean;
  reason: string;
  message: string;
}

/** Runtime readiness (CRI StatusResponse). */
export interface RuntimeStatus {
  conditions: RuntimeCondition[];
}

/** A container lifecycle event (CRI ContainerEventResponse). */
export interface ContainerEvent {
  type: 'created' | 'started' | 'stopped' | 'deleted';
  containerId: string;
  /** '' when unknown (e.g. deleted containers on some engines). */
  podSandboxId: string;
  /** True when the container is a sandbox (pause) container. */
  isSandbox: boolean;
  at: number;
}

/** Registry credentials for a pull (CRI AuthConfig). */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

/** Progress of an image pull. */
export interface PullProgress {
  status: string;
  /** Layer id, when the update is about a layer. */
  id?: string;
  current?: number;
  total?: number;
}

/** An image as known to the runtime. */
export interface Image {
  /** Image ID (e.g. `sha256:…`). */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  /** The image's configured user ('' = root). */
  user: string;
  /** Signal from the image config (e.g. SIGQUIT), '' when unset. */
  stopSignal: string;
}

/** Options for {@link ImageService.pullImage}. */
export interface PullOptions {
  auth?: AuthConfig;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
}

/** Sandbox half of CRI RuntimeService. */
export interface PodSandboxManager {
  /** Creates and starts the sandbox; returns its id. Throws ImageNotFoundError when the infra image is missing. */
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops the sandbox and every container in it (idempotent). */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes the sandbox and every container in it (idempotent). */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandbox[]>;
}

/** Container half of CRI RuntimeService. */
export interface ContainerManager {
  /** Creates (does not start) a container in the sandbox; returns its id. */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Sends the stop signal, waits up to `timeoutSeconds`, then kills (idempotent). */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes the container (idempotent). */
  removeContainer(id: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  containerStatus(id: string): Promise<ContainerStatus>;
  /**
   * Bytes the container's writable layer uses on disk (CRI ContainerStats `writable_layer.used_bytes`, Docker's
   * `SizeRw`): what it wrote outside its volumes. May walk the layer (Docker does): callers ask only when disk usage
   * matters (eviction under disk pressure). Throws NotFoundError for a missing container.
   */
  containerWritableLayerBytes(id: string): Promise<number>;
  /**
   * Changes the cgroup settings of a created or running container in place (CRI UpdateContainerResources; in-place
   * pod resize): CPU shares, CFS quota/period and the memory limit given are applied, the process keeps running.
   * Throws NotFoundError for a missing container; a value the kernel refuses (e.g. a memory limit below the usage)
   * rejects and leaves the old settings.
   */
  updateContainerResources(id: string, resources: LinuxContainerResources): Promise<void>;
  /** Runs `cmd` in the container; rejects with TimeoutError after `timeoutSeconds` (0 = no timeout). */
  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult>;
}

/** Runtime-wide information and events. */
export interface RuntimeInfo {
  version(): Promise<RuntimeVersion>;
  status(): Promise<RuntimeStatus>;
  /**
   * Subscribes to container lifecycle events. The listener is called for each event until the returned function
   * is called. On a broken event stream the implementation reconnects by itself; callers must still relist
   * periodically, because events can be lost.
   */
  subscribeEvents(listener: (event: ContainerEvent) => void): () => void;
}

/** CRI ImageService. */
export interface ImageService {
  /** Pulls `image`; returns the image ID. Throws with code IMAGE_PULL_FAILED on failure. */
  pullImage(image: string, options?: PullOptions): Promise<string>;
  /** The image, or null when not present. */
  imageStatus(image: string): Promise<Image | null>;
  listImages(): Promise<Image[]>;
  /** Removes the image (idempotent). */
  removeImage(image: string): Promise<void>;
  /** Where the runtime keeps images (CRI ImageFsInfo): the mount point to statfs, and the bytes images use. */
  imageFsInfo(): Promise<ImageFsInfo>;
}

/** The filesystem holding the runtime's images (CRI FilesystemUsage). */
export interface ImageFsInfo {
  /** A path on the image filesystem (Docker's data root, containerd's snapshotter root). */
  mountpoint: string;
  /** Bytes used by images as the runtime counts them. */
  usedBytes: number;
}

/** Container logs, separate because it streams. */
export interface ContainerLogs {
  /** Writes the container's log lines to `out`; with `follow`, until the signal aborts or the container ends. */
  readLogs(
    id: string,
    options: { follow?: boolean; tailLines?: number; sinceMs?: number; timestamps?: boolean; limitBytes?: number },
    out: NodeJS.WritableStream,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Terminal size of a TTY session (remotecommand TerminalSize). */
export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * The client's side of an interactive exec/attach session. A stream is absent when the client did not ask for it;
 * with `tty` there is no stderr (the terminal merges it into stdout).
 */
export interface StreamIO {
  /** Ends when the client closes stdin; the runtime then closes the process's stdin. */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty: boolean;
  /** Aborted when the client goes away: the runtime must free the session (and, for exec, kill the process). */
  signal: AbortSignal;
}

/** A running exec/attach session. */
export interface StreamSession {
  /** Resizes the session's terminal; ignored without a TTY or after the end. Never throws. */
  resize(size: TerminalSize): void;
  /**
   * Settles when the session ends: the exit code for exec, undefined for attach (the container keeps running, or its
   * exit is reported through the pod status). Rejects when the session could not run or was aborted.
   */
  readonly done: Promise<number | undefined>;
}

/**
 * Interactive streaming into containers (upstream's StreamingRuntime: what the kubelet's `/exec`, `/attach` and
 * `/portForward` endpoints drive). Separate from ContainerRuntime because it streams. Contract (src/cri/contract-streaming.ts):
 * - exec/attach of a missing container throws NotFoundError; of a container that is not running throws
 *   InvalidError; the returned session's `done` settles exactly once.
 * - Aborting `io.signal` frees the session: no process, socket, fd or timer of it survives.
 * - portForward connects to `port` on the loopback of the sandbox's own network namespace (never a host address),
 *   pipes `stream` both ways and resolves when both directions are done (or rejects when the connection fails).
 */
export interface ContainerStreaming {
  exec(containerId: string, cmd: string[], io: StreamIO): Promise<StreamSession>;
  attach(containerId: string, io: StreamIO): Promise<StreamSession>;
  portForward(podSandboxId: string, port: number, stream: import('node:stream').Duplex, signal: AbortSignal): Promise<void>;
}

/**
 * Optional capability of the stream handed to {@link ContainerStreaming.portForward} (a SPDY data stream has it): sends
 * a buffer without copying it and calls `release` once nothing references its bytes any more, so a relay can read
 * into reused buffers. Without it, a runtime writes copies.
 */
export interface BorrowedWriter {
  writeBorrowed(chunk: Buffer, release: () => void): void;
}

/** The stream's {@link BorrowedWriter} side, when it has one. */
export function borrowedWriterOf(stream: object): BorrowedWriter | undefined {
  const s = stream as Partial<BorrowedWriter>;
  return typeof s.writeBorrowed === 'function' ? (s as BorrowedWriter) : undefined;
}

/** What an exec will attach, known from the request before the client's streams exist. */
export interface ExecShape {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** An exec whose runtime-side setup is done; nothing runs until start(). */
export interface PreparedExec {
  /** Runs the command on `io` (which must match the shape it was prepared for). Call at most once. */
  start(io: StreamIO): Promise<StreamSession>;
  /** Frees what was prepared without running anything. Idempotent; a no-op after start(). */
  cancel(): void;
}

/**
 * Optional capability (CRI): prepares an exec — container check, CRI Exec URL, connection to the runtime's streaming
 * server — while the client is still opening its streams, so that only the process start is left once they are up.
 * Rejects as exec() would (NotFoundError, InvalidError, runtime errors); the process starts only at start().
 */
export interface ExecPreparer {
  prepareExec(containerId: string, cmd: string[], shape: ExecShape): Promise<PreparedExec>;
}

/** Everything a backend implements. */
export interface ContainerRuntime extends PodSandboxManager, ContainerManager, RuntimeInfo, ImageService {
  /** Releases connections and event subscriptions. */
  close(): Promise<void>;
}

/** Label keys the kubelet puts on sandboxes and containers (upstream names, so operators' queries keep working). */
export const LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUID: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  /** 'podsandbox' or 'container' (set by the runtime backend). */
  containerType: 'io.kubernetes.docker.type',
  managedBy: 'io.nodelet.managed',
} as const;

/** Annotation keys the kubelet puts on containers (upstream names). */
export const ANNOTATIONS = {
  containerHash: 'io.kubernetes.container.hash',
  restartCount: 'io.kubernetes.container.restartCount',
  terminationMessagePath: 'io.kubernetes.container.terminationMessagePath',
  terminationGracePeriod: 'io.kubernetes.pod.terminationGracePeriod',
  podDeletionGracePeriod: 'io.kubernetes.pod.deletionGracePeriod',
  preStopHandler: 'io.kubernetes.container.preStopHandler',
  containerPorts: 'io.kubernetes.container.ports',
} as const;
