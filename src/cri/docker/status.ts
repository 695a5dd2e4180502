/** Pure translation of Docker inspect/list output into CRI statuses. Unit-tested in status.test.ts. */
import { resourcesFromHostConfig } from './resources.js';
import type Docker from 'dockerode';
import type {
  Container,
  ContainerState,
  ContainerStatus,
  PodSandbox,
  PodSandboxState,
  PodSandboxStatus,
} from '../types.js';
import { DOCKER_LABELS, containerMetadata, fromDockerLabels, namespacesFromLabels, sandboxMetadata } from './labels.js';
import { mountsOf } from './specs.js';

/** Epoch ms of a Docker timestamp; Docker's zero time (`0001-01-01T00:00:00Z`) and garbage → 0. */
export function dockerTime(s: string | undefined): number {
  if (s === undefined || s === '' || s.startsWith('0001-01-01')) return 0;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** CRI state of a Docker state string (`running`, `exited`, `created`, `dead`, …). */
export function containerState(status: string | undefined): ContainerState {
  switch (status) {
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
      return 'exited';
    case 'created':
      return 'created';
    default:
      return 'unknown';
  }
}

function sandboxState(status: string | undefined): PodSandboxState {
  return status === 'running' ? 'ready' : 'notready';
}

/** Sandbox as listed, from a `docker ps` entry. */
export function sandboxFromList(c: Docker.ContainerInfo): PodSandbox {
  return {
    id: c.Id,
    metadata: sandboxMetadata(c.Labels, c.Names[0] ?? ''),
    state: sandboxState(c.State),
    createdAt: c.Created * 1000,
    ...fromDockerLabels(c.Labels),
  };
}

/** Pod IPs from the sandbox's networks (first = primary; IPv6 global addresses after). */
function ips(info: Docker.ContainerInspectInfo): string[] {
  const out: string[] = [];
  for (const n of Object.values(info.NetworkSettings?.Networks ?? {})) {
    if (n.IPAddress) out.push(n.IPAddress);
  }
  for (const n of Object.values(info.NetworkSettings?.Networks ?? {})) {
    if (n.GlobalIPv6Address) out.push(n.GlobalIPv6Address);
  }
  return out;
}

/** Sandbox status from `docker inspect`. */
export function sandboxFromInspect(info: Docker.ContainerInspectInfo): PodSandboxStatus {
  const ns = namespacesFromLabels(info.Config.Labels);
  const all = ns.network === 'node' || !info.State.Running ? [] : ips(info);
  return {
    id: info.Id,
    metadata: sandboxMetadata(info.Config.Labels, info.Name),
    state: sandboxState(info.State.Status),
    createdAt: dockerTime(info.Created),
    ...fromDockerLabels(info.Config.Labels),
    ip: all[0] ?? '',
    additionalIps: all.slice(1),
    namespaceOptions: ns,
  };
}

/** Container as listed, from a `docker ps` entry. */
export function containerFromList(c: Docker.ContainerInfo): Container {
  return {
    id: c.Id,
    podSandboxId: c.Labels[DOCKER_LABELS.sandboxId] ?? '',
    metadata: containerMetadata(c.Labels, c.Names[0] ?? ''),
    image: c.Labels[DOCKER_LABELS.image] ?? c.Image,
    imageRef: c.ImageID,
    state: containerState(c.State),
    createdAt: c.Created * 1000,
    ...fromDockerLabels(c.Labels),
  };
}

/** The short machine reason of an exit (as dockershim reported it). */
export function exitReason(state: ContainerState, oomKilled: boolean, exitCode: number): string {
  if (state !== 'exited') return '';
  if (oomKilled) return 'OOMKilled';
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Container status from `docker inspect`. */
export function containerFromInspect(info: Docker.ContainerInspectInfo): ContainerStatus {
  const labels = info.Config.Labels ?? {};
  const state = containerState(info.State.Status);
  const startedAt = dockerTime(info.State.StartedAt);
  const finishedAt = dockerTime(info.State.FinishedAt);
  return {
    id: info.Id,
    podSandboxId: labels[DOCKER_LABELS.sandboxId] ?? '',
    metadata: containerMetadata(labels, info.Name),
    image: labels[DOCKER_LABELS.image] ?? info.Config.Image,
    imageRef: info.Image,
    state,
    createdAt: dockerTime(info.Created),
    ...fromDockerLabels(labels),
    startedAt,
    // Docker can stamp a fast exit a few ms before the start it reports; never finish before starting.
    finishedAt: finishedAt === 0 ? 0 : Math.max(finishedAt, startedAt),
    exitCode: info.State.ExitCode,
    reason: exitReason(state, info.State.OOMKilled, info.State.ExitCode),
    message: info.State.Error ?? '',
    mounts: mountsOf(info.HostConfig.Binds),
    logPath: labels[DOCKER_LABELS.logPath] ?? '',
    resources: resourcesFromHostConfig(info.HostConfig),
  };
}
