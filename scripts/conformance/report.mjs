#!/usr/bin/env node
// Renders docs/conformance.md from the output directories of scripts/conformance.sh (junit XML per shard + meta.txt):
//   node scripts/conformance/report.mjs --nodelet DIR [--upstream DIR] [--notes FILE] [--append FILE] [--out docs/conformance.md]
// Every spec of the selection is listed with its result per target and, for failures, the cause: the first line of
// the failure message plus a classification (--notes: a JSON map of spec-name substrings to a cause/issue text).
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const out = opt('out') ?? 'docs/conformance.md';
const targets = ['nodelet', 'upstream'].filter((t) => opt(t) !== undefined).map((t) => ({ name: t, dir: opt(t) }));
const notes = opt('notes') === undefined ? {} : JSON.parse(readFileSync(opt('notes'), 'utf8'));

const unxml = (s) => s.replace(/&#34;/g, '"').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#xA;/g, '\n').replace(/&#x9;/g, ' ').replace(/&amp;/g, '&');

function readResults(dir) {
  const res = new Map();
  for (const shard of readdirSync(dir).filter((d) => d.startsWith('shard-'))) {
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
  return res;
}

function classify(name, r) {
  for (const [k, v] of Object.entries(notes)) if (name.includes(k)) return v;
  const m = r.message;
  const rejected = /Pod was rejected: ([^\n']{0,160})/.exec(m);
  if (rejected) return `nodelet admission refused the pod: ${rejected[1].replace(/\s+/g, ' ')}`;
  if (/failed to set up cgroup|unable to ensure pod container exists/.test(m)) return 'nodelet pod cgroup setup failed (FailedCreatePodContainer)';
  if (/OCI runtime create failed|failed to create shim task/.test(m)) return 'the container runtime (Docker/runc) failed to start the sandbox or container';
  if (/ErrImagePull|ImagePullBackOff|pull access denied|127\.0\.0\.1:1/.test(m)) return 'image pull from a registry (none is reachable here)';
  if (/pods\/log|\/log\b|GetLogs|error dialing backend|proxy error|:10250|kubelet.*(refused|unreachable)|failed to get output|unable to upgrade connection|exec/i.test(m)) {
    return 'needs the kubelet API (pod logs / exec through the API server: issue 13)';
  }
  if (r.status === 'timeout') return 'not finished: the bounded run stopped (ginkgo --timeout)';
  return '';
}

const first = (s) => s.split('\n').map((l) => l.trim()).find((l) => l !== '')?.slice(0, 220).replace(/\|/g, '\\|') ?? '';
const results = targets.map((t) => ({ ...t, res: readResults(t.dir), meta: existsSync(join(t.dir, 'meta.txt')) ? readFileSync(join(t.dir, 'meta.txt'), 'utf8').trim() : '' }));
const names = [...new Set(results.flatMap((t) => [...t.res.keys()]))].sort();
const count = (t, s) => [...t.res.values()].filter((r) => r.status === s).length;

const lines = [
  '# Conformance: upstream [NodeConformance] specs on nodelet',
  '',
  '<!-- Rendered by scripts/conformance/report.mjs from the output of scripts/conformance.sh; see "How to run". -->',
  '',
  'The yardstick: the `[NodeConformance]` specs of the upstream e2e suite (../shared/k8s/e2e.test, Kubernetes v1.33.3;',
  "`--ginkgo.focus='\\[NodeConformance\\]' --ginkgo.skip='\\[Serial\\]|\\[Disruptive\\]|\\[Flaky\\]|\\[Feature:'`, 167 specs) run",
  'against one node of a real control plane, with the test images built locally.',
  '',
  '## How to run',
  '',
  '```sh',
  'npm run conformance                       # nodelet: bash scripts/conformance.sh --target nodelet',
  'bash scripts/conformance.sh --target upstream   # the upstream kubelet (../shared/k8s) on a private containerd',
  "bash scripts/conformance.sh --focus 'EmptyDir' --timeout 10m   # a bounded subset",
  'node scripts/conformance/report.mjs --nodelet DIR [--upstream DIR] --out docs/conformance.md',
  '```',
  '',
  'The script builds the images (scripts/conformance/images.sh: `docker import` of root filesystems, no registry;',
  '`KUBE_TEST_REPO_LIST=scripts/conformance/repo-list.yaml`), starts a private control plane with ../shared/k8s/up.sh',
  '(so the suite\'s pods can only land on the node under test), the node under test with the kubelet role only (no',
  'proxy: it would program the shared host\'s iptables), and e2e.test in 7 parallel shards with disjoint focus regexes',
  'and `--ginkgo.timeout`. Environment differences that are not the node\'s: the nginx and httpd images are stand-ins',
  '(busybox httpd serving the same page on port 80), busybox is Debian\'s 1.35 (its `sh` drops variables whose names',
  'contain `-`), no registry is reachable (pulls of images that are not built locally fail), no Service proxy runs',
  'on the node.',
  '',
  '## Runs',
  '',
  ...results.flatMap((t) => [`### ${t.name}`, '', '```', t.meta, '```', '', `pass ${count(t, 'pass')}, fail ${count(t, 'fail')}, not finished ${count(t, 'timeout')}, not run ${count(t, 'not run')} (of ${t.res.size} specs in the selection)`, '']),
  '## Every spec',
  '',
  `| spec | ${results.map((t) => t.name).join(' | ')} | cause of the failure |`,
  `| --- | ${results.map(() => '---').join(' | ')} | --- |`,
  ...names.map((n) => {
    const cells = results.map((t) => t.res.get(n)?.status ?? '—');
    const failing = results.map((t) => ({ t, r: t.res.get(n) })).find((x) => x.r !== undefined && x.r.status !== 'pass' && x.r.status !== 'not run');
    let cause = failing === undefined ? '' : `${failing.t.name}: ${[classify(n, failing.r), first(failing.r.message)].filter((x) => x !== '').join(' — ')}`;
    const ran = results.map((t) => t.res.get(n)?.status).filter((st) => st === 'pass' || st === 'fail');
    if (results.length > 1 && ran.length === results.length && ran.every((st) => st === 'fail')) cause = `**fails on both: the environment** — ${cause}`;
    return `| ${n.replace(/\|/g, '\\|')} | ${cells.join(' | ')} | ${cause} |`;
  }),
  '',
];
// --append FILE: hand-written notes about the run (what was discarded, which failures belong to which issue)
if (opt('append') !== undefined) lines.splice(lines.indexOf('## Every spec'), 0, readFileSync(opt('append'), 'utf8').trim(), '');
writeFileSync(out, lines.join('\n'));
console.log(`wrote ${out}: ${names.length} specs`);
