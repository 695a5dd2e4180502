/**
 * Effective security context of a container (pod-level settings overridden by container-level ones) mapped to the
 * CRI LinuxContainerSecurityContext, plus the runAsNonRoot check against the image's user
 * (upstream pkg/kubelet/kuberuntime/security_context.go, pkg/securitycontext).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Image, LinuxContainerSecurityContext } from '../../cri/types.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../cri/security-defaults.js';
import { NodeletError } from '../../util/errors.js';
import { podFullName } from '../../util/pod-names.js';
import { podNamespaceOptions } from './namespaces.js';


/** The user an image runs as: a numeric uid, a user name, or root (uid 0) when unset (as CRI reports it). */
export function imageUser(image: Pick<Image, 'user'>): { uid?: number; username?: string } {
  const user = (image.user ?? '').split(':')[0] ?? '';
  if (user === '') return { uid: 0 };
  if (/^\d+$/.test(user)) return { uid: Number(user) };
  return { username: user };
}

/**
 * Refuses runAsNonRoot containers that would run as root. Throws NodeletError CREATE_CONTAINER_CONFIG with the
 * upstream message.
 */
export function verifyRunAsNonRoot(pod: V1Pod, c: V1Container, image: Pick<Image, 'user'>): void {
  const podSc = pod.spec?.securityContext;
  const sc = c.securityContext;
  const runAsNonRoot = sc?.runAsNonRoot ?? podSc?.runAsNonRoot;
  if (runAsNonRoot !== true) return;
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  const who = `(pod: "${podFullName(pod)}", container: ${c.name})`;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) throw configError(`container's runAsUser breaks non-root policy ${who}`);
    return;
  }
  const u = imageUser(image);
  if (u.uid === 0) throw configError(`container has runAsNonRoot and image will run as root ${who}`);
  if (u.uid === undefined && u.username !== undefined) {
    throw configError(
      `container has runAsNonRoot and image has non-numeric user (${u.username}), cannot verify user is non-root ${who}`,
    );
  }
}

/** Options for {@link containerSecurityContext}. */
export interface SecurityOptions {
  /** Whether privileged containers may run on this node (allowPrivileged). */
  allowPrivileged: boolean;
}

/**
 * The CRI security context of a container. Throws CREATE_CONTAINER_CONFIG when the container asks for privileged
 * mode on a node that does not allow it, or fails the runAsNonRoot check.
 */
export function containerSecurityContext(
  pod: V1Pod,
  c: V1Container,
  image: Pick<Image, 'user'>,
  opts: SecurityOptions,
): LinuxContainerSecurityContext {
  verifyRunAsNonRoot(pod, c, image);
  const podSc = pod.spec?.securityContext;
  const sc = c.securityContext;
  const privileged = sc?.privileged === true;
  if (privileged && !opts.allowPrivileged) {
    throw configError(`pod with UID "${pod.metadata?.uid ?? ''}" specified privileged container, but is disallowed`);
  }
  const out: LinuxContainerSecurityContext = { namespaceOptions: podNamespaceOptions(pod) };
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  const runAsGroup = sc?.runAsGroup ?? podSc?.runAsGroup;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (sc?.readOnlyRootFilesystem === true) out.readonlyRootfs = true;
  if (privileged) out.privileged = true;
  if (sc?.capabilities !== undefined) {
    out.capabilities = { add: [...(sc.capabilities.add ?? [])], drop: [...(sc.capabilities.drop ?? [])] };
  }
  if (sc?.allowPrivilegeEscalation !== undefined) out.noNewPrivs = !sc.allowPrivilegeEscalation;
  const groups: number[] = [];
  if (podSc?.fsGroup !== undefined) groups.push(podSc.fsGroup);
  groups.push(...(podSc?.supplementalGroups ?? []));
  if (groups.length > 0) out.supplementalGroups = groups;
  if (privileged || sc?.procMount === 'Unmasked') {
    out.maskedPaths = [];
    out.readonlyPaths = [];
  } else {
    out.maskedPaths = [...DEFAULT_MASKED_PATHS];
    out.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  return out;
}

function configError(message: string): NodeletError {
  return new NodeletError('CREATE_CONTAINER_CONFIG', message);
}
