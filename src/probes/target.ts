/**
 * Where a network probe may go. Upstream probes whatever host the spec names; nodelet deliberately narrows that to
 * the pod's own IPs, the node's IPs and loopback, and never resolves a name other than `localhost`, so a manifest can
 * never make the agent send packets elsewhere (or trigger a DNS lookup).
 */
import { isIP } from 'node:net';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';

/** The addresses a probe of one pod may target. */
export interface ProbeTargetContext {
  pod: V1Pod;
  status: V1PodStatus;
  /** The node's address (hostNetwork pods are probed here). */
  nodeIP: string;
}

/** A resolved, allowed target, or why there is none. */
export type ProbeTarget =
  | { ok: true; ip: string; hostname: string }
  | { ok: false; pending: true; message: string }
  | { ok: false; pending: false; message: string };

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(ip: string): boolean {
  const v = ip.toLowerCase();
  return v.startsWith('127.') || v === '::1' || v.startsWith('::ffff:127.');
}

/** The default host of a probe: the node IP for hostNetwork pods, else the pod IP ('' while unknown). */
export function defaultProbeHost(ctx: ProbeTargetContext): string {
  if (ctx.pod.spec?.hostNetwork === true) return ctx.nodeIP || ctx.status.podIP || '';
  return ctx.status.podIP ?? '';
}

/**
 * Resolves `host` (from the probe spec, may be empty) to an IP the probe may contact. `pending` means the pod has no
 * IP yet (the worker waits, like upstream waits for status); otherwise a refusal is reported as a probe failure.
 */
export function resolveProbeTarget(host: string | undefined, ctx: ProbeTargetContext): ProbeTarget {
  const wanted = host === undefined || host === '' ? defaultProbeHost(ctx) : host;
  if (wanted === '') return { ok: false, pending: true, message: 'pod has no IP address yet' };
  const hostname = wanted.replace(/^\[(.*)\]$/, '$1');
  if (hostname.toLowerCase() === 'localhost') return { ok: true, ip: '127.0.0.1', hostname };
  if (isIP(hostname) === 0) {
    return {
      ok: false,
      pending: false,
      message: `probe host ${JSON.stringify(hostname)} refused: nodelet resolves no names for probes (use an IP address)`,
    };
  }
  if (!allowedIPs(ctx).has(hostname.toLowerCase()) && !isLoopback(hostname)) {
    return {
      ok: false,
      pending: false,
      message: `probe host ${hostname} refused: only the pod IP, the node IP or loopback may be probed`,
    };
  }
  return { ok: true, ip: hostname, hostname };
}

function allowedIPs(ctx: ProbeTargetContext): Set<string> {
  const s = new Set<string>();
  const add = (ip: string | undefined): void => {
    if (ip) s.add(ip.toLowerCase());
  };
  add(ctx.nodeIP);
  add(ctx.status.hostIP);
  add(ctx.status.podIP);
  for (const p of ctx.status.podIPs ?? []) add(p.ip);
  for (const p of ctx.status.hostIPs ?? []) add(p.ip);
  return s;
}
