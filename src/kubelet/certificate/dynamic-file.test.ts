import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { hasCode } from '../../util/errors.js';
import { CertificateFileError, DynamicFileContent, EVENT_DEBOUNCE_MS, FILE_REFRESH_MS } from './dynamic-file.js';
import { FakeFileWatcher } from './fake-file-watcher.js';

function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

/** Lets the fake reads (resolved promises) and the check they feed finish. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Content "v:<word>" parses to the word; anything else is invalid. */
function parse([a, b]: readonly Buffer[]): string {
  const s = `${a?.toString() ?? ''}|${b?.toString() ?? ''}`;
  if (!/^v:\w+\|v:\w+$/.test(s)) throw new CertificateFileError('CERTIFICATE_INVALID', `bad content ${s}`, { field: '--a' });
  return s;
}

let content: DynamicFileContent<string> | undefined;
afterEach(() => {
  content?.stop();
  content = undefined;
});

function setup(): { files: FakeFileWatcher; clock: FakeClock; lines: Record<string, unknown>[]; changes: string[]; c: DynamicFileContent<string> } {
  const files = new FakeFileWatcher();
  files.write('/a', 'v:one');
  files.write('/b', 'v:one');
  const clock = new FakeClock();
  const { logger, lines } = memoryLogger();
  const c = new DynamicFileContent({ name: 'test', paths: ['/a', '/b'], fields: ['--a', '--b'], parse, files, clock, logger });
  content = c;
  const changes: string[] = [];
  c.onChange(() => changes.push(c.current() ?? ''));
  return { files, clock, lines, changes, c };
}

const errors = (lines: Record<string, unknown>[]): Record<string, unknown>[] => lines.filter((l) => l['level'] === 50);

describe('DynamicFileContent', () => {
  it('loads once at start; an unreadable file is CERTIFICATE_UNREADABLE naming the flag, garbage the parser error', async () => {
    const { files, c } = setup();
    expect(c.current()).toBeUndefined();
    expect(await c.load()).toBe('v:one|v:one');
    files.remove('/b');
    const err: unknown = await c.load().catch((e: unknown) => e);
    expect(hasCode(err, 'CERTIFICATE_UNREADABLE')).toBe(true);
    expect(err).toMatchObject({ field: '--b', object: 'file /b' });
    files.write('/b', 'junk');
    await expect(c.load()).rejects.toMatchObject({ code: 'CERTIFICATE_INVALID' });
    expect(c.current()).toBe('v:one|v:one');
  });

  it('check(): unchanged bytes notify nobody; new valid content is applied and notified once', async () => {
    const { files, changes, c } = setup();
    await c.load();
    expect(await c.check()).toBe('unchanged');
    files.write('/a', 'v:two');
    files.write('/b', 'v:two');
    expect(await c.check()).toBe('changed');
    expect(c.current()).toBe('v:two|v:two');
    expect(await c.check()).toBe('unchanged');
    expect(changes).toEqual(['v:two|v:two']);
  });

  it('keeps the last good content on garbage, logs the error with its code once per distinct content', async () => {
    const { files, lines, changes, c } = setup();
    await c.load();
    files.write('/a', 'garbage');
    expect(await c.check()).toBe('invalid');
    expect(await c.check()).toBe('invalid');
    expect(c.current()).toBe('v:one|v:one');
    expect(errors(lines)).toHaveLength(1);
    expect(errors(lines)[0]).toMatchObject({ code: 'CERTIFICATE_INVALID', field: '--a', name: 'test', msg: 'certificate files changed but cannot be used; keeping the last good content' });
    files.write('/a', 'other garbage');
    expect(await c.check()).toBe('invalid');
    expect(errors(lines)).toHaveLength(2);
    files.remove('/a');
    expect(await c.check()).toBe('invalid');
    expect(errors(lines)[2]).toMatchObject({ code: 'CERTIFICATE_UNREADABLE', field: '--a' });
    files.write('/a', 'v:one');
    expect(await c.check()).toBe('unchanged');
    expect(changes).toEqual([]);
  });

  it('a half-written pair is not applied; the second file completes it', async () => {
    const { files, changes, c } = setup();
    await c.load();
    files.write('/a', 'v:new');
    files.write('/b', 'x');
    expect(await c.check()).toBe('invalid');
    files.write('/b', 'v:new');
    expect(await c.check()).toBe('changed');
    expect(changes).toEqual(['v:new|v:new']);
  });

  it('after start(), a file event leads to one check after the debounce', async () => {
    const { files, clock, changes, c } = setup();
    await c.load();
    c.start();
    clock.advance(EVENT_DEBOUNCE_MS);
    await flush();
    expect(files.watching('/a')).toBe(1);
    expect(files.watching('/b')).toBe(1);
    const reads = files.reads;
    files.write('/a', 'v:two');
    files.write('/b', 'v:two');
    clock.advance(EVENT_DEBOUNCE_MS - 1);
    await flush();
    expect(files.reads).toBe(reads);
    clock.advance(1);
    await flush();
    expect(files.reads).toBe(reads + 2);
    expect(changes).toEqual(['v:two|v:two']);
  });

  it('watches the path again after a rename over it (atomic replace)', async () => {
    const { files, clock, changes, c } = setup();
    await c.load();
    c.start();
    files.replace('/a', 'v:two');
    expect(files.watching('/a')).toBe(1);
    files.replace('/b', 'v:two');
    clock.advance(EVENT_DEBOUNCE_MS);
    await flush();
    expect(changes).toEqual(['v:two|v:two']);
    files.write('/a', 'v:three');
    files.write('/b', 'v:three');
    clock.advance(EVENT_DEBOUNCE_MS);
    await flush();
    expect(changes.at(-1)).toBe('v:three|v:three');
  });

  it('a removed file is retried with a backoff (1 s doubling) and watched again once it is back', async () => {
    const { files, clock, changes, c } = setup();
    await c.load();
    c.start();
    files.remove('/a');
    expect(files.watching('/a')).toBe(0);
    clock.advance(EVENT_DEBOUNCE_MS);
    await flush();
    const reads = files.reads;
    clock.advance(1000);
    await flush();
    expect(files.reads).toBe(reads + 2);
    clock.advance(1999);
    await flush();
    expect(files.reads).toBe(reads + 2);
    clock.advance(1);
    await flush();
    expect(files.reads).toBe(reads + 4);
    // Written while unwatched: no event reaches the content, the next backoff check finds it.
    files.write('/a', 'v:back');
    files.write('/b', 'v:back');
    clock.advance(4000);
    await flush();
    expect(changes).toEqual(['v:back|v:back']);
    expect(files.watching('/a')).toBe(1);
  });

  it('a change between load() and start() is found by the check right after start', async () => {
    const { files, clock, changes, c } = setup();
    await c.load();
    files.write('/a', 'v:early');
    files.write('/b', 'v:early');
    c.start();
    clock.advance(EVENT_DEBOUNCE_MS);
    await flush();
    expect(changes).toEqual(['v:early|v:early']);
  });

  it('checks once after start, then every minute without events (the safety net); stop() leaves no timer or watch', async () => {
    const { files, clock, c } = setup();
    await c.load();
    c.start();
    c.start();
    // The one check after start (a change between load and watch), then only the period.
    clock.advance(EVENT_DEBOUNCE_MS);
    await flush();
    const reads = files.reads;
    clock.advance(FILE_REFRESH_MS);
    await flush();
    expect(files.reads).toBe(reads + 2);
    clock.advance(FILE_REFRESH_MS);
    await flush();
    expect(files.reads).toBe(reads + 4);
    c.stop();
    expect(clock.pending()).toBe(0);
    expect(files.watching('/a') + files.watching('/b')).toBe(0);
  });

  it('concurrent checks coalesce into one more run', async () => {
    const { files, c } = setup();
    await c.load();
    const reads = files.reads;
    files.write('/a', 'v:two');
    files.write('/b', 'v:two');
    const results = await Promise.all([c.check(), c.check(), c.check()]);
    expect(results).toContain('changed');
    expect(files.reads).toBe(reads + 4);
  });
});
