/**
 * ProxyHost: every outside effect of the proxy role other than the API, as one injected seam. src/cli builds the
 * real one (`createExecProxyHost` in src/cli/proxy-host.ts: the iptables/nft/conntrack tools and /proc, optionally
 * inside a network namespace); tests pass `FakeProxyHost` (testing/fake-host.ts). The role never decides on its own to
 * skip an effect because a fake was injected: what it does with a fake is what it does with the real tools.
 */
import type { Logger } from '../util/index.js';
import type { Conntrack } from './conntrack.js';
import type { Iptables } from './iptables.js';
import type { Nft } from './nft/exec.js';
import type { IPFamily } from './serviceport.js';
import type { Sysctl } from './sysctl.js';

/** `net.ipv4.conf.all.route_localnet` (needed for NodePorts on 127.0.0.1 in the iptables mode). */
export const ROUTE_LOCALNET_PATH = '/proc/sys/net/ipv4/conf/all/route_localnet';

/**
 * Contract: the factories may be called more than once per family and return runners for the same tables (the real
 * one caches the iptables backend detection). `checkNft` resolves the nft version or rejects with
 * NftUnsupportedError (code NFTABLES_UNSUPPORTED) naming what is missing.
 */
export interface ProxyHost {
  /** The iptables runner of `family` (iptables mode; also used to remove iptables-mode leftovers in nftables mode). */
  iptables(family: IPFamily): Promise<Iptables>;
  /** The nft runner of `family` (nftables mode; also used to remove the nftables tables in iptables mode). */
  nft(family: IPFamily): Nft;
  /** Checks that nft and the kernel can run the nftables mode. */
  checkNft(): Promise<string>;
  /** Deletes stale UDP conntrack entries of `family`. */
  conntrack(family: IPFamily, logger: Logger): Conntrack;
  /**
   * Kernel parameters: the conntrack tuning and route_localnet at start. `undefined` means "leave the kernel's
   * parameters alone" (a caller's explicit choice, e.g. a test namespace sharing the host's global conntrack
   * entries); the role logs that it skipped them.
   */
  readonly sysctl: Sysctl | undefined;
}
