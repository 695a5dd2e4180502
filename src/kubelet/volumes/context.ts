/** What a volume plugin needs to set a volume up. */
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import type { PodObjectSource } from '../../api/objects.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { NodeAllocatable } from '../env/resourcefield.js';
import type { WrittenPayloads } from './atomic-writer.js';
import type { Mounter } from './mounter.js';
import type { TokenManager } from './token-manager.js';

/** Shared, per-agent dependencies of the volume plugins. */
export interface VolumeDeps {
  objects?: PodObjectSource;
  mounter: Mounter;
  tokens: TokenManager;
  allocatable: NodeAllocatable;
  clock: Clock;
  logger: Logger;
  /** What was last written per volume directory (skips unchanged payloads; the VolumeManager makes one). */
  written?: WrittenPayloads;
}

/** One volume of one pod being set up. */
export interface SetUpContext extends VolumeDeps {
  pod: V1Pod;
  volume: V1Volume;
  /** Host directory of the volume (unused by hostPath). */
  dir: string;
}

/** Upstream plugin directory names under `<pod>/volumes/`. */
export const PLUGIN_DIRS = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

/** Volume kinds nodelet implements. */
export type VolumeKind = keyof typeof PLUGIN_DIRS | 'hostPath';

const SUPPORTED: VolumeKind[] = ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected'];

/** The volume's kind, or `{ unsupported: <field name> }` for a source nodelet does not implement. */
export function volumeKind(v: V1Volume): VolumeKind | { unsupported: string } {
  for (const k of SUPPORTED) if ((v as unknown as Record<string, unknown>)[k] !== undefined) return k;
  const other = Object.keys(v).find((k) => k !== 'name' && (v as unknown as Record<string, unknown>)[k] !== undefined);
  return other === undefined ? 'emptyDir' : { unsupported: other };
}

/** Whether containers always get the volume read-only (API-object projections are, as upstream). */
export function mustMountReadOnly(kind: VolumeKind): boolean {
  return kind === 'configMap' || kind === 'secret' || kind === 'downwardAPI' || kind === 'projected';
}
