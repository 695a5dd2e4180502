/**
 * What nodelet knows about the API server behind one kubeconfig: its version and the fields it does not know. Every
 * {@link ApiClient} built from that kubeconfig object strips those fields from the Pod and Node bodies it writes, and
 * learns more from the server's `unable to find api field` errors (then retries without them).
 */
import type { KubeConfig } from './kubeconfig.js';
import { unknownFieldsFor, type ServerVersion } from './server-version.js';

/** Listener of a field learned from a server error (`Struct.field`). */
export type LearnedFieldListener = (field: string, stripped: readonly string[]) => void;

/** The server profile of one kubeconfig. */
export class ServerProfile {
  #version: ServerVersion | undefined;
  readonly #unknown = new Set<string>();
  readonly #listeners = new Set<LearnedFieldListener>();

  /** The server's version, once read. */
  get version(): ServerVersion | undefined {
    return this.#version;
  }

  /** `Struct.field` keys not to send. */
  get unknownFields(): ReadonlySet<string> {
    return this.#unknown;
  }

  /** Records the server's version: every field newer than it is no longer sent. */
  setVersion(v: ServerVersion | undefined): void {
    this.#version = v;
    for (const f of unknownFieldsFor(v?.minor)) this.#unknown.add(f);
  }

  /** Records a field the server named as unknown; true when it was new. */
  learn(field: string, stripped: readonly string[] = []): boolean {
    if (this.#unknown.has(field)) return false;
    this.#unknown.add(field);
    for (const l of this.#listeners) l(field, stripped);
    return true;
  }

  /** Subscribes to learned fields; returns the unsubscribe function. */
  onLearned(listener: LearnedFieldListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const profiles = new WeakMap<KubeConfig, ServerProfile>();

/** The server profile of `kc` (one per kubeconfig object). */
export function serverProfile(kc: KubeConfig): ServerProfile {
  let p = profiles.get(kc);
  if (p === undefined) {
    p = new ServerProfile();
    profiles.set(kc, p);
  }
  return p;
}
