/** The floor of pod startup: a pause + app container pair started with the docker CLI against the same engine. */
import { quantile } from './stats.js';
import { BENCH_LABEL, IMAGE, PAUSE_IMAGE, type PodBenchEnv } from './pod-env.js';

/**
 * Starts `runs` pause+app pairs one after another (`docker run -d` pause, then `docker run -d --network
 * container:<pause>` app, as a kubelet does with a sandbox), timing each pair from the first CLI call until the
 * second returned; every container carries {@link BENCH_LABEL} and is removed afterwards. Returns the times in ms.
 */
export function measureFloor(env: PodBenchEnv, runs: number): number[] {
  const times: number[] = [];
  const ids: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const pause = env.dockerCli(['run', '-d', '--label', BENCH_LABEL, PAUSE_IMAGE]);
      ids.push(pause);
      const app = env.dockerCli(['run', '-d', '--label', BENCH_LABEL, `--network=container:${pause}`, IMAGE, 'sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"]);
      times.push(performance.now() - t0);
      ids.push(app);
    }
  } finally {
    if (ids.length > 0) env.dockerCli(['rm', '-f', ...ids.reverse()]);
  }
  return times;
}

/** Median of the floor runs (for the text). */
export function floorMedian(times: readonly number[]): number {
  return quantile(times, 0.5);
}

/**
 * The floor of a burst: `n` pause + app pairs started through the engine API (no CLI), at most `concurrency` pairs
 * in flight at a time (n = at once). Returns the time until all were started (ms) and each pair's time from the
 * burst's start; the containers carry {@link BENCH_LABEL} and are removed afterwards.
 */
export async function measureBurstFloor(env: PodBenchEnv, n: number, concurrency: number): Promise<{ allMs: number; perPair: number[] }> {
  const [key, value] = BENCH_LABEL.split('=') as [string, string];
  const ids: string[] = [];
  const perPair: number[] = [];
  const t0 = performance.now();
  let next = 0;
  const one = async (): Promise<void> => {
    const pause = await env.docker.createContainer({ Image: PAUSE_IMAGE, Labels: { [key]: value } });
    ids.push(pause.id);
    await pause.start();
    const app = await env.docker.createContainer({
      Image: IMAGE,
      Cmd: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"],
      Labels: { [key]: value },
      HostConfig: { NetworkMode: `container:${pause.id}` },
    });
    ids.push(app.id);
    await app.start();
    perPair.push(performance.now() - t0);
  };
  const lane = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(n, concurrency) }, () => lane()));
    return { allMs: performance.now() - t0, perPair };
  } finally {
    const all = await env.docker.listContainers({ all: true, filters: { label: [BENCH_LABEL] } });
    const lanes = Array.from({ length: 8 }, async (_, i) => {
      for (let j = i; j < all.length; j += 8) await env.docker.getContainer(all[j]?.Id ?? '').remove({ force: true }).catch(() => undefined);
    });
    await Promise.all(lanes);
  }
}
