/**
 * The proxy's top-level chains and the jump rules from built-in chains (upstream iptablesJumpChains). Pure.
 */
import { hostCIDR } from './render-service.js';

/** Canary chain watched to detect external flushes (mangle, nat, filter). */
export const CANARY_CHAIN = 'KUBE-PROXY-CANARY';
/** Built-in tables the proxy touches. */
export type Table = 'filter' | 'nat' | 'mangle';

/** A jump from a built-in chain into one of our chains. `args` are the matches before `-j`. */
export interface JumpRule {
  table: Table;
  from: string;
  to: string;
  args: string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
const c = (s: string): string[] => ['-m', 'comment', '--comment', `"${s}"`];

/** Jump rules nodelet inserts (first position) and `cleanup()` removes. */
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', from: 'INPUT', to: 'KUBE-EXTERNAL-SERVICES', args: [...NEW, ...c('kubernetes externally-visible service portals')] },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-EXTERNAL-SERVICES', args: [...NEW, ...c('kubernetes externally-visible service portals')] },
  { table: 'filter', from: 'INPUT', to: 'KUBE-NODEPORTS', args: c('kubernetes health check service ports') },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-SERVICES', args: [...NEW, ...c('kubernetes service portals')] },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-SERVICES', args: [...NEW, ...c('kubernetes service portals')] },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', args: c('kubernetes forwarding rules') },
  { table: 'filter', from: 'INPUT', to: 'KUBE-PROXY-FIREWALL', args: [...NEW, ...c('kubernetes load balancer firewall')] },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-PROXY-FIREWALL', args: [...NEW, ...c('kubernetes load balancer firewall')] },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-PROXY-FIREWALL', args: [...NEW, ...c('kubernetes load balancer firewall')] },
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', args: c('kubernetes service portals') },
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', args: c('kubernetes service portals') },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', args: c('kubernetes postrouting rules') },
];

/** kubelet's anti-martian chain, installed by the proxy when localhost NodePorts are on (removed by `--cleanup`). */
export const KUBELET_JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', from: 'INPUT', to: 'KUBE-FIREWALL', args: [] },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-FIREWALL', args: [] },
];

/** The restore line inserting `j` at the top of its built-in chain. */
export function jumpInsertLine(j: JumpRule): string {
  return ['-I', j.from, '1', ...j.args, '-j', j.to].join(' ');
}

/** Filter chains rewritten on every sync. */
export const FILTER_TOP_CHAINS = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'];

/** Inputs of the top-level rules. */
export interface TopContext {
  family: 'IPv4' | 'IPv6';
  masqueradeMark: string;
  randomFully: boolean;
  localhostNodePorts: boolean;
  tcpBeLiberal: boolean;
  /** undefined = NodePorts on all local addresses; otherwise the node IPs selected by nodePortAddresses. */
  nodePortIPs: string[] | undefined;
}

/** Top-level rules (everything that is not per service). */
export interface TopRules {
  natPostrouting: string[];
  natMarkMasq: string[];
  /** The last rule(s) of nat KUBE-SERVICES (jump to KUBE-NODEPORTS). */
  natServicesTail: string[];
  filterForward: string[];
  /** KUBE-FIREWALL rules, or null when not written. */
  filterKubeletFirewall: string[] | null;
}

/** Renders the top-level rules. Pure. */
export function renderTop(ctx: TopContext): TopRules {
  const m = ctx.masqueradeMark;
  const natPostrouting = [
    `-A KUBE-POSTROUTING -m mark ! --mark ${m}/${m} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --set-xmark ${m}/0x0`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${ctx.randomFully ? ' --random-fully' : ''}`,
  ];
  const natMarkMasq = [`-A KUBE-MARK-MASQ -j MARK --set-xmark ${m}/${m}`];
  const tailComment = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  const natServicesTail: string[] = [];
  const v4 = ctx.family === 'IPv4';
  if (ctx.nodePortIPs === undefined) {
    const notLo = !v4 ? '! -d ::1/128 ' : ctx.localhostNodePorts ? '' : '! -d 127.0.0.0/8 ';
    natServicesTail.push(`-A KUBE-SERVICES ${notLo}${tailComment} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`);
  } else {
    for (const ip of ctx.nodePortIPs) {
      const loopback = v4 ? ip.startsWith('127.') : ip === '::1';
      if (loopback && (!v4 || !ctx.localhostNodePorts)) continue;
      natServicesTail.push(`-A KUBE-SERVICES -d ${hostCIDR(ip, ctx.family)} ${tailComment} -j KUBE-NODEPORTS`);
    }
  }
  const filterForward: string[] = [];
  if (!ctx.tcpBeLiberal) filterForward.push('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
  filterForward.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${m}/${m} -j ACCEPT`,
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  const filterKubeletFirewall =
    v4 && ctx.localhostNodePorts
      ? [
          '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
        ]
      : null;
  return { natPostrouting, natMarkMasq, natServicesTail, filterForward, filterKubeletFirewall };
}
