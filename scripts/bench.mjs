// `npm run bench`: runs every bench/*.ts (or the ones named on the command line) one after another with tsx.
// Each benchmark writes its own section of docs/benchmarks.md (with machine and date). Not part of the test suite.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const wanted = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`== bench/${f}`);
  const r = spawnSync('tsx', [`bench/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.log(`bench/${f} failed (exit ${r.status})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
