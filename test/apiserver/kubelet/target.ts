/**
 * Where the API server reaches a pod's kubelet, as kube-apiserver v1.33 resolves it (checked against the real one):
 * the pod's `spec.nodeName` → the Node's address of the first preferred type (`--kubelet-preferred-address-types`,
 * here InternalIP then Hostname) and `status.daemonEndpoints.kubeletEndpoint.Port` (10250 when unset), over HTTPS
 * with the server's kubelet client certificate. Errors carry the real server's status codes and messages.
 */
import type { Registry } from '../registry.js';
import { findResource } from '../resources.js';
import { isObject, meta, obj, objects, str, type JsonObject } from '../json.js';
import { ApiError, badRequest, notFound } from '../status.js';

/** A kubelet endpoint. */
export interface KubeletEndpoint {
  host: string;
  port: number;
}

/** A Status error without a `reason` (the real server sends some 500s that way). */
export class BareStatusError extends ApiError {
  override toStatus(): JsonObject {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, code: this.code };
  }
}

const PREFERRED = ['InternalIP', 'Hostname'];

const podsDef = findResource('', 'v1', 'pods')!;
const nodesDef = findResource('', 'v1', 'nodes')!;

/**
 * The kubelet of node `nodeName`. A missing node is reported as `missingAs` "<node>" not found: pod subresources say
 * `pods "<node>" not found` (a quirk of the real server), nodes/proxy `nodes "<node>" not found`.
 */
export function kubeletOf(reg: Registry, nodeName: string, missingAs: 'pods' | 'nodes'): KubeletEndpoint {
  let node: JsonObject;
  try {
    node = reg.get(nodesDef, undefined, nodeName);
  } catch {
    throw notFound(missingAs, nodeName);
  }
  const status = obj(node, 'status');
  const addrs = objects(status, 'addresses');
  let host: string | undefined;
  for (const t of PREFERRED) {
    host = addrs.find((a) => str(a, 'type') === t)?.address as string | undefined;
    if (host) break;
  }
  if (!host) {
    throw new BareStatusError(500, '', `no preferred addresses found; known addresses: [${addrs.map((a) => `{${str(a, 'type') ?? ''} ${str(a, 'address') ?? ''}}`).join(' ')}]`);
  }
  const de = obj(status, 'daemonEndpoints');
  const ke = de && isObject(de.kubeletEndpoint) ? de.kubeletEndpoint : undefined;
  const port = typeof ke?.Port === 'number' && ke.Port > 0 ? ke.Port : 10250;
  return { host, port };
}

/** Names of containers of a list, `a b` as Go prints a joined list. */
function names(list: JsonObject[]): string {
  return list.map((c) => str(c, 'name') ?? '').join(' ');
}

/** A pod and the container a subresource request is about (default: the only container). */
export interface PodTarget {
  pod: JsonObject;
  namespace: string;
  name: string;
  container: string;
  nodeName: string;
}

/**
 * Resolves the pod and container of pods/log|exec|attach (`container` may be empty; portforward passes
 * `needContainer=false`). 404 for a missing pod, 400 for an ambiguous or unknown container, as upstream.
 */
export function podTarget(reg: Registry, namespace: string, name: string, container: string, needContainer: boolean): PodTarget {
  const pod = reg.get(podsDef, namespace, name);
  const spec = obj(pod, 'spec') ?? {};
  const ctrs = objects(spec, 'containers');
  const inits = objects(spec, 'initContainers');
  const eph = objects(spec, 'ephemeralContainers');
  let c = container;
  if (needContainer) {
    if (c === '') {
      if (ctrs.length === 1) c = str(ctrs[0], 'name') ?? '';
      else if (ctrs.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
      else {
        let msg = `a container name must be specified for pod ${name}, choose one of: [${names(ctrs)}]`;
        if (inits.length > 0) msg += ` or one of the init containers: [${names(inits)}]`;
        throw badRequest(msg);
      }
    } else if (![...ctrs, ...inits, ...eph].some((x) => str(x, 'name') === c)) {
      throw badRequest(`container ${c} is not valid for pod ${name}`);
    }
  }
  return { pod, namespace, name: String(meta(pod).name ?? name), container: c, nodeName: str(spec, 'nodeName') ?? '' };
}

/** The text Go's net package gives a failed dial, e.g. `dial tcp 10.0.0.1:10250: connect: connection refused`. */
export function dialErrorText(err: unknown, ep: KubeletEndpoint): string {
  const code = (err as { code?: string }).code;
  const addr = ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
  const why =
    code === 'ECONNREFUSED'
      ? 'connect: connection refused'
      : code === 'EHOSTUNREACH'
        ? 'connect: no route to host'
        : code === 'ENETUNREACH'
          ? 'connect: network is unreachable'
          : code === 'ETIMEDOUT'
            ? 'i/o timeout'
            : err instanceof Error
              ? err.message
              : String(err);
  return `dial tcp ${addr}: ${why}`;
}

/** nodes/proxy refuses loopback and link-local kubelet addresses (upstream proxyutil.IsProxyableIP). */
export function isProxyableHost(host: string): boolean {
  if (/^127\./.test(host) || host === '::1' || host === 'localhost') return false;
  if (/^169\.254\./.test(host) || /^fe80:/i.test(host)) return false;
  if (/^(224\.0\.0\.|ff0[12]:)/i.test(host)) return false;
  return true;
}
