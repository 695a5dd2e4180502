/**
 * Wiring of the nftables mode inside the proxy role: checks that nft and the kernel can do it, removes the iptables
 * mode's rules (switching modes cleans the other mode up, as upstream), and builds one NftProxier per IP family.
 */
import type { Clock, Logger } from '../../util/index.js';
import { errorMessage } from '../../util/index.js';
import { cleanupIptables } from '../cleanup.js';
import type { ResolvedProxyConfig } from '../config.js';
import type { ProxyHost } from '../host.js';
import type { ProxyMetrics } from '../metrics.js';
import type { ProxierHealthSink, ServiceHealthSink } from '../proxier.js';
import type { IPFamily } from '../serviceport.js';
import type { Nft } from './exec.js';
import { NftProxier } from './proxier.js';

/** Options of {@link createNftProxiers}. */
export interface NftRoleOptions {
  families: readonly IPFamily[];
  /** The nft/iptables runners, the support check and conntrack (src/cli builds the real ones). */
  host: ProxyHost;
  config: ResolvedProxyConfig;
  nodeName: string;
  nodeIPs: readonly string[];
  logger: Logger;
  clock: Clock;
  metrics: ProxyMetrics;
  health: ProxierHealthSink;
  serviceHealth: ServiceHealthSink;
  requestSync: () => void;
  retryAfter: (ms: number) => void;
}

/**
 * Builds the nftables proxiers. Throws NftUnsupportedError (code NFTABLES_UNSUPPORTED) with the reason when nft or
 * the kernel cannot run the mode. Leftover iptables-mode rules are removed first (failures are logged only).
 */
export async function createNftProxiers(o: NftRoleOptions): Promise<NftProxier[]> {
  const families = o.families;
  const version = await o.host.checkNft();
  o.logger.info({ nft: version }, 'Using the nftables proxy mode');
  await removeIptablesMode(o.host, families, o.logger);
  return families.map((family, i) => {
    const log = families.length > 1 ? o.logger.child({ ipFamily: family }) : o.logger;
    return new NftProxier({
      nft: o.host.nft(family),
      config: family === 'IPv4' ? o.config : { ...o.config, localDetector: o.config.localDetectorIPv6 },
      nodeName: o.nodeName,
      nodeIPs: o.nodeIPs.filter((ip) => (family === 'IPv4') === !ip.includes(':')),
      logger: log,
      clock: o.clock,
      metrics: o.metrics,
      conntrack: o.host.conntrack(family, log),
      health: o.health,
      serviceHealth: i === 0 ? o.serviceHealth : undefined,
      requestSync: o.requestSync,
      retryAfter: o.retryAfter,
    });
  });
}

async function removeIptablesMode(host: ProxyHost, families: readonly IPFamily[], logger: Logger): Promise<void> {
  try {
    for (const family of families) await cleanupIptables(await host.iptables(family), logger.child({ cleanup: 'iptables', ipFamily: family }));
  } catch (err) {
    logger.warn({ err: errorMessage(err) }, 'Could not remove iptables-mode rules');
  }
}

/**
 * Removes the nftables mode's tables (`ip kube-proxy`, `ip6 kube-proxy`) when nft exists: used by the iptables mode
 * at start and by `--cleanup`. Resolves true when nothing is left (or nft is not installed); never throws.
 */
export async function cleanupNftTables(nftFor: (family: IPFamily) => Nft, logger: Logger): Promise<boolean> {
  let ok = true;
  for (const family of ['IPv4', 'IPv6'] as const) {
    const nft = nftFor(family);
    try {
      const listing = await nft.list();
      if (!listing.includes('"table"')) continue;
      await nft.deleteTable();
      logger.info({ ipFamily: family }, 'Removed the nftables proxy table');
    } catch (err) {
      // No nft tool at all means no table either.
      if (/ENOENT|spawn|not found/.test(errorMessage(err))) return true;
      ok = false;
      logger.warn({ ipFamily: family, err: errorMessage(err) }, 'Could not remove the nftables proxy table');
    }
  }
  return ok;
}
