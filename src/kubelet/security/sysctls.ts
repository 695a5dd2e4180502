/**
 * Pod sysctls: only the upstream "safe" set is allowed unless the node allows more (allowedUnsafeSysctls, with
 * `prefix.*` patterns); network sysctls are refused with hostNetwork, IPC ones with hostIPC
 * (pkg/kubelet/sysctl/safe_sysctls.go, allowlist.go).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { InvalidError } from '../../util/errors.js';

/** Sysctls every pod may set (upstream safe set). */
export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

const IPC_SYSCTLS = ['kernel.shm', 'kernel.msg', 'kernel.sem', 'fs.mqueue.'];

/** Upstream allows `/` as separator ("net/ipv4/..."); the kernel name uses dots. */
export function normalizeSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first === -1 || name[first] === '.') return name;
  return name.replace(/[./]/g, (ch) => (ch === '/' ? '.' : '/'));
}

function allowed(name: string, unsafe: readonly string[]): boolean {
  if (SAFE_SYSCTLS.includes(name)) return true;
  return unsafe.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
}

/**
 * The sandbox's sysctls. Throws InvalidError (field `spec.securityContext.sysctls[i]`) with the upstream
 * SysctlForbidden wording when a sysctl is not allowed.
 */
export function podSysctls(pod: V1Pod, allowedUnsafe: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const list = pod.spec?.securityContext?.sysctls ?? [];
  list.forEach((s, i) => {
    const field = `spec.securityContext.sysctls[${i}]`;
    const name = normalizeSysctlName(s.name);
    if (!allowed(name, allowedUnsafe)) {
      throw new InvalidError(`forbidden sysctl: "${s.name}" not allowlisted`, { field });
    }
    if (pod.spec?.hostNetwork === true && name.startsWith('net.')) {
      throw new InvalidError(`sysctl "${s.name}" not allowed with host net enabled`, { field });
    }
    if (pod.spec?.hostIPC === true && IPC_SYSCTLS.some((p) => name.startsWith(p))) {
      throw new InvalidError(`sysctl "${s.name}" not allowed with host ipc enabled`, { field });
    }
    out[name] = s.value;
  });
  return out;
}
