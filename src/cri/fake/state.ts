import type { TimerHandle } from '../../util/index.js';
import type {
  ContainerConfig,
  ContainerState,
  PodSandboxConfig,
  PodSandboxState,
  ContainerStatus,
  LinuxContainerResources,
  PodSandboxStatus,
} from '../types.js';
import type { FakeImage } from './images.js';
import type { FakeProgram } from './programs.js';

/** One line of a fake container's log. */
export interface FakeLogLine {
  at: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A fake sandbox's record. */
export interface FakeSandbox {
  id: string;
  config: PodSandboxConfig;
  state: PodSandboxState;
  createdAt: number;
  /** Primary pod IP ('' with host networking). */
  ip: string;
  /** The pod IP of the other family (dual-stack ranges). */
  additionalIps: string[];
}

/** A fake container's record. */
export interface FakeContainer {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  image: FakeImage;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  oomKilled: boolean;
  message: string;
  program: FakeProgram | undefined;
  exitTimer: TimerHandle | undefined;
  logs: FakeLogLine[];
  /** Called on every new log line and on exit (followers of readLogs). */
  waiters: Set<() => void>;
  logPath: string;
  /** Bytes in the container's writable layer (what its modelled programs wrote with `dd of=`). */
  writableBytes: number;
}

/** CRI status of a fake sandbox. */
export function sandboxStatus(s: FakeSandbox): PodSandboxStatus {
  return {
    id: s.id,
    metadata: { ...s.config.metadata },
    state: s.state,
    createdAt: s.createdAt,
    labels: { ...s.config.labels },
    annotations: { ...s.config.annotations },
    ip: s.ip,
    additionalIps: [...s.additionalIps],
    namespaceOptions: { ...s.config.linux.namespaceOptions },
  };
}

/** Exit reason as CRI runtimes report it. */
export function exitReason(c: { state: ContainerState; exitCode: number; oomKilled: boolean }): string {
  if (c.state !== 'exited') return '';
  if (c.oomKilled) return 'OOMKilled';
  return c.exitCode === 0 ? 'Completed' : 'Error';
}

/** CRI status of a fake container. */
export function containerStatus(c: FakeContainer): ContainerStatus {
  return {
    id: c.id,
    podSandboxId: c.sandboxId,
    metadata: { ...c.config.metadata },
    image: c.config.image,
    imageRef: c.image.id,
    state: c.state,
    createdAt: c.createdAt,
    labels: { ...c.config.labels },
    annotations: { ...c.config.annotations },
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    exitCode: c.exitCode,
    reason: exitReason(c),
    message: c.message,
    mounts: c.config.mounts.map((m) => ({ ...m })),
    logPath: c.logPath,
    resources: reportedResources(c.config.linux.resources),
  };
}

/** The CPU/memory settings a runtime reports for a container (positive values only, as the real backends). */
export function reportedResources(r: LinuxContainerResources): LinuxContainerResources {
  const out: LinuxContainerResources = {};
  for (const f of ['cpuShares', 'cpuPeriod', 'cpuQuota', 'memoryLimitInBytes'] as const) {
    const v = r[f];
    if (v !== undefined && v > 0) out[f] = v;
  }
  return out;
}
