/**
 * Stopping containers and pods (upstream killContainer / killPodWithSyncResult): Killing event, preStop hook bounded
 * by the grace period, then stopContainer with what is left of the grace (at least 2 s, upstream's minimum, which is
 * the one-time extension a preStop that overran gets). Sidecars stop after the main containers, in reverse order.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../../util/errors.js';
import { containerRef } from '../../api/refs.js';
import { podFullName } from '../../util/pod-names.js';
import { findContainer, podGracePeriod, type PodDeps } from './deps.js';
import { runHandler, withDeadline } from './hooks.js';
import { isSidecar } from './policy.js';
import type { ContainerRecord, PodRuntimeState } from './state.js';

/** Minimum seconds given to SIGTERM after a preStop hook (upstream minimumGracePeriodInSeconds). */
export const MIN_GRACE_SECONDS = 2;

/** How one container is killed. */
export interface KillOptions {
  /** Killing event message (default `Stopping container <name>`). */
  message?: string;
  /** Grace seconds (default: {@link podGracePeriod}, else the container's annotation, else 30). */
  gracePeriodSeconds?: number;
  /** Run the preStop hook (default true for running containers). */
  runPreStop?: boolean;
}

/** Stops one container; never throws for an already-stopped one. */
export async function killContainer(
  deps: PodDeps,
  pod: V1Pod | undefined,
  rec: ContainerRecord,
  opts: KillOptions = {},
): Promise<void> {
  const spec = pod === undefined ? undefined : findContainer(pod, rec.name);
  const grace = opts.gracePeriodSeconds ?? (pod !== undefined ? podGracePeriod(pod) : (rec.gracePeriod ?? 30));
  if (pod !== undefined && spec !== undefined) {
    deps.recorder.event(containerRef(pod, spec.c.name, spec.isInit), 'Normal', 'Killing', opts.message ?? `Stopping container ${rec.name}`);
  }
  let remaining = grace;
  const preStop = spec?.c.lifecycle?.preStop;
  if (pod !== undefined && spec !== undefined && preStop !== undefined && rec.state === 'running' && opts.runPreStop !== false && grace > 0) {
    const start = deps.clock.monotonic();
    const result = await withDeadline(deps.clock, grace * 1000, () =>
      runHandler(preStop, {
        runtime: deps.runtime,
        clock: deps.clock,
        container: spec.c,
        containerId: rec.id,
        podFullName: podFullName(pod),
        podIP: '',
        timeoutSeconds: grace,
      }).catch((err: unknown) => {
        deps.recorder.event(containerRef(pod, spec.c.name, spec.isInit), 'Warning', 'FailedPreStopHook', errorMessage(err));
      }),
    );
    if (result === 'timeout') deps.logger.info({ container: rec.name, grace }, 'PreStop hook not completed in grace period');
    const elapsed = Math.round((deps.clock.monotonic() - start) / 1000);
    remaining = Math.max(grace - elapsed, MIN_GRACE_SECONDS);
  }
  await deps.runtime.stopContainer(rec.id, remaining);
}

/** Everything still running in the pod, split into main containers and sidecars (reverse spec order). */
function runningGroups(pod: V1Pod | undefined, state: PodRuntimeState): { main: ContainerRecord[]; sidecars: ContainerRecord[] } {
  const running = state.containers.filter((c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown');
  const inits: V1Container[] = pod?.spec?.initContainers ?? [];
  const sidecarNames = inits.filter(isSidecar).map((c) => c.name).reverse();
  const sidecars = sidecarNames.flatMap((n) => running.filter((r) => r.name === n));
  const main = running.filter((r) => !sidecars.includes(r));
  return { main, sidecars };
}

/**
 * Stops every container of the pod (main containers in parallel, then sidecars one by one in reverse order), then
 * every sandbox. `pod` undefined = an orphan: no hooks, grace from the container annotations.
 */
export async function killPod(
  deps: PodDeps,
  pod: V1Pod | undefined,
  state: PodRuntimeState,
  gracePeriodSeconds?: number,
): Promise<void> {
  const { main, sidecars } = runningGroups(pod, state);
  const results = await Promise.allSettled(
    main.map((r) => killContainer(deps, pod, r, { gracePeriodSeconds })),
  );
  for (const r of sidecars) results.push(...(await Promise.allSettled([killContainer(deps, pod, r, { gracePeriodSeconds })])));
  for (const s of state.sandboxes) {
    if (s.ready) results.push(...(await Promise.allSettled([deps.runtime.stopPodSandbox(s.id)])));
  }
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
