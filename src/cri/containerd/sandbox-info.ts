/**
 * The network namespace of a CRI sandbox, from containerd's verbose PodSandboxStatus: `info.info` is a JSON
 * document with the pause task's `pid`, `netNamespaceClosed` and the OCI `runtimeSpec` whose network namespace entry
 * names the netns file (absent for a host-network sandbox, which lives in the host's namespace: its pid says so).
 */
import type { NetnsTarget } from '../netns/index.js';

/** What {@link sandboxNetnsInfo} extracts. */
export interface SandboxNetnsInfo {
  target: NetnsTarget;
  /** containerd closed the sandbox's netns (it is being torn down). */
  closed: boolean;
}

interface VerboseSandboxInfo {
  pid?: unknown;
  netNamespaceClosed?: unknown;
  runtimeSpec?: { linux?: { namespaces?: { type?: unknown; path?: unknown }[] } };
}

/** Pure: the netns target in a verbose sandbox status's info map (empty target when it says nothing usable). */
export function sandboxNetnsInfo(info: Record<string, string> | undefined): SandboxNetnsInfo {
  let doc: VerboseSandboxInfo = {};
  try {
    const parsed: unknown = JSON.parse(info?.['info'] ?? '{}');
    if (parsed !== null && typeof parsed === 'object') doc = parsed as VerboseSandboxInfo;
  } catch {
    // an unparsable document gives an empty target: the dial then fails with a clear error
  }
  const target: NetnsTarget = {};
  if (typeof doc.pid === 'number' && Number.isInteger(doc.pid) && doc.pid > 0) target.pid = doc.pid;
  const ns = (doc.runtimeSpec?.linux?.namespaces ?? []).find((n) => n.type === 'network');
  if (typeof ns?.path === 'string' && ns.path !== '') target.path = ns.path;
  return { target, closed: doc.netNamespaceClosed === true };
}
