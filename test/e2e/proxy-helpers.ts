/**
 * Helpers of the service-proxy e2e scenario (proxy-e2e.test.ts): guarded HTTP to local addresses only, docker exec on
 * the private engine, the host's iptables state (KUBE-* chains in both backends), a sysctl snapshot, and the pod
 * network's forwarding rule (what a CNI plugin would install on a real node).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import ipaddr from 'ipaddr.js';
import { isRouted, SERVICE_CIDR } from './harness/index.js';

const execFileP = promisify(execFile);

/**
 * Throws unless `ip` is an IP literal that is on this machine: loopback, an address of a local interface, or inside
 * the service CIDR while that CIDR is routed into the sink (so a missing proxy rule can never leak the packet).
 */
export function assertLocalTarget(ip: string): void {
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) throw new Error(`refusing to contact ${ip}: not an IPv4 literal`);
  const addr = ipaddr.IPv4.parse(ip);
  if (addr.range() === 'loopback') return;
  const local = Object.values(networkInterfaces())
    .flat()
    .some((i) => i?.family === 'IPv4' && i.address === ip);
  if (local) return;
  if (addr.match(ipaddr.IPv4.parseCIDR(SERVICE_CIDR))) {
    if (!isRouted(SERVICE_CIDR)) throw new Error(`refusing to contact ${ip}: ${SERVICE_CIDR} is not routed into a sink`);
    return;
  }
  throw new Error(`refusing to contact ${ip}: not an address on this machine`);
}

/** GET http://ip:port/path on a fresh connection (no keep-alive, so every request is a new flow); resolves the body. */
export function httpGetBody(ip: string, port: number, path = '/', timeoutMs = 2000): Promise<string> {
  assertLocalTarget(ip);
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${ip}:${port}${path}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${ip}:${port}${path}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** `n` sequential GETs; returns how often each (trimmed) body answered. Failed requests count under `error: …`. */
export async function sample(ip: string, port: number, n: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = await httpGetBody(ip, port).then(
      (b) => b.trim(),
      (err: unknown) => `error: ${err instanceof Error ? err.message : String(err)}`,
    );
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return seen;
}

/** `docker exec` on the engine at `socket`; resolves stdout, rejects with stderr on a non-zero exit. */
export async function dockerExec(socket: string, containerId: string, cmd: string[], timeoutMs = 10_000): Promise<string> {
  try {
    const { stdout } = await execFileP('docker', ['-H', `unix://${socket}`, 'exec', containerId, ...cmd], { timeout: timeoutMs, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    throw new Error(`docker exec ${cmd.join(' ')}: exit ${String(e.code)}: ${e.stderr?.trim() ?? ''}`, { cause: err });
  }
}

/**
 * GET http://ip:port/ from inside a container with busybox `nc` (written when busybox `wget -T` segfaulted; the
 * testbox's /bin/wget now handles -T); resolves the body, rejects unless the answer is HTTP 200.
 */
export async function podHttpGet(socket: string, containerId: string, ip: string, port: number): Promise<string> {
  assertLocalTarget(ip);
  const raw = await dockerExec(socket, containerId, ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port}`]);
  const [head = '', ...body] = raw.split('\r\n\r\n');
  if (!/^HTTP\/1\.[01] 200 /.test(head)) throw new Error(`GET ${ip}:${port} from the pod: ${JSON.stringify(raw.slice(0, 200))}`);
  return body.join('\r\n\r\n');
}

/** Where pod traffic to `ip` went: filter FORWARD counters, nat KUBE-SERVICES hits, conntrack entries (for failures). */
export function forwardingDiagnostics(ip: string): string {
  const run = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      return `${cmd} ${args.join(' ')}: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
  return [
    '--- iptables -L FORWARD -nv',
    run('iptables', ['-w', '-L', 'FORWARD', '-nv']),
    '--- iptables -L KUBE-FORWARD -nv',
    run('iptables', ['-w', '-L', 'KUBE-FORWARD', '-nv']),
    `--- iptables -t nat -L KUBE-SERVICES -nv | grep ${ip}`,
    run('iptables', ['-w', '-t', 'nat', '-L', 'KUBE-SERVICES', '-nv']).split('\n').filter((l) => l.includes(ip)).join('\n'),
    `--- conntrack -L -d ${ip}`,
    run('conntrack', ['-L', '-d', ip]),
    '--- sysctls',
    ['net/bridge/bridge-nf-call-iptables', 'net/ipv4/ip_forward'].map((k) => `${k}=${readSysctl(k)}`).join(' '),
  ].join('\n');
}

/** Every `table/chain` name of the host's iptables (nft and legacy backends, IPv4), as `backend:table/chain`. */
export function hostChains(): string[] {
  const out: string[] = [];
  for (const backend of ['nft', 'legacy']) {
    let table = '';
    let text = '';
    try {
      text = execFileSync(`iptables-${backend}-save`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      continue; // backend not usable on this kernel
    }
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (line.startsWith(':')) out.push(`${backend}:${table}/${line.slice(1).split(' ')[0] ?? ''}`);
    }
  }
  return out;
}

/** Lines of `iptables-save` (both backends) that mention `KUBE-` (what `iptables-save | grep -c KUBE-` counts). */
export function hostKubeLines(): string[] {
  const lines: string[] = [];
  for (const backend of ['nft', 'legacy']) {
    try {
      const text = execFileSync(`iptables-${backend}-save`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      lines.push(...text.split('\n').filter((l) => l.includes('KUBE-')).map((l) => `${backend}: ${l}`));
    } catch {
      // backend not usable
    }
  }
  return lines;
}

/** Reads a sysctl under /proc/sys (e.g. `net/ipv4/conf/all/route_localnet`). */
export function readSysctl(path: string): string {
  return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
}

/** Writes a sysctl under /proc/sys. */
export function writeSysctl(path: string, value: string): void {
  writeFileSync(`/proc/sys/${path}`, `${value}\n`);
}

/**
 * The pod network's own forwarding rule for `bridge` (pod ↔ pod through the host, as Docker's ICC rule
 * `-i docker0 -o docker0 -j ACCEPT` does for docker0 and a CNI plugin does on a real node). Needed because the host's
 * filter FORWARD policy is DROP (set by the shared dockerd) and bridge-nf-call-iptables=1 sends bridged and routed
 * pod traffic through it; kube-proxy's KUBE-FORWARD only accepts masquerade-marked or ESTABLISHED packets.
 * Returns the function removing exactly this rule (idempotent).
 */
export function addPodNetworkForwardRule(bridge: string): () => void {
  const rule = ['FORWARD', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', `nodelet e2e pod network ${bridge}`, '-j', 'ACCEPT'];
  execFileSync('iptables', ['-w', '-I', ...rule], { stdio: 'ignore' });
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    for (let i = 0; i < 5; i++) {
      try {
        execFileSync('iptables', ['-w', '-D', ...rule], { stdio: 'ignore' });
      } catch {
        return; // no (more) copies
      }
    }
  };
}

/** Deletes the host's conntrack entries from or answered by `ip` (the flows of this test's pods and bridge). */
export function forgetConntrack(ip: string): void {
  for (const flag of ['-r', '-s']) {
    try {
      execFileSync('conntrack', ['-D', flag, ip], { stdio: 'ignore' });
    } catch {
      // exit 1 = no entries; a missing tool leaves entries to time out
    }
  }
}
