/**
 * The service proxy role (kube-proxy's iptables mode). Public surface only.
 */
import type { Logger } from '../util/index.js';
import { cleanupIptables } from './cleanup.js';
import type { ProxyHost } from './host.js';
import { cleanupNftTables } from './nft/role.js';

export { createProxy, PROXY_LABEL_SELECTOR, type ProxyOptions, type ProxyRole, type ProxyRoleInternals, type ProxyInformers } from './role.js';
export type { ProxyHost } from './host.js';
export { trimEndpointSlice, trimNode, trimService } from './trim.js';
export type { EndpointSliceObject, ServiceObject } from './apitypes.js';
// The real implementations of the ProxyHost seam: exported for src/cli, the only place that builds them.
export { ExecIptables, detectBackend, supportsRandomFully, type IptablesBackend } from './exec.js';
export { ExecConntrack } from './conntrack.js';
export { ExecNft, checkNftSupport } from './nft/exec.js';
export { defaultProxyConfig, resolveProxyConfig, parseDuration, type ProxyConfig, type ResolvedProxyConfig, type DetectLocalMode } from './config.js';
export { IptablesError } from './exec.js';
export type { Iptables } from './iptables.js';
export { ProcSysctl, SysctlError, type Sysctl } from './sysctl.js';
export { NftError, NftUnsupportedError, type Nft } from './nft/exec.js';
export { NftProxier } from './nft/proxier.js';

/** Options of {@link cleanupProxyRules}. */
export interface CleanupOptions {
  logger: Logger;
  /** Where the rules live (src/cli: createExecProxyHost). */
  host: ProxyHost;
}

/**
 * `--cleanup`: removes every rule and chain the proxy installed (IPv4, and IPv6 when ip6tables is usable, and the
 * nftables mode's tables), leaving
 * other programs' rules alone. Resolves true when everything was removed cleanly; errors are logged, never thrown.
 */
export async function cleanupProxyRules(options: CleanupOptions): Promise<boolean> {
  const { host } = options;
  let clean = await cleanupIptables(await host.iptables('IPv4'), options.logger);
  const v6 = await host.iptables('IPv6');
  const usable = await v6.save('nat').then(
    () => true,
    () => false,
  );
  if (usable) clean = (await cleanupIptables(v6, options.logger.child({ ipFamily: 'IPv6' }))) && clean;
  // The nftables mode's tables too (`ip kube-proxy` / `ip6 kube-proxy`), when nft is installed.
  clean = (await cleanupNftTables((family) => host.nft(family), options.logger)) && clean;
  return clean;
}
