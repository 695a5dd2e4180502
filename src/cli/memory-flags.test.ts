import { describe, expect, it } from 'vitest';
import { MEMORY_FLAGS, missingMemoryFlags } from './memory-flags.js';

describe('memory flags', () => {
  it('adds only the flags the user did not give (execArgv or NODE_OPTIONS, - or _ spelling)', () => {
    expect(missingMemoryFlags([], undefined)).toEqual([...MEMORY_FLAGS]);
    expect(missingMemoryFlags(['--max-semi-space-size=4'], undefined)).toEqual(['--max-old-space-size=1024']);
    expect(missingMemoryFlags([], '--max_old_space_size=512 --max-semi-space-size=2')).toEqual([]);
  });
});
