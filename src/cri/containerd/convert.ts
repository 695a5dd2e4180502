/**
 * Pure translation between nodelet's runtime seam (../types.ts) and CRI v1 messages (messages.ts). Unit-tested in
 * convert.test.ts. CRI keeps labels, annotations and metadata itself, so unlike the Docker backend nothing is encoded.
 */
import type {
  Container,
  ContainerConfig,
  ContainerState,
  ContainerStatus,
  LinuxContainerResources,
  Mount,
  NamespaceMode,
  NamespaceOptions,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxStatus,
} from '../types.js';
import type {
  CriContainer,
  CriContainerConfig,
  CriContainerState,
  CriContainerStatus,
  CriLinuxResources,
  CriMount,
  CriNamespaceMode,
  CriNamespaceOption,
  CriPodSandbox,
  CriPodSandboxConfig,
  CriPodSandboxStatus,
} from './messages.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../security-defaults.js';


/** The PATH Docker gives containers whose image sets none (CRI runtimes add no default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const TO_CRI_MODE: Record<NamespaceMode, CriNamespaceMode> = { pod: 'POD', container: 'CONTAINER', node: 'NODE' };
const FROM_CRI_MODE: Record<string, NamespaceMode> = { POD: 'pod', CONTAINER: 'container', NODE: 'node', TARGET: 'container' };

/** CRI NamespaceOption of seam namespace options. */
export function toCriNamespaces(ns: NamespaceOptions): CriNamespaceOption {
  return { network: TO_CRI_MODE[ns.network], pid: TO_CRI_MODE[ns.pid], ipc: TO_CRI_MODE[ns.ipc] };
}

/** Seam namespace options of a CRI NamespaceOption (missing → an ordinary pod). */
export function fromCriNamespaces(ns: CriNamespaceOption | null | undefined): NamespaceOptions {
  return {
    network: FROM_CRI_MODE[ns?.network ?? 'POD'] ?? 'pod',
    pid: FROM_CRI_MODE[ns?.pid ?? 'CONTAINER'] ?? 'container',
    ipc: FROM_CRI_MODE[ns?.ipc ?? 'POD'] ?? 'pod',
  };
}

/** Epoch milliseconds of a CRI nanosecond timestamp (int64 as a decimal string; '0'/'' → 0). */
export function nanosToMs(nanos: string | number | undefined): number {
  if (nanos === undefined || nanos === '' || nanos === '0' || nanos === 0) return 0;
  return Number(BigInt(nanos) / 1_000_000n);
}

/** The pod log directory used when the caller gives none (upstream layout `<root>/<ns>_<name>_<uid>`). */
export function defaultLogDirectory(root: string, cfg: PodSandboxConfig): string {
  const m = cfg.metadata;
  return `${root}/${m.namespace}_${m.name}_${m.uid}`;
}

/** CRI PodSandboxConfig. Host-network sandboxes get no hostname (containerd refuses one with the node's UTS). */
export function toCriSandboxConfig(cfg: PodSandboxConfig, logDirectory: string): CriPodSandboxConfig {
  const ns = cfg.linux.namespaceOptions;
  const hostNet = ns.network === 'node';
  const out: CriPodSandboxConfig = {
    metadata: { name: cfg.metadata.name, uid: cfg.metadata.uid, namespace: cfg.metadata.namespace, attempt: cfg.metadata.attempt },
    hostname: hostNet ? '' : cfg.hostname,
    logDirectory,
    portMappings: cfg.portMappings.map((p) => ({
      protocol: p.protocol,
      containerPort: p.containerPort,
      hostPort: p.hostPort,
      hostIp: p.hostIp ?? '',
    })),
    labels: { ...cfg.labels },
    annotations: { ...cfg.annotations },
    linux: {
      cgroupParent: cfg.linux.cgroupParent ?? '',
      securityContext: { namespaceOptions: toCriNamespaces(ns), privileged: cfg.linux.privileged === true },
      sysctls: { ...(cfg.linux.sysctls ?? {}) },
    },
  };
  if (cfg.dnsConfig !== undefined) out.dnsConfig = { ...cfg.dnsConfig };
  return out;
}

const PROPAGATION_TO_CRI: Record<string, CriMount['propagation']> = {
  private: 'PROPAGATION_PRIVATE',
  rslave: 'PROPAGATION_HOST_TO_CONTAINER',
  rshared: 'PROPAGATION_BIDIRECTIONAL',
};

/** CRI mounts, adding the sandbox's kubelet-managed hosts file at /etc/hosts unless the container mounts one. */
export function toCriMounts(mounts: Mount[], hostsPath: string | undefined): CriMount[] {
  const all = [...mounts];
  if (hostsPath !== undefined && hostsPath !== '' && !mounts.some((m) => m.containerPath === '/etc/hosts')) {
    all.push({ hostPath: hostsPath, containerPath: '/etc/hosts', readonly: false });
  }
  return all.map((m) => ({
    containerPath: m.containerPath,
    hostPath: m.hostPath,
    readonly: m.readonly,
    propagation: PROPAGATION_TO_CRI[m.propagation ?? 'private'] ?? 'PROPAGATION_PRIVATE',
  }));
}

/** Seam mounts of CRI mounts. */
export function fromCriMounts(mounts: CriMount[] | undefined): Mount[] {
  return (mounts ?? []).map((m) => {
    const out: Mount = { containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readonly };
    if (m.propagation === 'PROPAGATION_HOST_TO_CONTAINER') out.propagation = 'rslave';
    else if (m.propagation === 'PROPAGATION_BIDIRECTIONAL') out.propagation = 'rshared';
    return out;
  });
}

/** Env with PATH added from the image (or Docker's default) when the container config sets none. */
export function withPath(envs: ContainerConfig['envs'], imageEnv: string[]): ContainerConfig['envs'] {
  if (envs.some((e) => e.key === 'PATH') || imageEnv.some((e) => e.startsWith('PATH='))) return envs;
  return [{ key: 'PATH', value: DEFAULT_PATH }, ...envs];
}

/** CRI ContainerConfig. `imageEnv` is the image config's Env (for the PATH rule). */
export function toCriContainerConfig(
  cfg: ContainerConfig,
  sandbox: PodSandboxConfig,
  logPath: string,
  imageEnv: string[],
): CriContainerConfig {
  const sc = cfg.linux.securityContext;
  const r = cfg.linux.resources;
  const resources: CriContainerConfig['linux']['resources'] = {};
  if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) resources.cpuPeriod = r.cpuPeriod;
  if (r.cpuQuota !== undefined && r.cpuQuota > 0) resources.cpuQuota = r.cpuQuota;
  if (r.cpuShares !== undefined && r.cpuShares > 0) resources.cpuShares = r.cpuShares;
  if (r.memoryLimitInBytes !== undefined && r.memoryLimitInBytes > 0) resources.memoryLimitInBytes = r.memoryLimitInBytes;
  if (r.oomScoreAdj !== undefined) resources.oomScoreAdj = r.oomScoreAdj;
  const security: CriContainerConfig['linux']['securityContext'] = {
    privileged: sc.privileged === true,
    // CRI has no "same as the sandbox" default: app containers must name the pod's namespaces themselves.
    namespaceOptions: {
      ...toCriNamespaces({
        network: sandbox.linux.namespaceOptions.network,
        ipc: sandbox.linux.namespaceOptions.ipc,
        pid: sc.namespaceOptions.pid,
      }),
      ...(sc.namespaceOptions.pidTargetId === undefined ? {} : { pid: 'TARGET' as const, targetId: sc.namespaceOptions.pidTargetId }),
    },
    runAsUsername: sc.runAsUser === undefined ? (sc.runAsUsername ?? '') : '',
    readonlyRootfs: sc.readonlyRootfs === true,
    supplementalGroups: sc.supplementalGroups ?? [],
    noNewPrivs: sc.noNewPrivs === true,
    maskedPaths: sc.maskedPaths ?? (sc.privileged === true ? [] : [...DEFAULT_MASKED_PATHS]),
    readonlyPaths: sc.readonlyPaths ?? (sc.privileged === true ? [] : [...DEFAULT_READONLY_PATHS]),
  };
  if (sc.capabilities !== undefined) {
    security.capabilities = { addCapabilities: sc.capabilities.add, dropCapabilities: sc.capabilities.drop };
  }
  if (sc.runAsUser !== undefined) security.runAsUser = { value: sc.runAsUser };
  if (sc.runAsGroup !== undefined) security.runAsGroup = { value: sc.runAsGroup };
  return {
    metadata: { name: cfg.metadata.name, attempt: cfg.metadata.attempt },
    image: { image: cfg.image },
    command: cfg.command,
    args: cfg.args,
    workingDir: cfg.workingDir ?? '',
    envs: withPath(cfg.envs, imageEnv),
    mounts: toCriMounts(cfg.mounts, sandbox.linux.hostsPath),
    labels: { ...cfg.labels },
    annotations: { ...cfg.annotations },
    logPath,
    stdin: cfg.stdin === true,
    stdinOnce: cfg.stdinOnce === true,
    tty: cfg.tty === true,
    linux: { resources, securityContext: security },
  };
}

/** Seam sandbox of a CRI list item. */
export function fromCriSandbox(s: CriPodSandbox): PodSandbox {
  const m = s.metadata;
  return {
    id: s.id,
    metadata: { name: m?.name ?? '', namespace: m?.namespace ?? '', uid: m?.uid ?? '', attempt: m?.attempt ?? 0 },
    state: s.state === 'SANDBOX_READY' ? 'ready' : 'notready',
    createdAt: nanosToMs(s.createdAt),
    labels: { ...s.labels },
    annotations: { ...s.annotations },
  };
}

/** Seam sandbox status of a CRI PodSandboxStatus. */
export function fromCriSandboxStatus(s: CriPodSandboxStatus): PodSandboxStatus {
  return {
    ...fromCriSandbox(s),
    ip: s.network?.ip ?? '',
    additionalIps: (s.network?.additionalIps ?? []).map((i) => i.ip),
    namespaceOptions: fromCriNamespaces(s.linux?.namespaces?.options),
  };
}

const STATES: Record<CriContainerState, ContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

/** Seam container state of a CRI state. */
export function fromCriState(s: CriContainerState): ContainerState {
  return STATES[s] ?? 'unknown';
}

/** CRI state of a seam container state. */
export function toCriState(s: ContainerState): CriContainerState {
  return (Object.keys(STATES) as CriContainerState[]).find((k) => STATES[k] === s) ?? 'CONTAINER_UNKNOWN';
}

/** Seam container of a CRI list item. */
export function fromCriContainer(c: CriContainer): Container {
  return {
    id: c.id,
    podSandboxId: c.podSandboxId,
    metadata: { name: c.metadata?.name ?? '', attempt: c.metadata?.attempt ?? 0 },
    image: c.image?.image ?? '',
    imageRef: c.imageRef,
    state: fromCriState(c.state),
    createdAt: nanosToMs(c.createdAt),
    labels: { ...c.labels },
    annotations: { ...c.annotations },
  };
}

/**
 * Seam container status of a CRI ContainerStatus (the sandbox id comes from the caller: CRI status omits it).
 * containerd stamps `startedAt` when its start call returns but `finishedAt` with the process's real exit, so a
 * process that exits at once can seem to finish before it started; finishedAt is raised to startedAt then.
 */
export function fromCriContainerStatus(s: CriContainerStatus, podSandboxId: string): ContainerStatus {
  const startedAt = nanosToMs(s.startedAt);
  const finishedAt = nanosToMs(s.finishedAt);
  return {
    ...fromCriContainer({ ...s, podSandboxId }),
    startedAt,
    finishedAt: finishedAt !== 0 && finishedAt < startedAt ? startedAt : finishedAt,
    exitCode: s.exitCode,
    reason: s.reason,
    message: s.message,
    mounts: fromCriMounts(s.mounts),
    logPath: s.logPath,
    ...(s.resources?.linux == null ? {} : { resources: fromCriResources(s.resources.linux) }),
  };
}

/** The CPU and memory settings of a CRI LinuxContainerResources (for UpdateContainerResources). */
export function toCriUpdateResources(r: LinuxContainerResources): CriLinuxResources {
  const out: CriLinuxResources = {};
  if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) out.cpuPeriod = r.cpuPeriod;
  if (r.cpuQuota !== undefined && r.cpuQuota > 0) out.cpuQuota = r.cpuQuota;
  if (r.cpuShares !== undefined && r.cpuShares > 0) out.cpuShares = r.cpuShares;
  if (r.memoryLimitInBytes !== undefined && r.memoryLimitInBytes > 0) out.memoryLimitInBytes = r.memoryLimitInBytes;
  return out;
}

/** Seam resources of a reported CRI LinuxContainerResources (int64 as strings; zero = unset, left out). */
export function fromCriResources(r: CriLinuxResources): LinuxContainerResources {
  const out: LinuxContainerResources = {};
  const num = (v: number | string | undefined): number | undefined => {
    const n = Number(v ?? 0);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const fields = ['cpuPeriod', 'cpuQuota', 'cpuShares', 'memoryLimitInBytes'] as const;
  for (const f of fields) {
    const n = num(r[f]);
    if (n !== undefined) out[f] = n;
  }
  return out;
}
