import { child, isObject, objects, setDefault, str, type Json, type JsonObject } from '../json.js';

/** Upstream image pull policy default: Always for `:latest` or no tag (without digest), else IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = colon > lastSlash ? image.slice(colon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: Json | undefined): void {
  if (!isObject(p)) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  defaultHandler(p);
  const grpc = p.grpc;
  if (isObject(grpc)) setDefault(grpc, 'service', '');
}

function defaultHandler(h: JsonObject): void {
  const http = h.httpGet;
  if (isObject(http)) {
    setDefault(http, 'path', '/');
    setDefault(http, 'scheme', 'HTTP');
  }
}

function defaultEnv(c: JsonObject): void {
  for (const e of objects(c, 'env')) {
    const from = e.valueFrom;
    if (isObject(from) && isObject(from.fieldRef)) setDefault(from.fieldRef, 'apiVersion', 'v1');
  }
}

function defaultContainer(c: JsonObject): void {
  setDefault(c, 'resources', {});
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'imagePullPolicy', defaultPullPolicy(str(c, 'image') ?? ''));
  for (const p of objects(c, 'ports')) setDefault(p, 'protocol', 'TCP');
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lc = c.lifecycle;
  if (isObject(lc)) {
    if (isObject(lc.postStart)) defaultHandler(lc.postStart);
    if (isObject(lc.preStop)) defaultHandler(lc.preStop);
  }
  defaultEnv(c);
}

function defaultVolume(v: JsonObject): void {
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const src = v[k];
    if (isObject(src)) setDefault(src, 'defaultMode', 420);
  }
  if (isObject(v.hostPath)) setDefault(v.hostPath, 'type', '');
  if (isObject(v.downwardAPI)) {
    for (const it of objects(v.downwardAPI, 'items')) if (isObject(it.fieldRef)) setDefault(it.fieldRef, 'apiVersion', 'v1');
  }
}

/** QoS class as upstream computes it from requests/limits of all containers. */
export function qosClass(spec: JsonObject): string {
  const all = [...objects(spec, 'containers'), ...objects(spec, 'initContainers')];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const res = isObject(c.resources) ? c.resources : {};
    const req = isObject(res.requests) ? res.requests : {};
    const lim = isObject(res.limits) ? res.limits : {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      const rq = req[r] ?? lim[r];
      if (lim[r] === undefined || String(rq) !== String(lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Applies upstream SetDefaults_Pod / PodSpec / Container / Volume / Probe defaults (07-create-pod-defaults…). */
export function applyPodDefaults(pod: JsonObject): void {
  const spec = child(pod, 'spec');
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'enableServiceLinks', true);
  // Limits without requests: requests default to limits (upstream SetDefaults_ResourceList behaviour for pods).
  for (const c of [...objects(spec, 'containers'), ...objects(spec, 'initContainers')]) {
    defaultContainer(c);
    const res = c.resources;
    if (isObject(res) && isObject(res.limits)) {
      const req = child(res, 'requests');
      for (const [k, v] of Object.entries(res.limits)) setDefault(req, k, v);
    }
    if (spec.hostNetwork === true) for (const p of objects(c, 'ports')) setDefault(p, 'hostPort', p.containerPort ?? 0);
  }
  for (const v of objects(spec, 'volumes')) defaultVolume(v);
  const status = child(pod, 'status');
  setDefault(status, 'phase', 'Pending');
  setDefault(status, 'qosClass', qosClass(spec));
}
