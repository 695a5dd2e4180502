/**
 * Probe results of one pod as plain data (a snapshot the status generation reads), and the pure rule that turns them
 * into a container's `started` / `ready` (upstream prober_manager.go UpdatePodStatus).
 */
import type { ProbeResult } from './types.js';

/** What the prober knows about one pod's containers when the snapshot was taken. */
export interface PodProbeResults {
  /** Names of containers that have a startup probe worker. */
  startupProbed: ReadonlySet<string>;
  /** Names of containers that have a readiness probe worker. */
  readinessProbed: ReadonlySet<string>;
  /** Cached startup results by container ID (`docker://…`, as in status). */
  startup: ReadonlyMap<string, ProbeResult>;
  /** Cached readiness results by container ID. */
  readiness: ReadonlyMap<string, ProbeResult>;
}

/** No probes at all: running containers are started and ready. */
export const NO_PROBE_RESULTS: PodProbeResults = {
  startupProbed: new Set(),
  readinessProbed: new Set(),
  startup: new Map(),
  readiness: new Map(),
};

/**
 * Pure: `started` = running and (startup probe succeeded, or there is none); `ready` = started and (readiness probe
 * succeeded, or there is none). A cached result wins over the existence of a worker, as upstream.
 */
export function probeReadiness(
  r: PodProbeResults,
  containerName: string,
  containerID: string,
  running: boolean,
): { started: boolean; ready: boolean } {
  if (!running) return { started: false, ready: false };
  const s = r.startup.get(containerID);
  const started = s !== undefined ? s === 'success' : !r.startupProbed.has(containerName);
  if (!started) return { started, ready: false };
  const ready = r.readiness.get(containerID) === 'success' || !r.readinessProbed.has(containerName);
  return { started, ready };
}
