import { describe, expect, it } from 'vitest';
import { KUBELET_MEMORY_FLAGS, MEMORY_FLAGS, memoryReexec, missingMemoryFlags, PROXY_MEMORY_FLAGS } from './memory-flags.js';

describe('memory flags', () => {
  it('adds only the flags the user did not give (execArgv or NODE_OPTIONS, - or _ spelling)', () => {
    expect(missingMemoryFlags([], undefined)).toEqual([...MEMORY_FLAGS]);
    expect(missingMemoryFlags(['--max-semi-space-size=4'], undefined)).toEqual(MEMORY_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size=')));
    expect(missingMemoryFlags([], '--max_old_space_size=512 --max-semi-space-size=2 --v8_pool_size=4')).toEqual(
      MEMORY_FLAGS.filter((f) => !/^--(max-old-space-size|max-semi-space-size|v8-pool-size)=/.test(f)),
    );
    expect(missingMemoryFlags([], MEMORY_FLAGS.join(' '))).toEqual([]);
  });

  it('re-executes once with the missing flags, the environment kept', () => {
    const plan = memoryReexec('/usr/bin/node', ['--max-semi-space-size=4'], ['/usr/bin/node', '/opt/nodelet.mjs', '--roles=kubelet'], { PATH: '/bin' });
    expect(plan?.args).toEqual(['/usr/bin/node', '--max-semi-space-size=4', ...MEMORY_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size=')), '/opt/nodelet.mjs', '--roles=kubelet']);
    expect(plan?.env).toEqual({ PATH: '/bin', NODELET_MEMORY_FLAGS_APPLIED: '1' });
    expect(memoryReexec('/n', [], ['/n', 'x'], { UV_THREADPOOL_SIZE: '8' })?.env['UV_THREADPOOL_SIZE']).toBe('8');
    expect(memoryReexec('/n', [], ['/n', 'x'], { NODELET_MEMORY_FLAGS_APPLIED: '1' })).toBeUndefined();
    expect(memoryReexec('/n', [], ['/n', 'x'], { NODELET_NO_MEMORY_FLAGS: '1' })).toBeUndefined();
    expect(memoryReexec('/n', [...MEMORY_FLAGS], ['/n', 'x'], {})).toBeUndefined();
  });

  it('a proxy-only process also gets --max-opt=1 and --no-incremental-marking unless the user chose otherwise', () => {
    expect(memoryReexec('/n', [...MEMORY_FLAGS], ['/n', 'x', '--roles=proxy'], {}, PROXY_MEMORY_FLAGS)?.args).toEqual(['/n', ...MEMORY_FLAGS, '--max-opt=1', '--no-incremental-marking', 'x', '--roles=proxy']);
    expect(memoryReexec('/n', [...MEMORY_FLAGS, '--max-opt=4', '--incremental-marking'], ['/n', 'x'], {}, PROXY_MEMORY_FLAGS)).toBeUndefined();
    expect(memoryReexec('/n', [...PROXY_MEMORY_FLAGS], ['/n', 'x'], {}, PROXY_MEMORY_FLAGS)).toBeUndefined();
  });

  it('a kubelet-only process also gets --optimize-for-size, which --no-optimize-for-size declines', () => {
    expect(memoryReexec('/n', [...MEMORY_FLAGS], ['/n', 'x'], {}, KUBELET_MEMORY_FLAGS)?.args).toEqual(['/n', ...MEMORY_FLAGS, '--optimize-for-size', 'x']);
    expect(memoryReexec('/n', [...MEMORY_FLAGS, '--no-optimize-for-size'], ['/n', 'x'], {}, KUBELET_MEMORY_FLAGS)).toBeUndefined();
  });
});
