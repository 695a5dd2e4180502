import { describe, expect, it } from 'vitest';
import { hasCode } from '../../util/index.js';
import { PAUSE_IMAGE } from '../images.js';
import { FakeRuntime } from './fake-runtime.js';

describe('FakeRuntime options for long simulations', () => {
  it('pullAnyImage: unknown images are made up, present ones stay as they are', async () => {
    const rt = new FakeRuntime({ pullAnyImage: true });
    const before = await rt.imageStatus(PAUSE_IMAGE);
    expect(await rt.pullImage(PAUSE_IMAGE)).toBe(before?.id);
    expect((await rt.imageStatus(PAUSE_IMAGE))?.id).toBe(before?.id);
    const id = await rt.pullImage('registry.example/x:1');
    expect((await rt.imageStatus('registry.example/x:1'))?.id).toBe(id);
  });

  it('without it, a pull of an unknown image fails', async () => {
    const rt = new FakeRuntime();
    const err = await rt.pullImage('registry.example/x:1').catch((e: unknown) => e);
    expect(hasCode(err, 'IMAGE_PULL_FAILED')).toBe(true);
  });

  it('recordCalls false keeps no call log; the default records', async () => {
    const quiet = new FakeRuntime({ recordCalls: false });
    await quiet.listImages();
    expect(quiet.calls).toHaveLength(0);
    const loud = new FakeRuntime();
    await loud.listImages();
    expect(loud.callsTo('listImages')).toHaveLength(1);
  });
});
