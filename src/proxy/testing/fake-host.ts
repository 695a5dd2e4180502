/**
 * FakeProxyHost: the ProxyHost seam in memory. One FakeIptables, FakeNft and FakeConntrack per IP family (created on
 * first use, or given), a FakeSysctl holding the kernel's defaults, and a switch for "nft is not supported".
 */
import type { Logger } from '../../util/index.js';
import type { Conntrack, ConntrackFilter } from '../conntrack.js';
import { ROUTE_LOCALNET_PATH, type ProxyHost } from '../host.js';
import { NftUnsupportedError } from '../nft/exec.js';
import { FakeNft } from '../nft/fake.js';
import type { IPFamily } from '../serviceport.js';
import { HASHSIZE_PATH, netfilterSysctl } from '../sysctl.js';
import { FakeIptables } from './fake-iptables.js';
import { FakeSysctl } from './fake-sysctl.js';

/** Records every `clear` call (one entry per call, possibly empty). */
export class FakeConntrack implements Conntrack {
  readonly family: IPFamily;
  readonly calls: ConntrackFilter[][] = [];

  constructor(family: IPFamily = 'IPv4') {
    this.family = family;
  }

  /** Every filter of every call, flattened. */
  get filters(): ConntrackFilter[] {
    return this.calls.flat();
  }

  clear(filters: readonly ConntrackFilter[]): Promise<void> {
    this.calls.push([...filters]);
    return Promise.resolve();
  }
}

/** FakeNft whose `list` tells whether the table exists (as `nft -j list table` does), for the mode-switch cleanup. */
export class ListableFakeNft extends FakeNft {
  override list(): Promise<string> {
    const table = this.table === undefined ? '' : `{"table": {"family": "${this.family === 'IPv4' ? 'ip' : 'ip6'}", "name": "kube-proxy"}}`;
    return Promise.resolve(`{"nftables": [${table}]}`);
  }
}

/** A FakeSysctl with the values of a fresh 2-CPU Linux host (what the proxy reads at start). */
export function defaultKernelSysctl(): FakeSysctl {
  return new FakeSysctl({
    [netfilterSysctl('nf_conntrack_max')]: 65536,
    [HASHSIZE_PATH]: 16384,
    [netfilterSysctl('nf_conntrack_tcp_timeout_established')]: 432000,
    [netfilterSysctl('nf_conntrack_tcp_timeout_close_wait')]: 60,
    [netfilterSysctl('nf_conntrack_tcp_be_liberal')]: 0,
    [netfilterSysctl('nf_conntrack_udp_timeout')]: 30,
    [netfilterSysctl('nf_conntrack_udp_timeout_stream')]: 120,
    [ROUTE_LOCALNET_PATH]: 0,
  });
}

/** Options of {@link FakeProxyHost}; given runners are used for their own family. */
export interface FakeProxyHostOptions {
  iptables?: FakeIptables[];
  nft?: FakeNft[];
  /** Default: {@link defaultKernelSysctl}. Pass `null` to model a caller that leaves sysctls alone. */
  sysctl?: FakeSysctl | null;
  /** When set, `checkNft` rejects with this reason. */
  nftUnsupported?: string;
}

/** See the file comment. */
export class FakeProxyHost implements ProxyHost {
  readonly iptablesByFamily = new Map<IPFamily, FakeIptables>();
  readonly nftByFamily = new Map<IPFamily, FakeNft>();
  readonly conntrackByFamily = new Map<IPFamily, FakeConntrack>();
  readonly sysctl: FakeSysctl | undefined;
  readonly #nftUnsupported: string | undefined;

  constructor(o: FakeProxyHostOptions = {}) {
    for (const i of o.iptables ?? []) this.iptablesByFamily.set(i.family, i);
    for (const n of o.nft ?? []) this.nftByFamily.set(n.family, n);
    this.sysctl = o.sysctl === null ? undefined : (o.sysctl ?? defaultKernelSysctl());
    this.#nftUnsupported = o.nftUnsupported;
  }

  iptables(family: IPFamily): Promise<FakeIptables> {
    let i = this.iptablesByFamily.get(family);
    if (i === undefined) this.iptablesByFamily.set(family, (i = new FakeIptables({ family })));
    return Promise.resolve(i);
  }

  nft(family: IPFamily): FakeNft {
    let n = this.nftByFamily.get(family);
    if (n === undefined) this.nftByFamily.set(family, (n = new ListableFakeNft(family)));
    return n;
  }

  checkNft(): Promise<string> {
    if (this.#nftUnsupported !== undefined) return Promise.reject(new NftUnsupportedError(this.#nftUnsupported));
    return Promise.resolve('nftables v1.0.9 (fake)');
  }

  conntrack(family: IPFamily, _logger: Logger): FakeConntrack {
    let c = this.conntrackByFamily.get(family);
    if (c === undefined) this.conntrackByFamily.set(family, (c = new FakeConntrack(family)));
    return c;
  }
}
