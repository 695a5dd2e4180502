/**
 * Throwaway network namespaces for proxy tests and benchmarks: veth-connected "hosts" that can only reach each
 * other (no default route off the machine, ever). Every name carries a prefix so cleanup only touches ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { runCommand } from '../../src/proxy/exec.js';

/** Runs a command and throws with its stderr when it fails. */
export async function sh(...argv: string[]): Promise<string> {
  const r = await runCommand(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs a command inside namespace `ns`. */
export function inNs(ns: string, ...argv: string[]): Promise<string> {
  return sh('ip', 'netns', 'exec', ns, ...argv);
}

/** Deletes every namespace whose name starts with `prefix` (leftovers of a crashed run). */
export async function deleteNamespaces(prefix: string): Promise<void> {
  const out = (await runCommand(['ip', 'netns', 'list'])).stdout;
  for (const line of out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(prefix)) await runCommand(['ip', 'netns', 'del', name]);
  }
}

/** Creates namespace `ns` with loopback up. */
export async function createNamespace(ns: string): Promise<void> {
  await sh('ip', 'netns', 'add', ns);
  await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
}

/**
 * Connects `a` and `b` with a veth pair (`aIf` in a with `aAddr`, `bIf` in b with `bAddr`, both CIDR notation).
 * Interface names must be ≤ 15 characters.
 */
export async function link(a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string): Promise<void> {
  await sh('ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b);
  await inNs(a, 'ip', 'addr', 'add', aAddr, 'dev', aIf);
  await inNs(b, 'ip', 'addr', 'add', bAddr, 'dev', bIf);
  await inNs(a, 'ip', 'link', 'set', aIf, 'up');
  await inNs(b, 'ip', 'link', 'set', bIf, 'up');
}

/** A process started inside a namespace; `stop()` kills it by PID. */
export interface NsProcess {
  child: ChildProcess;
  stop(): void;
}

/** Starts `argv` inside `ns` and resolves once it printed `readyLine` on stdout (or rejects after `timeoutMs`). */
export function startInNs(ns: string, argv: string[], readyLine: string, timeoutMs = 10_000): Promise<NsProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: NsProcess = { child, stop: () => void (child.exitCode === null && child.kill('SIGKILL')) };
    let out = '';
    const timer = setTimeout(() => {
      proc.stop();
      reject(new Error(`${argv.join(' ')} in ${ns} not ready: ${out}`));
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(readyLine)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} in ${ns} exited: ${out}`));
    });
  });
}

/** Node script of a backend: HTTP on tcpPort and UDP echo on udpPort, both answering `<name> <client address>`. */
export const BACKEND_SCRIPT = `
const [name, tcpPort, udpPort] = process.argv.slice(1);
const http = require('node:http'); const dgram = require('node:dgram');
http.createServer((q, r) => r.end(name + ' ' + q.socket.remoteAddress)).listen(Number(tcpPort), '0.0.0.0', () => {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, rinfo) => u.send(name + ' ' + rinfo.address, rinfo.port, rinfo.address));
  u.bind(Number(udpPort), '0.0.0.0', () => console.log('ready'));
});`;

/** Node script of a client: `tcp host port n` or `udp host port n localPort` → JSON array of answers or error codes. */
export const CLIENT_SCRIPT = `
const [proto, host, port, n, localPort] = process.argv.slice(1);
const http = require('node:http'); const dgram = require('node:dgram');
const one = () => new Promise((res) => {
  if (proto === 'tcp') {
    const q = http.get({ host, port: Number(port), path: '/', timeout: 1500, agent: false }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => res(b)); });
    q.on('timeout', () => { q.destroy(); res('TIMEOUT'); });
    q.on('error', (e) => res(e.code || String(e)));
  } else {
    const u = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const t = setTimeout(() => { u.close(); res('TIMEOUT'); }, 1000);
    u.on('message', (m) => { clearTimeout(t); u.close(); res(String(m)); });
    u.on('error', (e) => { clearTimeout(t); u.close(); res(e.code || String(e)); });
    u.bind(Number(localPort || 0), () => u.send('hi', Number(port), host));
  }
});
(async () => { const out = []; for (let i = 0; i < Number(n); i++) out.push(await one()); console.log(JSON.stringify(out)); })();`;
