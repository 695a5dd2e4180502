/**
 * A compact view of the kernel's rules for a full sync, built line by line from streamed iptables-save output:
 * chain names, the rules of built-in chains (for jump checks), and one digest per KUBE service chain (to skip
 * rewriting chains that already hold exactly the rendered rules). Holding digests instead of the 170,000 rule lines
 * of a 10,000-service table keeps a full sync's memory small.
 */
import { createHash, type Hash } from 'node:crypto';
import type { SavedTable } from './iptables.js';
import { isServiceChainName } from './names.js';
import type { Table } from './render-top.js';

/** Canonical form of a rule for comparison: the kernel stores probabilities as 32-bit fractions (0.20000000019). */
export function canonicalRule(line: string): string {
  return line.replace(/--probability (\S+)/, (_m, p: string) => `--probability ${Number(p).toFixed(8)}`);
}

/** Digest of a chain's rules (canonical lines). */
export function rulesDigest(lines: readonly string[]): string {
  const h = createHash('sha1');
  for (const l of lines) h.update(canonicalRule(l)).update('\n');
  return h.digest('base64');
}

/** Per-table snapshot. */
export interface KernelSnapshot {
  nat: SavedTable;
  filter: SavedTable;
  /** nat service chain → digest of its rules. */
  natDigests: Map<string, string>;
}

/** Builds a {@link KernelSnapshot} from iptables-save lines fed one at a time. */
export class SnapshotBuilder {
  readonly #tables = new Map<Table, SavedTable>();
  readonly #hashes = new Map<string, Hash>();
  #table: Table | undefined;

  /** Feeds one line of iptables-save output. */
  line(line: string): void {
    if (line.startsWith('*')) {
      this.#table = line.slice(1).trim() as Table;
      if (!this.#tables.has(this.#table)) this.#tables.set(this.#table, { chains: [], rules: new Map() });
      return;
    }
    const t = this.#table === undefined ? undefined : this.#tables.get(this.#table);
    if (t === undefined) return;
    if (line.startsWith(':')) {
      t.chains.push(line.slice(1).split(' ')[0] ?? '');
    } else if (line.startsWith('-A ')) {
      const chain = line.slice(3, line.indexOf(' ', 3) < 0 ? undefined : line.indexOf(' ', 3));
      if (this.#table === 'nat' && isServiceChainName(chain)) {
        let h = this.#hashes.get(chain);
        if (h === undefined) this.#hashes.set(chain, (h = createHash('sha1')));
        h.update(canonicalRule(line)).update('\n');
      } else {
        let list = t.rules.get(chain);
        if (list === undefined) t.rules.set(chain, (list = []));
        list.push(line);
      }
    } else if (line === 'COMMIT') {
      this.#table = undefined;
    }
  }

  /** The snapshot (empty chains hash to the digest of no rules). */
  done(): KernelSnapshot {
    const empty = (): SavedTable => ({ chains: [], rules: new Map() });
    const nat = this.#tables.get('nat') ?? empty();
    const natDigests = new Map<string, string>();
    const none = createHash('sha1').digest('base64');
    for (const c of nat.chains) if (isServiceChainName(c)) natDigests.set(c, this.#hashes.get(c)?.digest('base64') ?? none);
    return { nat, filter: this.#tables.get('filter') ?? empty(), natDigests };
  }
}
