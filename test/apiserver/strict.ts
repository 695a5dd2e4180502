import { isObject, type Json, type JsonObject } from './json.js';
import type { ResourceDef } from './resources.js';
import { badRequest } from './status.js';

/** A field's type: a named struct, a list of one, or anything (not checked). */
type FieldType = string | [string] | '*';
type Struct = Record<string, FieldType>;

const s = (fields: string, typed: Struct = {}): Struct => {
  const out: Struct = {};
  for (const f of fields.split(/\s+/).filter((x) => x)) out[f] = '*';
  return { ...out, ...typed };
};

/**
 * Known fields of the structs clients usually get wrong, for `fieldValidation=Strict` (current servers reject
 * unknown fields with 400; v1.24 accepted them, 23-…). Structs not listed here are not checked.
 */
const STRUCTS: Record<string, Struct> = {
  ObjectMeta: s('name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields'),
  Pod: s('apiVersion kind status', { metadata: 'ObjectMeta', spec: 'PodSpec' }),
  PodSpec: s(
    'activeDeadlineSeconds affinity automountServiceAccountToken dnsConfig dnsPolicy enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname imagePullSecrets nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates securityContext serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations topologySpreadConstraints',
    { containers: ['Container'], initContainers: ['Container'], volumes: ['Volume'] },
  ),
  Container: s('args command env envFrom image imagePullPolicy lifecycle livenessProbe name readinessProbe resizePolicy resources restartPolicy securityContext startupProbe stdin stdinOnce terminationMessagePath terminationMessagePolicy tty volumeDevices workingDir', {
    ports: ['ContainerPort'],
    volumeMounts: ['VolumeMount'],
    env: ['EnvVar'],
  }),
  ContainerPort: s('containerPort hostIP hostPort name protocol'),
  VolumeMount: s('mountPath mountPropagation name readOnly recursiveReadOnly subPath subPathExpr'),
  EnvVar: s('name value valueFrom'),
  Volume: s('name awsElasticBlockStore azureDisk azureFile cephfs cinder configMap csi downwardAPI emptyDir ephemeral fc flexVolume flocker gcePersistentDisk gitRepo glusterfs hostPath image iscsi nfs persistentVolumeClaim photonPersistentDisk portworxVolume projected quobyte rbd scaleIO secret storageos vsphereVolume'),
  Service: s('apiVersion kind status', { metadata: 'ObjectMeta', spec: 'ServiceSpec' }),
  ServiceSpec: s('allocateLoadBalancerNodePorts clusterIP clusterIPs externalIPs externalName externalTrafficPolicy healthCheckNodePort internalTrafficPolicy ipFamilies ipFamilyPolicy loadBalancerClass loadBalancerIP loadBalancerSourceRanges publishNotReadyAddresses selector sessionAffinity sessionAffinityConfig trafficDistribution type', { ports: ['ServicePort'] }),
  ServicePort: s('appProtocol name nodePort port protocol targetPort'),
  ConfigMap: s('apiVersion kind data binaryData immutable', { metadata: 'ObjectMeta' }),
  Secret: s('apiVersion kind data stringData type immutable', { metadata: 'ObjectMeta' }),
  Node: s('apiVersion kind spec status', { metadata: 'ObjectMeta' }),
  Namespace: s('apiVersion kind spec status', { metadata: 'ObjectMeta' }),
  Lease: s('apiVersion kind', { metadata: 'ObjectMeta', spec: 'LeaseSpec' }),
  LeaseSpec: s('acquireTime holderIdentity leaseDurationSeconds leaseTransitions renewTime preferredHolder strategy'),
  EndpointSlice: s('apiVersion kind addressType endpoints ports', { metadata: 'ObjectMeta' }),
};

function walk(v: Json | undefined, type: FieldType, path: string, out: string[]): void {
  if (type === '*' || v === undefined || v === null) return;
  if (Array.isArray(type)) {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, type[0], `${path}[${i}]`, out));
    return;
  }
  const st = STRUCTS[type];
  if (st === undefined || !isObject(v)) return;
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    const ft = st[k];
    if (ft === undefined) out.push(`unknown field "${p}"`);
    else walk(x, ft, p, out);
  }
}

/** Throws 400 BadRequest naming every unknown field, like a current kube-apiserver with fieldValidation=Strict. */
export function checkStrict(def: ResourceDef, body: JsonObject): void {
  if (STRUCTS[def.kind] === undefined) return;
  const out: string[] = [];
  walk(body, def.kind, '', out);
  if (out.length === 0) return;
  const gv = def.group ? `${def.group}/${def.version}` : def.version;
  throw badRequest(`${def.kind} in version "${gv}" cannot be handled as a ${def.kind}: strict decoding error: ${out.join(', ')}`);
}
