import { describe, expect, it } from 'vitest';
import { podFullName } from './pod-names.js';

describe('podFullName', () => {
  it('formats name_namespace(uid) like upstream format.Pod', () => {
    expect(podFullName({ metadata: { name: 'web', namespace: 'app', uid: 'u1' } })).toBe('web_app(u1)');
    expect(podFullName({ metadata: { name: 'web', uid: 'u1' } })).toBe('web_default(u1)');
  });
});
