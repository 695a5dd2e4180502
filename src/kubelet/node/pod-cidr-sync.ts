/**
 * Hands the runtime this Node's pod CIDRs (Node.spec.podCIDRs) once the controller-manager has set them, as the
 * upstream kubelet's `updatePodCIDR` does through CRI UpdateRuntimeConfig. Reads the Node the node agent last saw
 * (free: the answer of its last status write); until pod CIDRs have been applied it also GETs the Node, backing off
 * from the period to 5 minutes (the API server never changes a pod CIDR once set, so nothing is fetched after that).
 * Applies only changes; a runtime that refuses a CIDR is logged once per value.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { PodCidrUpdater } from '../../cri/index.js';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { Loop } from './loop.js';

/** Options for {@link PodCidrSync}. */
export interface PodCidrSyncOptions {
  /** The Node as last seen (NodeAgent.node()); undefined before registration. */
  node: () => V1Node | undefined;
  runtime: PodCidrUpdater;
  clock: Clock;
  logger: Logger;
  /** GETs this Node (while no pod CIDR was applied yet); without it only `node` is read. */
  fetchNode?: () => Promise<V1Node>;
  /** How often the Node is looked at (default 10 s, the node status update period). */
  periodMs?: number;
}

/** Longest gap between two GETs of the Node while waiting for a pod CIDR. */
const MAX_FETCH_GAP_MS = 5 * 60_000;

/** This Node's pod CIDRs: spec.podCIDRs, else spec.podCIDR, else []. */
export function nodePodCIDRs(node: V1Node | undefined): string[] {
  const spec = node?.spec;
  if (spec?.podCIDRs !== undefined && spec.podCIDRs.length > 0) return [...spec.podCIDRs];
  return spec?.podCIDR ? [spec.podCIDR] : [];
}

/** Level-triggered: each {@link step} compares the Node's pod CIDRs with what was applied last. */
export class PodCidrSync {
  readonly #o: PodCidrSyncOptions;
  readonly #loop: Loop;
  #applied = '';
  #refused = '';
  #fetchGapMs: number;
  #nextFetchAt = 0;

  constructor(options: PodCidrSyncOptions) {
    this.#o = options;
    const periodMs = options.periodMs ?? 10_000;
    this.#fetchGapMs = periodMs;
    this.#loop = new Loop({
      clock: options.clock,
      logger: options.logger,
      errorDelayMs: periodMs,
      step: async () => {
        await this.step();
        return periodMs;
      },
    });
  }

  /** One look at the Node; true when the runtime got new pod CIDRs. Never throws. */
  async step(): Promise<boolean> {
    let cidrs = nodePodCIDRs(this.#o.node());
    if (cidrs.length === 0 && this.#applied === '') cidrs = await this.#fetch();
    const key = cidrs.join(',');
    if (cidrs.length === 0 || key === this.#applied) return false;
    try {
      await this.#o.runtime.updatePodCIDR(cidrs);
    } catch (err) {
      if (this.#refused !== key) this.#o.logger.warn({ podCIDRs: cidrs, err: errorMessage(err) }, 'The runtime refused the Node\'s pod CIDRs');
      this.#refused = key;
      return false;
    }
    this.#applied = key;
    this.#o.logger.info({ podCIDRs: cidrs }, 'Handed the Node\'s pod CIDRs to the runtime');
    return true;
  }

  async #fetch(): Promise<string[]> {
    const now = this.#o.clock.now();
    if (this.#o.fetchNode === undefined || now < this.#nextFetchAt) return [];
    this.#nextFetchAt = now + this.#fetchGapMs;
    this.#fetchGapMs = Math.min(this.#fetchGapMs * 2, MAX_FETCH_GAP_MS);
    try {
      return nodePodCIDRs(await this.#o.fetchNode());
    } catch (err) {
      this.#o.logger.debug({ err: errorMessage(err) }, 'Reading the Node for its pod CIDRs failed');
      return [];
    }
  }

  start(): void {
    this.#loop.start(0);
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }
}
