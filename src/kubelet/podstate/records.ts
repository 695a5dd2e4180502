/**
 * The runtime's view of one pod as plain data (upstream kubecontainer.PodStatus): its sandboxes and containers,
 * newest first. Shared by the pod workers (src/kubelet/pods, which read it from the runtime) and the pure status
 * generation (src/kubelet/status), which must not depend on each other. No effects here.
 */
import type { ContainerState, LinuxContainerResources, NamespaceMode } from '../../cri/types.js';

/** One sandbox of the pod. */
export interface SandboxRecord {
  id: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  /** Pod IPs ('' never appears). */
  ips: string[];
  network: NamespaceMode;
}

/** One container instance of the pod (a restart creates a new instance). */
export interface ContainerRecord {
  id: string;
  name: string;
  sandboxId: string;
  state: ContainerState;
  exitCode: number;
  /** Runtime reason: 'OOMKilled' | 'Completed' | 'Error' | ''. */
  reason: string;
  message: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  /** From the restartCount annotation, so a restarted agent keeps counting. */
  restartCount: number;
  /** Spec hash annotation ('' when missing). */
  hash: string;
  image: string;
  imageRef: string;
  /** Grace period annotation (seconds) the container was created with, for killing orphans. */
  gracePeriod?: number;
  /** CPU/memory settings the runtime reports the container runs with now (undefined: not reported). */
  resources?: LinuxContainerResources;
}

/** The runtime state of one pod; both lists newest first. */
export interface PodRuntimeState {
  uid: string;
  sandboxes: SandboxRecord[];
  containers: ContainerRecord[];
}

/** An empty state (pod never ran here). */
export function emptyRuntimeState(uid: string): PodRuntimeState {
  return { uid, sandboxes: [], containers: [] };
}

/** Newest record of container `name` (optionally restricted to one sandbox). */
export function latestContainer(
  state: PodRuntimeState,
  name: string,
  sandboxId?: string,
): ContainerRecord | undefined {
  return state.containers.find((c) => c.name === name && (sandboxId === undefined || c.sandboxId === sandboxId));
}

/** All records of container `name`, newest first. */
export function containerHistory(state: PodRuntimeState, name: string): ContainerRecord[] {
  return state.containers.filter((c) => c.name === name);
}

