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
