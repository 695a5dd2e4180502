import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findContainerCgroup, parseMeminfo, procStatCpuNanos, readCgroup } from './cgroup.js';
import { CpuRateCache } from './cpu-rate.js';
import { goFloat, renderFamilies } from './expfmt.js';
import { FakeStatsFs } from './fake.js';
import { HostStatsFs, type StatsFs } from './fs.js';
import { parseNetDev } from './net.js';
import { DiskUsageCache } from './usage-cache.js';
import { selfCgroupPath } from './collect.js';

describe('goFloat prints like Go strconv g/-1', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [4.710169, '4.710169'],
    [357.35491, '357.35491'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [12533760, '1.253376e+07'],
    [1704800020.1414006, '1.7048000201414006e+09'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e21, '1e+21'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
  ])('%s → %s', (v, s) => expect(goFloat(v)).toBe(s));

  it('sorts families and samples, escapes label values, drops empty families', () => {
    const text = renderFamilies([
      { name: 'b', help: 'B', type: 'gauge', samples: [{ labels: { z: '1', a: 'x"y' }, value: 2 }, { labels: { z: '0', a: 'a' }, value: 1, timestampMs: 5 }] },
      { name: 'a', help: 'A', type: 'counter', samples: [] },
    ]);
    expect(text).toBe('# HELP b B\n# TYPE b gauge\nb{a="a",z="0"} 1 5\nb{a="x\\"y",z="1"} 2\n');
  });
});

describe('CpuRateCache', () => {
  it('derives nanocores between readings, ignores counter resets, stays bounded', () => {
    const c = new CpuRateCache({ maxEntries: 2 });
    expect(c.observe('a', 0, 0)).toBeUndefined();
    expect(c.observe('a', 2000, 1e9)).toBe(500_000_000);
    expect(c.observe('a', 4000, 0.5e9)).toBeUndefined(); // went backwards: a new cgroup
    c.observe('b', 0, 0);
    c.observe('c', 0, 0);
    expect(c.size).toBe(2);
    c.retain(new Set(['c']));
    expect(c.size).toBe(1);
  });
});

describe('cgroup parsing', () => {
  it('finds a container cgroup under a cgroup parent (bounded search) on v1 and v2', () => {
    const fs = new FakeStatsFs();
    fs.setCgroupV1('/sys/fs/cgroup', '/kubepods/burstable/podx/abc123', { cpuNanos: 7, memoryUsage: 8 });
    expect(findContainerCgroup(fs, { version: 1, root: '/sys/fs/cgroup' }, 'abc123')).toBe('/kubepods/burstable/podx/abc123');
    const fs2 = new FakeStatsFs();
    fs2.setCgroupV2('/sys/fs/cgroup', '/system.slice/docker-abc123.scope', { cpuNanos: 7000, memoryUsage: 8, limit: 100 });
    const layout = { version: 2 as const, root: '/sys/fs/cgroup' };
    expect(findContainerCgroup(fs2, layout, 'abc123')).toBe('/system.slice/docker-abc123.scope');
    expect(readCgroup(fs2, layout, '/system.slice/docker-abc123.scope')).toMatchObject({ cpuUsageNanos: 7000, memory: { usageBytes: 8, limitBytes: 100 } });
    expect(findContainerCgroup(fs2, layout, 'nope')).toBeUndefined();
    expect(readCgroup(fs2, layout, '/gone')).toBeUndefined();
  });

  it('parses meminfo, /proc/stat, net/dev and /proc/self/cgroup', () => {
    expect(parseMeminfo('MemTotal: 10 kB\nHugePages_Total: 0\n').get('MemTotal')).toBe(10240);
    expect(procStatCpuNanos('cpu  100 0 50 1000 0 0 0 0\n')).toBe(1.5e9);
    expect(parseNetDev('x|y\n  lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n')).toEqual([
      { name: 'eth0', rxBytes: 1, rxPackets: 2, rxErrors: 3, rxDropped: 4, txBytes: 9, txPackets: 10, txErrors: 11, txDropped: 12 },
    ]);
    expect(selfCgroupPath('12:pids:/a\n4:memory:/b\n0::/c\n', 1)).toBe('/b');
    expect(selfCgroupPath('0::/c\n', 2)).toBe('/c');
  });
});

describe('DiskUsageCache', () => {
  it('walks a directory at most once per TTL', () => {
    const fs = new FakeStatsFs().setDiskUsage('/v', { bytes: 1, inodes: 1 });
    const c = new DiskUsageCache(fs, 60_000);
    c.get('/v', 0);
    c.get('/v', 59_999);
    expect(fs.duCalls).toEqual(['/v']);
    c.get('/v', 60_000);
    expect(fs.duCalls).toEqual(['/v', '/v']);
  });
});

// The fake and the real host view agree on the same tree (contract).
const dir = mkdtempSync(join(tmpdir(), 'nl3-statsfs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
describe.each([
  ['HostStatsFs', (): StatsFs => {
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    writeFileSync(join(dir, 'a/f'), 'hello');
    writeFileSync(join(dir, 'a/b/g'), 'x'.repeat(10_000));
    return new HostStatsFs();
  }],
  ['FakeStatsFs', (): StatsFs => new FakeStatsFs().set(join(dir, 'a/f'), 'hello').set(join(dir, 'a/b/g'), 'x').setStatfs('/', { capacityBytes: 2, availableBytes: 1, usedBytes: 1, inodes: 2, inodesFree: 1 }).setDiskUsage(join(dir, 'a'), { bytes: 12288, inodes: 4 })],
])('StatsFs contract: %s', (_n, make) => {
  it('reads files and directories, answers undefined for missing paths', () => {
    const fs = make();
    expect(fs.readFile(join(dir, 'a/f'))).toBe('hello');
    expect(fs.readFile(join(dir, 'missing'))).toBeUndefined();
    expect(fs.readDir(join(dir, 'a'))?.sort()).toEqual(['b', 'f']);
    expect(fs.readDir(join(dir, 'missing'))).toBeUndefined();
    const st = fs.statfs(join(dir, 'a'));
    expect(st!.capacityBytes).toBeGreaterThan(0);
    expect(st!.capacityBytes).toBeGreaterThanOrEqual(st!.availableBytes);
    expect(fs.diskUsage(join(dir, 'a'), 1000)).toEqual({ bytes: expect.any(Number) as number, inodes: 4 });
    expect(fs.diskUsage(join(dir, 'a'), 1000)!.bytes).toBeGreaterThanOrEqual(10_000);
    expect(fs.diskUsage(join(dir, 'missing'), 1000)).toBeUndefined();
  });
});
