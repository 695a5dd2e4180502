/**
 * Wires the stats endpoints (src/kubelet/stats) for the kubelet API: the real host view (cgroupfs, /proc, statfs),
 * the runtime and the pod lookup, and a role that runs cAdvisor-style housekeeping (a reading every 10 s, so
 * usageNanoCores is known at the first scrape).
 */
import { cgroupPath, kubepodsName, parseCgroupRoot } from '../kubelet/cm/names.js';
import type { KubeletPodLookup } from '../kubelet/server/api/types.js';
import { createHostStatsFs, createStatsHandler, type StatsService } from '../kubelet/stats/index.js';
import type { WiringContext } from './daemon.js';
import { runtimeKind } from './endpoint.js';
import type { Role } from './role.js';

/** The stats handler and the role running its housekeeping. */
export function createStatsParts(ctx: WiringContext, lookup: KubeletPodLookup): { stats: StatsService; role: Role } {
  const k = ctx.config.kubelet;
  const stats = createStatsHandler({
    kubepodsCgroup: k.cgroupsPerQOS ? cgroupPath(kubepodsName(parseCgroupRoot(k.cgroupRoot)), k.cgroupDriver) : undefined,
    nodeName: ctx.config.nodeName,
    fs: createHostStatsFs(),
    runtime: ctx.runtime,
    pods: lookup,
    rootDir: ctx.config.rootDir,
    podLogsDir: k.podLogsDir,
    naming: runtimeKind(ctx.config.kubelet.containerRuntimeEndpoint) === 'docker' ? 'docker' : 'cri',
    clock: ctx.clock,
    logger: ctx.logger.child({ role: 'kubelet', component: 'stats' }),
  });
  return {
    stats,
    role: {
      name: 'kubelet-stats',
      start: () => {
        stats.start();
        return Promise.resolve();
      },
      stop: () => {
        stats.stop();
        return Promise.resolve();
      },
    },
  };
}
