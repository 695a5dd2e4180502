/**
 * FakeIptables: an in-memory iptables that parses iptables-restore input into tables/chains/rules, keeps state
 * across `--noflush` restores, and enforces what the kernel would reject (unknown chains, jumps to missing chains,
 * deleting referenced or non-empty chains, blocks are atomic). Modeled on upstream pkg/util/iptables/testing/fake.go.
 */
import { IptablesError } from '../exec.js';
import { splitArgs, type Iptables, type RestoreOptions } from '../iptables.js';
import type { Table } from '../render-top.js';

/** One chain: policy for built-ins, rule bodies (everything after `-A CHAIN `). */
export interface FakeChain {
  builtin: boolean;
  policy: string;
  rules: string[];
}

const BUILTINS: Record<Table, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

const norm = (args: readonly string[]): string => args.map((a) => (a.length >= 2 && a.startsWith('"') && a.endsWith('"') ? a.slice(1, -1) : a)).join('\u0000');
const ruleKey = (body: string): string => norm(splitArgs(body));

function emptyTable(t: Table): Map<string, FakeChain> {
  return new Map(BUILTINS[t].map((c) => [c, { builtin: true, policy: 'ACCEPT', rules: [] }]));
}

function jumpTarget(body: string): string | undefined {
  const a = splitArgs(body);
  const i = a.indexOf('-j');
  return i >= 0 ? a[i + 1] : undefined;
}

/** See the file comment. */
export class FakeIptables implements Iptables {
  readonly family: 'IPv4' | 'IPv6';
  readonly randomFully: boolean;
  readonly tables = new Map<Table, Map<string, FakeChain>>();
  /** Every restore input, in order. */
  readonly restores: string[] = [];
  /** Make the next restore fail (tests of failure handling). */
  failNextRestore = false;

  constructor(options: { family?: 'IPv4' | 'IPv6'; randomFully?: boolean } = {}) {
    this.family = options.family ?? 'IPv4';
    this.randomFully = options.randomFully ?? true;
    for (const t of ['filter', 'nat', 'mangle'] as const) this.tables.set(t, emptyTable(t));
  }

  #table(t: Table): Map<string, FakeChain> {
    const m = this.tables.get(t);
    if (m === undefined) throw new IptablesError(`no table ${t}`);
    return m;
  }

  async restore(input: string | Iterable<string>, options: RestoreOptions): Promise<void> {
    const data = typeof input === 'string' ? input : [...input].join('');
    this.restores.push(data);
    if (this.failNextRestore) {
      this.failNextRestore = false;
      throw new IptablesError('injected restore failure');
    }
    const lines = data.split('\n');
    let work: Map<string, FakeChain> | undefined;
    let table: Table | undefined;
    for (let n = 0; n < lines.length; n++) {
      const line = (lines[n] ?? '').trim();
      const fail = (msg: string): never => {
        throw new IptablesError(`iptables-restore: line ${n + 1}: ${msg}`, { line: n + 1 });
      };
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        table = line.slice(1) as Table;
        if (!this.tables.has(table)) fail(`unknown table ${table}`);
        work = options.noflush ? cloneTable(this.#table(table)) : emptyTable(table);
        continue;
      }
      if (work === undefined || table === undefined) fail('rule outside a table');
      const w = work as Map<string, FakeChain>;
      if (line === 'COMMIT') {
        this.tables.set(table as Table, w);
        work = undefined;
        continue;
      }
      if (line.startsWith(':')) {
        const [name = '', policy = '-'] = line.slice(1).split(/\s+/);
        const c = w.get(name);
        if (c?.builtin) c.policy = policy;
        else if (c !== undefined) c.rules = [];
        else if (policy !== '-') fail(`cannot set policy of user chain ${name}`);
        else w.set(name, { builtin: false, policy: '-', rules: [] });
        continue;
      }
      const [op = '', chain = '', ...rest] = line.split(' ');
      const c = w.get(chain);
      if (c === undefined) fail(`chain '${chain}' does not exist`);
      const ch = c as FakeChain;
      let body = rest.join(' ');
      const checkTarget = (): void => {
        const t = jumpTarget(body);
        if (t !== undefined && t.startsWith('KUBE-') && !w.has(t)) fail(`chain '${t}' does not exist`);
      };
      switch (op) {
        case '-A':
          checkTarget();
          ch.rules.push(body);
          break;
        case '-I': {
          let pos = 1;
          if (/^\d+$/.test(rest[0] ?? '')) {
            pos = Number(rest[0]);
            body = rest.slice(1).join(' ');
          }
          checkTarget();
          ch.rules.splice(pos - 1, 0, body);
          break;
        }
        case '-D': {
          const i = ch.rules.findIndex((r) => ruleKey(r) === ruleKey(body));
          if (i < 0) fail('rule to delete does not exist');
          ch.rules.splice(i, 1);
          break;
        }
        case '-F':
          ch.rules = [];
          break;
        case '-X': {
          if (ch.builtin) fail(`cannot delete built-in chain ${chain}`);
          if (ch.rules.length > 0) fail(`chain ${chain} is not empty`);
          for (const [other, oc] of w) if (other !== chain && oc.rules.some((r) => jumpTarget(r) === chain)) fail(`chain ${chain} is referenced by ${other}`);
          w.delete(chain);
          break;
        }
        default:
          fail(`unknown command ${op}`);
      }
    }
    if (work !== undefined) throw new IptablesError('iptables-restore: missing COMMIT');
  }

  save(table?: Table): Promise<string> {
    const out: string[] = [];
    for (const name of table === undefined ? (['mangle', 'filter', 'nat'] as const) : [table]) {
      out.push(`*${name}`);
      const t = this.#table(name);
      for (const [chain, c] of t) out.push(`:${chain} ${c.builtin ? c.policy : '-'} [0:0]`);
      for (const [chain, c] of t) for (const r of c.rules) out.push(`-A ${chain} ${r}`);
      out.push('COMMIT');
    }
    out.push('');
    return Promise.resolve(out.join('\n'));
  }

  async scan(onLine: (line: string) => void): Promise<void> {
    for (const line of (await this.save()).split('\n')) onLine(line);
  }

  chainExists(table: Table, chain: string): Promise<boolean> {
    return Promise.resolve(this.#table(table).has(chain));
  }

  ruleExists(table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    const c = this.#table(table).get(chain);
    return Promise.resolve(c !== undefined && c.rules.some((r) => ruleKey(r) === norm(args)));
  }

  deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    const c = this.#table(table).get(chain);
    const i = c?.rules.findIndex((r) => ruleKey(r) === norm(args)) ?? -1;
    if (c !== undefined && i >= 0) c.rules.splice(i, 1);
    return Promise.resolve();
  }

  /** Rules of a chain as `-A CHAIN …` lines (empty when missing). */
  rules(table: Table, chain: string): string[] {
    return (this.#table(table).get(chain)?.rules ?? []).map((r) => `-A ${chain} ${r}`);
  }

  /** Names of the chains of a table. */
  chains(table: Table): string[] {
    return [...this.#table(table).keys()];
  }

  /** A canonical dump (chains sorted, rules in order) for equality checks. */
  dump(table: Table): string {
    const t = this.#table(table);
    return [...t.keys()].sort().map((n) => [`:${n}`, ...(t.get(n)?.rules ?? [])].join('\n')).join('\n');
  }

  /** Simulates an external `iptables -t <table> -F` (flush every chain, keep them). */
  flushTable(table: Table): void {
    for (const c of this.#table(table).values()) c.rules = [];
  }
}

function cloneTable(t: Map<string, FakeChain>): Map<string, FakeChain> {
  return new Map([...t].map(([k, c]) => [k, { ...c, rules: [...c.rules] }]));
}
