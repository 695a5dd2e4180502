// `npm run bench`: runs every bench/*.ts (or the ones named on the command line) one after another with tsx.
// Each benchmark writes its own section of docs/benchmarks.md (with machine and date). Not part of the test suite.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, resolve } from 'node:path';

// `node scripts/bench.mjs NAME… [-- ARG…]`: the ARGs go to every benchmark run, e.g.
// `npm run bench -- pod-startup-cni -- --kubeconfig=/tmp/x-k8s/admin.kubeconfig --pods=50`.
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const wanted = sep < 0 ? argv : argv.slice(0, sep);
const passed = sep < 0 ? [] : argv.slice(sep + 1);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`== bench/${f}`);
  // The project's own tsx, also when run as `node scripts/bench.mjs` (not through npm).
  const PATH = `${resolve('node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`;
  const r = spawnSync('tsx', [`bench/${f}`, ...passed], { stdio: 'inherit', env: { ...process.env, PATH } });
  if (r.status !== 0) {
    failed += 1;
    console.log(`bench/${f} failed (exit ${r.status})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
