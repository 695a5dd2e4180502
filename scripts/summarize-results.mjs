// Reads vitest JSON reports plus extra check results and prints the closing line `N passed, N failed`.
// Usage: node scripts/summarize-results.mjs <vitest-json> [<checks-file>]
// The checks file has one line per extra check: "<name> pass" or "<name> fail".
import { readFileSync, existsSync } from 'node:fs';

const [jsonPath, checksPath] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (jsonPath && existsSync(jsonPath)) {
  const r = JSON.parse(readFileSync(jsonPath, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that failed to load counts as one failure (vitest reports it with no tests).
  for (const f of r.testResults ?? []) {
    if (f.status === 'failed' && (f.assertionResults ?? []).length === 0) failed += 1;
  }
} else {
  failed += 1;
  console.log('no vitest report found: counting the test run as failed');
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
