import { child, isObject, meta, objects, setDefault, str, type JsonObject } from '../json.js';
import { invalid, invalidValue, required, type StatusCause } from '../status.js';
import { ServiceAllocator } from './service-alloc.js';
import type { Admission, AdmissionContext } from './types.js';

const needsNodePorts = (type: string): boolean => type === 'NodePort' || type === 'LoadBalancer';

function defaults(svc: JsonObject): JsonObject {
  const spec = child(svc, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = child(child(spec, 'sessionAffinityConfig'), 'clientIP');
    setDefault(cfg, 'timeoutSeconds', 10800);
  }
  for (const p of objects(spec, 'ports')) {
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port ?? 0;
  }
  const type = String(spec.type);
  if (type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    if (needsNodePorts(type)) setDefault(spec, 'externalTrafficPolicy', 'Cluster');
    if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  }
  setDefault(child(svc, 'status'), 'loadBalancer', {});
  return spec;
}

function allocate(svc: JsonObject, ctx: AdmissionContext, old: JsonObject | undefined): void {
  const spec = child(svc, 'spec');
  const oldSpec = old && isObject(old.spec) ? old.spec : undefined;
  const type = String(spec.type);
  const name = String(meta(svc).name);
  if (type === 'ExternalName') return;
  const oldIp = str(oldSpec, 'clusterIP');
  if (spec.clusterIP === undefined && oldIp !== undefined) spec.clusterIP = oldIp;
  const want = str(spec, 'clusterIP');
  if (want === 'None') {
    spec.clusterIPs = ['None'];
  } else if (want === undefined || want === '') {
    spec.clusterIP = ctx.allocator.allocateIp()!;
    spec.clusterIPs = [spec.clusterIP];
  } else if (want !== oldIp) {
    if (!ServiceAllocator.inRange(want)) {
      throw invalid('Service', name, [invalidValue('spec.clusterIPs', `[]string{"${want}"}`, `failed to allocate IP ${want}: the provided IP (${want}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`)]);
    }
    if (ctx.allocator.allocateIp(want) === undefined) {
      throw invalid('Service', name, [invalidValue('spec.clusterIPs', `[]string{"${want}"}`, `failed to allocate IP ${want}: provided IP is already allocated`)]);
    }
    spec.clusterIPs = [want];
  } else setDefault(spec, 'clusterIPs', [want]);
  setDefault(spec, 'ipFamilies', ['IPv4']);
  setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
  if (!needsNodePorts(type)) return;
  const oldPorts = objects(oldSpec, 'ports');
  objects(spec, 'ports').forEach((p, i) => {
    const prev = oldPorts.find((o) => o.port === p.port && o.protocol === p.protocol)?.nodePort;
    if (p.nodePort === undefined && typeof prev === 'number') p.nodePort = prev;
    if (typeof p.nodePort === 'number' && p.nodePort === prev) return;
    if (typeof p.nodePort === 'number') {
      if (ctx.allocator.allocatePort(p.nodePort) === undefined) {
        throw invalid('Service', name, [invalidValue(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated')]);
      }
    } else p.nodePort = ctx.allocator.allocatePort()!;
  });
}

function release(svc: JsonObject, ctx: AdmissionContext): void {
  const spec = isObject(svc.spec) ? svc.spec : {};
  const ip = str(spec, 'clusterIP');
  if (ip && ip !== 'None') ctx.allocator.releaseIp(ip);
  for (const p of objects(spec, 'ports')) if (typeof p.nodePort === 'number') ctx.allocator.releasePort(p.nodePort);
}

function validate(svc: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isObject(svc.spec) ? svc.spec : {};
  const type = spec.type ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(String(type))) {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(type)}: supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`, field: 'spec.type' });
  }
  const ports = objects(spec, 'ports');
  if (type !== 'ExternalName' && spec.clusterIP !== 'None' && ports.length === 0) causes.push(required('spec.ports'));
  ports.forEach((p, i) => {
    if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) {
      causes.push(invalidValue(`spec.ports[${i}].port`, p.port ?? 0, 'must be between 1 and 65535, inclusive'));
    }
    if (ports.length > 1 && !str(p, 'name')) causes.push(required(`spec.ports[${i}].name`));
  });
  return causes;
}

/** Admission for core/v1 services: defaults (31/32), ClusterIP and NodePort allocation, validation. */
export const serviceAdmission: Admission = {
  create(svc, ctx) {
    defaults(svc);
    allocate(svc, ctx, undefined);
  },
  update(old, next, ctx) {
    defaults(next);
    allocate(next, ctx, old);
  },
  validate,
  deleted: release,
};
