/**
 * Pure handling of plugin results: normalizing 0.3.x/0.4.0/1.0.0 results to one shape, and the pod IPs of a result
 * (the addresses on the container-side interface, IPv4 first, then IPv6: dual-stack as the kubelet orders them).
 */
import { isIP } from 'node:net';
import { CniError } from './errors.js';
import type { CniResult } from './types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Normalizes a plugin's stdout JSON. Throws CniError('plugin-error') when it is not a result. */
export function parseResult(json: unknown, source: string): CniResult {
  if (!isObject(json)) throw new CniError('plugin-error', `${source}: result is not a JSON object`);
  const ips = Array.isArray(json['ips']) ? json['ips'] : [];
  const interfaces = Array.isArray(json['interfaces']) ? json['interfaces'] : [];
  const routes = Array.isArray(json['routes']) ? json['routes'] : [];
  return {
    cniVersion: typeof json['cniVersion'] === 'string' ? json['cniVersion'] : '',
    interfaces: interfaces.filter(isObject).map((i) => ({
      name: String(i['name'] ?? ''),
      ...(typeof i['mac'] === 'string' ? { mac: i['mac'] } : {}),
      ...(typeof i['sandbox'] === 'string' ? { sandbox: i['sandbox'] } : {}),
    })),
    ips: ips.filter(isObject).map((ip) => ({
      address: String(ip['address'] ?? ''),
      ...(typeof ip['gateway'] === 'string' ? { gateway: ip['gateway'] } : {}),
      ...(typeof ip['interface'] === 'number' ? { interface: ip['interface'] } : {}),
    })),
    routes: routes.filter(isObject).map((r) => ({ dst: String(r['dst'] ?? ''), ...(typeof r['gw'] === 'string' ? { gw: r['gw'] } : {}) })),
    dns: isObject(json['dns']) ? (json['dns'] as CniResult['dns']) : {},
  };
}

/** Serializes a normalized result as the given spec version expects it in `prevResult`. */
export function resultForVersion(result: CniResult, cniVersion: string): Record<string, unknown> {
  const legacy = cniVersion.startsWith('0.');
  return {
    cniVersion,
    interfaces: result.interfaces,
    ips: result.ips.map((ip) => (legacy ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : ip)),
    routes: result.routes,
    dns: result.dns,
  };
}

/**
 * The pod IPs of a result: addresses of IPs whose interface is inside the sandbox (or unspecified), without prefix
 * length, IPv4 before IPv6, duplicates dropped.
 */
export function podIps(result: CniResult): string[] {
  const inSandbox = (i: number | undefined): boolean => {
    if (i === undefined) return true;
    const itf = result.interfaces[i];
    return itf === undefined || (itf.sandbox !== undefined && itf.sandbox !== '');
  };
  const out: string[] = [];
  for (const ip of result.ips) {
    const addr = ip.address.split('/')[0] ?? '';
    if (isIP(addr) === 0 || !inSandbox(ip.interface) || out.includes(addr)) continue;
    out.push(addr);
  }
  return [...out.filter((a) => isIP(a) === 4), ...out.filter((a) => isIP(a) === 6)];
}
