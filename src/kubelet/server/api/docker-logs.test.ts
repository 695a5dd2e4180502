import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createEngineLogReader, engineLogQuery, FrameSplitter } from './docker-logs.js';

const frame = (stream: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
};

describe('Docker engine log stream', () => {
  it('demultiplexes frames split anywhere across chunks, one output chunk per input chunk', () => {
    const all = Buffer.concat([frame(1, 'one\n'), frame(2, 'err\n'), frame(1, 'two\n')]);
    const d = new FrameSplitter();
    const out: string[] = [];
    for (const part of [all.subarray(0, 5), all.subarray(5, 26), all.subarray(26)]) {
      const c = d.push(part);
      if (c !== undefined) out.push(c.toString());
    }
    expect(out.join('')).toBe('one\nerr\ntwo\n');
    expect(out).toEqual(['one\nerr\n', 'two\n']);
  });

  it('asks the engine for exactly the requested options', () => {
    expect(engineLogQuery({ follow: true, previous: false, timestamps: true, tailLines: 100, sinceMs: 1_700_000_000_500, limitBytes: 5 })).toBe('stdout=1&stderr=1&follow=1&timestamps=1&tail=100&since=1700000000.500');
    expect(engineLogQuery({ follow: false, previous: false, timestamps: false, tailLines: undefined, sinceMs: undefined, limitBytes: undefined })).toBe('stdout=1&stderr=1&follow=0&timestamps=0');
  });
});

describe('createEngineLogReader against an engine that never stops sending', () => {
  it('aborts and byte limits at random points end the read without an uncaught error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl-engine-'));
    const sock = join(dir, 'docker.sock');
    const server = createServer((req, res) => {
      if ((req.url ?? '').includes('/json')) {
        res.end(JSON.stringify({ Config: { Tty: true } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
      const t = setInterval(() => res.write('x'.repeat(100) + '\n'), 1);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(sock, r));
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const read = createEngineLogReader(sock);
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const ac = new AbortController();
          let got = 0;
          const out = new Writable({ write: (c: Buffer, _e, cb) => ((got += c.length), cb()) });
          const request = { follow: true, timestamps: false, ...(i % 3 === 0 ? { limitBytes: 500 + i * 37 } : {}) } as never;
          if (i % 3 !== 0) setTimeout(() => ac.abort(), i % 25);
          await read('c', request, out, ac.signal);
          if (i % 3 === 0) expect(got).toBe(500 + i * 37);
        }),
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
