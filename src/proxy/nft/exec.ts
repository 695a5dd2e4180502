/**
 * The nftables seam: `Nft` runs one `nft -f` transaction or lists the table as JSON. `ExecNft` drives the real `nft`
 * tool (optionally in a network namespace); `FakeNft` (nft/fake.ts) keeps the table in memory. Both pass the same
 * contract suite.
 */
import { NodeletError, type NodeletErrorOptions } from '../../util/index.js';
import { namespacePrefix, runCommand } from '../exec.js';
import type { IPFamily } from '../serviceport.js';
import { nftTableRef } from './base.js';
import { NFT_TABLE } from './names.js';
import type { NftExistingObjects } from './state.js';

/** An nft transaction failed (the kernel kept its previous ruleset); code NFTABLES_FAILED. */
export class NftError extends NodeletError {
  constructor(message: string, options: NodeletErrorOptions = {}) {
    super('NFTABLES_FAILED', message, options);
  }
}

/** The kernel or the nft tool cannot run the nftables mode; code NFTABLES_UNSUPPORTED. */
export class NftUnsupportedError extends NodeletError {
  constructor(message: string, options: NodeletErrorOptions = {}) {
    super('NFTABLES_UNSUPPORTED', message, options);
  }
}

/**
 * Contract: `run` applies `commands` (nft input lines) as ONE atomic transaction, or rejects with NftError and
 * changes nothing. `list` returns `nft -j list table <family> kube-proxy` output (`{"nftables": []}` when the table
 * does not exist). `deleteTable` removes the table if it exists (never throws for a missing one). Calls are
 * serialized by the implementation.
 */
export interface Nft {
  readonly family: IPFamily;
  run(commands: readonly string[]): Promise<void>;
  list(): Promise<string>;
  deleteTable(): Promise<void>;
  /**
   * Names of the table's chains and its sets with their timeouts (no rules, no elements: cheap), or undefined when
   * the table does not exist. Rejects with NftError when it cannot be listed.
   */
  objects(): Promise<NftExistingObjects | undefined>;
}

/** Options of {@link ExecNft}. */
export interface ExecNftOptions {
  family: IPFamily;
  netns?: string;
  netnsPid?: number;
}

/** The real implementation (`nft -f -`). */
export class ExecNft implements Nft {
  readonly family: IPFamily;
  readonly #pre: string[];
  #queue: Promise<unknown> = Promise.resolve();

  constructor(o: ExecNftOptions) {
    this.family = o.family;
    this.#pre = namespacePrefix(o);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  run(commands: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      const r = await runCommand([...this.#pre, 'nft', '-f', '-'], linesOf(commands));
      if (r.code !== 0) throw new NftError(`nft -f failed (exit ${r.code}): ${firstLines(r.stderr)}`);
    });
  }

  list(): Promise<string> {
    return this.#serial(async () => {
      const r = await runCommand([...this.#pre, 'nft', '-j', 'list', 'table', ...nftTableRef(this.family).split(' ')]);
      if (r.code === 0) return r.stdout;
      if (/No such file or directory/.test(r.stderr)) return '{"nftables": []}';
      throw new NftError(`nft list failed (exit ${r.code}): ${firstLines(r.stderr)}`);
    });
  }

  objects(): Promise<NftExistingObjects | undefined> {
    return this.#serial(async () => {
      const fam = nftTableRef(this.family).split(' ')[0] ?? 'ip';
      // `-t` (terse) leaves the elements out: the affinity sets may hold many.
      const sets = await runCommand([...this.#pre, 'nft', '-t', '-j', 'list', 'sets', fam]);
      if (sets.code !== 0) throw new NftError(`nft list sets failed (exit ${sets.code}): ${firstLines(sets.stderr)}`);
      const found = new Map<string, number | undefined>();
      let exists = false;
      for (const o of parseListing(sets.stdout)) {
        const set = o['set'];
        if (set?.table !== NFT_TABLE) continue;
        exists = true;
        found.set(String(set.name), typeof set.timeout === 'number' ? set.timeout : undefined);
      }
      if (!exists) return undefined;
      const chains = await runCommand([...this.#pre, 'nft', '-j', 'list', 'chains', fam]);
      if (chains.code !== 0) throw new NftError(`nft list chains failed (exit ${chains.code}): ${firstLines(chains.stderr)}`);
      const names: string[] = [];
      for (const o of parseListing(chains.stdout)) {
        const chain = o['chain'];
        if (chain?.table === NFT_TABLE) names.push(String(chain.name));
      }
      return { chains: names, sets: found };
    });
  }

  deleteTable(): Promise<void> {
    // `add` first makes the delete succeed whether or not the table exists, in one transaction.
    const t = nftTableRef(this.family);
    return this.run([`add table ${t}`, `delete table ${t}`]);
  }
}

/** Joins commands into ~1 MB chunks for the child's stdin (never one giant string). */
function* linesOf(commands: readonly string[]): Generator<string> {
  let buf: string[] = [];
  let size = 0;
  for (const c of commands) {
    buf.push(c);
    size += c.length + 1;
    if (size > 1 << 20) {
      yield `${buf.join('\n')}\n`;
      buf = [];
      size = 0;
    }
  }
  if (buf.length > 0) yield `${buf.join('\n')}\n`;
}

type ListedObject = Record<string, { table?: unknown; name?: unknown; timeout?: unknown } | undefined>;

/** The objects of an `nft -j list …` answer. */
function parseListing(json: string): ListedObject[] {
  const parsed = JSON.parse(json) as { nftables?: ListedObject[] };
  return parsed.nftables ?? [];
}

function firstLines(s: string): string {
  return s.trim().split('\n').slice(0, 6).join(' | ');
}

/**
 * Checks that `nft` exists and the kernel accepts what the nftables mode needs (a table with a comment, a verdict
 * map with a concatenated key, numgen, a dynamic set with timeouts, fib) by running `nft -c` (check only, nothing is
 * changed). Throws NftUnsupportedError with the reason otherwise.
 */
export async function checkNftSupport(ns: { netns?: string; netnsPid?: number } = {}): Promise<string> {
  const pre = namespacePrefix(ns);
  const v = await runCommand([...pre, 'nft', '--version']);
  if (v.code !== 0) {
    throw new NftUnsupportedError(`the nftables proxy mode needs the nft tool (package "nftables"): ${firstLines(v.stderr) || 'not found'}`);
  }
  const version = v.stdout.trim();
  const m = /v(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (m !== null && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) === 0 && Number(m[3]) < 1))) {
    throw new NftUnsupportedError(`the nftables proxy mode needs nft v1.0.1 or later, found ${version}`);
  }
  const probe = [
    'add table ip kube-proxy-probe { comment "nodelet probe" ; }',
    'add map ip kube-proxy-probe m { type ipv4_addr . inet_proto . inet_service : verdict ; }',
    'add set ip kube-proxy-probe s { type ipv4_addr ; flags dynamic,timeout ; timeout 10s ; }',
    'add chain ip kube-proxy-probe c { type nat hook prerouting priority -100 ; }',
    'add chain ip kube-proxy-probe d',
    'add rule ip kube-proxy-probe c ip daddr . meta l4proto . th dport vmap @m',
    'add rule ip kube-proxy-probe c fib daddr type local numgen random mod 1 vmap { 0 : goto d }',
    'add rule ip kube-proxy-probe d update @s { ip saddr } meta l4proto tcp dnat to 10.0.0.1:80',
  ];
  const r = await runCommand([...pre, 'nft', '-c', '-f', '-'], `${probe.join('\n')}\n`);
  if (r.code !== 0) throw new NftUnsupportedError(`the kernel cannot run the nftables proxy mode (nft -c failed): ${firstLines(r.stderr)}`);
  return version;
}
