/**
 * certificates.k8s.io/v1 CertificateSigningRequests in the test API server, as a kubeadm cluster runs them:
 * admission stamps the requester (`spec.username`/`groups`) and validates the request; the approver (csrapproving)
 * approves `kubernetes.io/kube-apiserver-client-kubelet` requests for `system:node:<name>`/`system:nodes` made with a
 * bootstrap token or by the node itself (renewal); the signer (csrsigning) issues certificates for approved requests
 * of the kubelet signers with the server's CA. `kubernetes.io/kubelet-serving` requests wait for
 * `kubectl certificate approve` (PUT …/approval), as with kubeadm.
 */
import { findResource } from '../resources.js';
import { clone, isObject, meta, type JsonObject } from '../json.js';
import type { Registry } from '../registry.js';
import type { StatusCause } from '../status.js';
import { ControllerLoop } from '../controllers/loop.js';
import { issueCertificate, parseCsr, type SigningCa } from './signer.js';

/** Signers this server issues for. */
export const SIGNERS = ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-client'];
const MAX_LIFETIME_S = 365 * 24 * 3600;

type Condition = { type: string; status: string; reason?: string; message?: string };

function spec(o: JsonObject): JsonObject {
  return isObject(o.spec) ? o.spec : {};
}

function conditions(o: JsonObject): Condition[] {
  const st = isObject(o.status) ? o.status : {};
  return Array.isArray(st.conditions) ? (st.conditions as Condition[]) : [];
}

function requestPem(o: JsonObject): string {
  return Buffer.from(String(spec(o).request ?? ''), 'base64').toString('utf8');
}

/** Field errors of a CSR (create and update), as upstream's validation words them. */
export function validateCsr(o: JsonObject): StatusCause[] {
  const s = spec(o);
  const causes: StatusCause[] = [];
  try {
    parseCsr(requestPem(o));
  } catch (err) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.request', message: `Invalid value: "<request>": ${(err as Error).message}` });
  }
  if (typeof s.signerName !== 'string' || s.signerName === '') causes.push({ reason: 'FieldValueRequired', field: 'spec.signerName', message: 'Required value' });
  if (!Array.isArray(s.usages) || s.usages.length === 0) causes.push({ reason: 'FieldValueRequired', field: 'spec.usages', message: 'Required value' });
  if (s.expirationSeconds !== undefined && (typeof s.expirationSeconds !== 'number' || s.expirationSeconds < 600)) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${String(s.expirationSeconds)}: may not specify a duration less than 600 seconds (10 minutes)` });
  }
  return causes;
}

function nodeRequest(o: JsonObject): { ok: boolean; cn: string } {
  try {
    const p = parseCsr(requestPem(o));
    return { ok: p.commonName.startsWith('system:node:') && p.organizations.length === 1 && p.organizations[0] === 'system:nodes', cn: p.commonName };
  } catch {
    return { ok: false, cn: '' };
  }
}

/** Whether csrapproving would approve it: a kubelet client CSR from a bootstrap token or from the node itself. */
function autoApprovable(o: JsonObject): boolean {
  const s = spec(o);
  if (s.signerName !== 'kubernetes.io/kube-apiserver-client-kubelet') return false;
  const req = nodeRequest(o);
  if (!req.ok) return false;
  const groups = Array.isArray(s.groups) ? (s.groups as string[]) : [];
  return groups.includes('system:bootstrappers') || s.username === req.cn;
}

function signerProblem(o: JsonObject): string | undefined {
  const s = spec(o);
  const usages = Array.isArray(s.usages) ? (s.usages as string[]) : [];
  const p = parseCsr(requestPem(o));
  const node = p.commonName.startsWith('system:node:') && p.organizations.length === 1 && p.organizations[0] === 'system:nodes';
  if (s.signerName === 'kubernetes.io/kube-apiserver-client-kubelet') {
    if (!node || usages.some((u) => !['digital signature', 'key encipherment', 'client auth'].includes(u)) || p.sanDer !== undefined) return 'invalid kubelet client certificate request';
  }
  if (s.signerName === 'kubernetes.io/kubelet-serving') {
    if (!node || usages.some((u) => !['digital signature', 'key encipherment', 'server auth'].includes(u))) return 'invalid kubelet serving certificate request';
    if (p.dnsNames.length + p.ipCount === 0 || p.otherSanCount > 0) return 'DNS or IP subjectAltName is required';
  }
  return undefined;
}

/** Starts the approver and signer. */
export function startCsrController(reg: Registry, ca: SigningCa): ControllerLoop {
  const def = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;
  const write = (o: JsonObject, status: JsonObject): void => {
    const next = clone(o);
    next.status = { ...(isObject(o.status) ? o.status : {}), ...status };
    try {
      reg.update(def, undefined, String(meta(o).name), next, { sub: 'status', internal: true });
    } catch {
      // a concurrent writer: its event runs sync again
    }
  };
  const sync = (): void => {
    const now = new Date();
    for (const o of reg.list(def, undefined)) {
      const conds = conditions(o);
      const has = (t: string): boolean => conds.some((c) => c.type === t && c.status === 'True');
      if (has('Denied') || has('Failed')) continue;
      const stamp = { lastUpdateTime: now.toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z') };
      if (!has('Approved')) {
        if (autoApprovable(o)) {
          write(o, { conditions: [...conds, { type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.', ...stamp }] });
        }
        continue;
      }
      const st = isObject(o.status) ? o.status : {};
      const s = spec(o);
      if ((typeof st.certificate === 'string' && st.certificate !== '') || !SIGNERS.includes(String(s.signerName))) continue;
      const problem = signerProblem(o);
      if (problem !== undefined) {
        write(o, { conditions: [...conds, { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, ...stamp }] });
        continue;
      }
      const lifetime = Math.min(typeof s.expirationSeconds === 'number' ? s.expirationSeconds : MAX_LIFETIME_S, MAX_LIFETIME_S);
      const pem = issueCertificate(ca, parseCsr(requestPem(o)), Array.isArray(s.usages) ? (s.usages as string[]) : [], lifetime, now.getTime());
      write(o, { certificate: Buffer.from(pem).toString('base64') });
    }
  };
  const loop = new ControllerLoop(reg.store, ['certificatesigningrequests.certificates.k8s.io'], sync);
  loop.kick();
  return loop;
}
