/**
 * Chain names exactly as kube-proxy computes them: prefix + the first 16 characters of
 * base32(sha256(servicePortName + protocol [+ endpoint])), so that nodelet and kube-proxy agree on names.
 */
import { hash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (upstream uses base32.StdEncoding); only the first `chars` characters are produced. */
function base32Prefix(buf: Buffer, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === chars) return out;
    }
  }
  return out;
}

/** First 16 base32 characters of sha256(`s`), hashed one-shot (no Hash object per name; as nft/names.ts). */
function hash16(s: string): string {
  return base32Prefix(hash('sha256', s, 'buffer'), 16);
}

/** 16-char hash of `servicePortName + protocol` (upstream portProtoHash). */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol);
}

/** Chains of one service port. */
export interface ServiceChainNames {
  /** KUBE-SVC-: Cluster policy endpoint dispatch. */
  cluster: string;
  /** KUBE-SVL-: Local policy endpoint dispatch. */
  local: string;
  /** KUBE-EXT-: external destinations (NodePort, external IPs, LB IPs). */
  external: string;
  /** KUBE-FW-: loadBalancerSourceRanges. */
  firewall: string;
}

/** All chain names of a service port (`ns/name` or `ns/name:port`, protocol lower-case). */
export function serviceChainNames(servicePortName: string, protocol: string): ServiceChainNames {
  const h = portProtoHash(servicePortName, protocol);
  return { cluster: `KUBE-SVC-${h}`, local: `KUBE-SVL-${h}`, external: `KUBE-EXT-${h}`, firewall: `KUBE-FW-${h}` };
}

/**
 * KUBE-SEP- chain of one endpoint (`ip:port`, IPv6 as `[ip]:port`) of a service port. Not memoized: a cache of
 * 50,000 endpoints held ~6 MB for a hash that costs ~2 µs.
 */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol + endpoint)}`;
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** True for per-service chains (the ones stale-chain cleanup may delete). */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
