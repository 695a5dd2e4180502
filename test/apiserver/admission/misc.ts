import { child, isObject, objects, setDefault, str, type JsonObject } from '../json.js';
import { badRequest, required, type StatusCause } from '../status.js';
import type { Admission } from './types.js';
import { canonicalizeNodeQuantities, quantityDecodeError } from '../quantity.js';

const MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

/** Lease spec times are MicroTime: exactly six fractional digits or the decode fails (35-…). */
function checkMicroTime(lease: JsonObject): void {
  const spec = isObject(lease.spec) ? lease.spec : {};
  for (const k of ['acquireTime', 'renewTime']) {
    const v = spec[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !MICRO.test(v)) {
      const s = String(v);
      const frac = /(\.\d*)?(Z|[+-]\d{2}:\d{2})?$/.exec(s)?.[0] ?? s;
      throw badRequest(
        `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(s)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(frac)} as ".000000"`,
      );
    }
  }
}

/** coordination.k8s.io/v1 Lease: MicroTime decoding. */
export const leaseAdmission: Admission = {
  create: checkMicroTime,
  update: (_old, next) => checkMicroTime(next),
};

function nodeStatusDefaults(node: JsonObject): void {
  const status = child(node, 'status');
  setDefault(status, 'daemonEndpoints', { kubeletEndpoint: { Port: 0 } });
  const info = child(status, 'nodeInfo');
  for (const k of ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture']) {
    setDefault(info, k, '');
  }
}

/** core/v1 Node: TaintNodesByCondition adds the not-ready NoSchedule taint on create (36-create-node.txt). */
export const nodeAdmission: Admission = {
  create(node) {
    const spec = child(node, 'spec');
    const taints = Array.isArray(spec.taints) ? spec.taints : [];
    if (!taints.some((t) => isObject(t) && t.key === 'node.kubernetes.io/not-ready')) {
      taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
    }
    spec.taints = taints;
    nodeStatusDefaults(node);
    if (canonicalizeNodeQuantities(node).length > 0) throw quantityDecodeError('Node');
  },
  update(_old, next) {
    nodeStatusDefaults(next);
    if (canonicalizeNodeQuantities(next).length > 0) throw quantityDecodeError('Node');
  },
};

/** core/v1 Event defaults as the Go struct serialises them (38-create-event.txt). */
export const eventAdmission: Admission = {
  create(ev) {
    setDefault(ev, 'eventTime', null);
    setDefault(ev, 'reportingComponent', '');
    setDefault(ev, 'reportingInstance', '');
  },
  validate(ev) {
    const causes: StatusCause[] = [];
    const io = isObject(ev.involvedObject) ? ev.involvedObject : undefined;
    if (io === undefined) causes.push(required('involvedObject'));
    return causes;
  },
};

/** discovery.k8s.io/v1 EndpointSlice: port protocol default, addressType required. */
export const endpointSliceAdmission: Admission = {
  create(es) {
    for (const p of objects(es, 'ports')) setDefault(p, 'protocol', 'TCP');
  },
  update(_old, es) {
    for (const p of objects(es, 'ports')) setDefault(p, 'protocol', 'TCP');
  },
  validate(es) {
    const t = str(es, 'addressType');
    if (!t) return [required('addressType')];
    if (!['IPv4', 'IPv6', 'FQDN'].includes(t)) {
      return [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${t}": supported values: "FQDN", "IPv4", "IPv6"`, field: 'addressType' }];
    }
    return [];
  },
};

/** core/v1 Namespace: phase Active, the kubernetes finalizer. */
export const namespaceAdmission: Admission = {
  create(ns) {
    setDefault(child(ns, 'spec'), 'finalizers', ['kubernetes']);
    setDefault(child(ns, 'status'), 'phase', 'Active');
  },
};

/** core/v1 Secret: type Opaque by default. */
export const secretAdmission: Admission = {
  create(s) {
    if (!s.type) s.type = 'Opaque';
  },
};
