import { describe, expect, it } from 'vitest';
import { FakeObjectSource } from '../../api/objects-fake.js';
import { FakeClock } from '../../util/clock.js';
import { TokenManager } from './token-manager.js';

const spec = (exp: number, uid = 'u1') => ({
  audiences: ['api'],
  expirationSeconds: exp,
  boundObjectRef: { kind: 'Pod' as const, apiVersion: 'v1' as const, name: 'p', uid },
});

describe('TokenManager', () => {
  it('refreshes after 80 % of the lifetime', async () => {
    const clock = new FakeClock();
    const src = new FakeObjectSource(clock);
    const tm = new TokenManager(clock);
    expect(await tm.get(src, 'ns', 'sa', spec(1000))).toBe('token-1');
    clock.advance(799_000);
    expect(await tm.get(src, 'ns', 'sa', spec(1000))).toBe('token-1');
    clock.advance(1_000);
    expect(await tm.get(src, 'ns', 'sa', spec(1000))).toBe('token-2');
  });

  it('refreshes tokens older than 24 h even when their lifetime is longer', async () => {
    const clock = new FakeClock();
    const src = new FakeObjectSource(clock);
    const tm = new TokenManager(clock);
    await tm.get(src, 'ns', 'sa', spec(7 * 24 * 3600));
    clock.advance(24 * 3600 * 1000 - 1000);
    expect(await tm.get(src, 'ns', 'sa', spec(7 * 24 * 3600))).toBe('token-1');
    clock.advance(1000);
    expect(await tm.get(src, 'ns', 'sa', spec(7 * 24 * 3600))).toBe('token-2');
  });

  it('keys by pod and audience; a failed refresh keeps a still-valid token; expired ones fail', async () => {
    const clock = new FakeClock();
    const src = new FakeObjectSource(clock);
    const tm = new TokenManager(clock);
    await tm.get(src, 'ns', 'sa', spec(1000, 'a'));
    expect(await tm.get(src, 'ns', 'sa', spec(1000, 'b'))).toBe('token-2');
    src.failTokens = 'apiserver down';
    clock.advance(900_000);
    expect(await tm.get(src, 'ns', 'sa', spec(1000, 'a'))).toBe('token-1');
    clock.advance(100_000);
    await expect(tm.get(src, 'ns', 'sa', spec(1000, 'a'))).rejects.toThrow('apiserver down');
    src.failTokens = undefined;
    tm.deletePod('b');
    expect(await tm.get(src, 'ns', 'sa', spec(1000, 'b'))).toBe('token-3');
  });
});
