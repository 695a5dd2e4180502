/**
 * The iptables seam: the few operations the proxy needs. `ExecIptables` (exec.ts) drives the real tools,
 * `FakeIptables` (fake-iptables.ts) keeps tables in memory; both satisfy the same contract suite.
 */
import type { Table } from './render-top.js';

/** Options of one restore run. */
export interface RestoreOptions {
  /** Keep chains not mentioned in the input (always true for the proxy; false only in benchmarks' floors). */
  noflush: boolean;
}

/**
 * Contract: `restore` applies every `*table … COMMIT` block of `data` in order, each block atomically; it rejects
 * with an IptablesError (code IPTABLES_FAILED) naming the failing line when any block fails (earlier blocks stay
 * applied). `save` returns iptables-save output of one table. `chainExists`/`ruleExists`/`deleteRule` never throw
 * for a missing chain or rule (false / no-op). Concurrent callers are serialized by the implementation.
 */
export interface Iptables {
  readonly family: 'IPv4' | 'IPv6';
  /** True when MASQUERADE --random-fully is available. */
  readonly randomFully: boolean;
  /**
   * `data` may be split in chunks (e.g. one per transaction, possibly produced lazily by a generator); they are
   * written in order as one input, each pulled only when the previous one has been handed to the tool.
   */
  restore(data: string | Iterable<string>, options: RestoreOptions): Promise<void>;
  /** iptables-save output of one table, or of all tables (one kernel dump instead of one per table). */
  save(table?: Table): Promise<string>;
  /** Streams iptables-save output of all tables line by line (no full copy held in memory). */
  scan(onLine: (line: string) => void): Promise<void>;
  chainExists(table: Table, chain: string): Promise<boolean>;
  ruleExists(table: Table, chain: string, args: readonly string[]): Promise<boolean>;
  deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void>;
}

/** Parsed `iptables-save` output of one table: chain names in order, and the rules of each chain. */
export interface SavedTable {
  chains: string[];
  rules: Map<string, string[]>;
}

/** Parses the `*table … COMMIT` block of iptables-save output (the first block when `table` is not given). */
export function parseSave(text: string, table?: Table): SavedTable {
  const chains: string[] = [];
  const rules = new Map<string, string[]>();
  let from = 0;
  if (table !== undefined) {
    const at = text.startsWith(`*${table}\n`) ? 0 : text.indexOf(`\n*${table}\n`);
    if (at < 0) return { chains, rules };
    from = at;
  }
  const end = text.indexOf('\nCOMMIT', from);
  for (const line of text.slice(from, end < 0 ? undefined : end).split('\n')) {
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      chains.push(name);
      rules.set(name, []);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1] ?? '';
      let list = rules.get(chain);
      if (list === undefined) rules.set(chain, (list = []));
      list.push(line);
    } else if (line === 'COMMIT') {
      break;
    }
  }
  return { chains, rules };
}

/** Splits a rule line into arguments, honouring double quotes (iptables-save quoting). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return out;
}
