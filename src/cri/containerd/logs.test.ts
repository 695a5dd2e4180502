import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CriLogParser, readCriLogFile, selectLines } from './logs.js';

const dir = mkdtempSync(join(tmpdir(), 'nlctr-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE = [
  '2026-11-22T08:00:00.000000001Z stdout F one',
  '2026-11-22T08:00:01.000000000Z stderr P tw',
  '2026-11-22T08:00:01.500000000Z stderr F o',
  '2026-11-22T08:00:02.000000000Z stdout F ',
  'garbage',
  '2026-11-22T08:00:03.000000000Z stdout F three',
  '',
].join('\n');

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(c: Buffer, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

describe('CRI log files', () => {
  it('joins partial records, keeps empty lines and skips malformed ones', () => {
    const p = new CriLogParser();
    const lines = [...p.push(FILE.slice(0, 50)), ...p.push(FILE.slice(50))];
    expect(lines.map((l) => [l.stream, l.text])).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'two\n'],
      ['stdout', '\n'],
      ['stdout', 'three\n'],
    ]);
    expect(selectLines(lines, { tailLines: 1 }).map((l) => l.text)).toEqual(['three\n']);
    expect(selectLines(lines, { sinceMs: Date.parse('2026-11-22T08:00:02Z') }).map((l) => l.text)).toEqual(['\n', 'three\n']);
    expect(selectLines(lines, { tailLines: 0 })).toEqual([]);
  });

  it('ends with the text of partial records no F record finished, without a newline (conformance run)', async () => {
    const p = new CriLogParser();
    expect(p.push('2026-11-22T08:00:00Z stdout F hello\n2026-11-22T08:00:01Z stdout P v\n2026-11-22T08:00:02Z stdout P 1\n')).toHaveLength(1);
    expect(p.flush().map((l) => [l.stream, l.text, l.time])).toEqual([['stdout', 'v1', '2026-11-22T08:00:02Z']]);
    expect(p.flush()).toEqual([]);
    const path = join(dir, 'p.log');
    writeFileSync(path, '2026-11-22T08:00:00Z stdout F hello\n2026-11-22T08:00:01Z stdout P v1\n');
    const a = sink();
    await readCriLogFile({ path, options: {}, out: a.out });
    expect(a.text()).toBe('hello\nv1');
  });

  it('reads a file with timestamps and a byte limit; a missing file is empty', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, FILE);
    const a = sink();
    await readCriLogFile({ path, options: { timestamps: true, tailLines: 2 }, out: a.out });
    expect(a.text()).toBe('2026-11-22T08:00:02.000000000Z \n2026-11-22T08:00:03.000000000Z three\n');
    const b = sink();
    await readCriLogFile({ path, options: { limitBytes: 6 }, out: b.out });
    expect(b.text()).toBe('one\ntw');
    const c = sink();
    await readCriLogFile({ path: join(dir, 'missing.log'), options: {}, out: c.out });
    expect(c.text()).toBe('');
  });

  it('a large file: the tail reads only its end; a whole read streams block by block, in order', async () => {
    const path = join(dir, 'big.log');
    const n = 60_000; // ≈ 3.5 MB: several 1 MiB blocks
    writeFileSync(path, Array.from({ length: n }, (_, i) => `2026-11-22T08:00:00Z stdout F line-${String(i)}\n`).join(''));
    const t = sink();
    await readCriLogFile({ path, options: { tailLines: 3 }, out: t.out });
    expect(t.text()).toBe(`line-${String(n - 3)}\nline-${String(n - 2)}\nline-${String(n - 1)}\n`);
    const w = sink();
    await readCriLogFile({ path, options: {}, out: w.out });
    const lines = w.text().split('\n');
    expect(lines).toHaveLength(n + 1);
    expect(lines[0]).toBe('line-0');
    expect(lines[n - 1]).toBe(`line-${String(n - 1)}`);
    expect(lines.every((l, i) => i === n || l === `line-${String(i)}`)).toBe(true);
  });

  it('follows a growing file until the container stops', async () => {
    const path = join(dir, 'f.log');
    writeFileSync(path, '2026-11-22T08:00:00Z stdout F first\n');
    let polls = 0;
    const s = sink();
    await readCriLogFile({
      path,
      options: { follow: true },
      out: s.out,
      pollMs: 1,
      stillRunning: async () => {
        polls++;
        if (polls === 2) appendFileSync(path, '2026-11-22T08:00:01Z stdout F second\n');
        if (polls === 3) appendFileSync(path, '2026-11-22T08:00:02Z stdout F last\n');
        return polls < 3;
      },
    });
    expect(s.text()).toBe('first\nsecond\nlast\n');
  });
});
