/**
 * Creating app containers while their new sandbox starts. Starting the sandbox (network setup) is the longest step
 * of a pod start, and Docker accepts `container:<id>` namespaces of a created, not yet started sandbox, so the pod
 * worker creates (never starts) the app containers in the meantime: image check or pull, config, `create`. Only
 * when the pod has no init containers to run first, and only containers whose config does not embed the pod IPs.
 * Who may touch what: the sync of one pod owns its instance; creates run one after another in spec order.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../../cri/types.js';
import { errorMessage } from '../../util/errors.js';
import { readsPodIPs } from '../podenv/ips.js';
import type { PodActions } from './actions.js';
import { findContainer, type PodDeps } from './deps.js';
import { createContainer } from './start.js';
import type { PodRuntimeState } from './state.js';

type Outcome = { ok: true; id: string } | { ok: false; err: unknown };

/**
 * The app containers of `actions` that may be created while the new sandbox starts (in start order); empty unless
 * a sandbox is to be created, no init container runs first and the environment can complete pod-IP files later.
 * Pure apart from reading `env`'s capabilities.
 */
export function earlyCreatable(pod: V1Pod, actions: PodActions, deps: Pick<PodDeps, 'env'>): string[] {
  if (!actions.createSandbox || actions.initContainersToStart.length > 0 || deps.env.podIPsKnown === undefined) return [];
  return actions.containersToStart.filter((name) => {
    const spec = findContainer(pod, name);
    return spec !== undefined && !spec.isInit && !readsPodIPs(spec.c);
  });
}

/** The early creates of one sync (see module comment). */
export class EarlyCreates {
  readonly #deps: PodDeps;
  readonly #pod: V1Pod;
  readonly #state: PodRuntimeState;
  readonly #names: readonly string[];
  readonly #outcomes = new Map<string, Promise<Outcome>>();
  #all: Promise<void> = Promise.resolve();
  #begun = false;

  constructor(deps: PodDeps, pod: V1Pod, state: PodRuntimeState, names: readonly string[]) {
    this.#deps = deps;
    this.#pod = pod;
    this.#state = state;
    this.#names = names;
  }

  /** True when there is something to create early (pass {@link begin} to runPodSandbox as onCreated). */
  get wanted(): boolean {
    return this.#names.length > 0;
  }

  /** True once the creates were started. */
  get begun(): boolean {
    return this.#begun;
  }

  /** Starts the creates in sandbox `sandboxId` (created, maybe not started). Never throws; call at most once. */
  begin(sandboxId: string, sandboxConfig: PodSandboxConfig): void {
    if (this.#begun) return;
    this.#begun = true;
    const target = { sandboxId, podIPs: [], podIPsPending: true, sandboxConfig };
    let chain: Promise<unknown> = Promise.resolve();
    for (const name of this.#names) {
      const spec = findContainer(this.#pod, name);
      if (spec === undefined) continue;
      const outcome = chain.then(() => createContainer(this.#deps, this.#pod, spec.c, false, this.#state, target)).then(
        (id): Outcome => ({ ok: true, id }),
        (err: unknown): Outcome => ({ ok: false, err }),
      );
      this.#outcomes.set(name, outcome);
      chain = outcome;
    }
    this.#all = chain.then(() => undefined);
  }

  /**
   * The sandbox has started with `podIPs`: waits for the creates (the environment serves one call at a time per
   * pod), then lets the environment complete the files that show the IPs. No-op when nothing was begun. Throws what
   * podIPsKnown throws (call {@link discard} then).
   */
  async complete(podIPs: string[]): Promise<void> {
    if (!this.#begun) return;
    await this.#all;
    await this.#deps.env.podIPsKnown?.(this.#pod, podIPs);
  }

  /**
   * The id of the early-created container `name`, or undefined when it was not created early (start it the usual
   * way). Rethrows the create's error (a WaitingError, as startContainer would have thrown). Each name once.
   */
  async take(name: string): Promise<string | undefined> {
    const outcome = this.#outcomes.get(name);
    if (outcome === undefined) return undefined;
    this.#outcomes.delete(name);
    const r = await outcome;
    if (!r.ok) throw r.err;
    return r.id;
  }

  /** The sandbox failed: waits for the creates and removes every container they made. Never throws. */
  async discard(): Promise<void> {
    const outcomes = await Promise.all(this.#outcomes.values());
    this.#outcomes.clear();
    for (const r of outcomes) {
      if (!r.ok) continue;
      await this.#deps.runtime.removeContainer(r.id).catch((err: unknown) => {
        this.#deps.logger.debug({ id: r.id, err: errorMessage(err) }, 'removing an early-created container failed');
      });
    }
  }
}
