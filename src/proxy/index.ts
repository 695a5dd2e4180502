/**
 * The service proxy role (kube-proxy's iptables mode). Public surface only.
 */
import type { Logger } from '../util/index.js';
import { cleanupIptables } from './cleanup.js';
import { ExecIptables, detectBackend } from './exec.js';
import type { Iptables } from './iptables.js';

export { createProxy, type ProxyOptions, type ProxyRole, type ProxyRoleInternals, type ProxyInformers } from './role.js';
export { defaultProxyConfig, resolveProxyConfig, parseDuration, type ProxyConfig, type ResolvedProxyConfig, type DetectLocalMode } from './config.js';
export { IptablesError } from './exec.js';
export type { Iptables } from './iptables.js';
export { ProcSysctl, SysctlError, type Sysctl } from './sysctl.js';

/** Options of {@link cleanupProxyRules}. */
export interface CleanupOptions {
  logger: Logger;
  netns?: string;
  netnsPid?: number;
  iptables?: Iptables;
}

/**
 * `--cleanup`: removes every rule and chain the proxy installed (IPv4), leaving other programs' rules alone.
 * Resolves true when everything was removed cleanly; errors are logged, never thrown.
 */
export async function cleanupProxyRules(options: CleanupOptions): Promise<boolean> {
  const ns = { netns: options.netns, netnsPid: options.netnsPid };
  const ipt = options.iptables ?? new ExecIptables({ ...ns, backend: await detectBackend(ns) });
  return cleanupIptables(ipt, options.logger);
}
