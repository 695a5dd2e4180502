/**
 * The Node authorizer's graph, computed on demand from the store instead of kept up to date by informers: an object
 * is related to node N when a pod bound to N (spec.nodeName) references it — secrets (image pull secrets, env,
 * envFrom, secret and projected volumes, volume plugins' secretRefs), configmaps (env, envFrom, configMap and
 * projected volumes), PVCs (persistentVolumeClaim and ephemeral volumes), its service account — or is the pod itself
 * (plugin/pkg/auth/authorizer/node/graph_populator.go, podutil.VisitPodSecretNames / VisitPodConfigmapNames).
 */
import { isObject, str, type JsonObject } from '../json.js';
import type { Store } from '../store.js';

/** The kinds of vertices the graph relates to nodes. */
export type VertexType = 'pod' | 'secret' | 'configmap' | 'pvc' | 'serviceaccount';

const objects = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const nameOf = (v: unknown, key = 'name'): string | undefined => (isObject(v) ? str(v, key) : undefined);

function containers(spec: JsonObject): JsonObject[] {
  return [...objects(spec.initContainers), ...objects(spec.containers), ...objects(spec.ephemeralContainers)];
}

/** Names of the objects of `type` that `pod` references (its namespace implied). */
export function podReferences(pod: JsonObject, type: Exclude<VertexType, 'pod'>): string[] {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const out: (string | undefined)[] = [];
  const volumes = objects(spec.volumes);
  if (type === 'serviceaccount') return [str(spec, 'serviceAccountName') ?? 'default'];
  if (type === 'pvc') {
    for (const v of volumes) {
      out.push(nameOf(v.persistentVolumeClaim, 'claimName'));
      if (isObject(v.ephemeral)) out.push(`${String((pod.metadata as JsonObject | undefined)?.name ?? '')}-${String(v.name ?? '')}`);
    }
  } else {
    const keyRef = type === 'secret' ? 'secretKeyRef' : 'configMapKeyRef';
    const fromRef = type === 'secret' ? 'secretRef' : 'configMapRef';
    if (type === 'secret') for (const s of objects(spec.imagePullSecrets)) out.push(str(s, 'name'));
    for (const c of containers(spec)) {
      for (const e of objects(c.env)) out.push(isObject(e.valueFrom) ? nameOf(e.valueFrom[keyRef]) : undefined);
      for (const e of objects(c.envFrom)) out.push(nameOf(e[fromRef]));
    }
    for (const v of volumes) {
      if (type === 'secret') {
        out.push(nameOf(v.secret, 'secretName'), nameOf(v.azureFile, 'secretName'));
        for (const plugin of ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos']) out.push(nameOf(isObject(v[plugin]) ? v[plugin].secretRef : undefined));
        out.push(nameOf(isObject(v.csi) ? v.csi.nodePublishSecretRef : undefined));
      } else out.push(nameOf(v.configMap));
      const sources = isObject(v.projected) ? objects(v.projected.sources) : [];
      for (const s of sources) out.push(nameOf(type === 'secret' ? s.secret : s.configMap));
    }
  }
  return [...new Set(out.filter((n): n is string => n !== undefined && n !== ''))];
}

/** True when `namespace/name` of `type` is related to node `node` (hasPathFrom). */
export function relatedToNode(store: Store, node: string, type: VertexType, namespace: string, name: string): boolean {
  const bound = store.list('pods', namespace).filter((p) => isObject(p.spec) && p.spec.nodeName === node);
  if (type === 'pod') return bound.some((p) => isObject(p.metadata) && p.metadata.name === name);
  return bound.some((p) => podReferences(p, type).includes(name));
}
