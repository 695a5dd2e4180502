/**
 * The service proxy role (kube-proxy's iptables mode). Public surface only.
 */
import type { Logger } from '../util/index.js';
import { cleanupIptables } from './cleanup.js';
import { ExecIptables, detectBackend } from './exec.js';
import type { Iptables } from './iptables.js';
import { cleanupNftTables } from './nft/role.js';

export { createProxy, type ProxyOptions, type ProxyRole, type ProxyRoleInternals, type ProxyInformers } from './role.js';
export { defaultProxyConfig, resolveProxyConfig, parseDuration, type ProxyConfig, type ResolvedProxyConfig, type DetectLocalMode } from './config.js';
export { IptablesError } from './exec.js';
export type { Iptables } from './iptables.js';
export { ProcSysctl, SysctlError, type Sysctl } from './sysctl.js';
export { NftError, NftUnsupportedError, type Nft } from './nft/exec.js';
export { NftProxier } from './nft/proxier.js';

/** Options of {@link cleanupProxyRules}. */
export interface CleanupOptions {
  logger: Logger;
  netns?: string;
  netnsPid?: number;
  iptables?: Iptables;
}

/**
 * `--cleanup`: removes every rule and chain the proxy installed (IPv4, and IPv6 when ip6tables is usable, and the
 * nftables mode's tables), leaving
 * other programs' rules alone. Resolves true when everything was removed cleanly; errors are logged, never thrown.
 */
export async function cleanupProxyRules(options: CleanupOptions): Promise<boolean> {
  if (options.iptables !== undefined) return cleanupIptables(options.iptables, options.logger);
  const ns = { netns: options.netns, netnsPid: options.netnsPid };
  const backend = await detectBackend(ns);
  let clean = await cleanupIptables(new ExecIptables({ ...ns, backend }), options.logger);
  const v6 = new ExecIptables({ ...ns, backend, family: 'IPv6' });
  const usable = await v6.save('nat').then(
    () => true,
    () => false,
  );
  if (usable) clean = (await cleanupIptables(v6, options.logger.child({ ipFamily: 'IPv6' }))) && clean;
  // The nftables mode's tables too (`ip kube-proxy` / `ip6 kube-proxy`), when nft is installed.
  clean = (await cleanupNftTables(ns, options.logger)) && clean;
  return clean;
}
