/**
 * Conntrack sysctl tuning at proxy start (upstream pkg/proxy/conntrack/sysctls.go, KubeProxyConfiguration
 * `conntrack`): nf_conntrack_max is only ever raised (maxPerCore × CPUs, at least `min`, at most 1,048,576) and the
 * module's hashsize raised to max/4 with it; the timeouts and tcp_be_liberal are set when they differ; every value that
 * is 0 (or false) is left alone. `Sysctl` is the seam: `ProcSysctl` writes /proc/sys and /sys (optionally inside a
 * network namespace, where only the per-namespace net.netfilter entries can be changed), `FakeSysctl` keeps values
 * in memory.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { NodeletError, type Logger } from '../util/index.js';
import { namespacePrefix, runCommand } from './exec.js';

/** Reads and writes integer kernel parameters by path, e.g. `/proc/sys/net/netfilter/nf_conntrack_max`. */
export interface Sysctl {
  /** Rejects when the entry cannot be read or does not hold an integer. */
  get(path: string): Promise<number>;
  /** Rejects (SysctlError) when the entry cannot be written. */
  set(path: string, value: number): Promise<void>;
}

/** A sysctl could not be read or written; code SYSCTL_FAILED. */
export class SysctlError extends NodeletError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SYSCTL_FAILED', message, options);
  }
}

/** Path of a net.netfilter entry. */
export const netfilterSysctl = (name: string): string => `/proc/sys/net/netfilter/${name}`;
/** The nf_conntrack module's hash table size (global; writable only from the initial network namespace). */
export const HASHSIZE_PATH = '/sys/module/nf_conntrack/parameters/hashsize';
/** Upper bound of the computed nf_conntrack_max (upstream caps it to avoid huge tables on many-core machines). */
export const CONNTRACK_MAX_LIMIT = 1_048_576;

/** The real seam: files of this process's namespaces, or of `netns`/`netnsPid` through `ip netns exec`/`nsenter`. */
export class ProcSysctl implements Sysctl {
  readonly #prefix: string[];

  constructor(ns: { netns?: string; netnsPid?: number } = {}) {
    this.#prefix = namespacePrefix(ns);
  }

  async get(path: string): Promise<number> {
    let text: string;
    if (this.#prefix.length === 0) {
      text = await readFile(path, 'utf8').catch((cause: unknown) => {
        throw new SysctlError(`reading ${path} failed`, { cause });
      });
    } else {
      const r = await runCommand([...this.#prefix, 'cat', path]);
      if (r.code !== 0) throw new SysctlError(`reading ${path} failed: ${r.stderr.trim()}`);
      text = r.stdout;
    }
    const n = Number(text.trim());
    if (!Number.isInteger(n)) throw new SysctlError(`${path} holds ${JSON.stringify(text.trim())}, not an integer`);
    return n;
  }

  async set(path: string, value: number): Promise<void> {
    if (this.#prefix.length === 0) {
      await writeFile(path, String(value)).catch((cause: unknown) => {
        throw new SysctlError(`writing ${value} to ${path} failed`, { cause });
      });
      return;
    }
    const r = await runCommand([...this.#prefix, 'tee', path], String(value));
    if (r.code !== 0) throw new SysctlError(`writing ${value} to ${path} failed: ${r.stderr.trim()}`);
  }
}

/** The resolved `conntrack` section (durations in whole seconds; 0 = leave alone). */
export interface ConntrackSysctlConfig {
  maxPerCore: number;
  min: number;
  tcpEstablishedTimeoutSeconds: number;
  tcpCloseWaitTimeoutSeconds: number;
  tcpBeLiberal: boolean;
  udpTimeoutSeconds: number;
  udpStreamTimeoutSeconds: number;
}

/** Upstream getConntrackMax: 0 when maxPerCore is 0 (leave the limit alone). Pure. */
export function conntrackMax(c: Pick<ConntrackSysctlConfig, 'maxPerCore' | 'min'>, numCPU: number): number {
  if (c.maxPerCore <= 0) return 0;
  const scaled = c.maxPerCore * numCPU;
  if (scaled > CONNTRACK_MAX_LIMIT) return CONNTRACK_MAX_LIMIT;
  return scaled > c.min ? scaled : c.min;
}

/** Options of {@link applyConntrackSysctls}. */
export interface ApplyConntrackOptions {
  sysctl: Sysctl;
  config: ConntrackSysctlConfig;
  numCPU: number;
  logger: Logger;
}

/**
 * Applies the conntrack settings in upstream order. Idempotent. Rejects with the first SysctlError (upstream
 * kube-proxy then fails to start); entries that already hold the wanted value are not written.
 */
export async function applyConntrackSysctls(o: ApplyConntrackOptions): Promise<void> {
  const { sysctl, config: c, logger } = o;
  const max = conntrackMax(c, o.numCPU);
  if (max > 0) {
    const path = netfilterSysctl('nf_conntrack_max');
    const current = await sysctl.get(path).catch(() => -1);
    if (current < max) {
      logger.info({ entry: 'net/netfilter/nf_conntrack_max', value: max }, 'Set sysctl');
      await sysctl.set(path, max);
    }
    const hashsize = await sysctl.get(HASHSIZE_PATH);
    if (hashsize < Math.floor(max / 4)) {
      logger.info({ conntrackHashsize: Math.floor(max / 4) }, 'Setting conntrack hashsize');
      await sysctl.set(HASHSIZE_PATH, Math.floor(max / 4));
    }
  }
  const entries: [string, number][] = [
    ['nf_conntrack_tcp_timeout_established', c.tcpEstablishedTimeoutSeconds],
    ['nf_conntrack_tcp_timeout_close_wait', c.tcpCloseWaitTimeoutSeconds],
    ['nf_conntrack_tcp_be_liberal', c.tcpBeLiberal ? 1 : 0],
    ['nf_conntrack_udp_timeout', c.udpTimeoutSeconds],
    ['nf_conntrack_udp_timeout_stream', c.udpStreamTimeoutSeconds],
  ];
  for (const [name, value] of entries) {
    if (value <= 0) continue;
    const path = netfilterSysctl(name);
    if ((await sysctl.get(path).catch(() => undefined)) === value) continue;
    logger.info({ entry: `net/netfilter/${name}`, value }, 'Set sysctl');
    await sysctl.set(path, value);
  }
}
