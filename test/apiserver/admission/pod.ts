import { child, clone, isObject, jsonEqual, meta, objects, setDefault, str, type JsonObject } from '../json.js';
import { forbidden, invalidValue, required, type StatusCause } from '../status.js';
import { checkLabel, checkSubdomain, randomSuffix } from '../names.js';
import { applyPodDefaults } from './pod-defaults.js';
import { canonicalizePodQuantities, quantityDecodeError } from '../quantity.js';
import type { Admission, AdmissionContext } from './types.js';

const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const MIRROR = 'kubernetes.io/config.mirror';

function addTolerations(spec: JsonObject): void {
  const tols = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const has = tols.some((t) => isObject(t) && (t.key === key || (t.operator === 'Exists' && t.key === undefined)));
    if (!has) tols.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tols;
}

/** ServiceAccount admission: default the SA, check it exists, add the projected kube-api-access volume and mounts. */
function serviceAccountAdmission(pod: JsonObject, ctx: AdmissionContext): void {
  const m = meta(pod);
  const spec = child(pod, 'spec');
  const annotations = isObject(m.annotations) ? m.annotations : {};
  if (annotations[MIRROR] !== undefined) return; // mirror pods may not reference service accounts
  setDefault(spec, 'serviceAccountName', str(spec, 'serviceAccount') ?? 'default');
  spec.serviceAccount = spec.serviceAccountName;
  const ns = String(m.namespace);
  const saName = String(spec.serviceAccountName);
  const sa = ctx.store.get('serviceaccounts', `${ns}/${saName}`);
  if (sa === undefined) {
    throw forbidden('pods', String(m.name ?? m.generateName ?? ''), `error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
  }
  if (spec.automountServiceAccountToken === false) return;
  if (spec.automountServiceAccountToken === undefined && sa.automountServiceAccountToken === false) return;
  const volName = `kube-api-access-${randomSuffix()}`;
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  volumes.push({
    name: volName,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 420,
    },
  });
  spec.volumes = volumes;
  for (const c of [...objects(spec, 'initContainers'), ...objects(spec, 'containers')]) {
    const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
    if (mounts.some((x) => isObject(x) && x.mountPath === SA_MOUNT)) continue;
    mounts.push({ name: volName, readOnly: true, mountPath: SA_MOUNT });
    c.volumeMounts = mounts;
  }
}

/** The PriorityClasses every cluster has (upstream scheduling/v1 SystemPriorityClasses). */
const SYSTEM_PRIORITY: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

/** Priority admission: resolves priorityClassName (only the system classes exist here) into priority. */
function priorityAdmission(pod: JsonObject): void {
  const spec = child(pod, 'spec');
  const cls = str(spec, 'priorityClassName');
  if (cls) {
    const value = SYSTEM_PRIORITY[cls];
    if (value === undefined) throw forbidden('pods', String(meta(pod).name ?? ''), `no PriorityClass with name ${cls} was found`);
    spec.priority = value;
  } else setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
}

/** Go serialisation of pod status: conditions always carry lastProbeTime/lastTransitionTime, statuses lastState/state. */
export function normalizePodStatus(pod: JsonObject): void {
  const status = pod.status;
  if (!isObject(status)) return;
  for (const c of objects(status, 'conditions')) {
    setDefault(c, 'lastProbeTime', null);
    setDefault(c, 'lastTransitionTime', null);
  }
  for (const k of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    for (const cs of objects(status, k)) {
      setDefault(cs, 'state', {});
      setDefault(cs, 'lastState', {});
      setDefault(cs, 'ready', false);
      setDefault(cs, 'restartCount', 0);
      setDefault(cs, 'image', '');
      setDefault(cs, 'imageID', '');
    }
  }
}

function validateContainers(spec: JsonObject, key: string, causes: StatusCause[]): void {
  const seen = new Set<string>();
  objects(spec, key).forEach((c, i) => {
    const f = `spec.${key}[${i}]`;
    const name = str(c, 'name');
    if (!name) causes.push(required(`${f}.name`));
    else {
      causes.push(...checkLabel(`${f}.name`, name));
      if (seen.has(name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"`, field: `${f}.name` });
      seen.add(name);
    }
    if (!str(c, 'image')) causes.push(required(`${f}.image`));
    objects(c, 'ports').forEach((p, j) => {
      const port = p.containerPort;
      if (typeof port !== 'number' || port < 1 || port > 65535) {
        causes.push(invalidValue(`${f}.ports[${j}].containerPort`, port ?? 0, 'must be between 1 and 65535, inclusive'));
      }
    });
  });
}

/** Pod validation (the subset of upstream ValidatePod that catches real mistakes). */
function validatePod(pod: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isObject(pod.spec) ? pod.spec : {};
  if (objects(spec, 'containers').length === 0) causes.push(required('spec.containers'));
  validateContainers(spec, 'containers', causes);
  validateContainers(spec, 'initContainers', causes);
  const vols = new Set<string>();
  objects(spec, 'volumes').forEach((v, i) => {
    const n = str(v, 'name') ?? '';
    if (!n) causes.push(required(`spec.volumes[${i}].name`));
    else if (vols.has(n)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${n}"`, field: `spec.volumes[${i}].name` });
    vols.add(n);
  });
  const rp = spec.restartPolicy;
  if (rp !== undefined && rp !== 'Always' && rp !== 'OnFailure' && rp !== 'Never') {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(rp)}: supported values: "Always", "OnFailure", "Never"`, field: 'spec.restartPolicy' });
  }
  const nodeName = str(spec, 'nodeName');
  if (nodeName) causes.push(...checkSubdomain('spec.nodeName', nodeName));
  return causes;
}

/** Fields of a pod spec that may change on update (upstream ValidatePodUpdate). */
function mutableMasked(spec: JsonObject): JsonObject {
  const s = clone(spec);
  for (const k of ['containers', 'initContainers']) for (const c of objects(s, k)) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  delete s.schedulingGates;
  return s;
}

function validatePodUpdate(old: JsonObject, next: JsonObject): StatusCause[] {
  const a = isObject(old.spec) ? old.spec : {};
  const b = isObject(next.spec) ? next.spec : {};
  if (jsonEqual(mutableMasked(a), mutableMasked(b))) return [];
  return [
    {
      reason: 'FieldValueForbidden',
      message:
        'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      field: 'spec',
    },
  ];
}

/** Admission for core/v1 pods: defaults, ServiceAccount, DefaultTolerationSeconds, Priority; validation. */
export const podAdmission: Admission = {
  create(pod, ctx) {
    if (canonicalizePodQuantities(child(pod, 'spec')).length > 0) throw quantityDecodeError('Pod');
    applyPodDefaults(pod);
    const spec = child(pod, 'spec');
    serviceAccountAdmission(pod, ctx);
    addTolerations(spec);
    priorityAdmission(pod);
    normalizePodStatus(pod);
  },
  update(_old, next) {
    if (canonicalizePodQuantities(child(next, 'spec')).length > 0) throw quantityDecodeError('Pod');
    applyPodDefaults(next);
    normalizePodStatus(next);
  },
  validate: validatePod,
  validateUpdate: validatePodUpdate,
};
