/**
 * Runtime instrumentation: wraps a ContainerRuntime so every call is counted and timed under upstream
 * `operation_type` names (kubelet_runtime_operations_total / _errors_total / _duration_seconds), and fills
 * kubelet_running_pods / kubelet_running_containers from the runtime before each scrape.
 */
import { LABELS, type ContainerRuntime } from '../../cri/types.js';
import type { KubeletMetrics } from './metrics.js';

const OPERATION: Record<string, string> = {
  version: 'version',
  status: 'status',
  runPodSandbox: 'run_podsandbox',
  stopPodSandbox: 'stop_podsandbox',
  removePodSandbox: 'remove_podsandbox',
  podSandboxStatus: 'podsandbox_status',
  listPodSandboxes: 'list_podsandbox',
  createContainer: 'create_container',
  startContainer: 'start_container',
  stopContainer: 'stop_container',
  removeContainer: 'remove_container',
  listContainers: 'list_containers',
  containerStatus: 'container_status',
  execSync: 'exec_sync',
  updateContainerResources: 'update_container',
  pullImage: 'pull_image',
  imageStatus: 'image_status',
  listImages: 'list_images',
  removeImage: 'remove_image',
};

/** Returns a runtime that behaves exactly like `runtime` and records metrics for every request/response call. */
export function instrumentRuntime(runtime: ContainerRuntime, metrics: KubeletMetrics): ContainerRuntime {
  return new Proxy(runtime, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      const op = typeof prop === 'string' ? OPERATION[prop] : undefined;
      if (op === undefined || typeof value !== 'function') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return async (...args: unknown[]) => {
        const end = metrics.runtimeOperationsDuration.startTimer({ operation_type: op });
        metrics.runtimeOperations.inc({ operation_type: op });
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          metrics.runtimeOperationsErrors.inc({ operation_type: op });
          throw err;
        } finally {
          end();
        }
      };
    },
  });
}

/**
 * Refreshes the running pods/containers gauges from the runtime (pods = ready sandboxes made by a kubelet). `owner`
 * (the agent's owner labels, ownerLabels(nodeName)) restricts the count to this agent's own objects: other agents on
 * the same engine are not counted.
 */
export async function refreshRunningCounts(
  runtime: Pick<ContainerRuntime, 'listPodSandboxes' | 'listContainers'>,
  metrics: KubeletMetrics,
  owner?: Record<string, string>,
): Promise<void> {
  try {
    const [sandboxes, containers] = await Promise.all([
      runtime.listPodSandboxes({ state: 'ready', labelSelector: owner }),
      runtime.listContainers({ labelSelector: owner }),
    ]);
    metrics.runningPods.set(sandboxes.filter((s) => s.labels[LABELS.podUID] !== undefined).length);
    metrics.runningContainers.reset();
    for (const state of ['created', 'running', 'exited', 'unknown'] as const) {
      const n = containers.filter((c) => c.state === state && c.labels[LABELS.podUID] !== undefined && c.labels[LABELS.containerType] !== 'podsandbox').length;
      metrics.runningContainers.set({ container_state: state }, n);
    }
  } catch {
    // The runtime is down: keep the last values; the runtime health check reports the outage.
  }
}
