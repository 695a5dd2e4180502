import { describe, expect, it } from 'vitest';
import { DockerDemux, engineLogQuery } from './docker-logs.js';

const frame = (stream: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
};

describe('Docker engine log stream', () => {
  it('demultiplexes frames split anywhere across chunks, one output chunk per input chunk', async () => {
    const all = Buffer.concat([frame(1, 'one\n'), frame(2, 'err\n'), frame(1, 'two\n')]);
    const d = new DockerDemux();
    const out: string[] = [];
    d.on('data', (c: Buffer) => out.push(c.toString()));
    d.write(all.subarray(0, 5));
    d.write(all.subarray(5, 26));
    d.end(all.subarray(26));
    await new Promise((r) => d.on('end', r));
    expect(out.join('')).toBe('one\nerr\ntwo\n');
    expect(out).toEqual(['one\nerr\n', 'two\n']);
  });

  it('asks the engine for exactly the requested options', () => {
    expect(engineLogQuery({ follow: true, previous: false, timestamps: true, tailLines: 100, sinceMs: 1_700_000_000_500, limitBytes: 5 })).toBe('stdout=1&stderr=1&follow=1&timestamps=1&tail=100&since=1700000000.500');
    expect(engineLogQuery({ follow: false, previous: false, timestamps: false, tailLines: undefined, sinceMs: undefined, limitBytes: undefined })).toBe('stdout=1&stderr=1&follow=0&timestamps=0');
  });
});
