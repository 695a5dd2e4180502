/**
 * The subset of CRI runtime.v1 messages this backend sends and reads, as codec.ts decodes them: camelCase names,
 * int64 as decimal strings, enums by name, unset fields as defaults.
 */

/** CRI NamespaceMode. */
export type CriNamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** CRI NamespaceOption. */
export interface CriNamespaceOption {
  network: CriNamespaceMode;
  pid: CriNamespaceMode;
  ipc: CriNamespaceMode;
  targetId?: string;
}

/** CRI PodSandboxMetadata (attempt is uint32). */
export interface CriSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

/** CRI Mount. */
export interface CriMount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  selinuxRelabel?: boolean;
  propagation: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

/** CRI PodSandboxConfig (the fields nodelet sets). */
export interface CriPodSandboxConfig {
  metadata: CriSandboxMetadata;
  hostname: string;
  logDirectory: string;
  dnsConfig?: { servers: string[]; searches: string[]; options: string[] };
  portMappings: { protocol: 'TCP' | 'UDP' | 'SCTP'; containerPort: number; hostPort: number; hostIp: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroupParent: string;
    securityContext: { namespaceOptions: CriNamespaceOption; privileged: boolean };
    sysctls: Record<string, string>;
  };
}

/** CRI LinuxContainerResources (int64 fields may be sent as numbers). */
export interface CriLinuxResources {
  cpuPeriod?: number | string;
  cpuQuota?: number | string;
  cpuShares?: number | string;
  memoryLimitInBytes?: number | string;
  oomScoreAdj?: number | string;
}

/** CRI LinuxContainerSecurityContext (the fields nodelet sets). */
export interface CriContainerSecurityContext {
  capabilities?: { addCapabilities: string[]; dropCapabilities: string[] };
  privileged: boolean;
  namespaceOptions: CriNamespaceOption;
  runAsUser?: { value: number | string };
  runAsGroup?: { value: number | string };
  runAsUsername: string;
  readonlyRootfs: boolean;
  supplementalGroups: (number | string)[];
  noNewPrivs: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
}

/** CRI ContainerConfig (the fields nodelet sets). */
export interface CriContainerConfig {
  metadata: { name: string; attempt: number };
  image: { image: string };
  command: string[];
  args: string[];
  workingDir: string;
  envs: { key: string; value: string }[];
  mounts: CriMount[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  linux: { resources: CriLinuxResources; securityContext: CriContainerSecurityContext };
}

/** CRI PodSandbox (list item). */
export interface CriPodSandbox {
  id: string;
  metadata: CriSandboxMetadata | null;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** CRI PodSandboxStatus. */
export interface CriPodSandboxStatus extends CriPodSandbox {
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: CriNamespaceOption | null } | null } | null;
}

/** CRI ContainerState. */
export type CriContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** CRI Container (list item). */
export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: { image: string } | null;
  imageRef: string;
  state: CriContainerState;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** CRI ContainerStatus. */
export interface CriContainerStatus extends Omit<CriContainer, 'podSandboxId'> {
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  reason: string;
  message: string;
  mounts: CriMount[];
  logPath: string;
  /** The container's current resources (containerd reports them; others may leave this null). */
  resources?: { linux?: CriLinuxResources | null } | null;
}

/** CRI Image. */
export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: string;
  uid: { value: string } | null;
  username: string;
}

/** CRI RuntimeCondition. */
export interface CriCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** Filters as CRI takes them. */
export interface CriSandboxFilter {
  id?: string;
  state?: { state: CriPodSandbox['state'] };
  labelSelector?: Record<string, string>;
}

/** Container filter as CRI takes it. */
export interface CriContainerFilter {
  id?: string;
  podSandboxId?: string;
  state?: { state: CriContainerState };
  labelSelector?: Record<string, string>;
}

/** Request/response types of the RuntimeService methods used. */
export interface RuntimeMethods {
  Version: [{ version: string }, { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }];
  Status: [{ verbose: boolean }, { status: { conditions: CriCondition[] } | null; info: Record<string, string> }];
  RunPodSandbox: [{ config: CriPodSandboxConfig; runtimeHandler: string }, { podSandboxId: string }];
  StopPodSandbox: [{ podSandboxId: string }, object];
  RemovePodSandbox: [{ podSandboxId: string }, object];
  PodSandboxStatus: [{ podSandboxId: string; verbose: boolean }, { status: CriPodSandboxStatus | null; info: Record<string, string> }];
  ListPodSandbox: [{ filter: CriSandboxFilter }, { items: CriPodSandbox[] }];
  CreateContainer: [
    { podSandboxId: string; config: CriContainerConfig; sandboxConfig: CriPodSandboxConfig },
    { containerId: string },
  ];
  StartContainer: [{ containerId: string }, object];
  StopContainer: [{ containerId: string; timeout: number }, object];
  RemoveContainer: [{ containerId: string }, object];
  ListContainers: [{ filter: CriContainerFilter }, { containers: CriContainer[] }];
  ContainerStatus: [{ containerId: string; verbose: boolean }, { status: CriContainerStatus | null; info: Record<string, string> }];
  ContainerStats: [{ containerId: string }, { stats: { writableLayer?: { usedBytes?: { value: string | number } } } | null }];
  ExecSync: [{ containerId: string; cmd: string[]; timeout: number }, { stdout: Buffer; stderr: Buffer; exitCode: number }];
  ReopenContainerLog: [{ containerId: string }, object];
  UpdateContainerResources: [{ containerId: string; linux: CriLinuxResources }, object];
  Exec: [{ containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, { url: string }];
  Attach: [{ containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, { url: string }];
  PortForward: [{ podSandboxId: string; port: number[] }, { url: string }];
  UpdateRuntimeConfig: [{ runtimeConfig: { networkConfig: { podCidr: string } } }, object];
}

/** Request/response types of the ImageService methods used. */
export interface ImageMethods {
  ListImages: [{ filter?: { image?: { image: string } } }, { images: CriImage[] }];
  ImageStatus: [{ image: { image: string }; verbose: boolean }, { image: CriImage | null; info: Record<string, string> }];
  PullImage: [
    {
      image: { image: string };
      auth?: {
        username: string;
        password: string;
        auth: string;
        serverAddress: string;
        identityToken: string;
        registryToken: string;
      };
    },
    { imageRef: string },
  ];
  RemoveImage: [{ image: { image: string } }, object];
  ImageFsInfo: [
    object,
    { imageFilesystems: { fsId?: { mountpoint: string }; usedBytes?: { value: string | number } }[] },
  ];
}
