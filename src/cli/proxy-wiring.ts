/**
 * The wiring of a proxy-only process (`--roles=proxy`): the proxy role and nothing of the kubelet's (no container
 * runtime, pod lifecycle, kubelet API). main.ts imports this module instead of wiring.ts when the kubelet role is
 * off, so such a process never loads the kubelet's code (gRPC, Docker and D-Bus clients, …): less memory and CPU at
 * start.
 */
import { ConfigError } from '../util/errors.js';
import type { RoleFactories } from './daemon.js';
import { createProxyRole } from './proxy-role.js';

/** The factories of a proxy-only daemon; `createRuntime` throws ConfigError (the kubelet role is not wired here). */
export const proxyWiring: RoleFactories = {
  createRuntime() {
    throw new ConfigError('the kubelet role is not available in the proxy-only wiring', { field: '--roles' });
  },
  proxy(ctx) {
    return createProxyRole(ctx);
  },
};
