/**
 * `createStatsHandler`: serves `/stats/summary`, `/metrics/resource` and `/metrics/cadvisor` for the kubelet API
 * server (seam StatsHandler in src/kubelet/server/api/types.ts). When `housekeepingIntervalMs` > 0 a reading is taken
 * periodically, so that the first scrape already has a CPU rate (usageNanoCores needs two readings), and requests are
 * answered from the last reading while it is younger than `maxSnapshotAgeMs` (default: 1.5 × the interval) —
 * as the upstream kubelet answers from cAdvisor's housekeeping samples; the `time` fields are the reading's. Otherwise
 * a reading is taken on demand (concurrent requests share one collection).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { KubeletPodLookup, StatsHandler } from '../server/api/types.js';
import { renderCadvisorMetrics, deviceOf, type CadvisorNaming } from './cadvisor-metrics.js';
import { detectCgroupLayout, type CgroupLayout } from './cgroup.js';
import { CgroupResolver, collectSnapshot, selfCgroupPath, type CollectorDeps, type StatsRuntime, type StatsSnapshot } from './collect.js';
import { CpuRateCache } from './cpu-rate.js';
import { TEXT_FORMAT } from './expfmt.js';
import type { StatsFs } from './fs.js';
import { renderResourceMetrics } from './resource-metrics.js';
import { buildSummary } from './summary.js';
import { DiskUsageCache } from './usage-cache.js';

/** What createStatsHandler needs (all injected; src/cli passes the real ones). */
export interface StatsHandlerDeps {
  nodeName: string;
  fs: StatsFs;
  runtime: StatsRuntime;
  pods: KubeletPodLookup;
  /** `--root-dir`. */
  rootDir: string;
  /** Root of pod log directories (default /var/log/pods). */
  podLogsDir?: string;
  /** cgroup mount point (default /sys/fs/cgroup); the version is detected. */
  cgroupRoot?: string;
  /**
   * The kubepods cgroup (relative to the cgroup mount, e.g. `/kubepods` or `/kubepods.slice`) from cgroupRoot and
   * cgroupDriver when cgroupsPerQOS is on; pod cgroups are looked up under it. Undefined: found at `/`.
   */
  kubepodsCgroup?: string;
  /** Forces the layout instead of detecting it (tests). */
  cgroupLayout?: CgroupLayout;
  /** /proc (default). */
  procRoot?: string;
  /** `name` label style in /metrics/cadvisor (default 'cri'). */
  naming?: CadvisorNaming;
  clock: Clock;
  logger?: Logger;
  /** Background sampling period (default 10 000 ms; 0 = only on demand). */
  housekeepingIntervalMs?: number;
  /**
   * Requests reuse the last reading while it is younger than this (default: 1.5 × the housekeeping interval, so that a
   * tick running late does not make requests collect on their own — at 10 s, 15 s: cAdvisor's longest housekeeping
   * interval; 0 = every request takes a reading).
   */
  maxSnapshotAgeMs?: number;
  /** How long directory usage (volumes, logs) is reused (default 60 000 ms). */
  diskUsageTtlMs?: number;
}

/** The stats endpoints plus their lifecycle. */
export interface StatsService extends StatsHandler {
  /** Takes one reading now (also used by the housekeeping timer). */
  snapshot(): Promise<StatsSnapshot>;
  /** Starts periodic housekeeping (no-op when the interval is 0 or already started). */
  start(): void;
  /** Stops housekeeping. */
  stop(): void;
}

const PATHS = new Set(['/stats/summary', '/metrics/resource', '/metrics/cadvisor']);

function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Builds the stats service (see the module comment). */
export function createStatsHandler(deps: StatsHandlerDeps): StatsService {
  const procRoot = deps.procRoot ?? '/proc';
  const layout = deps.cgroupLayout ?? detectCgroupLayout(deps.fs, deps.cgroupRoot ?? '/sys/fs/cgroup');
  const cd: CollectorDeps = {
    nodeName: deps.nodeName,
    fs: deps.fs,
    layout,
    runtime: deps.runtime,
    pods: deps.pods,
    rootDir: deps.rootDir,
    podLogsDir: deps.podLogsDir ?? '/var/log/pods',
    procRoot,
    cpu: new CpuRateCache(),
    du: new DiskUsageCache(deps.fs, deps.diskUsageTtlMs ?? 60_000),
    volumeDirs: new Map(),
    volumeListTtlMs: deps.diskUsageTtlMs ?? 60_000,
    now: () => deps.clock.now(),
    selfCgroup: selfCgroupPath(deps.fs.readFile(`${procRoot}/self/cgroup`), layout.version),
    logPaths: new Map(),
  };
  const resolver = new CgroupResolver(deps.fs, layout, deps.kubepodsCgroup);
  let inflight: Promise<StatsSnapshot> | undefined;
  let timer: TimerHandle | undefined;
  let running = false;
  const interval = deps.housekeepingIntervalMs ?? 10_000;
  const maxAge = deps.maxSnapshotAgeMs ?? interval * 1.5;
  let last: StatsSnapshot | undefined;

  const snapshot = (): Promise<StatsSnapshot> => {
    inflight ??= collectSnapshot(cd, resolver)
      .then((s) => (last = s))
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  /** The last reading while it is fresh enough (see the module comment), else a new one. */
  const recent = (): Promise<StatsSnapshot> => {
    if (last !== undefined && maxAge > 0) {
      const age = deps.clock.now() - last.atMs;
      if (age >= 0 && age < maxAge) return Promise.resolve(last);
    }
    return snapshot();
  };

  const tick = (): void => {
    if (!running) return;
    snapshot()
      .catch((err: unknown) => deps.logger?.warn({ err }, 'stats housekeeping failed'))
      .finally(() => {
        if (running) timer = deps.clock.setTimeout(tick, interval);
      });
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const url = new URL(req.url ?? path, 'http://localhost');
    try {
      const s = await recent();
      if (path === '/stats/summary') {
        const only = url.searchParams.get('only_cpu_and_memory') === 'true';
        send(res, 200, 'application/json', JSON.stringify(buildSummary(s, only)));
      } else if (path === '/metrics/resource') {
        send(res, 200, TEXT_FORMAT, renderResourceMetrics(s));
      } else {
        send(res, 200, TEXT_FORMAT, renderCadvisorMetrics(s, deps.naming ?? 'cri', deviceOf(deps.fs.readFile(`${procRoot}/self/mounts`), deps.rootDir)));
      }
    } catch (err) {
      deps.logger?.warn({ err, path }, 'stats request failed');
      if (path === '/metrics/resource') {
        send(res, 200, TEXT_FORMAT, renderResourceMetrics(undefined));
        return;
      }
      send(res, 500, 'text/plain; charset=utf-8', `Internal Error: failed to get stats: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  return {
    handle(req, res, path) {
      const p = path.length > 1 ? path.replace(/\/+$/, '') : path;
      if (!PATHS.has(p)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD' && !(p === '/stats/summary' && req.method === 'POST')) {
        res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('405: Method Not Allowed');
        return true;
      }
      void serve(req, res, p);
      return true;
    },
    snapshot,
    start() {
      if (running || interval <= 0) return;
      running = true;
      tick();
    },
    stop() {
      running = false;
      if (timer !== undefined) deps.clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
