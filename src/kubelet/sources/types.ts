/** The pod source seam: each source delivers its complete current set of pods (level-triggered). */
import type { V1Pod } from '@kubernetes/client-node';

/** Names of pod sources (upstream kubetypes: file, http, api). */
export type SourceName = 'file' | 'http' | 'api';

/** Receives a source's complete set; called again whenever it changes. */
export type PodSetListener = (source: SourceName, pods: V1Pod[]) => void;

/** A running source. */
export interface PodSource {
  start(): void;
  stop(): void;
  /** True once the first complete set was delivered. */
  hasSynced(): boolean;
}
