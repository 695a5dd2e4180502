import { describe, expect, it } from 'vitest';
import { hasCode } from '../../util/errors.js';
import { FakePodIps } from './pod-ips.js';

describe('FakePodIps', () => {
  it('hands out addresses from .2 on, one per family, IPv4 first', () => {
    const ips = new FakePodIps(['fd15:0:0:1::/64', '10.215.1.0/24']);
    expect(ips.ranges()).toEqual(['10.215.1.0/24', 'fd15:0:0:1::/64']);
    expect(ips.allocate()).toEqual(['10.215.1.2', 'fd15:0:0:1::2']);
    expect(ips.allocate()).toEqual(['10.215.1.3', 'fd15:0:0:1::3']);
  });

  it('never hands out the network, gateway or broadcast address, wraps around and reuses released addresses', () => {
    const ips = new FakePodIps(['10.215.9.0/29']);
    const got = [1, 2, 3, 4, 5].map(() => ips.allocate()[0]);
    expect(got).toEqual(['10.215.9.2', '10.215.9.3', '10.215.9.4', '10.215.9.5', '10.215.9.6']);
    let err: unknown;
    try {
      ips.allocate();
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'NETWORK_PLUGIN_FAILED')).toBe(true);
    ips.release(['10.215.9.4']);
    expect(ips.allocate()).toEqual(['10.215.9.4']);
  });

  it('continues after the last address handed out (a released address is not reused at once)', () => {
    const ips = new FakePodIps(['10.215.9.0/24']);
    const [a] = ips.allocate();
    ips.release([a!]);
    expect(ips.allocate()).toEqual(['10.215.9.3']);
  });

  it('switches ranges: new addresses come from the new range, old ones stay reserved until released', () => {
    const ips = new FakePodIps(['100.64.1.0/24']);
    expect(ips.allocate()).toEqual(['100.64.1.2']);
    ips.setRanges(['10.215.3.0/24', 'fd15:0:0:3::/64']);
    expect(ips.allocate()).toEqual(['10.215.3.2', 'fd15:0:0:3::2']);
    // Given again, a range keeps its position.
    ips.setRanges(['10.215.3.0/24', 'fd15:0:0:3::/64']);
    expect(ips.allocate()).toEqual(['10.215.3.3', 'fd15:0:0:3::3']);
  });

  it('normalizes a CIDR with host bits and refuses bad ones with INVALID, keeping the old ranges', () => {
    const ips = new FakePodIps(['10.215.4.7/24']);
    expect(ips.ranges()).toEqual(['10.215.4.0/24']);
    for (const bad of [['nonsense'], ['10.215.4.0/31'], ['10.1.0.0/16', '10.2.0.0/16'], ['10.1.0.0/16', 'fd00::/64', 'fd01::/64']]) {
      let err: unknown;
      try {
        ips.setRanges(bad);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'INVALID'), bad.join(',')).toBe(true);
    }
    expect(ips.ranges()).toEqual(['10.215.4.0/24']);
  });
});
