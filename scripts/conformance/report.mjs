#!/usr/bin/env node
// Renders docs/conformance.md from the output directories of scripts/conformance.sh (junit XML per shard + meta.txt):
//   node scripts/conformance/report.mjs --nodelet DIR [--upstream DIR] [--causes FILE] [--append FILE] [--out docs/conformance.md]
//   node scripts/conformance/report.mjs --run 'nodelet (Docker)=DIR' --run 'upstream=DIR' [--compare 'nodelet (Docker) vs upstream'] …
// (--run LABEL=DIR[,DIR…], repeatable: a column per run, in order, several directories merged into one (a focused
// re-run split over two invocations); a label starting with "nodelet" is a nodelet run, one
// starting with "upstream" an upstream kubelet run. --compare 'A vs B': a side-by-side count of A's and B's results, default
// every nodelet run against the first upstream run.)
// Every spec of the selection is listed with nodelet's and the upstream kubelet's result side by side and, for every
// failure, its cause: a hand-written cause from --causes (default scripts/conformance/causes.json: which failures are
// the environment's, which are nodelet's and the issue they belong to) or else a class guessed from the failure text,
// plus the first line of the failure message. A nodelet failure with no hand-written cause is marked "unclassified"
// and listed on stderr, so a new run's failures are noticed.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const out = opt('out') ?? 'docs/conformance.md';
const all = (name) => args.flatMap((a, i) => (a === `--${name}` && i + 1 < args.length ? [args[i + 1]] : []));
const targets = [
  ...['nodelet', 'upstream'].filter((t) => opt(t) !== undefined).map((t) => ({ name: t, dir: opt(t) })),
  ...all('run').map((r) => ({ name: r.slice(0, r.indexOf('=')), dir: r.slice(r.indexOf('=') + 1) })),
];
const kind = (name) => (name.startsWith('nodelet') ? 'nodelet' : name.startsWith('upstream') ? 'upstream' : name);
const causesFile = opt('causes') ?? join(dirname(fileURLToPath(import.meta.url)), 'causes.json');
/** @type {{match: string, target?: string, owner: string, cause: string}[]} */
const causes = existsSync(causesFile) ? JSON.parse(readFileSync(causesFile, 'utf8')).causes : [];

const unxml = (s) => s.replace(/&#34;/g, '"').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#xA;/g, '\n').replace(/&#x9;/g, ' ').replace(/&amp;/g, '&');

/** Results of one run (one or more output directories, comma-separated): spec name → {status: pass|fail|timeout|not run, seconds, message}. */
function readResults(dirs) {
  const res = new Map();
  for (const dir of dirs.split(',')) readDir(dir, res);
  return res;
}

function readDir(dir, res) {
  for (const shard of readdirSync(dir).filter((d) => d.startsWith('shard-')).sort()) {
    for (const f of readdirSync(join(dir, shard)).filter((x) => x.endsWith('.xml'))) {
      const xml = readFileSync(join(dir, shard, f), 'utf8');
      for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*status="([^"]*)"[^>]*time="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
        const name = unxml(m[1]).replace(/^\[It\] /, '');
        if (!name.includes('[NodeConformance]')) continue;
        const body = m[4];
        // ginkgo leaves the message attribute empty and puts the failure text in the element
        const fm = /<(failure|error)[^>]*>([^<]*)</.exec(body);
        const status = m[2] === 'passed' ? 'pass' : m[2] === 'skipped' || m[2] === 'pending' ? 'not run' : m[2] === 'interrupted' || m[2] === 'timedout' ? 'timeout' : 'fail';
        // every shard's report lists every spec; one that another shard ran keeps that result
        if (status === 'not run' && res.has(name)) continue;
        res.set(name, { status, seconds: Number(m[3]), message: fm ? unxml(fm[2]).replace(/^\[FAILED\] /, '') : '' });
      }
    }
  }
}

/** A cause guessed from the failure text (used when causes.json has none for the spec). */
function guess(target, r) {
  const m = r.message;
  const rejected = /Pod was rejected: ([^\n']{0,160})/.exec(m);
  if (rejected) return `admission refused the pod: ${rejected[1].replace(/\s+/g, ' ')}`;
  if (/failed to set up cgroup|unable to ensure pod container exists/.test(m)) return 'pod cgroup setup failed (FailedCreatePodContainer)';
  if (/OCI runtime create failed|failed to create shim task/.test(m)) return 'the container runtime failed to start the sandbox or container';
  if (/ErrImagePull|ImagePullBackOff|pull access denied|127\.0\.0\.1:1/.test(m)) return 'image pull from a registry (none is reachable here)';
  if (r.status === 'timeout') return 'not finished: the run stopped it (ginkgo --timeout)';
  return '';
}

/** The hand-written cause of a failure of `target` on spec `name`, if any. */
function known(target, name) {
  return causes.find((c) => name.includes(c.match) && (c.target === undefined || c.target === 'both' || c.target === target || c.target === kind(target)));
}

const first = (s) => s.split('\n').map((l) => l.trim()).find((l) => l !== '')?.slice(0, 200).replace(/\|/g, '\\|') ?? '';
const metaOf = (dirs) => dirs.split(',').map((d) => (existsSync(join(d, 'meta.txt')) ? readFileSync(join(d, 'meta.txt'), 'utf8').trim() : '')).join('\n\n');
const results = targets.map((t) => ({ ...t, res: readResults(t.dir), meta: metaOf(t.dir) }));
const names = [...new Set(results.flatMap((t) => [...t.res.keys()]))].sort();
const count = (t, s) => [...t.res.values()].filter((r) => r.status === s).length;
const failed = (r) => r !== undefined && (r.status === 'fail' || r.status === 'timeout');
const unclassified = [];

/** The cause cell of one target's failure: owner, cause, first line of the message. */
function causeCell(t, name) {
  const r = t.res.get(name);
  if (!failed(r)) return '';
  const k = known(t.name, name);
  if (k === undefined && kind(t.name) === 'nodelet') unclassified.push(`${t.name}: ${name}`);
  const owner = k?.owner ?? 'unclassified';
  const text = k?.cause ?? guess(t.name, r);
  return [`**${owner}**`, text, first(r.message) === '' ? '' : `(“${first(r.message)}”)`].filter((x) => x !== '').join(' ');
}

const rows = names.map((n) => {
  const cells = results.map((t) => t.res.get(n)?.status ?? '—');
  return `| ${n.replace(/\|/g, '\\|')} | ${cells.join(' | ')} | ${results.map((t) => causeCell(t, n)).join(' | ')} |`;
});

// side by side: how the two results of each spec compare
const byName = (label) => results.find((t) => t.name === label) ?? (() => { throw new Error(`--compare: no run ${label}`); })();
const firstUp = results.find((t) => kind(t.name) === 'upstream');
const pairs = all('compare').length > 0
  ? all('compare').map((c) => c.split(' vs ').map(byName))
  : firstUp === undefined ? [] : results.filter((t) => kind(t.name) === 'nodelet').map((t) => [t, firstUp]);
const matrices = pairs.map(([a, b]) => {
  const m = new Map();
  for (const n of names) {
    const key = `${a.res.get(n)?.status ?? '—'} / ${b.res.get(n)?.status ?? '—'}`;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return { a: a.name, b: b.name, m };
});
// each nodelet run's failures by owner and cause
const byCause = results.filter((t) => kind(t.name) === 'nodelet').map((t) => {
  const m = new Map();
  for (const n of names) {
    if (!failed(t.res.get(n))) continue;
    const k = known(t.name, n);
    const key = k === undefined ? 'unclassified' : `**${k.owner}** — ${k.cause}`;
    m.set(key, [...(m.get(key) ?? []), n]);
  }
  return { name: t.name, m };
}).filter((x) => x.m.size > 0);
const short = (n) => n.replace(/ \[(NodeConformance|Conformance|LinuxOnly)\]/g, '').replace(/\|/g, '\\|');

const lines = [
  '# Conformance: upstream [NodeConformance] specs on nodelet and on the upstream kubelet',
  '',
  '<!-- Rendered by scripts/conformance/report.mjs from the output of scripts/conformance.sh and the causes in',
  '     scripts/conformance/causes.json; see "How to run". Do not edit the tables by hand. -->',
  '',
  'The yardstick: the `[NodeConformance]` specs of the upstream e2e suite (../shared/k8s/e2e.test, Kubernetes v1.33.3;',
  "`--ginkgo.focus='\\[NodeConformance\\]' --ginkgo.skip='\\[Serial\\]|\\[Disruptive\\]|\\[Flaky\\]|\\[Feature:'`, 167 specs) run",
  'against one node of a private real control plane, with the test images built locally — on nodelet (Docker) and, the',
  'same way, on the upstream kubelet v1.33.3 (containerd), so a failure on both is the environment\'s.',
  '',
  '## How to run',
  '',
  '```sh',
  'npm run conformance                       # nodelet: bash scripts/conformance.sh --target nodelet',
  'CONF_RUNTIME=containerd npm run conformance    # nodelet on a private containerd (as the upstream kubelet runs)',
  'bash scripts/conformance.sh --target upstream   # the upstream kubelet (../shared/k8s) on a private containerd',
  "bash scripts/conformance.sh --focus 'EmptyDir' --timeout 10m   # a bounded subset",
  '# parallel runs: CONF_DIR, CONF_PORT_BASE, CONF_NODE, CONF_PREFIX, CONF_POD_SUBNET, CONF_CGROUP_ROOT apart (script header)',
  "node scripts/conformance/report.mjs --run 'nodelet (Docker)=DIR' --run 'upstream=DIR' --run 'nodelet (containerd)=DIR' \\",
  "  --compare 'nodelet (Docker) vs upstream' --append scripts/conformance/run-notes.md --out docs/conformance.md",
  '```',
  '',
  'The script builds the images (scripts/conformance/images.sh: `docker import` of root filesystems, no registry;',
  '`KUBE_TEST_REPO_LIST=scripts/conformance/repo-list.yaml`), starts a private control plane with ../shared/k8s/up.sh',
  '(so the suite\'s pods can only land on the node under test), the node under test with the kubelet role only (no',
  'proxy: it would program the shared host\'s iptables), and e2e.test in parallel shards with disjoint focus regexes',
  'and `--ginkgo.timeout`; it stops and removes everything it started (processes by PID, containers, containerd, the',
  'node\'s cgroup tree, the upstream kubelet\'s KUBE-FIREWALL / KUBE-KUBELET-CANARY chains). Environment differences',
  'that are not the node\'s: the nginx and httpd images are stand-ins (busybox httpd serving the same page on port 80),',
  'busybox is Debian\'s 1.35 (its `sh` drops variables whose names contain `-`; the agnhost image has netcat-openbsd',
  'and bash as /bin/sh instead), no registry is reachable (pulls of images that are not built locally fail), the kernel',
  'has no `dummy` module, no Service proxy runs on the node, and the machine is shared (load average 15–30 on 2 CPUs).',
  '',
  'Causes are hand-written per spec in scripts/conformance/causes.json (owner: *environment*, *nodelet (issue N)*,',
  '*fixed*, …); a failure without one shows the class guessed from its message and "unclassified".',
  '',
  '## Runs',
  '',
  ...results.flatMap((t) => [`### ${t.name}`, '', '```', t.meta, '```', '', `pass ${count(t, 'pass')}, fail ${count(t, 'fail')}, not finished ${count(t, 'timeout')}, not run ${count(t, 'not run')} (of ${t.res.size} specs in the selection)`, '']),
  ...(matrices.length === 0 ? [] : ['## Side by side', '']),
  ...matrices.flatMap(({ a, b, m }) => [`| ${a} / ${b} | specs |`, '| --- | --- |', ...[...m.entries()].sort((x, y) => y[1] - x[1]).map(([k, v]) => `| ${k} | ${v} |`), '']),
  ...byCause.flatMap(({ name, m }) => [`## Failures on ${name}, by cause`, '', '| cause | specs |', '| --- | --- |', ...[...m.entries()].sort((a, b) => b[1].length - a[1].length).map(([k, v]) => `| ${k} | ${v.length}: ${v.map(short).join('; ')} |`), '']),
  '## Every spec',
  '',
  `| spec | ${results.map((t) => t.name).join(' | ')} | ${results.map((t) => `${t.name}: cause of the failure`).join(' | ')} |`,
  `| --- | ${results.map(() => '---').join(' | ')} | ${results.map(() => '---').join(' | ')} |`,
  ...rows,
  '',
];
// --append FILE: hand-written notes about the run (what was discarded, what was fixed after it)
if (opt('append') !== undefined) lines.splice(lines.indexOf('## Every spec'), 0, readFileSync(opt('append'), 'utf8').trim(), '');
writeFileSync(out, lines.join('\n'));
console.log(`wrote ${out}: ${names.length} specs`);
if (unclassified.length > 0) console.error(`nodelet failures with no cause in ${causesFile} (${unclassified.length}):\n  ${unclassified.join('\n  ')}`);
