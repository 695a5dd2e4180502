/**
 * Rules of ONE service port, as a pure function of the port, its endpoints and the render context. Layout and
 * comments follow upstream kube-proxy (pkg/proxy/iptables/proxier.go), written in iptables-save's canonical form so
 * that what nodelet writes and what `iptables-save` prints compare equal.
 */
import { categorizeEndpoints, type EndpointInfo } from './endpoints.js';
import { endpointChainName } from './names.js';
import type { ServicePortInfo } from './serviceport.js';
import type { LocalDetector } from './config.js';

/** Inputs shared by all services in one render. */
export interface RenderContext {
  family: 'IPv4' | 'IPv6';
  masqueradeMark: string;
  masqueradeAll: boolean;
  localDetector: LocalDetector;
  /** Drop per-endpoint comments (upstream: more than 1000 endpoints in total). */
  largeClusterMode: boolean;
  /** Node IPs of this family (loadBalancerSourceRanges containing one allow node-originated LB traffic). */
  nodeIPs: string[];
  /** The node's topology.kubernetes.io/zone label ('' = none): zone hints of topology-aware services. */
  zone?: string;
}

/** Everything one service port contributes. Lines are complete `-A CHAIN …` restore lines. */
export interface ServiceRules {
  natServices: string[];
  natNodePorts: string[];
  filterServices: string[];
  filterExternal: string[];
  filterNodePorts: string[];
  filterFirewall: string[];
  /** Own nat chains (KUBE-SVC/SVL/EXT/FW/SEP) in write order → their rules. */
  natChains: Map<string, string[]>;
  noLocalInternal: boolean;
  noLocalExternal: boolean;
}

/** `ip/32` or `ip/128`. */
export function hostCIDR(ip: string, family: 'IPv4' | 'IPv6'): string {
  return family === 'IPv4' ? `${ip}/32` : `${ip}/128`;
}

const q = (s: string): string => `"${s}"`;

function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** What a service port's rules depend on, derived once from its endpoints (upstream's policy variables). */
interface Plan {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  allReachable: EndpointInfo[];
  hasAny: boolean;
  hasInternal: boolean;
  hasExternal: boolean;
  internalChain: string;
  externalPolicyChain: string;
  usesExt: boolean;
  usesFW: boolean;
  usesCluster: boolean;
  usesLocal: boolean;
}

function planOf(svc: ServicePortInfo, endpoints: readonly EndpointInfo[], zone: string): Plan {
  const { cluster, local, allReachable, hasAny } = categorizeEndpoints(endpoints, svc, zone);
  const ch = svc.chains;
  return {
    cluster,
    local,
    allReachable,
    hasAny,
    hasInternal: hasAny && !(svc.internalPolicyLocal && local.length === 0),
    hasExternal: hasAny && !(svc.externalPolicyLocal && local.length === 0),
    internalChain: svc.internalPolicyLocal ? ch.local : ch.cluster,
    externalPolicyChain: svc.externalPolicyLocal ? ch.local : ch.cluster,
    usesExt: hasAny && svc.externallyAccessible,
    usesFW: hasAny && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0,
    usesCluster: cluster.length > 0 && (!svc.internalPolicyLocal || svc.externallyAccessible),
    usesLocal: local.length > 0 && (svc.internalPolicyLocal || svc.externalPolicyLocal),
  };
}

const MARK = 'KUBE-MARK-MASQ';

/** KUBE-SERVICES / KUBE-NODEPORTS captures and the filter-table REJECT/DROP/ACCEPT rules. */
function captureRules(svc: ServicePortInfo, plan: Plan, ctx: RenderContext, r: ServiceRules): void {
  const { name, protocol: p, chains: ch } = svc;
  const reject = ctx.family === 'IPv4' ? 'REJECT --reject-with icmp-port-unreachable' : 'REJECT --reject-with icmp6-port-unreachable';
  const noEndpoints = q(`${name} has no endpoints`);
  const noLocal = q(`${name} has no local endpoints`);
  const [intTarget, intComment] = plan.hasAny ? ['DROP', noLocal] : [reject, noEndpoints];
  const [extTarget, extComment] = plan.hasAny ? ['DROP', noLocal] : [reject, noEndpoints];
  r.noLocalInternal = plan.hasAny && !plan.hasInternal;
  r.noLocalExternal = plan.hasAny && !plan.hasExternal;
  const dport = `-m ${p} --dport ${svc.port}`;
  const vip = hostCIDR(svc.clusterIP, ctx.family);
  if (plan.hasInternal) {
    r.natServices.push(`-A KUBE-SERVICES -d ${vip} -p ${p} -m comment --comment ${q(`${name} cluster IP`)} ${dport} -j ${plan.internalChain}`);
  } else {
    r.filterServices.push(`-A KUBE-SERVICES -d ${vip} -p ${p} -m comment --comment ${intComment} ${dport} -j ${intTarget}`);
  }
  const lbChain = plan.usesFW ? ch.firewall : ch.external;
  for (const [ips, what, target] of [
    [svc.externalIPs, 'external IP', ch.external],
    [svc.loadBalancerVIPs, 'loadbalancer IP', lbChain],
  ] as const) {
    for (const ip of ips) {
      const d = hostCIDR(ip, ctx.family);
      if (plan.hasAny) r.natServices.push(`-A KUBE-SERVICES -d ${d} -p ${p} -m comment --comment ${q(`${name} ${what}`)} ${dport} -j ${target}`);
      if (plan.usesFW && what === 'loadbalancer IP') {
        r.filterFirewall.push(`-A KUBE-PROXY-FIREWALL -d ${d} -p ${p} -m comment --comment ${q(`${name} traffic not accepted by ${ch.firewall}`)} ${dport} -j DROP`);
      }
      if (!plan.hasExternal) r.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -d ${d} -p ${p} -m comment --comment ${extComment} ${dport} -j ${extTarget}`);
    }
  }
  if (svc.nodePort !== 0) {
    const np = `-m ${p} --dport ${svc.nodePort}`;
    if (plan.hasAny) r.natNodePorts.push(`-A KUBE-NODEPORTS -p ${p} -m comment --comment ${q(name)} ${np} -j ${ch.external}`);
    if (!plan.hasExternal) {
      r.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -p ${p} -m comment --comment ${extComment} -m addrtype --dst-type LOCAL ${np} -j ${extTarget}`);
    }
  }
  if (svc.healthCheckNodePort !== 0) {
    r.filterNodePorts.push(`-A KUBE-NODEPORTS -p tcp -m comment --comment ${q(`${name} health check node port`)} -m tcp --dport ${svc.healthCheckNodePort} -j ACCEPT`);
  }
}

type Add = (chain: string, line: string) => void;

/** KUBE-EXT-: masquerade (Cluster policy) or short-circuit pod/node traffic (Local policy), then the policy chain. */
function externalChain(svc: ServicePortInfo, plan: Plan, ctx: RenderContext, add: Add): void {
  const { name, chains: ch } = svc;
  if (!svc.externalPolicyLocal) {
    add(ch.external, `-m comment --comment ${q(`masquerade traffic for ${name} external destinations`)} -j ${MARK}`);
  } else {
    const isLocal = ctx.localDetector.ifLocal;
    if (isLocal !== null) {
      add(ch.external, `${isLocal.join(' ')} -m comment --comment ${q(`pod traffic for ${name} external destinations`)} -j ${ch.cluster}`);
    }
    add(ch.external, `-m comment --comment ${q(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${MARK}`);
    add(ch.external, `-m comment --comment ${q(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${ch.cluster}`);
  }
  if (plan.hasExternal) add(ch.external, `-j ${plan.externalPolicyChain}`);
}

/** KUBE-FW-: loadBalancerSourceRanges (and the LB IPs themselves when a range contains a node IP). */
function firewallChain(svc: ServicePortInfo, ctx: RenderContext, add: Add): void {
  const { name, chains: ch } = svc;
  const c = `-m comment --comment ${q(`${name} loadbalancer IP`)}`;
  let allowFromNode = false;
  for (const cidr of svc.loadBalancerSourceRanges) {
    add(ch.firewall, `-s ${cidr} ${c} -j ${ch.external}`);
    if (ctx.nodeIPs.some((ip) => cidrContains(cidr, ip))) allowFromNode = true;
  }
  if (allowFromNode) {
    for (const ip of svc.loadBalancerVIPs) add(ch.firewall, `-s ${hostCIDR(ip, ctx.family)} ${c} -j ${ch.external}`);
  }
  add(ch.firewall, `-m comment --comment ${q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}`);
}

/** Affinity checks, then one statistic rule per endpoint (the last one unconditional). */
function dispatch(svc: ServicePortInfo, chain: string, eps: readonly EndpointInfo[], ctx: RenderContext, add: Add): void {
  const comment = (e: EndpointInfo): string => (ctx.largeClusterMode ? '' : `-m comment --comment ${q(`${svc.name} -> ${e.endpoint}`)} `);
  const sep = (e: EndpointInfo): string => endpointChainName(svc.name, svc.protocol, e.endpoint);
  if (svc.sessionAffinityClientIP) {
    for (const e of eps) {
      add(chain, `${comment(e)}-m recent --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap --name ${sep(e)} ${recentMask(ctx)} --rsource -j ${sep(e)}`);
    }
  }
  eps.forEach((e, i) => {
    const stat = i < eps.length - 1 ? `-m statistic --mode random --probability ${probability(eps.length - i)} ` : '';
    add(chain, `${comment(e)}${stat}-j ${sep(e)}`);
  });
}

/** KUBE-SEP-: hairpin masquerade, affinity record, DNAT. */
function endpointChain(svc: ServicePortInfo, e: EndpointInfo, ctx: RenderContext, chains: Map<string, string[]>, add: Add): void {
  const p = svc.protocol;
  const sep = endpointChainName(svc.name, p, e.endpoint);
  chains.set(sep, []);
  const c = ctx.largeClusterMode ? '' : `-m comment --comment ${q(svc.name)} `;
  add(sep, `-s ${hostCIDR(e.ip, ctx.family)} ${c}-j ${MARK}`);
  const affinity = svc.sessionAffinityClientIP ? `-m recent --set --name ${sep} ${recentMask(ctx)} --rsource ` : '';
  add(sep, `-p ${p} ${c}${affinity}-m ${p} -j DNAT --to-destination ${e.endpoint}`);
}

/** Renders the rules of one service port. Pure. */
export function renderServicePort(svc: ServicePortInfo, endpoints: readonly EndpointInfo[], ctx: RenderContext): ServiceRules {
  const r: ServiceRules = {
    natServices: [],
    natNodePorts: [],
    filterServices: [],
    filterExternal: [],
    filterNodePorts: [],
    filterFirewall: [],
    natChains: new Map(),
    noLocalInternal: false,
    noLocalExternal: false,
  };
  const plan = planOf(svc, endpoints, ctx.zone ?? '');
  captureRules(svc, plan, ctx, r);
  const chains = r.natChains;
  const add: Add = (chain, line) => {
    let rules = chains.get(chain);
    if (rules === undefined) chains.set(chain, (rules = []));
    rules.push(`-A ${chain} ${line}`);
  };
  // Declare the policy chains first so that their order is stable (SVC, SVL, EXT, FW, SEPs).
  if (plan.usesCluster) chains.set(svc.chains.cluster, []);
  if (plan.usesLocal) chains.set(svc.chains.local, []);
  if (plan.hasInternal) {
    // Internal traffic masquerading lives in the internal policy chain, before the endpoint dispatch.
    const vip = hostCIDR(svc.clusterIP, ctx.family);
    const m = `-d ${vip} -p ${svc.protocol} -m comment --comment ${q(`${svc.name} cluster IP`)} -m ${svc.protocol} --dport ${svc.port} -j ${MARK}`;
    const notLocal = ctx.localDetector.ifNotLocal;
    if (ctx.masqueradeAll) add(plan.internalChain, m);
    else if (notLocal !== null) add(plan.internalChain, `${notLocal.join(' ')} ${m}`);
  }
  if (plan.usesExt) {
    chains.set(svc.chains.external, []);
    externalChain(svc, plan, ctx, add);
  }
  if (plan.usesFW) {
    chains.set(svc.chains.firewall, []);
    firewallChain(svc, ctx, add);
  }
  if (plan.usesCluster) dispatch(svc, svc.chains.cluster, plan.cluster, ctx, add);
  if (plan.usesLocal) dispatch(svc, svc.chains.local, plan.local, ctx, add);
  for (const e of plan.allReachable) endpointChain(svc, e, ctx, chains, add);
  return r;
}

function recentMask(ctx: RenderContext): string {
  return ctx.family === 'IPv4' ? '--mask 255.255.255.255' : '--mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, lenStr] = cidr.split('/');
  if (base === undefined || lenStr === undefined) return false;
  if (base.includes(':') !== ip.includes(':') || base.includes(':')) return base === ip;
  const toInt = (s: string): number => s.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const len = Number(lenStr);
  const maskBits = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((toInt(base) & maskBits) >>> 0) === ((toInt(ip) & maskBits) >>> 0);
}
