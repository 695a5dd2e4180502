/**
 * Image garbage collection benchmark (issue 16; not part of the test suite): the time nodelet's image GC
 * (ImageGcManager over the real DockerRuntime) takes to remove 50 unused images, against the floor — the engine
 * alone removing the same 50 images with one `docker rmi` — measured in the same run, on a PRIVATE dockerd (the
 * shared engine's images are never touched). The disk is reported 90 % full so that every unused image is eligible.
 *
 * Usage: tsx bench/image-gc.ts [--images 50] [--rounds 3]
 * Writes its section of docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSubsection } from './lib/docs.js';
import { machineFacts, machineLine } from './lib/machine.js';
import { DockerRuntime } from '../src/cri/docker/index.js';
import { ImageGcManager } from '../src/kubelet/images/index.js';
import { RealClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';
import { PrivateDockerd } from '../test/e2e/node-helpers.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const IMAGES = arg('images', 50);
const ROUNDS = arg('rounds', 3);

async function main(): Promise<void> {
  const facts = machineFacts();
  const dir = mkdtempSync(join(tmpdir(), 'nl-bench-imagegc-'));
  const engine = new PrivateDockerd(dir, 'nlbgc-br0');
  engine.setupBridge('10.213.154.1/24');
  await engine.start();
  const importAll = (): void => {
    const script = Array.from({ length: IMAGES }, (_, i) => `echo img-${i}-$RANDOM > f && tar c f | docker -H unix://${engine.socket} import - localhost/bench/gc${i}:1 >/dev/null`).join('\n');
    writeFileSync(join(dir, 'import.sh'), `cd ${dir}\n${script}\n`);
    const r = spawnSync('sh', [join(dir, 'import.sh')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  };
  const nodelet: number[] = [];
  const floor: number[] = [];
  try {
    const runtime = new DockerRuntime({ socketPath: engine.socket });
    for (let round = 0; round < ROUNDS; round++) {
      // Floor: the engine alone.
      importAll();
      const ids = engine.docker(['images', '-q', '--filter', 'reference=localhost/bench/*']).split('\n').filter((x) => x !== '');
      let t = process.hrtime.bigint();
      spawnSync('docker', ['-H', `unix://${engine.socket}`, 'rmi', '-f', ...ids], { encoding: 'utf8' });
      floor.push(Number(process.hrtime.bigint() - t) / 1e6);
      // nodelet: one collection (detection included, as every 5 min on a node).
      importAll();
      const gc = new ImageGcManager({
        runtime,
        fsStats: async () => ({ capacityBytes: 100 * 2 ** 30, availableBytes: 10 * 2 ** 30 }),
        policy: { highThresholdPercent: 85, lowThresholdPercent: 0, minAgeMs: 0, maxAgeMs: 0 },
        pinnedImages: [],
        nodeName: 'bench',
        recorder: { event: () => undefined },
        clock: new RealClock(),
        logger: silentLogger(),
      });
      t = process.hrtime.bigint();
      const res = await gc.garbageCollect().catch((e: unknown) => ({ removed: [], error: e }));
      nodelet.push(Number(process.hrtime.bigint() - t) / 1e6);
      const left = engine.docker(['images', '-q', '--filter', 'reference=localhost/bench/*']).split('\n').filter((x) => x !== '').length;
      if (left !== 0) throw new Error(`nodelet left ${left} images (${JSON.stringify(res).slice(0, 200)})`);
    }
    await runtime.close();
  } finally {
    await engine.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const body = `Run: ${machineLine(facts)}; ${ROUNDS} rounds on a private dockerd.

| ${IMAGES} unused images | median | all rounds |
| --- | --- | --- |
| nodelet image GC (list + inspect + remove, DockerRuntime) | ${(med(nodelet) / 1000).toFixed(2)} s | ${nodelet.map((x) => (x / 1000).toFixed(2)).join(' / ')} s |
| floor: one \`docker rmi -f\` of the same images | ${(med(floor) / 1000).toFixed(2)} s | ${floor.map((x) => (x / 1000).toFixed(2)).join(' / ')} s |
| ratio nodelet / floor | ${(med(nodelet) / med(floor)).toFixed(2)} | |
`;
  writeSubsection('node-resources', '## Node resources (bench/image-gc.ts, bench/eviction.ts)', 'node-resources:image-gc', `### Image garbage collection\n\n${body}`);
  console.log(body);
}

await main();
