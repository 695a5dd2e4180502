/**
 * Streaming benchmark (issue 13): `kubectl exec <pod> -- true` latency (p50/p99 over N runs) and `kubectl
 * port-forward` throughput (an HTTP download of SIZE MiB served by busybox httpd inside the pod, bound to the pod's
 * 127.0.0.1), through the API server to whatever kubelet runs the pod (nodelet or the upstream kubelet).
 *
 * Usage: npx tsx bench/kubelet-exec.ts --kubeconfig=/tmp/k8s-real/admin.kubeconfig --namespace=NS --pod=POD
 *        [--container=C] [--runs=50] [--size-mib=256] [--local-port=20250] [--agent-pid=PID]
 * The pod's image needs sh, dd and httpd (localhost/nodelet/testbox:1.0). With --agent-pid, the agent's CPU time
 * during the transfer is reported too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const kubeconfig = args['kubeconfig'] ?? process.env.KUBECONFIG ?? '';
const ns = args['namespace'] ?? 'default';
const pod = args['pod'] ?? '';
const container = args['container'];
const runs = Number(args['runs'] ?? 50);
const sizeMiB = Number(args['size-mib'] ?? 256);
const localPort = Number(args['local-port'] ?? 20250);
const agentPid = args['agent-pid'] === undefined ? undefined : Number(args['agent-pid']);
const kubectl = (a: string[]) => ['--kubeconfig', kubeconfig, '-n', ns, ...a];
const cflag = container === undefined ? [] : ['-c', container];

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function execLatency(): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('kubectl', kubectl(['exec', pod, ...cflag, '--', 'true']), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kubectl exec failed: ${r.stderr}`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`exec: runs=${runs} p50=${pct(times, 50).toFixed(1)}ms p99=${pct(times, 99).toFixed(1)}ms min=${times[0]?.toFixed(1)}ms`);
}

async function portForwardThroughput(): Promise<void> {
  const setup = `mkdir -p /tmp/bench && dd if=/dev/zero of=/tmp/bench/blob bs=1048576 count=${sizeMiB} 2>/dev/null; (httpd -p 127.0.0.1:18081 -h /tmp/bench &) ; sleep 0.3`;
  const r = spawnSync('kubectl', kubectl(['exec', pod, ...cflag, '--', 'sh', '-c', setup]), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`setup failed: ${r.stderr}`);
  const pf = spawn('kubectl', kubectl(['port-forward', `pod/${pod}`, `${localPort}:18081`]), { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve) => pf.stdout.on('data', (d: Buffer) => d.toString().includes('Forwarding from') && resolve()));
  try {
    const cpu0 = agentPid === undefined ? 0 : cpuTicks(agentPid);
    const t0 = process.hrtime.bigint();
    const res = await fetch(`http://127.0.0.1:${localPort}/blob`);
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = agentPid === undefined ? '' : ` agent-cpu=${((cpuTicks(agentPid) - cpu0) / 100).toFixed(2)}s`;
    console.log(`port-forward: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${secs.toFixed(2)}s = ${(bytes / 2 ** 20 / secs).toFixed(1)} MiB/s${cpu}`);
  } finally {
    pf.kill('SIGINT');
    spawnSync('kubectl', kubectl(['exec', pod, ...cflag, '--', 'sh', '-c', 'pkill -f "httpd -p 127.0.0.1:18081"; rm -rf /tmp/bench']));
  }
}

await execLatency();
await portForwardThroughput();
