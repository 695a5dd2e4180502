/**
 * Payloads (relative path → bytes + mode) for configMap, secret and downwardAPI content, as upstream MakePayload /
 * CollectData build them. Pure functions; errors are plain messages the caller wraps into MountVolume.SetUp text.
 */
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1Pod,
  V1Secret,
} from '@kubernetes/client-node';
import { podFieldValue } from '../env/fieldref.js';
import { resourceFieldValue, type NodeAllocatable } from '../env/resourcefield.js';
import { secretData } from '../env/sources.js';
import type { Payload } from './atomic-writer.js';

/** Default file mode of configMap/secret/downwardAPI/projected volumes (0644). */
export const DEFAULT_MODE = 0o644;

/** Error with a message meant for the FailedMount event. */
export class PayloadError extends Error {}

function fromEntries(
  entries: Map<string, Buffer>,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  kind: 'configmap' | 'secret',
): Payload {
  const payload: Payload = new Map();
  if (items === undefined || items.length === 0) {
    for (const [k, v] of entries) payload.set(k, { data: v, mode: defaultMode });
    return payload;
  }
  for (const it of items) {
    const data = entries.get(it.key);
    if (data === undefined) {
      if (optional) continue;
      throw new PayloadError(
        kind === 'configmap'
          ? `configmap references non-existent config key: ${it.key}`
          : `references non-existent secret key: ${it.key}`,
      );
    }
    payload.set(it.path, { data, mode: it.mode ?? defaultMode });
  }
  return payload;
}

/** Payload of a ConfigMap (data and binaryData; `cm` undefined = missing optional map → empty). */
export function configMapPayload(
  cm: V1ConfigMap | undefined,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
): Payload {
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm?.data ?? {})) entries.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm?.binaryData ?? {})) entries.set(k, Buffer.from(v, 'base64'));
  return fromEntries(entries, items, defaultMode, optional, 'configmap');
}

/** Payload of a Secret (`s` undefined = missing optional secret → empty). */
export function secretPayload(
  s: V1Secret | undefined,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
): Payload {
  const entries = s === undefined ? new Map<string, Buffer>() : secretData(s);
  for (const [k, v] of Object.entries(s?.stringData ?? {})) entries.set(k, Buffer.from(v, 'utf8'));
  return fromEntries(entries, items, defaultMode, optional, 'secret');
}

/** Payload of downwardAPI items (metadata fields and container resources). */
export function downwardAPIPayload(
  pod: V1Pod,
  items: readonly V1DownwardAPIVolumeFile[],
  defaultMode: number,
  allocatable: NodeAllocatable,
): Payload {
  const payload: Payload = new Map();
  for (const it of items) {
    let value = '';
    if (it.fieldRef !== undefined) {
      value = podFieldValue(pod, it.fieldRef.fieldPath, { podIPs: [], hostIPs: [] }, `items{${it.path}}.fieldRef`);
    } else if (it.resourceFieldRef !== undefined) {
      value = resourceFieldValue(it.resourceFieldRef, pod, undefined, allocatable, `items{${it.path}}.resourceFieldRef`);
    }
    payload.set(it.path, { data: Buffer.from(value, 'utf8'), mode: it.mode ?? defaultMode });
  }
  return payload;
}
