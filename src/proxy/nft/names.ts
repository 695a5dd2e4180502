/**
 * Object names of kube-proxy's nftables mode, computed exactly as upstream (pkg/proxy/nftables/proxier.go):
 * `<prefix>-<first 8 chars of base32(sha256(base))>-<base>` where base is `ns/name/proto/portName` for service
 * chains and `ns/name/proto/portName__ip/port` for endpoint chains and affinity sets.
 */
import { hash } from 'node:crypto';

/** The table both families use (`table ip kube-proxy` / `table ip6 kube-proxy`). */
export const NFT_TABLE = 'kube-proxy';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function hash8(s: string): string {
  // One-shot hashing (no Hash object per name): names are hashed for every endpoint of every rendered port.
  const buf = hash('sha256', s, 'buffer');
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === 8) return out;
    }
  }
  return out;
}

/** Upstream hashAndTruncate: hash prefix, then the readable base, cut to 240 characters ending in "...". */
function hashed(prefix: string, base: string): string {
  const name = `${hash8(base)}-${base}`;
  return `${prefix}-${name.length > 240 ? `${name.slice(0, 237)}...` : name}`;
}

/** Names of one service port's nft objects. */
export interface NftServiceNames {
  /** `ns/name/proto/portName` (also the comment of no-endpoint elements is `ns/name[:port]`). */
  base: string;
  cluster: string;
  local: string;
  external: string;
  firewall: string;
}

/** Names of a service port's chains (`service`, `local`, `external`, `firewall`). */
export function nftServiceNames(namespacedName: string, portName: string, protocol: string): NftServiceNames {
  const base = `${namespacedName}/${protocol}/${portName}`;
  return {
    base,
    cluster: hashed('service', base),
    local: hashed('local', base),
    external: hashed('external', base),
    firewall: hashed('firewall', base),
  };
}

/** `ip/port` of an endpoint as upstream puts it into names (an IPv6 address has its colons turned into dots). */
function endpointSuffix(ip: string, port: number): string {
  return `${ip.replaceAll(':', '.')}/${port}`;
}

/** The endpoint chain of one endpoint of a service port. */
export function nftEndpointChain(base: string, ip: string, port: number): string {
  return hashed('endpoint', `${base}__${endpointSuffix(ip, port)}`);
}

/** The ClientIP affinity set of one endpoint of a service port. */
export function nftAffinitySet(base: string, ip: string, port: number): string {
  return hashed('affinity', `${base}__${endpointSuffix(ip, port)}`);
}

const SERVICE_PREFIXES = ['service-', 'local-', 'external-', 'firewall-', 'endpoint-'];

/** True for per-service chains (never for the fixed ones like `services` or `filter-input`). */
export function isNftServiceChain(name: string): boolean {
  return SERVICE_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length + 9 && name[p.length + 8] === '-');
}
