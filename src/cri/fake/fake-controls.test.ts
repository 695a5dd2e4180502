import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FakeClock, NotFoundError, hasCode, isRuntimeUnavailable } from '../../util/index.js';
import { containerConfig, sandboxConfig } from '../contract-fixtures.js';
import type { ContainerEvent } from '../types.js';
import { FakeRuntime } from './fake-runtime.js';

const LABELS = { 'io.nodelet.test': 'cri-fake-controls' };

async function pod(rt: FakeRuntime, command: string[], memoryLimitInBytes?: number) {
  const sb = sandboxConfig('p', LABELS);
  const sbId = await rt.runPodSandbox(sb);
  const cfg = containerConfig('c', sb, LABELS, { command });
  cfg.linux.resources.memoryLimitInBytes = memoryLimitInBytes;
  const id = await rt.createContainer(sbId, cfg, sb);
  return { sbId, id };
}

describe('FakeRuntime controls', () => {
  it('exits a container with a code or as OOMKilled, emitting stopped', async () => {
    const rt = new FakeRuntime({ clock: new FakeClock() });
    const events: ContainerEvent[] = [];
    rt.subscribeEvents((e) => events.push(e));
    const { id } = await pod(rt, ['sleep', 'infinity']);
    await rt.startContainer(id);
    rt.exitContainer(id, 137, { oomKilled: true });
    expect(await rt.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'OOMKilled' });
    expect(events.filter((e) => e.containerId === id).map((e) => e.type)).toEqual(['created', 'started', 'stopped']);
  });

  it('exits modelled programs on the clock', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntime({ clock });
    const { id } = await pod(rt, ['sh', '-c', 'sleep 5; exit 2']);
    await rt.startContainer(id);
    clock.advance(4_999);
    expect((await rt.containerStatus(id)).state).toBe('running');
    clock.advance(1);
    expect(await rt.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 2, reason: 'Error' });
    expect((await rt.containerStatus(id)).finishedAt - (await rt.containerStatus(id)).startedAt).toBe(5_000);
  });

  it('waits the stop timeout on the clock for programs that ignore SIGTERM', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntime({ clock });
    const { id } = await pod(rt, ['sleep', 'infinity']);
    await rt.startContainer(id);
    let done = false;
    const stopping = rt.stopContainer(id, 30).then(() => (done = true));
    clock.advance(29_000);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1_000);
    await stopping;
    expect(await rt.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('stops immediately with honorStopTimeout false', async () => {
    const rt = new FakeRuntime({ clock: new FakeClock(), honorStopTimeout: false });
    const { id } = await pod(rt, ['sleep', 'infinity']);
    await rt.startContainer(id);
    await rt.stopContainer(id, 30);
    expect((await rt.containerStatus(id)).state).toBe('exited');
  });

  it('fails the next call of a method, then recovers; records calls', async () => {
    const rt = new FakeRuntime();
    rt.failNext('listContainers', new NotFoundError('boom'), 2);
    await expect(rt.listContainers()).rejects.toThrow('boom');
    await expect(rt.listContainers()).rejects.toThrow('boom');
    expect(await rt.listContainers()).toEqual([]);
    expect(rt.callsTo('listContainers')).toHaveLength(3);
    rt.clearCalls();
    expect(rt.calls).toEqual([]);
  });

  it('reports readiness and unavailability as set', async () => {
    const rt = new FakeRuntime();
    rt.setNetworkReady(false, 'NetworkPluginNotReady', 'cni config uninitialized');
    expect((await rt.status()).conditions).toEqual([
      { type: 'RuntimeReady', status: true, reason: '', message: '' },
      { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni config uninitialized' },
    ]);
    rt.setUnavailable(true);
    await expect(rt.status()).rejects.toSatisfy(isRuntimeUnavailable);
  });

  it('pulls only images its registry has', async () => {
    const rt = new FakeRuntime({ remoteImages: [{ ref: 'registry.test/app:v1', user: '1000' }] });
    expect(await rt.imageStatus('registry.test/app:v1')).toBeNull();
    const progress: string[] = [];
    const id = await rt.pullImage('registry.test/app:v1', { onProgress: (p) => progress.push(p.status) });
    expect(await rt.imageStatus('registry.test/app:v1')).toMatchObject({ id, user: '1000' });
    expect(progress.length).toBeGreaterThan(0);
    await expect(rt.pullImage('registry.test/other')).rejects.toSatisfy((e: unknown) => hasCode(e, 'IMAGE_PULL_FAILED'));
  });

  it('follows logs until the container exits', async () => {
    const rt = new FakeRuntime({ clock: new FakeClock() });
    const { id } = await pod(rt, ['sleep', 'infinity']);
    await rt.startContainer(id);
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString();
        cb();
      },
    });
    rt.appendLog(id, 'one');
    const following = rt.readLogs(id, { follow: true }, out);
    rt.appendLog(id, 'two', 'stderr');
    rt.exitContainer(id, 0);
    await following;
    expect(text).toBe('one\ntwo\n');
  });

  it('uses an exec handler when set', async () => {
    const rt = new FakeRuntime();
    const { id } = await pod(rt, ['sleep', 'infinity']);
    await rt.startContainer(id);
    rt.setExecHandler((_id, cmd) => (cmd[0] === 'probe' ? { exitCode: 1, stdout: '', stderr: 'unhealthy\n' } : undefined));
    expect(await rt.execSync(id, ['probe'], 1)).toEqual({ exitCode: 1, stdout: '', stderr: 'unhealthy\n' });
    expect(await rt.execSync(id, ['echo', 'x'], 1)).toMatchObject({ exitCode: 0, stdout: 'x\n' });
  });

  it('runs an OOM hog under a memory limit as OOMKilled', async () => {
    const rt = new FakeRuntime();
    const { id } = await pod(rt, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M'], 16 << 20);
    await rt.startContainer(id);
    expect(await rt.containerStatus(id)).toMatchObject({ state: 'exited', reason: 'OOMKilled', exitCode: 137 });
  });
});
