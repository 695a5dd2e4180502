/**
 * The runtime's view of one pod, as plain data (upstream kubecontainer.PodStatus): its sandboxes and containers,
 * newest first. Built by {@link readPodRuntimeState} from the runtime seam; consumed by the pure functions
 * (computePodActions, generatePodStatus).
 */
import type { ContainerRuntime } from '../../cri/types.js';
import { ANNOTATIONS, LABELS } from '../../cri/types.js';
import { isNotFound } from '../../util/errors.js';
import { StateCachingRuntime } from './state-cache.js';
import { containerMessage } from './termination-message.js';

/** Label naming the node whose agent created a sandbox/container: agents sharing an engine never touch each other's. */
export const NODE_LABEL = 'io.nodelet.node';

/** The labels every object of this agent carries (and the selector it lists with). */
export function ownerLabels(nodeName: string): Record<string, string> {
  return { [LABELS.managedBy]: 'true', [NODE_LABEL]: nodeName };
}

export {
  containerHistory,
  emptyRuntimeState,
  latestContainer,
  type ContainerRecord,
  type PodRuntimeState,
  type SandboxRecord,
} from '../podstate/records.js';
import type { ContainerRecord, PodRuntimeState, SandboxRecord } from '../podstate/records.js';

function intAnnotation(a: Record<string, string>, key: string): number | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Reads the pod's sandboxes and containers from the runtime (only objects carrying `owner`, see ownerLabels).
 * Objects that vanish between list and status are skipped. Throws what the runtime throws otherwise. Given a
 * {@link StateCachingRuntime}, answers from its cache when the pod's entry is valid (see state-cache.ts).
 */
export function readPodRuntimeState(runtime: ContainerRuntime, uid: string, owner: Record<string, string>): Promise<PodRuntimeState> {
  if (runtime instanceof StateCachingRuntime) return runtime.podState(uid, () => readFresh(runtime.inner, uid, owner));
  return readFresh(runtime, uid, owner);
}

async function readFresh(runtime: ContainerRuntime, uid: string, owner: Record<string, string>): Promise<PodRuntimeState> {
  const selector = { ...owner, [LABELS.podUID]: uid };
  const [sandboxes, containers] = await Promise.all([
    runtime.listPodSandboxes({ labelSelector: selector }),
    runtime.listContainers({ labelSelector: selector }),
  ]);
  const sbs = await Promise.all(
    sandboxes.map(async (s): Promise<SandboxRecord | undefined> => {
      try {
        const st = await runtime.podSandboxStatus(s.id);
        const ips = [st.ip, ...st.additionalIps].filter((ip) => ip !== '');
        return {
          id: s.id,
          attempt: s.metadata.attempt,
          ready: st.state === 'ready',
          createdAt: s.createdAt,
          ips,
          network: st.namespaceOptions.network,
        };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    }),
  );
  const cs = await Promise.all(
    containers.map(async (c): Promise<ContainerRecord | undefined> => {
      try {
        const st = await runtime.containerStatus(c.id);
        return {
          id: c.id,
          name: c.labels[LABELS.containerName] ?? c.metadata.name,
          sandboxId: c.podSandboxId,
          state: st.state,
          exitCode: st.exitCode,
          reason: st.reason,
          message: await containerMessage(runtime, st),
          createdAt: st.createdAt,
          startedAt: st.startedAt,
          finishedAt: st.finishedAt,
          restartCount: intAnnotation(st.annotations, ANNOTATIONS.restartCount) ?? c.metadata.attempt,
          hash: st.annotations[ANNOTATIONS.containerHash] ?? '',
          image: st.image,
          imageRef: st.imageRef,
          gracePeriod: intAnnotation(st.annotations, ANNOTATIONS.terminationGracePeriod),
          ...(st.resources === undefined ? {} : { resources: st.resources }),
        };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    }),
  );
  return {
    uid,
    sandboxes: sbs
      .filter((s): s is SandboxRecord => s !== undefined)
      .sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt),
    containers: cs
      .filter((c): c is ContainerRecord => c !== undefined)
      .sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount),
  };
}
