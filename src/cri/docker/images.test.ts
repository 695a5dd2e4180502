import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../util/index.js';
import type { PullProgress } from '../types.js';
import { pullImage } from './images.js';

function stubDocker(lines: string[], present = true) {
  const calls: { ref: string; opts: Record<string, unknown> }[] = [];
  const docker = {
    pull: async (ref: string, opts: Record<string, unknown>) => {
      calls.push({ ref, opts });
      const s = new PassThrough();
      setImmediate(() => {
        // Chunk boundaries inside lines, as the engine sends them.
        const all = lines.join('\n') + '\n';
        s.write(all.slice(0, 7));
        s.end(all.slice(7));
      });
      return s;
    },
    getImage: () => ({
      inspect: async () => {
        if (!present) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { Id: 'sha256:' + 'a'.repeat(64), RepoTags: ['registry.test/app:v1'], RepoDigests: [], Size: 1, Config: { User: '' } };
      },
    }),
  } as unknown as Docker;
  return { docker, calls };
}

describe('pullImage (docker)', () => {
  it('reports progress, passes credentials and defaults the tag', async () => {
    const { docker, calls } = stubDocker([
      '{"status":"Pulling from app","id":"v1"}',
      '{"status":"Downloading","id":"abc","progressDetail":{"current":5,"total":10}}',
      '{"status":"Status: Downloaded newer image for registry.test/app:v1"}',
    ]);
    const progress: PullProgress[] = [];
    const id = await pullImage(
      docker,
      'registry.test/app',
      { auth: { username: 'u', password: 'p', serverAddress: 'registry.test' }, onProgress: (p) => progress.push(p) },
      '/s',
    );
    expect(id).toBe('sha256:' + 'a'.repeat(64));
    expect(calls[0]?.ref).toBe('registry.test/app:latest');
    expect(calls[0]?.opts['authconfig']).toEqual({ username: 'u', password: 'p', serveraddress: 'registry.test' });
    expect(progress[1]).toEqual({ status: 'Downloading', id: 'abc', current: 5, total: 10 });
  });

  it('fails with IMAGE_PULL_FAILED on an error line in the stream', async () => {
    const { docker } = stubDocker(['{"status":"Pulling"}', '{"error":"manifest unknown","errorDetail":{"message":"manifest unknown"}}']);
    const err = await pullImage(docker, 'registry.test/app:v1', {}, '/s').catch((e: unknown) => e);
    expect(hasCode(err, 'IMAGE_PULL_FAILED')).toBe(true);
    expect(String(err)).toContain('manifest unknown');
  });

  it('fails with IMAGE_PULL_FAILED when the engine refuses the pull', async () => {
    const docker = {
      pull: async () => {
        throw Object.assign(new Error('(HTTP code 500) server error'), {
          statusCode: 500,
          json: { message: 'Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused' },
        });
      },
    } as unknown as Docker;
    const err = await pullImage(docker, '127.0.0.1:1/nope:1', {}, '/s').catch((e: unknown) => e);
    expect(hasCode(err, 'IMAGE_PULL_FAILED')).toBe(true);
    expect(String(err)).toContain('connection refused');
  });
});
