// Reads vitest JSON reports plus extra check results and prints the closing line `N passed, N failed`.
// Usage: node scripts/summarize-results.mjs [--checks <checks-file>] <vitest-json>...
// The checks file has one line per extra check: "<name> pass" or "<name> fail". A missing report counts as a failure.
import { readFileSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
let checksPath;
const reports = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--checks') checksPath = args[++i];
  else reports.push(args[i]);
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (const jsonPath of reports) {
  if (!existsSync(jsonPath)) {
    failed += 1;
    console.log(`no vitest report at ${jsonPath}: counting that run as one failure`);
    continue;
  }
  const r = JSON.parse(readFileSync(jsonPath, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that failed to load (or failed in a hook) reports no failed test of its own: count it once.
  for (const f of r.testResults ?? []) {
    const failedInFile = (f.assertionResults ?? []).filter((a) => a.status === 'failed').length;
    if (f.status === 'failed' && failedInFile === 0) {
      failed += 1;
      console.log(`test file failed outside a test: ${f.name}`);
    }
  }
}
if (checksPath && existsSync(checksPath)) {
  for (const line of readFileSync(checksPath, 'utf8').split('\n')) {
    const [name, result] = line.trim().split(/\s+/);
    if (!name) continue;
    if (result === 'pass') passed += 1;
    else {
      failed += 1;
      console.log(`check failed: ${name}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
