/**
 * Simulation mode (`--container-runtime-endpoint=fake://`, `nodelet hollow`): the in-memory fake runtime runs the
 * pods, and every part that would touch the host is turned off here, as upstream kubemark's hollow kubelet does —
 * no pod cgroups, no proxy rules, no pod network routes or CNI config.
 */
import type { NodeletConfig } from '../config/index.js';
import type { Logger } from '../util/logger.js';
import { runtimeKind } from './endpoint.js';

/** True when the config runs the fake runtime. */
export function isSimulation(config: NodeletConfig): boolean {
  return runtimeKind(config.kubelet.containerRuntimeEndpoint) === 'fake';
}

/**
 * The config a simulated node runs with (pure; the input is returned unchanged without fake://): cgroupsPerQOS
 * false, the proxy role off, no pod network. `notes` names each setting turned off (for one log line).
 */
export function simulationConfig(config: NodeletConfig): { config: NodeletConfig; notes: string[] } {
  if (!isSimulation(config)) return { config, notes: [] };
  const notes: string[] = [];
  if (config.kubelet.cgroupsPerQOS) notes.push('cgroupsPerQOS=false (no pod cgroups)');
  if (config.roles.proxy) notes.push('proxy role off (no service rules)');
  if (config.network.podNetwork !== '') notes.push(`--pod-network=${config.network.podNetwork} off (no routes)`);
  return {
    config: {
      ...config,
      roles: { ...config.roles, proxy: false },
      kubelet: { ...config.kubelet, cgroupsPerQOS: false },
      network: { ...config.network, podNetwork: '' },
    },
    notes,
  };
}

/** Applies {@link simulationConfig} and logs what it turned off. */
export function applySimulation(config: NodeletConfig, logger: Logger): NodeletConfig {
  const r = simulationConfig(config);
  if (r.notes.length > 0) logger.warn({ turnedOff: r.notes }, 'fake runtime (simulation): host-touching parts turned off');
  return r.config;
}
