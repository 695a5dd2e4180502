/**
 * The small endpoints of the kubelet API: `/pods`, `/runningpods/`, `/run/…`, `/configz`, `/metrics`,
 * `/metrics/probes` and `/logs/` (node log files under /var/log, as upstream's file server).
 */
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { LABELS, type ContainerRuntime } from '../../../cri/types.js';
import { sendJson, sendStatus, sendText } from './respond.js';
import type { KubeletPodLookup } from './types.js';

/** `/pods`: the pods the kubelet runs (API and static), as a PodList. */
export function servePods(res: ServerResponse, lookup: KubeletPodLookup): void {
  sendJson(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: lookup.pods() });
}

/** `/runningpods/`: the pods with running containers, from the runtime (names, namespaces, UIDs, containers). */
export async function serveRunningPods(res: ServerResponse, runtime: Pick<ContainerRuntime, 'listPodSandboxes' | 'listContainers'>): Promise<void> {
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes({ state: 'ready' }), runtime.listContainers({ state: 'running' })]);
  const items: V1Pod[] = [];
  for (const s of sandboxes) {
    const uid = s.labels[LABELS.podUID];
    if (uid === undefined) continue;
    const own = containers.filter((c) => c.podSandboxId === s.id && c.labels[LABELS.containerType] !== 'podsandbox');
    items.push({
      metadata: { name: s.metadata.name, namespace: s.metadata.namespace, uid },
      spec: { containers: own.map((c) => ({ name: c.metadata.name, image: c.image })) },
      status: {},
    });
  }
  sendJson(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
}

async function readBody(req: IncomingMessage, max = 64 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > max) break;
  }
  return body;
}

/** `/run/{ns}/{pod}[/{uid}]/{container}` (POST, `cmd=`): runs the command and answers its output (stdout then stderr). */
export async function serveRun(req: IncomingMessage, res: ServerResponse, lookup: KubeletPodLookup, runtime: Pick<ContainerRuntime, 'execSync'>, r: { namespace: string; pod: string; uid: string | undefined; container: string }, query: URLSearchParams, timeoutSeconds: number): Promise<void> {
  if (req.method !== 'POST') return sendStatus(res, 405, 'the run endpoint only accepts POST');
  let cmdText = query.get('cmd') ?? '';
  if (cmdText === '') cmdText = new URLSearchParams(await readBody(req)).get('cmd') ?? '';
  const cmd = cmdText.split(' ').filter((s) => s !== '');
  if (cmd.length === 0) return sendStatus(res, 400, 'missing command: give cmd=<command>');
  const resolved = await lookup.resolveContainer(r.namespace, r.pod, r.container, r.uid);
  if (resolved === undefined) return sendStatus(res, 404, `pod "${r.pod}" container "${r.container}" not found`);
  if (resolved.containerId === undefined) return sendStatus(res, 400, `container "${r.container}" in pod "${r.pod}" is not running`);
  const out = await runtime.execSync(resolved.containerId, cmd, timeoutSeconds);
  sendText(res, 200, out.stdout + out.stderr);
}

/** `/metrics/probes`: only the prober_* metrics of the registry. */
export async function probeMetrics(registry: Registry): Promise<string> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => /^(# (HELP|TYPE) )?prober_/.test(l))
    .join('\n')
    .concat('\n');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `/logs/<file>`: a listing of a directory (HTML, as Go's file server) or a file below `root`; never outside it. */
export async function serveSystemLogs(res: ServerResponse, root: string, file: string): Promise<void> {
  let target: string;
  let rootReal: string;
  try {
    rootReal = await realpath(root);
    const rel = decodeURIComponent(file);
    if (rel.split('/').includes('..')) return sendStatus(res, 404, '404 page not found');
    target = await realpath(join(rootReal, rel));
  } catch {
    return sendStatus(res, 404, '404 page not found');
  }
  if (target !== rootReal && !target.startsWith(rootReal + sep)) return sendStatus(res, 404, '404 page not found');
  const st = await stat(target);
  if (st.isDirectory()) {
    const entries = (await readdir(target, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // not localeCompare: no ICU data loaded
    const lines = entries.map((e) => {
      const name = e.isDirectory() ? `${e.name}/` : e.name;
      return `<a href="${escapeHtml(encodeURIComponent(e.name))}${e.isDirectory() ? '/' : ''}">${escapeHtml(name)}</a>`;
    });
    const body = `<pre>\n${lines.join('\n')}\n</pre>\n`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': st.size });
  const s = createReadStream(target);
  res.on('close', () => s.destroy());
  s.pipe(res);
}
