import { describe, expect, it } from 'vitest';
import { goArch, parseDefaultRouteInterface, parseLoadAvgTasks, parseMemInfo, parseOsImage } from './host-parse.js';

describe('host file parsers', () => {
  it('reads MemTotal, MemAvailable and SwapTotal from /proc/meminfo', () => {
    const text = 'MemTotal:       24684000 kB\nMemFree:        20000000 kB\nMemAvailable:   23000000 kB\nBuffers: 1 kB\nCached: 2 kB\nSwapTotal:      1024 kB\n';
    expect(parseMemInfo(text)).toEqual({ totalBytes: 24684000 * 1024, availableBytes: 23000000 * 1024, swapTotalBytes: 1024 * 1024 });
    expect(parseMemInfo('MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 5 kB\n').availableBytes).toBe(20 * 1024);
  });

  it('reads PRETTY_NAME from os-release', () => {
    expect(parseOsImage('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(parseOsImage('')).toBe('Linux');
  });

  it('finds the default-route interface with the lowest metric', () => {
    const route = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0',
      'eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    ].join('\n');
    expect(parseDefaultRouteInterface(route)).toBe('eth0');
    expect(parseDefaultRouteInterface(route.split('\n').slice(0, 1).join('\n'))).toBeUndefined();
  });

  it('reads the task count from /proc/loadavg', () => {
    expect(parseLoadAvgTasks('0.52 0.58 0.59 3/467 12345\n')).toBe(467);
    expect(parseLoadAvgTasks('garbage')).toBeUndefined();
  });

  it('maps Node arch names to GOARCH', () => {
    expect([goArch('x64'), goArch('arm64'), goArch('ia32')]).toEqual(['amd64', 'arm64', '386']);
  });
});
