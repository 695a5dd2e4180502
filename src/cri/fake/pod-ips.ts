/**
 * The fake runtime's pod IP allocator: one address per configured range (IPv4 range first, then IPv6), host-local
 * style — the network address and the gateway (`.1`) are never handed out, nor the IPv4 broadcast; allocation
 * continues after the last address handed out in a range and wraps around. Pure and deterministic.
 */
import ipaddr from 'ipaddr.js';
import { InvalidError, NodeletError } from '../../util/errors.js';

interface Range {
  cidr: string;
  v6: boolean;
  base: bigint;
  /** Offsets first..last (inclusive) are handed out. */
  first: bigint;
  last: bigint;
  /** Offset handed out last in this range. */
  cursor: bigint;
}

function toBig(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return addr.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBig(n: bigint, v6: boolean): string {
  const bytes: number[] = [];
  for (let i = 0; i < (v6 ? 16 : 4); i++) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

function parseRange(cidr: string): Range {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr.trim());
  } catch (err) {
    throw new InvalidError(`pod CIDR "${cidr}" is not a CIDR`, { field: 'podCIDR', cause: err });
  }
  const [addr, len] = parsed;
  const v6 = addr.kind() === 'ipv6';
  const bits = v6 ? 128 : 32;
  const hostBits = BigInt(bits - len);
  const size = 1n << hostBits;
  // Network address, gateway (.1) and the IPv4 broadcast are reserved: a range needs room for one more.
  const last = v6 ? size - 1n : size - 2n;
  if (last < 2n) throw new InvalidError(`pod CIDR "${cidr}" is too small to hand out addresses`, { field: 'podCIDR' });
  const base = (toBig(addr) >> hostBits) << hostBits;
  return { cidr: `${fromBig(base, v6)}/${len}`, v6, base, first: 2n, last, cursor: 1n };
}

/**
 * Pod IPs of the fake runtime. Ranges change with {@link setRanges} (the runtime's pod CIDR update): addresses
 * handed out before stay reserved until released.
 */
export class FakePodIps {
  #ranges: Range[] = [];
  readonly #used = new Set<string>();

  /** `cidrs`: at most one per family. Throws InvalidError for a malformed or too small CIDR. */
  constructor(cidrs: readonly string[]) {
    this.setRanges(cidrs);
  }

  /** The ranges addresses come from now (normalized CIDRs, IPv4 first). */
  ranges(): string[] {
    return this.#ranges.map((r) => r.cidr);
  }

  /**
   * Replaces the ranges (IPv4 first, at most one per family; a range given again keeps its position). Throws
   * InvalidError (and changes nothing) for a malformed CIDR or two of one family.
   */
  setRanges(cidrs: readonly string[]): void {
    const next = cidrs.map(parseRange).sort((a, b) => Number(a.v6) - Number(b.v6));
    if (next.length === 2 && next[0]?.v6 === next[1]?.v6) throw new InvalidError(`pod CIDRs ${cidrs.join(',')}: at most one per family`, { field: 'podCIDR' });
    if (next.length > 2) throw new InvalidError(`pod CIDRs ${cidrs.join(',')}: at most one per family`, { field: 'podCIDR' });
    this.#ranges = next.map((r) => this.#ranges.find((o) => o.cidr === r.cidr) ?? r);
  }

  /** One new address per range (IPv4 first). Throws NodeletError NETWORK_PLUGIN_FAILED when a range is full. */
  allocate(): string[] {
    const picked: string[] = [];
    for (const r of this.#ranges) {
      const ip = this.#next(r);
      if (ip === undefined) {
        for (const p of picked) this.#used.delete(p);
        throw new NodeletError('NETWORK_PLUGIN_FAILED', `no IP addresses available in range ${r.cidr}`);
      }
      picked.push(ip);
      this.#used.add(ip);
    }
    return picked;
  }

  /** Returns addresses to their ranges (unknown ones are ignored). */
  release(ips: readonly string[]): void {
    for (const ip of ips) this.#used.delete(ip);
  }

  #next(r: Range): string | undefined {
    const span = r.last - r.first + 1n;
    // Bounded scan: a /64 is never scanned whole, the first free address after the cursor is near in practice.
    const tries = span < 65_536n ? span : 65_536n;
    for (let i = 1n; i <= tries; i++) {
      const off = ((r.cursor - r.first + i) % span) + r.first;
      const ip = fromBig(r.base + off, r.v6);
      if (!this.#used.has(ip)) {
        r.cursor = off;
        return ip;
      }
    }
    return undefined;
  }
}
