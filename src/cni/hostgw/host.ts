/**
 * The node-level effects of the host-gw pod network behind one small interface: routes with the route keeper's own
 * `proto` and the masquerade chain of each family. Real: {@link LinuxPodNetworkHost} (`ip`, `iptables-restore`,
 * `ip6tables-restore`); fake: {@link FakePodNetworkHost}.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { familyOf, masqueradeHookArgs, masqueradeRestore, MASQ_CHAIN, ROUTE_PROTO, type PodRoute } from './render.js';

const run = promisify(execFile);

/**
 * Contract: `listRoutes` returns only routes with the keeper's proto (both families); `replaceRoute` is idempotent
 * (adds or moves the route to the new gateway); `deleteRoute` of a missing route succeeds; `ensureMasquerade`, per
 * family (iptables for IPv4, ip6tables for IPv6), replaces the chain's rules and hooks it into POSTROUTING once when
 * `clusterCIDRs` has CIDRs of that family, and removes the chain and its hook when it has none;
 * `removeMasquerade` removes both families' chains and hooks (idempotent; nothing else is touched).
 */
export interface PodNetworkHost {
  listRoutes(): Promise<PodRoute[]>;
  replaceRoute(r: PodRoute): Promise<void>;
  deleteRoute(r: PodRoute): Promise<void>;
  ensureMasquerade(clusterCIDRs: readonly string[]): Promise<void>;
  removeMasquerade(): Promise<void>;
}

const TOOLS: Record<4 | 6, { restore: string; iptables: string }> = {
  4: { restore: 'iptables-restore', iptables: 'iptables' },
  6: { restore: 'ip6tables-restore', iptables: 'ip6tables' },
};

/** Options for {@link LinuxPodNetworkHost}. */
export interface LinuxPodNetworkHostOptions {
  /** Run every command inside this named network namespace (tests). */
  netns?: string;
}

/** {@link PodNetworkHost} with iproute2 and iptables-restore. */
export class LinuxPodNetworkHost implements PodNetworkHost {
  readonly #prefix: string[];

  constructor(options: LinuxPodNetworkHostOptions = {}) {
    this.#prefix = options.netns === undefined ? [] : ['ip', 'netns', 'exec', options.netns];
  }

  async listRoutes(): Promise<PodRoute[]> {
    const out: PodRoute[] = [];
    for (const fam of ['-4', '-6']) {
      const { stdout } = await this.#exec(['ip', fam, '-j', 'route', 'show', 'proto', String(ROUTE_PROTO)]);
      const rows = JSON.parse(stdout === '' ? '[]' : stdout) as { dst?: string; gateway?: string }[];
      for (const r of rows) if (r.dst !== undefined && r.gateway !== undefined) out.push({ dst: r.dst, via: r.gateway });
    }
    return out;
  }

  async replaceRoute(r: PodRoute): Promise<void> {
    await this.#exec(['ip', 'route', 'replace', r.dst, 'via', r.via, 'proto', String(ROUTE_PROTO)]);
  }

  async deleteRoute(r: PodRoute): Promise<void> {
    try {
      await this.#exec(['ip', 'route', 'del', r.dst, 'via', r.via, 'proto', String(ROUTE_PROTO)]);
    } catch (err) {
      if (!/No such process|not found/i.test(String((err as { stderr?: string }).stderr ?? err))) throw err;
    }
  }

  async ensureMasquerade(clusterCIDRs: readonly string[]): Promise<void> {
    for (const fam of [4, 6] as const) {
      if (clusterCIDRs.some((c) => familyOf(c) === fam)) await this.#ensureFamily(fam, clusterCIDRs);
      else await this.#removeFamily(fam);
    }
  }

  async removeMasquerade(): Promise<void> {
    await this.#removeFamily(4);
    await this.#removeFamily(6);
  }

  async #ensureFamily(fam: 4 | 6, clusterCIDRs: readonly string[]): Promise<void> {
    const t = TOOLS[fam];
    await this.#exec([t.restore, '--noflush', '-w', '5'], masqueradeRestore(clusterCIDRs, fam));
    try {
      await this.#exec([t.iptables, '-w', '5', ...masqueradeHookArgs('-C')]);
    } catch {
      await this.#exec([t.iptables, '-w', '5', ...masqueradeHookArgs('-A')]);
    }
  }

  /** Deletes the hook (every copy) and the chain of one family; missing ones (or a missing tool) are fine. */
  async #removeFamily(fam: 4 | 6): Promise<void> {
    const t = TOOLS[fam];
    for (let i = 0; i < 10; i++) {
      const gone = await this.#exec([t.iptables, '-w', '5', ...masqueradeHookArgs('-D')]).then(
        () => false,
        () => true,
      );
      if (gone) break;
    }
    for (const op of ['-F', '-X']) await this.#exec([t.iptables, '-w', '5', '-t', 'nat', op, MASQ_CHAIN]).catch(() => undefined);
  }

  async #exec(argv: string[], stdin?: string): Promise<{ stdout: string }> {
    const [cmd = '', ...args] = [...this.#prefix, ...argv];
    if (stdin === undefined) return run(cmd, args, { encoding: 'utf8' });
    return new Promise((resolve, reject) => {
      const child = execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout })));
      child.stdin?.end(stdin);
    });
  }
}

/** In-memory {@link PodNetworkHost}: routes by dst, foreign routes (other protos) kept apart and never touched. */
export class FakePodNetworkHost implements PodNetworkHost {
  readonly routes = new Map<string, PodRoute>();
  /** Routes of other owners (e.g. the bridge's own /24): listRoutes never returns them. */
  readonly foreign: PodRoute[] = [];
  /** The cluster CIDRs masqueraded (both families); [] before ensureMasquerade and after removeMasquerade. */
  masquerade: string[] = [];
  calls = 0;
  /** Gateways replaceRoute refuses (like "Nexthop has invalid gateway" for an address off every local link). */
  readonly unreachable = new Set<string>();

  async listRoutes(): Promise<PodRoute[]> {
    this.calls++;
    return [...this.routes.values()];
  }

  async replaceRoute(r: PodRoute): Promise<void> {
    this.calls++;
    if (this.unreachable.has(r.via)) throw new Error(`ip route replace ${r.dst} via ${r.via}: Nexthop has invalid gateway`);
    this.routes.set(r.dst, r);
  }

  async deleteRoute(r: PodRoute): Promise<void> {
    this.calls++;
    if (this.routes.get(r.dst)?.via === r.via) this.routes.delete(r.dst);
  }

  async ensureMasquerade(clusterCIDRs: readonly string[]): Promise<void> {
    this.calls++;
    this.masquerade = [...clusterCIDRs];
  }

  async removeMasquerade(): Promise<void> {
    this.calls++;
    this.masquerade = [];
  }
}
