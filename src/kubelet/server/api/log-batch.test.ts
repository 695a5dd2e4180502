import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CriLogParser, parseRecord, type LogLine } from '../../../cri/containerd/logs.js';
import { FakeClock } from '../../../util/clock.js';
import { responseSink } from './container-logs.js';
import { coalesced, FrameSplitter } from './docker-logs.js';
import { lineEmitter, streamCriLogFile } from './log-file.js';
import type { LogRequest } from './log-request.js';

const req = (o: Partial<LogRequest> = {}): LogRequest => ({ follow: false, previous: false, timestamps: false, tailLines: undefined, sinceMs: undefined, limitBytes: undefined, ...o });
const line = (text: string, time = '2026-01-01T00:00:00.000000000Z'): LogLine => ({ time, ms: Date.parse(time), stream: 'stdout', text });

/** A response stand-in recording each write (as one buffer), `full` writes answered false then drained. */
function fakeResponse(full = 0): { res: ServerResponse; writes: string[] } {
  const writes: string[] = [];
  let left = full;
  const w = new Writable({ write: (_c, _e, cb) => cb() });
  const res = Object.assign(w, {
    write(b: Buffer): boolean {
      writes.push(b.toString());
      if (left-- > 0) {
        setImmediate(() => w.emit('drain'));
        return false;
      }
      return true;
    },
  });
  return { res: res as unknown as ServerResponse, writes };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nl1-logbatch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('CRI record parsing', () => {
  it('reads the header by index: time, stream, P/F tag, the body after one space or none', () => {
    const t = 'T1 stdout F hello\nT2 stderr P \nT3 stdout F\nbad\nT4 stdin F x\nT5 stdout X x\nT6 stdout Fx\n T7 stdout F x\n';
    const recs = t.split('\n').slice(0, -1);
    let at = 0;
    const got = recs.map((r) => {
      const p = parseRecord(t, at, at + r.length);
      const body = p === undefined ? undefined : t.slice(p.body, at + r.length);
      at += r.length + 1;
      return p === undefined ? undefined : [p.time, p.stream, p.partial, body];
    });
    expect(got).toEqual([['T1', 'stdout', false, 'hello'], ['T2', 'stderr', true, ''], ['T3', 'stdout', false, ''], undefined, undefined, undefined, undefined, undefined]);
  });

  it('keeps carriage returns and other characters in the body, as upstream', () => {
    const lines = new CriLogParser().push('2026-01-01T00:00:00Z stdout F dos line\r\n2026-01-01T00:00:01Z stdout F a\u2028b\n');
    expect(lines.map((l) => l.text)).toEqual(['dos line\r\n', 'a\u2028b\n']);
  });

  it('parses the time only when asked, to the same value', () => {
    const [l] = new CriLogParser().push('2026-01-01T00:00:01.500000000Z stdout F x\n');
    expect(l?.ms).toBe(Date.UTC(2026, 0, 1, 0, 0, 1, 500));
    expect(l?.time).toBe('2026-01-01T00:00:01.500000000Z');
  });
});

describe('batched log writes', () => {
  it('writes a batch as one response write, with timestamps when asked', async () => {
    const { res, writes } = fakeResponse();
    const sink = responseSink(res, req({ timestamps: true }), new AbortController().signal);
    expect(await sink.writeMany([line('a\n'), line('b\n')])).toBe(true);
    expect(writes).toEqual(['2026-01-01T00:00:00.000000000Z a\n2026-01-01T00:00:00.000000000Z b\n']);
  });

  it('cuts the batch at limitBytes and then refuses more', async () => {
    const { res, writes } = fakeResponse();
    const sink = responseSink(res, req({ limitBytes: 5 }), new AbortController().signal);
    expect(await sink.writeMany([line('abc\n'), line('def\n'), line('ghi\n')])).toBe(false);
    expect(await sink.writeMany([line('x\n')])).toBe(false);
    expect(writes).toEqual(['abc\nd']);
    expect(sink.remaining()).toBe(0);
  });

  it('waits for drain when the response buffer is full', async () => {
    const { res, writes } = fakeResponse(1);
    const sink = responseSink(res, req(), new AbortController().signal);
    expect(await sink.writeMany([line('a\n')])).toBe(true);
    expect(await sink.writeMany([line('b\n')])).toBe(true);
    expect(writes).toEqual(['a\n', 'b\n']);
  });

  it('filters since before batching and falls back to line writes for sinks without writeMany', async () => {
    const got: string[] = [];
    const emit = lineEmitter({ write: (l) => (got.push(l.text), Promise.resolve(got.length < 2)) }, Date.parse('2026-01-01T00:00:01Z'));
    const lines = [line('old\n', '2026-01-01T00:00:00Z'), line('n1\n', '2026-01-01T00:00:01Z'), line('n2\n', '2026-01-01T00:00:02Z'), line('n3\n', '2026-01-01T00:00:03Z')];
    expect(await emit(lines)).toBe(false);
    expect(got).toEqual(['n1\n', 'n2\n']);
  });

  it('streams a file of many lines in few sink calls (one per read chunk)', async () => {
    const path = join(dir, '0.log');
    const n = 20_000;
    writeFileSync(path, Array.from({ length: n }, (_, i) => `2026-01-01T00:00:00.000000000Z stdout F line ${i}\n`).join(''));
    const batches: number[] = [];
    await streamCriLogFile({
      path,
      request: req(),
      sink: { write: () => Promise.reject(new Error('line write')), writeMany: (ls) => (batches.push(ls.length), Promise.resolve(true)) },
      signal: new AbortController().signal,
      stillRunning: () => Promise.resolve(false),
      clock: new FakeClock(),
    });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(n);
    expect(batches.length).toBeLessThan(20); // ~900 KB in 64 KiB reads
  });
});

describe('Docker engine stream batching', () => {
  const frame = (text: string): Buffer => {
    const p = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = 1;
    h.writeUInt32BE(p.length, 4);
    return Buffer.concat([h, p]);
  };

  it('splits frames spanning reads', () => {
    const all = Buffer.concat([frame('one\n'), frame('two\n')]);
    const s = new FrameSplitter();
    expect(s.push(all.subarray(0, 10))).toBeUndefined();
    expect(s.push(all.subarray(10, 20))?.toString()).toBe('one\n');
    expect(s.push(all.subarray(20))?.toString()).toBe('two\n');
  });

  it('reads everything buffered at once: many small chunks become one', async () => {
    const src = new PassThrough();
    for (let i = 0; i < 100; i++) src.write(frame(`line ${i}\n`));
    src.end();
    const chunks: Buffer[] = [];
    for await (const c of coalesced(src)) chunks.push(c);
    expect(chunks.length).toBeLessThan(5);
    const s = new FrameSplitter();
    expect(s.push(Buffer.concat(chunks))?.toString()).toBe(Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
  });

  it('ends on a destroyed source and throws its error', async () => {
    const quiet = new PassThrough();
    const it1 = coalesced(quiet)[Symbol.asyncIterator]();
    const next = it1.next();
    quiet.destroy();
    expect((await next).done).toBe(true);
    const failing = new PassThrough();
    const it2 = coalesced(failing)[Symbol.asyncIterator]();
    const n2 = it2.next();
    failing.destroy(new Error('engine went away'));
    await expect(n2).rejects.toThrow('engine went away');
  });

  it('keeps errors handled between chunks and after the read (the engine request aborted once done)', async () => {
    const src = new PassThrough();
    src.write(frame('a\n'));
    const it1 = coalesced(src)[Symbol.asyncIterator]();
    expect((await it1.next()).done).toBe(false);
    // The consumer is busy (waiting for its client): the source fails meanwhile.
    src.destroy(new Error('reset'));
    await new Promise((r) => setImmediate(r));
    await expect(it1.next()).rejects.toThrow('reset');
    const done = new PassThrough();
    done.end(frame('b\n'));
    for await (const c of coalesced(done)) expect(c.length).toBeGreaterThan(0);
    done.destroy(new Error('aborted after the end')); // would be an uncaught exception without a listener
    await new Promise((r) => setImmediate(r));
  });
});
