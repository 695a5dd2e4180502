/**
 * The volume manager: sets up every volume of a pod (prepare), hands the host paths to container mounts
 * (mountsFor), and tears the pod directory down (cleanup). Errors use the kubelet's FailedMount wording:
 * `MountVolume.SetUp failed for volume "<name>" : <reason>`.
 */
import { mkdir } from 'node:fs/promises';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { Mount } from '../../cri/types.js';
import { NodeletError, errorMessage } from '../../util/errors.js';
import { expandSubPathExpr } from '../env/command.js';
import type { EnvVar } from '../env/service-env.js';
import { mustMountReadOnly, volumeKind, type VolumeDeps, type VolumeKind } from './context.js';
import { setUpEmptyDir } from './empty-dir.js';
import { WrittenPayloads } from './atomic-writer.js';
import { removePodDir } from './fs-safe.js';
import { checkHostPath } from './host-path.js';
import { isSafeName, isSafeUID, podDir, volumeDir } from './paths.js';
import { setUpConfigMap, setUpDownwardAPI, setUpProjected, setUpSecret } from './projections.js';
import { prepareSubPath, validateSubPath } from './subpath.js';

/** Options for {@link VolumeManager}. */
export interface VolumeManagerOptions extends VolumeDeps {
  rootDir: string;
}

function uidOf(pod: V1Pod): string {
  const uid = pod.metadata?.uid ?? '';
  if (!isSafeUID(uid)) throw new NodeletError('INVALID', `pod has an invalid uid "${uid}"`, { field: 'metadata.uid' });
  return uid;
}

function propagation(mode: string | undefined): Mount['propagation'] {
  if (mode === 'HostToContainer') return 'rslave';
  if (mode === 'Bidirectional') return 'rshared';
  return 'private';
}

/** Sets up and tears down pod volumes. One instance per agent; callers serialize per pod. */
export class VolumeManager {
  readonly #o: VolumeManagerOptions;
  /** Pods whose directories exist already (prepare runs on every sync; skip the mkdirs). */
  readonly #prepared = new Set<string>();

  constructor(options: VolumeManagerOptions) {
    this.#o = { written: new WrittenPayloads(), ...options };
  }

  /** Host path of a volume (hostPath: the host path; others: the plugin dir). */
  hostPathOf(pod: V1Pod, v: V1Volume): string {
    const kind = volumeKind(v);
    if (typeof kind !== 'string') throw new Error(`volume type "${kind.unsupported}" is not supported`);
    if (kind === 'hostPath') return v.hostPath?.path ?? '';
    return volumeDir(this.#o.rootDir, uidOf(pod), kind, v.name);
  }

  async #setUp(pod: V1Pod, v: V1Volume, kind: VolumeKind): Promise<void> {
    const ctx = { ...this.#o, pod, volume: v, dir: '' };
    if (kind === 'hostPath') return checkHostPath(v.hostPath ?? { path: '' });
    ctx.dir = volumeDir(this.#o.rootDir, uidOf(pod), kind, v.name);
    switch (kind) {
      case 'emptyDir':
        await setUpEmptyDir(ctx);
        return;
      case 'configMap':
        return setUpConfigMap(ctx);
      case 'secret':
        return setUpSecret(ctx);
      case 'downwardAPI':
        return setUpDownwardAPI(ctx);
      case 'projected':
        return setUpProjected(ctx);
    }
  }

  /**
   * Sets up or refreshes every volume of the pod. Idempotent; call on every sync. Tries all volumes and throws
   * MOUNT_FAILED for the first one that failed (the others are logged).
   */
  async prepare(pod: V1Pod, signal?: AbortSignal): Promise<void> {
    const uid = uidOf(pod);
    if (!this.#prepared.has(uid)) {
      await mkdir(podDir(this.#o.rootDir, uid), { recursive: true, mode: 0o750 });
      await mkdir(`${podDir(this.#o.rootDir, uid)}/volumes`, { recursive: true, mode: 0o750 });
      this.#prepared.add(uid);
    }
    const failures: NodeletError[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      signal?.throwIfAborted();
      const kind = volumeKind(v);
      try {
        if (!isSafeName(v.name)) throw new Error(`invalid volume name "${v.name}": must be a DNS-1123 label`);
        if (typeof kind !== 'string') throw new Error(`volume type "${kind.unsupported}" is not supported by nodelet`);
        await this.#setUp(pod, v, kind);
      } catch (err) {
        const e = new NodeletError('MOUNT_FAILED', `MountVolume.SetUp failed for volume "${v.name}" : ${errorMessage(err)}`, {
          cause: err,
          field: `spec.volumes{${v.name}}`,
        });
        // The pod worker reports the error (FailedMount event, warn log); keep the detail at debug here.
        this.#o.logger.debug({ volume: v.name, err: e.message }, 'Volume setup failed');
        failures.push(e);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Container mounts for the container's volumeMounts (subPath/subPathExpr pinned by bind mounts; API-object
   * volumes always read-only). Throws CREATE_CONTAINER_CONFIG for an unknown volume or a bad subPath.
   */
  async mountsFor(pod: V1Pod, c: V1Container, envs: readonly EnvVar[]): Promise<Mount[]> {
    const uid = uidOf(pod);
    if (!isSafeName(c.name)) {
      throw new NodeletError('CREATE_CONTAINER_CONFIG', `invalid container name "${c.name}": must be a DNS-1123 label`);
    }
    const out: Mount[] = [];
    const mounts = c.volumeMounts ?? [];
    for (let i = 0; i < mounts.length; i++) {
      const m = mounts[i] as NonNullable<typeof mounts[number]>;
      const v = (pod.spec?.volumes ?? []).find((x) => x.name === m.name);
      const kind = v === undefined ? undefined : volumeKind(v);
      if (v === undefined || kind === undefined || typeof kind !== 'string' || !isSafeName(v.name)) {
        throw new NodeletError('CREATE_CONTAINER_CONFIG', `cannot find volume "${m.name}" to mount into container "${c.name}"`);
      }
      let hostPath = this.hostPathOf(pod, v);
      const subPath = m.subPathExpr ? expandSubPathExpr(m, envs) : (m.subPath ?? '');
      if (subPath !== '') {
        validateSubPath(subPath);
        hostPath = await prepareSubPath(
          { volumePath: hostPath, subPath, podDir: podDir(this.#o.rootDir, uid), volumeName: m.name, containerName: c.name, index: i },
          this.#o.mounter,
        );
      }
      out.push({
        containerPath: m.mountPath,
        hostPath,
        readonly: m.readOnly === true || mustMountReadOnly(kind),
        propagation: propagation(m.mountPropagation),
      });
    }
    return out;
  }

  /**
   * Removes everything of the pod: unmounts tmpfs and subPath binds, then deletes the pod dir without following
   * symlinks or crossing into other filesystems (hostPath content is never under it and never touched). Idempotent.
   */
  async cleanup(uid: string): Promise<void> {
    if (!isSafeUID(uid)) throw new NodeletError('INVALID', `refusing to clean up pod with invalid uid "${uid}"`);
    const dir = podDir(this.#o.rootDir, uid);
    this.#prepared.delete(uid);
    this.#o.written?.forgetUnder(dir);
    await removePodDir(dir, this.#o.mounter);
    this.#o.tokens.deletePod(uid);
  }
}
