/**
 * The real ProxyHost (src/proxy/host.ts): iptables(-nft|-legacy), nft and conntrack run as child processes, sysctls
 * written to /proc and /sys; optionally all of it inside a network namespace (integration tests, benchmarks).
 * src/cli is the only place that builds these; the proxy role gets the interface.
 */
import {
  ExecConntrack,
  ExecIptables,
  ExecNft,
  ProcSysctl,
  checkNftSupport,
  detectBackend,
  supportsRandomFully,
  type IptablesBackend,
  type ProxyHost,
} from '../proxy/index.js';
import type { Iptables, Nft } from '../proxy/index.js';

type Family = 'IPv4' | 'IPv6';

/** Options of {@link createExecProxyHost}. */
export interface ExecProxyHostOptions {
  /** Run every tool inside this network namespace (`ip netns exec`) or the one of this pid (`nsenter -n -t`). */
  netns?: string;
  netnsPid?: number;
  /**
   * Set kernel parameters (conntrack tuning, route_localnet). Default: true for the process's own namespace, false
   * for another one: nf_conntrack_max and the hashsize are global, so a test namespace must opt in explicitly.
   */
  sysctls?: boolean;
}

/**
 * Builds the real ProxyHost. The iptables backend (nft or legacy, as kubernetes-sigs/iptables-wrappers decides) and
 * MASQUERADE --random-fully support are detected once, on first use; one runner per family is kept, so restores of a
 * family stay serialized.
 */
export function createExecProxyHost(o: ExecProxyHostOptions = {}): ProxyHost {
  const ns = { netns: o.netns, netnsPid: o.netnsPid };
  let detected: Promise<{ backend: IptablesBackend; randomFully: boolean }> | undefined;
  const detect = (): Promise<{ backend: IptablesBackend; randomFully: boolean }> => {
    detected ??= (async () => {
      const backend = await detectBackend(ns);
      return { backend, randomFully: await supportsRandomFully(ns, backend) };
    })().catch((err: unknown) => {
      detected = undefined;
      throw err;
    });
    return detected;
  };
  const iptables = new Map<Family, Iptables>();
  const nft = new Map<Family, Nft>();
  const ownNamespace = o.netns === undefined && o.netnsPid === undefined;
  return {
    async iptables(family) {
      const { backend, randomFully } = await detect();
      let r = iptables.get(family);
      if (r === undefined) iptables.set(family, (r = new ExecIptables({ ...ns, family, backend, randomFully })));
      return r;
    },
    nft(family) {
      let r = nft.get(family);
      if (r === undefined) nft.set(family, (r = new ExecNft({ ...ns, family })));
      return r;
    },
    checkNft: () => checkNftSupport(ns),
    conntrack: (family, logger) => new ExecConntrack({ ...ns, family, logger }),
    sysctl: (o.sysctls ?? ownNamespace) ? new ProcSysctl(ns) : undefined,
  };
}
