/**
 * Pure parsers of host files (/proc/meminfo, /etc/os-release, /proc/net/route). Effectful reading lives in host.ts.
 */

/** Memory figures from /proc/meminfo, in bytes. */
export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
  swapTotalBytes: number;
}

/** Parses /proc/meminfo (values are in kB). */
export function parseMemInfo(text: string): MemInfo {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]) * 1024;
  };
  const total = kb('MemTotal');
  const available = /^MemAvailable:/m.test(text) ? kb('MemAvailable') : kb('MemFree') + kb('Buffers') + kb('Cached');
  return { totalBytes: total, availableBytes: available, swapTotalBytes: kb('SwapTotal') };
}

/** PRETTY_NAME from /etc/os-release ('Linux' when absent, as upstream's fallback). */
export function parseOsImage(text: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (m === null) return 'Linux';
  return (m[1] ?? '').trim().replace(/^["']|["']$/g, '') || 'Linux';
}

/** The interface of the IPv4 default route in /proc/net/route (lowest metric), or undefined. */
export function parseDefaultRouteInterface(text: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    const metric = Number(f[6]);
    if (best === undefined || metric < best.metric) best = { iface: f[0] ?? '', metric };
  }
  return best?.iface;
}

/** Node architecture name (GOARCH style) from Node's `process.arch`. */
export function goArch(arch: string): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return map[arch] ?? arch;
}

/**
 * The number of tasks (threads) from /proc/loadavg's fourth field (`running/total`), as upstream's runningTaskCount
 * (cheaper than listing /proc, and it counts what pid_max limits); undefined when the text does not parse.
 */
export function parseLoadAvgTasks(text: string): number | undefined {
  const m = /^\S+ \S+ \S+ \d+\/(\d+) /.exec(text);
  return m === null ? undefined : Number(m[1]);
}
