/**
 * Pure translation of CRI configs into Docker create options (after dockershim): the sandbox is a pause container
 * owning the pod's network, IPC and UTS; app containers join it. Unit-tested in specs.test.ts.
 */
import type Docker from 'dockerode';
import type {
  ContainerConfig,
  LinuxContainerResources,
  Mount,
  PodSandboxConfig,
  PortMapping,
} from '../types.js';
import { resolveArgv } from '../refs.js';
import {
  containerInternalLabels,
  containerName,
  sandboxInternalLabels,
  sandboxName,
  toDockerLabels,
} from './labels.js';

/** Settings that shape every create call. */
export interface SpecOptions {
  /**
   * Pod network of non-host sandboxes: 'bridge' (Docker's bridge, ports published by Docker) or 'cni' (network mode
   * `none`; a CNI plugin attaches the sandbox and maps host ports). Default 'bridge'.
   */
  podNetwork?: 'bridge' | 'cni';
  /** json-file `max-size` (e.g. '10m'). */
  logMaxSize: string;
  /** json-file `max-file`. */
  logMaxFiles: number;
  /**
   * Lowest oom_score_adj the engine may set (undefined = no limit). Without CAP_SYS_RESOURCE runc cannot lower the
   * score below its own, so lower requests are raised to this floor (like containerd's restrict_oom_score_adj).
   */
  oomScoreAdjFloor?: number;
}

function logConfig(o: SpecOptions): Docker.HostConfig['LogConfig'] {
  return { Type: 'json-file', Config: { 'max-size': o.logMaxSize, 'max-file': String(o.logMaxFiles) } };
}

/** Docker port key for a mapping, e.g. `80/tcp`. */
function portKey(p: PortMapping): string {
  return `${p.containerPort}/${p.protocol.toLowerCase()}`;
}

function ports(mappings: PortMapping[]): Pick<Docker.ContainerCreateOptions, 'ExposedPorts'> & {
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
} {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of mappings) {
    const key = portKey(p);
    exposed[key] = {};
    if (p.hostPort > 0) (bindings[key] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: String(p.hostPort) });
  }
  return { ExposedPorts: exposed, PortBindings: bindings };
}

/** Docker's `host:ip` entries from CRI-style `ip host1 host2` lines (`host:ip` entries pass through). */
export function extraHosts(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const [ip, ...names] = line.trim().split(/\s+/);
    if (ip === undefined || names.length === 0) return line.includes(':') ? [line.trim()] : [];
    return names.map((n) => `${n}:${ip}`);
  });
}

/** Docker create options for a pod sandbox. */
export function sandboxCreateOptions(cfg: PodSandboxConfig, o: SpecOptions): Docker.ContainerCreateOptions {
  const ns = cfg.linux.namespaceOptions;
  const hostNet = ns.network === 'node';
  const cni = !hostNet && o.podNetwork === 'cni';
  // With CNI the portmap plugin maps host ports: Docker publishes nothing.
  const p = ports(cni ? [] : cfg.portMappings);
  const host: Docker.HostConfig & Record<string, unknown> = {
    NetworkMode: hostNet ? 'host' : cni ? 'none' : 'bridge',
    IpcMode: ns.ipc === 'node' ? 'host' : 'shareable',
    PidMode: ns.pid === 'node' ? 'host' : '',
    PortBindings: hostNet ? {} : p.PortBindings,
    // Docker refuses extra hosts, DNS and port bindings with host networking (the node's files and ports apply).
    ExtraHosts: hostNet ? [] : extraHosts(cfg.linux.extraHosts ?? []),
    Sysctls: cfg.linux.sysctls ?? {},
    Privileged: cfg.linux.privileged === true,
    LogConfig: logConfig(o),
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
  };
  if (cfg.linux.cgroupParent !== undefined && cfg.linux.cgroupParent !== '') host.CgroupParent = cfg.linux.cgroupParent;
  if (cfg.dnsConfig !== undefined && !hostNet) {
    host.Dns = cfg.dnsConfig.servers;
    host.DnsSearch = cfg.dnsConfig.searches;
    host.DnsOptions = cfg.dnsConfig.options;
  }
  if (o.oomScoreAdjFloor === undefined || o.oomScoreAdjFloor <= -998) host.OomScoreAdj = -998;
  return {
    name: sandboxName(cfg.metadata),
    Image: cfg.image,
    // Docker refuses a hostname together with host networking; the node's hostname applies then.
    Hostname: hostNet ? undefined : cfg.hostname,
    ExposedPorts: hostNet ? {} : p.ExposedPorts,
    Labels: toDockerLabels(cfg.labels, cfg.annotations, sandboxInternalLabels(cfg.metadata, cfg.image, ns)),
    HostConfig: host,
  };
}

/** `src:dst[:ro][,propagation]` bind strings. */
export function bindsOf(mounts: Mount[]): string[] {
  return mounts.map((m) => {
    const opts: string[] = [];
    if (m.readonly) opts.push('ro');
    if (m.propagation === 'rslave' || m.propagation === 'rshared') opts.push(m.propagation);
    return `${m.hostPath}:${m.containerPath}${opts.length > 0 ? `:${opts.join(',')}` : ''}`;
  });
}

/** Parses bind strings back into mounts (inverse of {@link bindsOf}). */
export function mountsOf(binds: string[] | null | undefined): Mount[] {
  return (binds ?? []).map((b) => {
    const [hostPath = '', containerPath = '', opts = ''] = b.split(':');
    const flags = opts.split(',');
    const propagation = flags.find((f) => f === 'rslave' || f === 'rshared') as Mount['propagation'];
    const m: Mount = { containerPath, hostPath, readonly: flags.includes('ro') };
    if (propagation !== undefined) m.propagation = propagation;
    return m;
  });
}

/** Adds the sandbox's kubelet-managed hosts file at /etc/hosts unless the container mounts one itself. */
function withHostsFile(mounts: Mount[], hostsPath: string | undefined): Mount[] {
  if (hostsPath === undefined || hostsPath === '' || mounts.some((m) => m.containerPath === '/etc/hosts')) return mounts;
  return [...mounts, { hostPath: hostsPath, containerPath: '/etc/hosts', readonly: false }];
}

function resources(r: LinuxContainerResources, o: SpecOptions): Docker.HostConfig {
  const host: Docker.HostConfig = {};
  if (r.cpuShares !== undefined && r.cpuShares > 0) host.CpuShares = r.cpuShares;
  if (r.cpuQuota !== undefined && r.cpuQuota > 0) host.CpuQuota = r.cpuQuota;
  if (r.cpuPeriod !== undefined && r.cpuPeriod > 0) host.CpuPeriod = r.cpuPeriod;
  if (r.memoryLimitInBytes !== undefined && r.memoryLimitInBytes > 0) {
    host.Memory = r.memoryLimitInBytes;
    // No swap beyond the limit (as dockershim did): the limit is what the OOM killer enforces.
    host.MemorySwap = r.memoryLimitInBytes;
  }
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) host.PidsLimit = r.pidsLimit;
  if (r.oomScoreAdj !== undefined) host.OomScoreAdj = Math.max(r.oomScoreAdj, o.oomScoreAdjFloor ?? -1000);
  return host;
}

/** Docker `User` from the security context ('' = image default). */
export function userOf(sc: ContainerConfig['linux']['securityContext']): string {
  const user = sc.runAsUser !== undefined ? String(sc.runAsUser) : (sc.runAsUsername ?? '');
  if (sc.runAsGroup === undefined) return user;
  return `${user === '' ? '0' : user}:${sc.runAsGroup}`;
}

/** Docker create options for an app container joining sandbox `sandboxId`. */
export function containerCreateOptions(
  sandboxId: string,
  cfg: ContainerConfig,
  sandbox: PodSandboxConfig,
  logPath: string,
  o: SpecOptions,
): Docker.ContainerCreateOptions {
  const ns = sandbox.linux.namespaceOptions;
  const pid = cfg.linux.securityContext.namespaceOptions.pid;
  const target = cfg.linux.securityContext.namespaceOptions.pidTargetId;
  const sc = cfg.linux.securityContext;
  const argv = resolveArgv(cfg.command, cfg.args);
  const joined = `container:${sandboxId}`;
  const host: Docker.HostConfig & Record<string, unknown> = {
    NetworkMode: ns.network === 'node' ? 'host' : joined,
    IpcMode: ns.ipc === 'node' ? 'host' : joined,
    PidMode: target !== undefined ? `container:${target}` : pid === 'node' ? 'host' : pid === 'pod' ? joined : '',
    Binds: bindsOf(withHostsFile(cfg.mounts, sandbox.linux.hostsPath)),
    ReadonlyRootfs: sc.readonlyRootfs === true,
    Privileged: sc.privileged === true,
    CapAdd: sc.capabilities?.add ?? [],
    CapDrop: sc.capabilities?.drop ?? [],
    SecurityOpt: sc.noNewPrivs === true ? ['no-new-privileges'] : [],
    GroupAdd: (sc.supplementalGroups ?? []).map(String),
    LogConfig: logConfig(o),
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    ...resources(cfg.linux.resources, o),
  };
  if (sc.maskedPaths !== undefined) host.MaskedPaths = sc.maskedPaths;
  if (sc.readonlyPaths !== undefined) host.ReadonlyPaths = sc.readonlyPaths;
  if (sandbox.linux.cgroupParent !== undefined && sandbox.linux.cgroupParent !== '') {
    host.CgroupParent = sandbox.linux.cgroupParent;
  }
  const opts: Docker.ContainerCreateOptions = {
    name: containerName(sandbox.metadata, cfg.metadata),
    Image: cfg.image,
    Env: cfg.envs.map((e) => `${e.key}=${e.value}`),
    WorkingDir: cfg.workingDir ?? '',
    User: userOf(sc),
    Tty: cfg.tty === true,
    OpenStdin: cfg.stdin === true,
    StdinOnce: cfg.stdinOnce === true,
    AttachStdin: cfg.stdin === true,
    Labels: toDockerLabels(
      cfg.labels,
      cfg.annotations,
      containerInternalLabels(sandboxId, sandbox.metadata, cfg.metadata, cfg.image, logPath),
    ),
    HostConfig: host,
  };
  if (argv.entrypoint !== undefined) opts.Entrypoint = argv.entrypoint;
  if (argv.cmd !== undefined) opts.Cmd = argv.cmd;
  if (cfg.stopSignal !== undefined && cfg.stopSignal !== '') opts.StopSignal = cfg.stopSignal;
  return opts;
}
