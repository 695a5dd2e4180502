import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogLine } from '../../../cri/containerd/logs.js';
import { FakeClock } from '../../../util/clock.js';
import { streamCriLogFile, tailStart } from './log-file.js';
import { parseLogRequest, type LogRequest } from './log-request.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const rec = (i: number, text = `line ${i}`, tag = 'F', stream = 'stdout'): string => `${new Date(T0 + i * 1000).toISOString().replace('Z', '000000Z')} ${stream} ${tag} ${text}\n`;
const req = (o: Partial<LogRequest> = {}): LogRequest => ({ follow: false, previous: false, timestamps: false, tailLines: undefined, sinceMs: undefined, limitBytes: undefined, ...o });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nl1-logfile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function collect(limit = Infinity): { lines: LogLine[]; sink: { write(l: LogLine): Promise<boolean> } } {
  const lines: LogLine[] = [];
  return { lines, sink: { write: (l) => (lines.push(l), Promise.resolve(lines.length < limit)) } };
}

/** A virtual file of `size` bytes made of 40-byte records, counting the bytes read. */
function virtualFile(size: number): { read: (b: Buffer, off: number, len: number, pos: number) => Promise<{ bytesRead: number; buffer: Buffer }>; bytesRead: () => number } {
  let total = 0;
  return {
    bytesRead: () => total,
    read(b, off, len, pos) {
      const n = Math.max(0, Math.min(len, size - pos));
      for (let i = 0; i < n; i++) b[off + i] = (pos + i) % 40 === 39 ? 0x0a : 0x61;
      total += n;
      return Promise.resolve({ bytesRead: n, buffer: b });
    },
  };
}

describe('tailStart (reading backwards)', () => {
  it('finds the start of the last N records, whatever the file size, reading O(tail) bytes', async () => {
    const size = 40 * 2 ** 25; // 1.3 GB
    const f = virtualFile(size);
    expect(await tailStart(f as never, size, 100)).toBe(size - 100 * 40);
    expect(f.bytesRead()).toBeLessThanOrEqual(64 * 1024);
    const g = virtualFile(400);
    expect(await tailStart(g as never, 400, 100)).toBe(0);
    expect(await tailStart(g as never, 400, 0)).toBe(400);
    expect(await tailStart(g as never, 400, 1)).toBe(360);
  });
});

describe('streamCriLogFile', () => {
  it('reads all, the tail, since a time, joins partial records, and stops at the sink limit', async () => {
    const path = join(dir, '0.log');
    writeFileSync(path, [1, 2, 3, 4, 5].map((i) => rec(i)).join('') + rec(6, 'par', 'P') + rec(6, 'tial') + 'garbage\n');
    const run = async (r: LogRequest, limit?: number): Promise<string[]> => {
      const c = collect(limit);
      await streamCriLogFile({ path, request: r, sink: c.sink, signal: new AbortController().signal, stillRunning: () => Promise.resolve(false), clock: new FakeClock() });
      return c.lines.map((l) => l.text);
    };
    expect(await run(req())).toEqual(['line 1\n', 'line 2\n', 'line 3\n', 'line 4\n', 'line 5\n', 'partial\n']);
    // Records, as upstream: the P and F halves count as two, the malformed line as one.
    expect(await run(req({ tailLines: 4 }))).toEqual(['line 5\n', 'partial\n']);
    expect(await run(req({ sinceMs: T0 + 4000 }))).toEqual(['line 4\n', 'line 5\n', 'partial\n']);
    expect(await run(req(), 2)).toEqual(['line 1\n', 'line 2\n']);
    expect(await run(req({ tailLines: 0 }))).toEqual([]);
  });

  it('ends with the text of partial records no F record finished (output without a last newline; conformance run)', async () => {
    const path = join(dir, 'p.log');
    // `sh -c 'echo hello; printf v1'` on containerd: the last output has no newline, so its record is P and stays P
    writeFileSync(path, rec(1, 'hello') + rec(2, 'v', 'P') + rec(3, '1', 'P') + rec(4, 'oops', 'P', 'stderr'));
    const c = collect();
    await streamCriLogFile({ path, request: req(), sink: c.sink, signal: new AbortController().signal, stillRunning: () => Promise.resolve(false), clock: new FakeClock() });
    expect(c.lines.map((l) => [l.stream, l.text])).toEqual([['stdout', 'hello\n'], ['stdout', 'v1'], ['stderr', 'oops']]);
  });

  it('answers nothing for a file not written yet', async () => {
    const c = collect();
    await streamCriLogFile({ path: join(dir, 'missing.log'), request: req(), sink: c.sink, signal: new AbortController().signal, stillRunning: () => Promise.resolve(true), clock: new FakeClock() });
    expect(c.lines).toEqual([]);
  });

  it('follows new records until aborted, leaving no timer behind (fake clock)', async () => {
    const path = join(dir, '0.log');
    writeFileSync(path, rec(1));
    const clock = new FakeClock();
    const ac = new AbortController();
    const c = collect();
    const done = streamCriLogFile({ path, request: req({ follow: true }), sink: c.sink, signal: ac.signal, stillRunning: () => Promise.resolve(true), clock, pollMs: 100 });
    const sleeping = async (): Promise<void> => {
      while (clock.pending() === 0) await new Promise((r) => setImmediate(r));
    };
    await sleeping();
    expect(c.lines.map((l) => l.text)).toEqual(['line 1\n']);
    appendFileSync(path, rec(2));
    clock.advance(100);
    await sleeping();
    expect(c.lines.map((l) => l.text)).toEqual(['line 1\n', 'line 2\n']);
    ac.abort();
    await done;
    expect(clock.pending()).toBe(0);
  });

  it('ends a follow when the container stops, after a last read', async () => {
    const path = join(dir, '0.log');
    writeFileSync(path, rec(1));
    const clock = new FakeClock();
    let running = true;
    const c = collect();
    const done = streamCriLogFile({ path, request: req({ follow: true }), sink: c.sink, signal: new AbortController().signal, stillRunning: () => Promise.resolve(running), clock, pollMs: 500 });
    while (clock.pending() === 0) await new Promise((r) => setImmediate(r));
    appendFileSync(path, rec(2));
    running = false;
    clock.advance(1000);
    await done;
    expect(c.lines.map((l) => l.text)).toEqual(['line 1\n', 'line 2\n']);
    expect(clock.pending()).toBe(0);
  });
});

describe('parseLogRequest', () => {
  const now = T0;
  it('parses the upstream options', () => {
    expect(parseLogRequest(new URLSearchParams('follow=true&previous=true&timestamps=true&tailLines=10&limitBytes=5&sinceSeconds=60'), now)).toEqual({
      follow: true, previous: true, timestamps: true, tailLines: 10, limitBytes: 5, sinceMs: now - 60_000,
    });
    expect(parseLogRequest(new URLSearchParams('sinceTime=2026-01-01T11:00:00Z'), now)).toMatchObject({ sinceMs: Date.UTC(2026, 0, 1, 11), follow: false });
  });
  it('rejects bad values with upstream messages', () => {
    expect(parseLogRequest(new URLSearchParams('tailLines=-1'), now)).toEqual({ error: 'tailLines: Invalid value: must be greater than or equal to 0' });
    expect(parseLogRequest(new URLSearchParams('limitBytes=0'), now)).toEqual({ error: 'limitBytes: Invalid value: must be greater than 0' });
    expect(parseLogRequest(new URLSearchParams('sinceSeconds=0'), now)).toEqual({ error: 'sinceSeconds: Invalid value: must be greater than 0' });
    expect(parseLogRequest(new URLSearchParams('sinceSeconds=1&sinceTime=2026-01-01T11:00:00Z'), now)).toEqual({ error: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
    expect(parseLogRequest(new URLSearchParams('tailLines=x'), now)).toEqual({ error: 'tailLines: invalid value "x": must be an integer' });
  });
});
