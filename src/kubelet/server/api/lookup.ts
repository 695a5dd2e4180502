/**
 * {@link KubeletPodLookup} over the pod lifecycle (the pods the kubelet runs, with the status it computed) and the
 * runtime (container and sandbox IDs). Container IDs come from the computed status as upstream's log handler takes
 * them (running or terminated state; a waiting container's last terminated run), falling back to the newest runtime
 * container of that name when the status has none yet.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { LABELS, type ContainerRuntime } from '../../../cri/types.js';
import type { KubeletPodLookup, ResolvedContainer } from './types.js';

/** Inputs of {@link createPodLookup}. */
export interface PodLookupOptions {
  /** The pods the kubelet runs (PodLifecycle.pods()). */
  pods: () => V1Pod[];
  runtime: Pick<ContainerRuntime, 'listContainers' | 'listPodSandboxes'>;
}

/** Strips the `<runtime>://` prefix of a status containerID. */
export function runtimeId(containerID: string | undefined): string | undefined {
  if (containerID === undefined || containerID === '') return undefined;
  const i = containerID.indexOf('://');
  return i < 0 ? containerID : containerID.slice(i + 3);
}

/** Names of all containers of a pod (app, init, ephemeral). */
export function containerNames(pod: V1Pod): string[] {
  return [
    ...(pod.spec?.containers ?? []).map((c) => c.name),
    ...(pod.spec?.initContainers ?? []).map((c) => c.name),
    ...(pod.spec?.ephemeralContainers ?? []).map((c) => c.name),
  ];
}

/** The status of a named container of a pod, wherever it is listed. */
export function containerStatus(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  const s = pod.status;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? []), ...(s?.ephemeralContainerStatuses ?? [])].find((c) => c.name === name);
}

/** Builds the lookup. */
export function createPodLookup(o: PodLookupOptions): KubeletPodLookup {
  const findPod = (namespace: string, name: string, uid?: string): V1Pod | undefined =>
    o.pods().find((p) => p.metadata?.namespace === namespace && p.metadata.name === name && (uid === undefined || uid === '' || p.metadata.uid === uid));
  return {
    pods: () => o.pods(),
    findPod,
    async resolveContainer(namespace, podName, container, uid, want) {
      const pod = findPod(namespace, podName, uid);
      if (pod === undefined) return undefined;
      const names = containerNames(pod);
      let name = container;
      if (name === '') {
        const apps = (pod.spec?.containers ?? []).map((c) => c.name);
        if (apps.length !== 1) return undefined;
        name = apps[0] ?? '';
      }
      if (!names.includes(name)) return undefined;
      const podUID = pod.metadata?.uid ?? '';
      const st = containerStatus(pod, name);
      const previousContainerId = runtimeId(st?.lastState?.terminated?.containerID);
      let containerId = runtimeId(st?.state?.running !== undefined ? st.containerID : st?.state?.terminated?.containerID ?? st?.containerID) ?? previousContainerId;
      const [containers, sandboxes] = await Promise.all([
        containerId === undefined ? o.runtime.listContainers({ labelSelector: { [LABELS.podUID]: podUID, [LABELS.containerName]: name } }) : Promise.resolve([]),
        want?.sandbox === false ? Promise.resolve([]) : o.runtime.listPodSandboxes({ labelSelector: { [LABELS.podUID]: podUID } }),
      ]);
      if (containerId === undefined) containerId = [...containers].sort((a, b) => b.createdAt - a.createdAt)[0]?.id;
      const sandbox = [...sandboxes].sort((a, b) => (a.state === b.state ? b.createdAt - a.createdAt : a.state === 'ready' ? -1 : 1))[0];
      const resolved: ResolvedContainer = { pod, containerName: name, containerId, previousContainerId, sandboxId: sandbox?.id };
      return resolved;
    },
  };
}
