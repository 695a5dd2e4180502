/** Shared setup of the lifecycle unit tests: FakeRuntime + FakeClock + FakePodApi, and a settle helper. */
import type { V1Container, V1Pod, V1PodSpec, V1PodStatus } from '@kubernetes/client-node';
import { FakeRuntime, PAUSE_IMAGE, TESTBOX_IMAGE } from '../../cri/index.js';
import type { ProberManager } from '../../probes/types.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { createPodLifecycle } from './lifecycle.js';
import type { PodLifecycle, PodLifecycleOptions } from './options.js';
import { FakePodApi, MemoryRecorder } from './testing.js';

/** One test world. */
export interface World {
  clock: FakeClock;
  runtime: FakeRuntime;
  api: FakePodApi;
  recorder: MemoryRecorder;
  lc: PodLifecycle;
  /** Lets promises, runtime events and timers due now run until everything is idle. */
  settle(): Promise<void>;
  /** Advances the clock in steps of at most `step` ms, settling after each. */
  advance(ms: number, step?: number): Promise<void>;
  /** A fresh lifecycle on the same runtime/api/clock (an agent restart). */
  restart(): Promise<void>;
}

export const NODE = 'node1';

/** A container running forever (or the given shell script). */
export function ctr(name: string, script?: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: TESTBOX_IMAGE, command: script === undefined ? ['sleep', 'infinity'] : ['sh', '-c', script], ...extra };
}

/** A pod bound to the test node. */
export function mkPod(name: string, spec: Partial<V1PodSpec> & { containers: V1Container[] }): V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: NODE, ...spec } };
}

/** What a prober factory gets: the world's clock and runtime, and the lifecycle's computed status (bound late). */
export interface ProberWorld {
  clock: FakeClock;
  runtime: FakeRuntime;
  podStatus(uid: string): V1PodStatus | undefined;
}

/** Builds and starts a world; `prober` may be a factory, to build the real prober as src/cli/pods-role.ts does. */
export async function world(extra: Partial<PodLifecycleOptions> = {}, proberOrFactory?: ProberManager | ((pw: ProberWorld) => ProberManager)): Promise<World> {
  const clock = new FakeClock();
  const runtime = new FakeRuntime({ clock });
  const late: { lc?: PodLifecycle } = {};
  const prober = typeof proberOrFactory === 'function'
    ? proberOrFactory({ clock, runtime, podStatus: (uid) => late.lc?.podStatus(uid) })
    : proberOrFactory;
  const api = new FakePodApi();
  const recorder = new MemoryRecorder();
  const make = (): PodLifecycle =>
    createPodLifecycle({
      nodeName: NODE,
      podInfraImage: PAUSE_IMAGE,
      runtime,
      podApi: api,
      podInformer: api,
      recorder,
      logger: silentLogger(),
      clock,
      hostIPs: ['10.0.0.1'],
      getNode: () => ({ metadata: { name: NODE, uid: 'node-uid', labels: { 'kubernetes.io/hostname': NODE, disk: 'ssd' } } }),
      prober,
      ...extra,
    });
  const w: World = {
    clock,
    runtime,
    api,
    recorder,
    lc: make(),
    async settle() {
      // Runs microtasks, I/O callbacks and timers due now until nothing changes for a few rounds. Never waits for
      // in-flight steps: a step blocked on the fake clock (grace period, preStop sleep) stays blocked until advance.
      const count = (): number => runtime.calls.length + api.patches.length + api.deletes.length + recorder.events.length;
      for (let idle = 0, rounds = 0; idle < 6 && rounds < 500; rounds++) {
        const before = count();
        for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
        clock.advance(0);
        idle = count() === before ? idle + 1 : 0;
      }
    },
    async advance(ms, step = 1000) {
      await w.settle();
      let left = ms;
      while (left > 0) {
        const d = Math.min(step, left);
        clock.advance(d);
        left -= d;
        await w.settle();
      }
    },
    async restart() {
      await w.lc.stop();
      w.lc = make();
      late.lc = w.lc;
      await w.lc.start();
      await w.settle();
    },
  };
  late.lc = w.lc;
  await w.lc.start();
  await w.settle();
  return w;
}

/** The API object of pod `name`. */
export function apiPod(w: World, name: string): V1Pod | undefined {
  return w.api.pods.get(`default/${name}`);
}
