// Reads vitest JSON reports plus extra check results and prints the closing line `N passed, N failed`.
// Usage: node scripts/summarize-results.mjs [--checks <checks-file>] [--notes <notes-file>] <vitest-json>...
// The checks file has one line per extra check: "<name> pass" or "<name> fail". A missing report counts as a failure.
// Each report gets a line of its own counts (vitest-e2e-real[-<lane>].json is the e2e suite on a real control plane); the notes
// file's lines (e.g. that no real control plane was available) are repeated just before the closing line.
import { readFileSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
let checksPath;
let notesPath;
const reports = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--checks') checksPath = args[++i];
  else if (args[i] === '--notes') notesPath = args[++i];
  else reports.push(args[i]);
}
/** What a report file holds, for its counts line. */
const label = (p) => {
  const m = /vitest-(.+?)(?:-(\d+))?\.json$/.exec(p);
  if (m === null) return p;
  const what = m[1] === 'e2e-real' ? 'e2e on the real control plane' : m[1] === 'e2e' ? 'e2e on the test API server' : m[1];
  return m[2] === undefined ? what : `${what}, lane ${m[2]}`;
};
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
  const secs = (r.testResults ?? []).reduce((t, f) => Math.max(t, f.endTime ?? 0), 0) - (r.startTime ?? 0);
  console.log(
    `${label(jsonPath)}: ${r.numPassedTests ?? 0} passed, ${r.numFailedTests ?? 0} failed, ${(r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)} skipped` +
      (r.startTime && secs > 0 ? ` (${Math.round(secs / 1000)} s)` : ''),
  );
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
if (notesPath && existsSync(notesPath)) {
  for (const line of readFileSync(notesPath, 'utf8').split('\n')) if (line.trim()) console.log(line);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 ? 1 : 0;
