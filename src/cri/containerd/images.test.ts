import { describe, expect, it } from 'vitest';
import { fromCriImage, imageConfigFromInfo } from './images.js';

describe('CRI images', () => {
  it('reads user, stop signal and env from the verbose image info', () => {
    const info = { info: JSON.stringify({ imageSpec: { config: { User: '65535:65535', StopSignal: 'SIGQUIT', Env: ['PATH=/bin'] } } }) };
    const cfg = imageConfigFromInfo(info);
    expect(cfg).toEqual({ user: '65535:65535', stopSignal: 'SIGQUIT', env: ['PATH=/bin'] });
    const img = fromCriImage({ id: 'sha256:a', repoTags: ['x:1'], repoDigests: [], size: '1234', uid: { value: '65535' }, username: '' }, cfg);
    expect(img).toEqual({ id: 'sha256:a', repoTags: ['x:1'], repoDigests: [], size: 1234, user: '65535:65535', stopSignal: 'SIGQUIT' });
    expect(imageConfigFromInfo({ info: 'not json' })).toBeUndefined();
    expect(imageConfigFromInfo({})).toBeUndefined();
  });

  it('falls back to CRI uid/username without the config (root is "")', () => {
    expect(fromCriImage({ id: 'i', repoTags: [], repoDigests: [], size: '0', uid: { value: '0' }, username: '' }).user).toBe('');
    expect(fromCriImage({ id: 'i', repoTags: [], repoDigests: [], size: '0', uid: null, username: 'app' }).user).toBe('app');
  });
});
