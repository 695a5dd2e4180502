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
  const { cluster, local, allReachable, hasAny } = categorizeEndpoints(endpoints, svc);
  const p = svc.protocol;
  const name = svc.name;
  const ch = svc.chains;
  const mark = 'KUBE-MARK-MASQ';
  const hasInternal = hasAny && !(svc.internalPolicyLocal && local.length === 0);
  const hasExternal = hasAny && !(svc.externalPolicyLocal && local.length === 0);
  const internalChain = svc.internalPolicyLocal ? ch.local : ch.cluster;
  const externalPolicyChain = svc.externalPolicyLocal ? ch.local : ch.cluster;
  const usesExt = hasAny && svc.externallyAccessible;
  const usesFW = hasAny && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFW ? ch.firewall : ch.external;
  const reject = ctx.family === 'IPv4' ? 'REJECT --reject-with icmp-port-unreachable' : 'REJECT --reject-with icmp6-port-unreachable';
  let intTarget = '';
  let intComment = '';
  let extTarget = '';
  let extComment = '';
  if (!hasAny) {
    intTarget = extTarget = reject;
    intComment = extComment = q(`${name} has no endpoints`);
  } else {
    if (!hasInternal) {
      intTarget = 'DROP';
      intComment = q(`${name} has no local endpoints`);
      r.noLocalInternal = true;
    }
    if (!hasExternal) {
      extTarget = 'DROP';
      extComment = q(`${name} has no local endpoints`);
      r.noLocalExternal = true;
    }
  }
  const dport = `-m ${p} --dport ${svc.port}`;
  const vip = hostCIDR(svc.clusterIP, ctx.family);
  const clusterComment = q(`${name} cluster IP`);

  // Capture the cluster IP.
  if (hasInternal) {
    r.natServices.push(`-A KUBE-SERVICES -d ${vip} -p ${p} -m comment --comment ${clusterComment} ${dport} -j ${internalChain}`);
  } else {
    r.filterServices.push(`-A KUBE-SERVICES -d ${vip} -p ${p} -m comment --comment ${intComment} ${dport} -j ${intTarget}`);
  }
  // External IPs.
  for (const ip of svc.externalIPs) {
    const d = hostCIDR(ip, ctx.family);
    if (hasAny) r.natServices.push(`-A KUBE-SERVICES -d ${d} -p ${p} -m comment --comment ${q(`${name} external IP`)} ${dport} -j ${ch.external}`);
    if (!hasExternal) r.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -d ${d} -p ${p} -m comment --comment ${extComment} ${dport} -j ${extTarget}`);
  }
  // Load-balancer ingress IPs.
  for (const ip of svc.loadBalancerVIPs) {
    const d = hostCIDR(ip, ctx.family);
    if (hasAny) r.natServices.push(`-A KUBE-SERVICES -d ${d} -p ${p} -m comment --comment ${q(`${name} loadbalancer IP`)} ${dport} -j ${lbChain}`);
    if (usesFW) {
      r.filterFirewall.push(`-A KUBE-PROXY-FIREWALL -d ${d} -p ${p} -m comment --comment ${q(`${name} traffic not accepted by ${ch.firewall}`)} ${dport} -j DROP`);
    }
    if (!hasExternal) r.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -d ${d} -p ${p} -m comment --comment ${extComment} ${dport} -j ${extTarget}`);
  }
  // Node ports.
  if (svc.nodePort !== 0) {
    const np = `-m ${p} --dport ${svc.nodePort}`;
    if (hasAny) r.natNodePorts.push(`-A KUBE-NODEPORTS -p ${p} -m comment --comment ${q(name)} ${np} -j ${ch.external}`);
    if (!hasExternal) {
      r.filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -p ${p} -m comment --comment ${extComment} -m addrtype --dst-type LOCAL ${np} -j ${extTarget}`);
    }
  }
  if (svc.healthCheckNodePort !== 0) {
    r.filterNodePorts.push(
      `-A KUBE-NODEPORTS -p tcp -m comment --comment ${q(`${name} health check node port`)} -m tcp --dport ${svc.healthCheckNodePort} -j ACCEPT`,
    );
  }

  const chains = r.natChains;
  const add = (chain: string, line: string): void => {
    let rules = chains.get(chain);
    if (rules === undefined) chains.set(chain, (rules = []));
    rules.push(`-A ${chain} ${line}`);
  };
  // Internal traffic masquerading lives in the internal policy chain (before the endpoint dispatch).
  const usesCluster = cluster.length > 0 && (!svc.internalPolicyLocal || svc.externallyAccessible);
  const usesLocal = local.length > 0 && (svc.internalPolicyLocal || svc.externalPolicyLocal);
  const internalRules: string[] = [];
  if (hasInternal) {
    const notLocal = ctx.localDetector.ifNotLocal;
    if (ctx.masqueradeAll) internalRules.push(`-d ${vip} -p ${p} -m comment --comment ${clusterComment} ${dport} -j ${mark}`);
    else if (notLocal !== null) internalRules.push(`${notLocal.join(' ')} -d ${vip} -p ${p} -m comment --comment ${clusterComment} ${dport} -j ${mark}`);
  }
  // Declare the policy chains first so that their order is stable (SVC, SVL, EXT, FW, SEPs).
  if (usesCluster) chains.set(ch.cluster, []);
  if (usesLocal) chains.set(ch.local, []);
  for (const line of internalRules) add(internalChain, line);

  if (usesExt) {
    chains.set(ch.external, chains.get(ch.external) ?? []);
    if (!svc.externalPolicyLocal) {
      add(ch.external, `-m comment --comment ${q(`masquerade traffic for ${name} external destinations`)} -j ${mark}`);
    } else {
      const isLocal = ctx.localDetector.ifLocal;
      if (isLocal !== null) {
        add(ch.external, `${isLocal.join(' ')} -m comment --comment ${q(`pod traffic for ${name} external destinations`)} -j ${ch.cluster}`);
      }
      add(ch.external, `-m comment --comment ${q(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${mark}`);
      add(ch.external, `-m comment --comment ${q(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${ch.cluster}`);
    }
    if (hasExternal) add(ch.external, `-j ${externalPolicyChain}`);
  }

  if (usesFW) {
    chains.set(ch.firewall, []);
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

  const sepName = (e: EndpointInfo): string => endpointChainName(name, p, e.endpoint);
  const dispatch = (chain: string, eps: readonly EndpointInfo[]): void => {
    const comment = (e: EndpointInfo): string => (ctx.largeClusterMode ? '' : `-m comment --comment ${q(`${name} -> ${e.endpoint}`)} `);
    if (svc.sessionAffinityClientIP) {
      for (const e of eps) {
        const sep = sepName(e);
        add(chain, `${comment(e)}-m recent --rcheck --seconds ${svc.stickyMaxAgeSeconds} --reap --name ${sep} ${recentMask(ctx)} --rsource -j ${sep}`);
      }
    }
    eps.forEach((e, i) => {
      const stat = i < eps.length - 1 ? `-m statistic --mode random --probability ${probability(eps.length - i)} ` : '';
      add(chain, `${comment(e)}${stat}-j ${sepName(e)}`);
    });
  };
  if (usesCluster) dispatch(ch.cluster, cluster);
  if (usesLocal) dispatch(ch.local, local);

  for (const e of allReachable) {
    const sep = sepName(e);
    chains.set(sep, []);
    const c = ctx.largeClusterMode ? '' : `-m comment --comment ${q(name)} `;
    add(sep, `-s ${hostCIDR(e.ip, ctx.family)} ${c}-j ${mark}`);
    const affinity = svc.sessionAffinityClientIP ? `-m recent --set --name ${sep} ${recentMask(ctx)} --rsource ` : '';
    add(sep, `-p ${p} ${c}${affinity}-m ${p} -j DNAT --to-destination ${e.endpoint}`);
  }
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
