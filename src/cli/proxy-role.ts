/**
 * Wires the proxy role (src/proxy): maps the validated KubeProxyConfiguration (file + flags) into src/proxy's
 * ProxyConfig, and runs `--cleanup`.
 */
import type { NodeletConfig } from '../config/index.js';
import { createHostReader } from '../kubelet/node/index.js';
import { cleanupProxyRules, createProxy, defaultProxyConfig, type ProxyConfig, type ProxyHost, type ProxyInformers, type ProxyRoleInternals } from '../proxy/index.js';
import type { Logger } from '../util/logger.js';
import type { WiringContext } from './daemon.js';
import { createExecProxyHost } from './proxy-host.js';
import { createProxyInformers } from './proxy-informers.js';

/** src/proxy's ProxyConfig from nodelet's validated configuration (upstream defaults for what is unset). */
export function toProxyConfig(config: NodeletConfig): ProxyConfig {
  const d = defaultProxyConfig();
  const doc = config.proxy.document;
  return {
    ...d,
    bindAddress: doc.bindAddress ?? d.bindAddress,
    healthzBindAddress: config.proxy.healthzBindAddress,
    metricsBindAddress: config.proxy.metricsBindAddress,
    bindAddressHardFail: doc.bindAddressHardFail ?? d.bindAddressHardFail,
    clusterCIDR: doc.clusterCIDR ?? d.clusterCIDR,
    hostnameOverride: config.nodeName,
    mode: doc.mode ?? d.mode,
    nodePortAddresses: doc.nodePortAddresses ?? d.nodePortAddresses,
    configSyncPeriod: doc.configSyncPeriod ?? d.configSyncPeriod,
    // nftables mode reads masquerade/sync settings from the `nftables` section (upstream), iptables mode from `iptables`.
    iptables: { ...d.iptables, ...doc.iptables, ...(doc.mode === 'nftables' ? doc.nftables : {}) },
    conntrack: { ...d.conntrack, ...doc.conntrack },
    detectLocalMode: doc.detectLocalMode || d.detectLocalMode,
    detectLocal: { ...d.detectLocal, ...doc.detectLocal },
  };
}

/** What {@link createProxyRole} builds unless given (tests pass fakes to run the daemon's wiring without a kernel). */
export interface ProxyRoleSeams {
  host?: ProxyHost;
  informers?: ProxyInformers;
}

/**
 * Builds the proxy role; its kubeproxy_* registry is also merged into the kubelet's /metrics, and its own /metrics
 * (metricsBindAddress) serves the process's nodejs_* / process_* metrics with it, in every role combination.
 */
export function createProxyRole(ctx: WiringContext, seams: ProxyRoleSeams = {}): ProxyRoleInternals {
  const nodeIP = ctx.config.nodeIP ?? createHostReader().defaultAddress();
  const logger = ctx.logger.child({ role: 'proxy' });
  const role = createProxy({
    config: toProxyConfig(ctx.config),
    informers: seams.informers ?? createProxyInformers(ctx.kubeConfig, ctx.config.nodeName, logger),
    host: seams.host ?? createExecProxyHost(),
    alsoServe: [ctx.processMetrics],
    nodeName: ctx.config.nodeName,
    // A dual-stack --node-ip ("v4,v6") gives each family's proxier its address; an IPv6 one also starts the IPv6 proxier.
    nodeIPs: nodeIP === undefined ? [] : nodeIP.split(',').map((ip) => ip.trim()).filter((ip) => ip !== ''),
    logger,
    clock: ctx.clock,
  });
  ctx.extraRegistries.push(role.metrics.registry);
  return role;
}

/** `--cleanup`: removes the proxy's iptables rules and chains; returns the exit code. */
export async function runCleanup(_config: NodeletConfig, logger: Logger): Promise<number> {
  const ok = await cleanupProxyRules({ logger: logger.child({ role: 'proxy' }), host: createExecProxyHost() });
  logger.info({ ok }, ok ? 'proxy rules removed' : 'proxy cleanup finished with errors');
  return ok ? 0 : 1;
}
