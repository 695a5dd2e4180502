import { afterEach, describe, expect, it } from 'vitest';
import { LABELS, PAUSE_IMAGE } from '../../cri/index.js';
import { apiPod, ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

const status = (name: string) => apiPod(w as World, name)?.status;
const cstat = (name: string, c: string) => status(name)?.containerStatuses?.find((s) => s.name === c);

describe('pod lifecycle: running pods', () => {
  it('creates the sandbox first, then the containers, and reports Running/Ready', async () => {
    w = await world();
    w.api.apply(mkPod('web', { containers: [ctr('a'), ctr('b')] }));
    await w.settle();
    const methods = w.runtime.calls.map((c) => c.method).filter((m) => m === 'runPodSandbox' || m === 'createContainer');
    expect(methods).toEqual(['runPodSandbox', 'createContainer', 'createContainer']);
    const s = status('web');
    expect(s?.phase).toBe('Running');
    expect(s?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(s?.hostIP).toBe('10.0.0.1');
    expect(s?.qosClass).toBe('BestEffort');
    expect(cstat('web', 'a')).toMatchObject({ ready: true, started: true, restartCount: 0 });
    expect(cstat('web', 'a')?.containerID).toMatch(/^fake:\/\/[0-9a-f]{64}$/);
    const reasons = w.recorder.events.filter((e) => e.ref.fieldPath === 'spec.containers{a}').map((e) => `${e.reason}: ${e.message}`);
    expect(reasons).toEqual([
      'Pulled: Container image "localhost/nodelet/testbox:1.0" already present on machine',
      'Created: Created container a',
      'Started: Started container a',
    ]);
    const patches = w.api.patches.length;
    await w.advance(70_000, 10_000);
    expect(w.api.patches.length).toBe(patches);
    expect(w.lc.runningPods()).toBe(1);
  });

  it('shows CrashLoopBackOff with delays 10s, 20s, 40s and counts restarts', async () => {
    w = await world();
    const p = w.api.apply(mkPod('crash', { containers: [ctr('c', 'exit 1')] }));
    await w.settle();
    const uid = p.metadata?.uid;
    const creates = (): number => w?.runtime.callsTo('createContainer').length ?? 0;
    // first crash restarts at once; the second waits 10 s
    expect(creates()).toBe(2);
    expect(cstat('crash', 'c')?.state?.waiting).toEqual({ reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=c pod=crash_default(${uid})` });
    expect(cstat('crash', 'c')?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(cstat('crash', 'c')?.restartCount).toBe(1);
    await w.advance(9_000);
    expect(creates()).toBe(2);
    await w.advance(1_000);
    expect(creates()).toBe(3);
    expect(cstat('crash', 'c')?.state?.waiting?.message).toContain('back-off 20s');
    await w.advance(19_000);
    expect(creates()).toBe(3);
    await w.advance(1_000);
    expect(creates()).toBe(4);
    expect(cstat('crash', 'c')?.state?.waiting?.message).toContain('back-off 40s');
    expect(cstat('crash', 'c')?.restartCount).toBe(3);
    expect(status('crash')?.phase).toBe('Running');
    expect(w.recorder.of('BackOff')[0]?.message).toBe(`Back-off restarting failed container c in pod crash_default(${uid})`);
    // the restart count lives in the runtime: a restarted agent keeps it
    await w.restart();
    expect(cstat('crash', 'c')?.restartCount).toBe(3);
  });

  it('keys crash-loop back-off by the container spec hash: a changed image starts fresh (upstream getStableKey)', async () => {
    w = await world();
    const p = w.api.apply(mkPod('crash', { containers: [ctr('c', 'exit 1')] }));
    await w.advance(10_000 + 20_000 + 40_000 + 80_000 + 5_000, 5_000);
    const creates = (): number => w?.runtime.callsTo('createContainer').length ?? 0;
    expect(cstat('crash', 'c')?.state?.waiting?.message).toContain('back-off 2m40s');
    const before = creates();
    w.api.apply({ ...p, spec: { ...p.spec, containers: [ctr('c', 'exit 1', { image: PAUSE_IMAGE })] } });
    await w.settle();
    expect(creates()).toBe(before + 1);
    expect(cstat('crash', 'c')?.state?.waiting?.message).toContain('back-off 10s');
    expect(cstat('crash', 'c')?.image).toBe(PAUSE_IMAGE);
  });

  it('Never: a failed container fails the pod; OnFailure: a successful one completes it', async () => {
    w = await world();
    w.api.apply(mkPod('never', { restartPolicy: 'Never', containers: [ctr('c', 'exit 3')] }));
    w.api.apply(mkPod('onf', { restartPolicy: 'OnFailure', containers: [ctr('c', 'exit 0')] }));
    await w.settle();
    expect(status('never')?.phase).toBe('Failed');
    expect(cstat('never', 'c')?.state?.terminated?.exitCode).toBe(3);
    expect(status('onf')?.phase).toBe('Succeeded');
    expect(w.runtime.callsTo('createContainer').length).toBe(2);
    await w.advance(60_000, 10_000);
    expect(w.runtime.callsTo('createContainer').length).toBe(2);
  });

  it('runs init containers in order before the app; a failing one blocks (and fails the pod under Never)', async () => {
    w = await world();
    w.api.apply(mkPod('init', { initContainers: [ctr('i1', 'exit 0'), ctr('i2', 'exit 0')], containers: [ctr('app')] }));
    w.api.apply(mkPod('bad', { restartPolicy: 'Never', initContainers: [ctr('i1', 'exit 1')], containers: [ctr('app')] }));
    w.api.apply(mkPod('retry', { initContainers: [ctr('i1', 'exit 1')], containers: [ctr('app')] }));
    await w.settle();
    const names = (pod: string) => w?.runtime.callsTo('createContainer')
      .map((c) => c.args[1] as { metadata: { name: string }; labels: Record<string, string> })
      .filter((c) => c.labels[LABELS.podName] === pod).map((c) => c.metadata.name);
    expect(names('init')).toEqual(['i1', 'i2', 'app']);
    expect(status('init')?.phase).toBe('Running');
    expect(names('bad')).toEqual(['i1']);
    expect(status('bad')?.phase).toBe('Failed');
    expect(names('retry')).toEqual(['i1', 'i1']);
    expect(status('retry')?.phase).toBe('Pending');
    expect(status('retry')?.initContainerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(status('retry')?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('False');
  });

  it('reports image pull failures as ErrImagePull then ImagePullBackOff, and Never-pull as ErrImageNeverPull', async () => {
    w = await world();
    w.api.apply(mkPod('pull', { containers: [ctr('c', undefined, { image: '127.0.0.1:1/nope:1' })] }));
    w.api.apply(mkPod('never', { containers: [ctr('c', undefined, { image: '127.0.0.1:1/nope:2', imagePullPolicy: 'Never' })] }));
    await w.settle();
    // ErrImagePull, then ImagePullBackOff as soon as anything resyncs the pod inside the backoff window
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(cstat('pull', 'c')?.state?.waiting?.reason);
    expect(w.recorder.of('Pulling')[0]?.message).toBe('Pulling image "127.0.0.1:1/nope:1"');
    expect(w.recorder.of('Failed').map((e) => e.message)).toContain('Error: ErrImagePull');
    expect(cstat('never', 'c')?.state?.waiting).toMatchObject({ reason: 'ErrImageNeverPull', message: 'Container image "127.0.0.1:1/nope:2" is not present with pull policy of Never' });
    expect(w.runtime.callsTo('pullImage').length).toBe(1);
    // a sync inside the backoff window shows ImagePullBackOff without pulling
    const p = apiPod(w, 'pull');
    w.api.apply({ ...p, metadata: { ...p?.metadata, labels: { touched: 'yes' } } });
    await w.settle();
    expect(cstat('pull', 'c')?.state?.waiting).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "127.0.0.1:1/nope:1"' });
    expect(w.runtime.callsTo('pullImage').length).toBe(1);
    await w.advance(10_000);
    expect(w.runtime.callsTo('pullImage').length).toBe(2);
    expect(w.recorder.of('Failed').filter((e) => e.ref.name === 'pull' && e.message === 'Error: ErrImagePull').length).toBe(2);
    await w.advance(19_000);
    expect(w.runtime.callsTo('pullImage').length).toBe(2);
    await w.advance(1_000);
    expect(w.runtime.callsTo('pullImage').length).toBe(3);
  });

  it('kills a container whose postStart hook fails (FailedPostStartHook, PostStartHookError)', async () => {
    w = await world();
    w.runtime.setExecHandler((_id, cmd) => (cmd.join(' ') === 'sh -c exit 2' ? { exitCode: 2, stdout: 'nope', stderr: '' } : undefined));
    w.api.apply(mkPod('hook', { containers: [ctr('a', undefined, { lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 2'] } } } })] }));
    await w.advance(31_000, 5_000);
    const ev = w.recorder.of('FailedPostStartHook')[0];
    expect(ev?.message).toMatch(/^Exec lifecycle hook \(\[sh -c exit 2\]\) for Container "a" in Pod "hook_default\(.+\)" failed - error: command 'sh -c exit 2' exited with 2: nope/);
    expect(ev?.ref.fieldPath).toBe('spec.containers{a}');
    expect(cstat('hook', 'a')?.state?.waiting?.reason).toMatch(/^(PostStartHookError|CrashLoopBackOff)$/);
    expect(cstat('hook', 'a')?.lastState?.terminated).toBeDefined();
  });

  it('reports an invalid image name as InvalidImageName without crashing the agent', async () => {
    w = await world();
    w.api.apply(mkPod('badimg', { containers: [ctr('a', undefined, { image: 'Bad Image!' })] }));
    w.api.apply(mkPod('fine', { containers: [ctr('a')] }));
    await w.settle();
    expect(cstat('badimg', 'a')?.state?.waiting?.reason).toBe('InvalidImageName');
    expect(status('badimg')?.phase).toBe('Pending');
    expect(status('fine')?.phase).toBe('Running');
  });

  it('observes pod start, worker and relist durations', async () => {
    const starts: number[] = [];
    const ops: string[] = [];
    const relists: number[] = [];
    w = await world({
      metrics: {
        podStartDuration: { observe: (s) => starts.push(s) },
        podWorkerDuration: { observe: (l, _s) => ops.push(l.operation_type) },
        plegRelistDuration: { observe: (s) => relists.push(s) },
      },
    });
    w.api.apply(mkPod('m', { containers: [ctr('a')] }));
    await w.settle();
    await w.advance(10_000);
    expect(starts).toHaveLength(1);
    expect(ops[0]).toBe('create');
    expect(relists.length).toBeGreaterThan(0);
    w.api.markDeleted('default', 'm', 1, w.clock.now());
    await w.advance(5_000);
    expect(ops).toContain('kill');
  });
});
