import type { ResourceDef } from '../resources.js';
import { storageKey } from '../resources.js';
import { endpointSliceAdmission, eventAdmission, leaseAdmission, namespaceAdmission, nodeAdmission, secretAdmission } from './misc.js';
import { podAdmission } from './pod.js';
import { serviceAdmission } from './service.js';
import type { Admission } from './types.js';
import { validateCsr } from '../certificates/controller.js';

export type { Admission, AdmissionContext } from './types.js';
export { ServiceAllocator } from './service-alloc.js';

const BY_KEY: Record<string, Admission> = {
  'certificatesigningrequests.certificates.k8s.io': { validate: validateCsr },
  pods: podAdmission,
  services: serviceAdmission,
  nodes: nodeAdmission,
  events: eventAdmission,
  namespaces: namespaceAdmission,
  secrets: secretAdmission,
  'leases.coordination.k8s.io': leaseAdmission,
  'endpointslices.discovery.k8s.io': endpointSliceAdmission,
};

/** The admission chain of a resource type (empty for types without special handling). */
export function admissionFor(r: ResourceDef): Admission {
  return BY_KEY[storageKey(r)] ?? {};
}
