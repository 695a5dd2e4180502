/**
 * Volumes projected from API objects and the pod itself: configMap, secret, downwardAPI and projected. Each is
 * rewritten atomically on every setUp when its content changed, so updates of the objects (and of the pod's labels
 * and annotations) reach running containers; secret and projected volumes live on tmpfs.
 */
import { mkdir } from 'node:fs/promises';
import type { V1ServiceAccountTokenProjection } from '@kubernetes/client-node';
import { fetchObject, isStaticPod, notFoundMessage } from '../env/sources.js';
import { podFullName } from '../../util/pod-names.js';
import { writeAtomic, type Payload } from './atomic-writer.js';
import type { SetUpContext } from './context.js';
import { setVolumeOwnership } from './ownership.js';
import { memoryVolumeSize } from './tmpfs-size.js';
import { DEFAULT_MODE, PayloadError, configMapPayload, downwardAPIPayload, secretPayload } from './payload.js';

async function write(ctx: SetUpContext, payload: Payload, tmpfs: boolean): Promise<void> {
  // The common case on a resync: nothing changed since this agent wrote it (one readlink).
  if (ctx.written !== undefined && (await ctx.written.isCurrent(ctx.dir, payload))) return;
  await mkdir(ctx.dir, { recursive: true });
  if (tmpfs && !(await ctx.mounter.hasOwnFilesystem(ctx.dir))) {
    await ctx.mounter.mountTmpfs(ctx.dir, memoryVolumeSize(ctx.pod, ctx.allocatable.memoryBytes));
  }
  const changed = await writeAtomic(ctx.dir, payload, new Date(ctx.clock.now()));
  await ctx.written?.remember(ctx.dir, payload);
  const fsGroup = ctx.pod.spec?.securityContext?.fsGroup;
  if (changed && fsGroup !== undefined) await setVolumeOwnership(ctx.dir, fsGroup, true);
  if (changed) ctx.logger.debug({ volume: ctx.volume.name, files: payload.size }, 'Volume content written');
}

async function configMapData(ctx: SetUpContext, name: string, optional: boolean) {
  const cm = await fetchObject('configmap', ctx.pod, name, ctx.objects, 'MOUNT_FAILED');
  if (cm === undefined && !optional) throw new PayloadError(notFoundMessage('configmap', name));
  return cm;
}

async function secretData(ctx: SetUpContext, name: string, optional: boolean) {
  const s = await fetchObject('secret', ctx.pod, name, ctx.objects, 'MOUNT_FAILED');
  if (s === undefined && !optional) throw new PayloadError(notFoundMessage('secret', name));
  return s;
}

/** configMap volume. */
export async function setUpConfigMap(ctx: SetUpContext): Promise<void> {
  const src = ctx.volume.configMap ?? {};
  const optional = src.optional === true;
  const cm = await configMapData(ctx, src.name ?? '', optional);
  await write(ctx, configMapPayload(cm, src.items, src.defaultMode ?? DEFAULT_MODE, optional), false);
}

/** secret volume (tmpfs). */
export async function setUpSecret(ctx: SetUpContext): Promise<void> {
  const src = ctx.volume.secret ?? {};
  const optional = src.optional === true;
  const s = await secretData(ctx, src.secretName ?? '', optional);
  await write(ctx, secretPayload(s, src.items, src.defaultMode ?? DEFAULT_MODE, optional), true);
}

/** downwardAPI volume. */
export async function setUpDownwardAPI(ctx: SetUpContext): Promise<void> {
  const src = ctx.volume.downwardAPI ?? {};
  await write(ctx, downwardAPIPayload(ctx.pod, src.items ?? [], src.defaultMode ?? DEFAULT_MODE, ctx.allocatable), false);
}

async function tokenFile(ctx: SetUpContext, tp: V1ServiceAccountTokenProjection): Promise<Buffer> {
  const pod = ctx.pod;
  if (isStaticPod(pod)) {
    throw new PayloadError(`static pod "${podFullName(pod)}" may not use service account tokens: static pods cannot use API objects`);
  }
  if (ctx.objects === undefined) throw new PayloadError('cannot request a service account token: no kubeClient defined');
  const token = await ctx.tokens.get(ctx.objects, pod.metadata?.namespace ?? '', pod.spec?.serviceAccountName || 'default', {
    audiences: tp.audience ? [tp.audience] : [],
    expirationSeconds: tp.expirationSeconds ?? 3600,
    boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  });
  return Buffer.from(token, 'utf8');
}

/** projected volume (tmpfs): serviceAccountToken, configMap, secret and downwardAPI sources merged. */
export async function setUpProjected(ctx: SetUpContext): Promise<void> {
  const src = ctx.volume.projected ?? {};
  const defaultMode = src.defaultMode ?? DEFAULT_MODE;
  const fsGroup = ctx.pod.spec?.securityContext?.fsGroup;
  const payload: Payload = new Map();
  const errors: string[] = [];
  for (const s of src.sources ?? []) {
    try {
      let part: Payload = new Map();
      if (s.configMap !== undefined) {
        const optional = s.configMap.optional === true;
        const cm = await configMapData(ctx, s.configMap.name ?? '', optional);
        part = configMapPayload(cm, s.configMap.items, defaultMode, optional);
      } else if (s.secret !== undefined) {
        const optional = s.secret.optional === true;
        const sec = await secretData(ctx, s.secret.name ?? '', optional);
        part = secretPayload(sec, s.secret.items, defaultMode, optional);
      } else if (s.downwardAPI !== undefined) {
        part = downwardAPIPayload(ctx.pod, s.downwardAPI.items ?? [], defaultMode, ctx.allocatable);
      } else if (s.serviceAccountToken !== undefined) {
        // With fsGroup the token starts 0600 and ownership makes it 0640 (upstream).
        const mode = fsGroup !== undefined ? 0o600 : defaultMode;
        part.set(s.serviceAccountToken.path, { data: await tokenFile(ctx, s.serviceAccountToken), mode });
      } else {
        throw new PayloadError(`projected source ${Object.keys(s).join(',')} is not supported`);
      }
      for (const [k, v] of part) payload.set(k, v);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (errors.length === 1) throw new PayloadError(errors[0]);
  if (errors.length > 1) throw new PayloadError(`[${errors.join(', ')}]`);
  await write(ctx, payload, true);
}
