/**
 * Restart-policy rules shared by computePodActions and status generation (upstream ShouldContainerBeRestarted,
 * IsRestartableInitContainer).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerRecord } from './records.js';

/** The pod's restart policy (default Always). */
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** The pod's restart policy with the API default applied. */
export function podRestartPolicy(pod: V1Pod): RestartPolicy {
  const p = pod.spec?.restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

/** True for a sidecar: an init container with `restartPolicy: Always`. */
export function isSidecar(c: V1Container): boolean {
  return c.restartPolicy === 'Always';
}

/**
 * Whether a container that is not running should be (re)started, as upstream ShouldContainerBeRestarted:
 * never for deleted pods; always when it never ran, or is created/unknown; otherwise per the restart policy
 * (OnFailure: only a non-zero exit). Sidecars always restart; regular init containers restart on failure unless
 * the pod's policy is Never.
 */
export function shouldRestart(
  pod: V1Pod,
  container: V1Container,
  rec: ContainerRecord | undefined,
  isInit: boolean,
): boolean {
  if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) return false;
  if (rec === undefined) return true;
  if (rec.state === 'running') return false;
  if (rec.state === 'unknown' || rec.state === 'created') return true;
  if (isInit && isSidecar(container)) return true;
  const policy = podRestartPolicy(pod);
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' || isInit) return rec.exitCode !== 0;
  return true;
}
