/**
 * Container state regression guard (upstream status_manager.go checkContainerStateTransition), pure: a status that
 * would show a container running (or waiting) again after it was reported terminated is refused, because it can only
 * come from a stale read of the runtime:
 * - a terminated container the pod's restart policy does not restart (Never; OnFailure after exit 0; a regular init
 *   container that succeeded) must stay terminated;
 * - whatever the policy, the same container instance (same containerID) is never running again after it terminated:
 *   a restart is a new instance with a new ID.
 */
import type { V1ContainerStatus, V1PodSpec, V1PodStatus } from '@kubernetes/client-node';

function check(
  olds: readonly V1ContainerStatus[] | undefined,
  news: readonly V1ContainerStatus[] | undefined,
  restarts: (s: V1ContainerStatus) => boolean,
): string | undefined {
  for (const o of olds ?? []) {
    const t = o.state?.terminated;
    if (t === undefined || t === null) continue;
    const n = (news ?? []).find((x) => x.name === o.name);
    if (n === undefined || (n.state?.terminated !== undefined && n.state.terminated !== null)) continue;
    // Waiting with the same ID is the crash-loop back-off (the last instance is still the newest); running is not.
    const running = n.state?.running !== undefined && n.state.running !== null;
    const sameInstance = running && o.containerID !== undefined && o.containerID !== '' && n.containerID === o.containerID;
    if (sameInstance || !restarts(o)) {
      return `terminated container ${o.name} attempted illegal transition to non-terminated state`;
    }
  }
  return undefined;
}

/** Undefined when `next` may replace `old`, else why not (upstream wording). */
export function containerStateRegression(old: V1PodStatus, next: V1PodStatus, spec: V1PodSpec | undefined): string | undefined {
  const policy = spec?.restartPolicy ?? 'Always';
  const app = (s: V1ContainerStatus): boolean =>
    policy === 'Always' || (policy === 'OnFailure' && (s.state?.terminated?.exitCode ?? 0) !== 0);
  const sidecars = new Set((spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const init = (s: V1ContainerStatus): boolean => sidecars.has(s.name) || ((s.state?.terminated?.exitCode ?? 0) !== 0 && policy !== 'Never');
  return check(old.containerStatuses, next.containerStatuses, app) ?? check(old.initContainerStatuses, next.initContainerStatuses, init);
}
