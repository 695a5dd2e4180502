// Splits e2e test files into lanes that scripts/test.sh runs side by side (one vitest process per lane, files one
// after another within a lane). Files named together in test/e2e/lanes.json stay in one lane; the groups are placed
// longest first on the lane with the least work so far (by the seconds recorded there).
// Usage: node scripts/e2e-lanes.mjs <lanes> local|real <file>...   prints one line per lane: the lane's files,
// space-separated (an empty line for a lane that got nothing); `real` balances by the seconds on the real server.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [lanesArg, pass, ...files] = process.argv.slice(2);
const lanes = Math.max(1, Number(lanesArg) || 1);
const conf = JSON.parse(readFileSync(new URL('../test/e2e/lanes.json', import.meta.url), 'utf8'));
const short = (f) => basename(f).replace(/\.test\.ts$/, '');
const real = pass === 'real' ? conf.secondsOnRealServer : {};
const seconds = (f) => real[short(f)] ?? conf.seconds[short(f)] ?? conf.defaultSeconds;

/** @type {Map<string, string[]>} group key → files */
const groups = new Map();
for (const f of files) {
  const together = conf.together.find((g) => g.includes(short(f)));
  const key = together === undefined ? f : together.join(' ');
  groups.set(key, [...(groups.get(key) ?? []), f]);
}
const work = (g) => g.reduce((s, f) => s + seconds(f), 0);
const out = Array.from({ length: lanes }, () => ({ files: [], secs: 0 }));
for (const g of [...groups.values()].sort((a, b) => work(b) - work(a))) {
  const lane = out.reduce((min, l) => (l.secs < min.secs ? l : min));
  lane.files.push(...g);
  lane.secs += work(g);
}
for (const l of out) console.log(l.files.join(' '));
