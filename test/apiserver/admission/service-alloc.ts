import { randomInt } from 'node:crypto';

/**
 * ClusterIP allocation from 10.96.0.0/12 and NodePort allocation from 30000–32767, like the apiserver's bitmap
 * allocators: random free address, explicit requests honoured unless taken. 10.96.0.1 is reserved for
 * `default/kubernetes`.
 */
export class ServiceAllocator {
  readonly #ips = new Set<string>();
  readonly #ports = new Set<number>();
  static readonly BASE = (10 << 24) | (96 << 16);
  static readonly SIZE = 1 << 20;

  /** True when `ip` lies inside the service CIDR. */
  static inRange(ip: string): boolean {
    const n = ServiceAllocator.toInt(ip);
    return n !== undefined && n >= ServiceAllocator.BASE && n < ServiceAllocator.BASE + ServiceAllocator.SIZE;
  }

  static toInt(ip: string): number | undefined {
    const p = ip.split('.').map(Number);
    if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
    return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  }

  static fromInt(n: number): string {
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }

  /** Allocates `ip` (or a random free IP); returns undefined when the requested one is taken. */
  allocateIp(ip?: string): string | undefined {
    if (ip !== undefined) {
      if (this.#ips.has(ip)) return undefined;
      this.#ips.add(ip);
      return ip;
    }
    for (;;) {
      const cand = ServiceAllocator.fromInt(ServiceAllocator.BASE + 2 + randomInt(ServiceAllocator.SIZE - 3));
      if (!this.#ips.has(cand)) {
        this.#ips.add(cand);
        return cand;
      }
    }
  }

  /** Allocates `port` (or a random free NodePort); undefined when taken. */
  allocatePort(port?: number): number | undefined {
    if (port !== undefined) {
      if (this.#ports.has(port)) return undefined;
      this.#ports.add(port);
      return port;
    }
    for (;;) {
      const cand = 30000 + randomInt(2768);
      if (!this.#ports.has(cand)) {
        this.#ports.add(cand);
        return cand;
      }
    }
  }

  releaseIp(ip: string): void {
    this.#ips.delete(ip);
  }

  releasePort(port: number): void {
    this.#ports.delete(port);
  }
}
