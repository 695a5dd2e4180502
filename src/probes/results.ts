/**
 * The results cache of one probe type (upstream prober/results): the latest result per container ID. `set` emits to
 * the listeners only when the value changes (a first value is a change); `remove` forgets silently.
 */
import type { ProbeResult } from './types.js';

/** A change of a cached result. */
export interface ResultUpdate {
  containerID: string;
  result: ProbeResult;
  podUID: string;
}

/** Latest probe result per container ID, with change notification. Synchronous; single owner (the manager). */
export class ResultsCache {
  readonly #cache = new Map<string, ProbeResult>();
  readonly #listeners = new Set<(u: ResultUpdate) => void>();

  /** The cached result, or undefined when none. */
  get(containerID: string): ProbeResult | undefined {
    return this.#cache.get(containerID);
  }

  /** Stores `result`; notifies listeners and returns true only if it differs from the cached value. */
  set(containerID: string, result: ProbeResult, podUID: string): boolean {
    if (this.#cache.get(containerID) === result) return false;
    this.#cache.set(containerID, result);
    for (const l of this.#listeners) l({ containerID, result, podUID });
    return true;
  }

  /** Forgets the container's result (no notification). */
  remove(containerID: string): void {
    this.#cache.delete(containerID);
  }

  /** Number of cached entries. */
  get size(): number {
    return this.#cache.size;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (u: ResultUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
