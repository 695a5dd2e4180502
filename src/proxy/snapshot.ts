/**
 * A compact view of the kernel's rules for a full sync, built line by line from streamed iptables-save output:
 * chain names, the rules of built-in chains (for jump checks), and one digest per KUBE service chain (to skip
 * rewriting chains that already hold exactly the rendered rules). Holding digests instead of the 170,000 rule lines
 * of a 10,000-service table keeps a full sync's memory small.
 */
import { hash } from 'node:crypto';
import type { SavedTable } from './iptables.js';
import { isServiceChainName } from './names.js';
import type { Table } from './render-top.js';

/** Canonical form of a rule for comparison: the kernel stores probabilities as 32-bit fractions (0.20000000019). */
export function canonicalRule(line: string): string {
  if (!line.includes('--probability')) return line;
  return line.replace(/--probability (\S+)/, (_m, p: string) => `--probability ${Number(p).toFixed(8)}`);
}

/**
 * Digest of a sequence of lines fed one at a time (canonicalized, each followed by a line break): SHA-1 of their
 * text, computed in one native call when done (no hash object per chain).
 */
export class LineHash {
  readonly #lines: string[] = [];

  /** Adds one line. */
  update(line: string): this {
    this.#lines.push(canonicalRule(line));
    return this;
  }

  /** The digest (base64). */
  digest(): string {
    const text = this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`;
    return hash('sha1', text, 'base64');
  }
}

/** Digest of a chain's rules (canonical lines). */
export function rulesDigest(lines: readonly string[]): string {
  const h = new LineHash();
  for (const l of lines) h.update(l);
  return h.digest();
}

/**
 * Digest of a service port's nat chains: its chain names in write order, each with the digest of its rules. The same
 * value is computed from the kernel's per-chain digests by {@link kernelChainsDigest}.
 */
export function chainsDigest(chains: Iterable<readonly [string, string]>): string {
  const h = new LineHash();
  for (const [name, digest] of chains) h.update(`${name} ${digest}`);
  return h.digest();
}

/** {@link chainsDigest} of the kernel's copy of `chains` (a missing chain makes it differ from any rendered one). */
export function kernelChainsDigest(snap: KernelSnapshot, chains: Iterable<string>): string {
  const pairs: [string, string][] = [];
  for (const c of chains) pairs.push([c, snap.natDigests.get(c) ?? UNRELIABLE]);
  return chainsDigest(pairs);
}

/** Per-table snapshot. */
export interface KernelSnapshot {
  nat: SavedTable;
  filter: SavedTable;
  /** nat service chain → digest of its rules. */
  natDigests: Map<string, string>;
}

/** Digest recorded for a chain whose rules were not contiguous in the dump: never equals a real digest. */
const UNRELIABLE = '!';

/**
 * Builds a {@link KernelSnapshot} from iptables-save lines fed one at a time. iptables-save prints each chain's rules
 * together, so one running hash at a time is enough (no per-chain hash objects for 60,000 chains); a chain whose rules
 * show up in two places gets a digest that matches nothing, so it is rewritten. Rules of KUBE-* chains that are not
 * per-service chains (KUBE-SERVICES with one line per service) are not kept: only built-in chains are checked for jumps.
 */
export class SnapshotBuilder {
  readonly #tables = new Map<Table, SavedTable>();
  readonly #digests = new Map<string, string>();
  #hashChain: string | undefined;
  #hash: LineHash | undefined;
  #table: Table | undefined;

  #finishHash(): void {
    if (this.#hashChain !== undefined && this.#hash !== undefined) this.#digests.set(this.#hashChain, this.#hash.digest());
    this.#hashChain = undefined;
    this.#hash = undefined;
  }

  /** Feeds one line of iptables-save output. */
  line(line: string): void {
    if (line.startsWith('*')) {
      this.#finishHash();
      this.#table = line.slice(1).trim() as Table;
      if (!this.#tables.has(this.#table)) this.#tables.set(this.#table, { chains: [], rules: new Map() });
      return;
    }
    const t = this.#table === undefined ? undefined : this.#tables.get(this.#table);
    if (t === undefined) return;
    if (line.startsWith(':')) {
      t.chains.push(line.slice(1).split(' ')[0] ?? '');
    } else if (line.startsWith('-A ')) {
      const sp = line.indexOf(' ', 3);
      const chain = line.slice(3, sp < 0 ? undefined : sp);
      if (this.#table === 'nat' && isServiceChainName(chain)) {
        if (chain !== this.#hashChain) {
          this.#finishHash();
          if (this.#digests.has(chain)) {
            this.#digests.set(chain, UNRELIABLE);
            return;
          }
          this.#hashChain = chain;
          this.#hash = new LineHash();
        }
        this.#hash?.update(line);
      } else {
        this.#finishHash();
        if (chain.startsWith('KUBE-')) return;
        let list = t.rules.get(chain);
        if (list === undefined) t.rules.set(chain, (list = []));
        list.push(line);
      }
    } else {
      this.#finishHash();
      if (line === 'COMMIT') this.#table = undefined;
    }
  }

  /** The snapshot (empty chains hash to the digest of no rules). */
  done(): KernelSnapshot {
    this.#finishHash();
    const empty = (): SavedTable => ({ chains: [], rules: new Map() });
    const nat = this.#tables.get('nat') ?? empty();
    const natDigests = new Map<string, string>();
    const none = new LineHash().digest();
    for (const c of nat.chains) if (isServiceChainName(c)) natDigests.set(c, this.#digests.get(c) ?? none);
    return { nat, filter: this.#tables.get('filter') ?? empty(), natDigests };
  }
}
