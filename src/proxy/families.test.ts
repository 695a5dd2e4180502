import { describe, expect, it } from 'vitest';
import { cidrContains, proxyFamilies } from './families.js';

describe('proxy IP families', () => {
  it('IPv4 alone unless a cluster CIDR or a node address is IPv6', () => {
    expect(proxyFamilies([], [])).toEqual(['IPv4']);
    expect(proxyFamilies(['10.244.0.0/16'], ['192.168.1.2'])).toEqual(['IPv4']);
    expect(proxyFamilies(['10.244.0.0/16', 'fd00:244::/48'], ['192.168.1.2'])).toEqual(['IPv4', 'IPv6']);
    expect(proxyFamilies(['10.244.0.0/16'], ['192.168.1.2', 'fd00::2'])).toEqual(['IPv4', 'IPv6']);
    expect(proxyFamilies(['fd00:244::/48'], ['fd00::2'])).toEqual(['IPv6']);
    expect(proxyFamilies(['bogus'], [])).toEqual(['IPv4']);
  });

  it('CIDR membership per family', () => {
    expect(cidrContains('fd00:77::/64', 'fd00:77::5')).toBe(true);
    expect(cidrContains('fd00:77::/64', 'fd00:78::5')).toBe(false);
    expect(cidrContains('10.0.0.0/8', 'fd00::1')).toBe(false);
    expect(cidrContains('10.0.0.0/8', '10.1.2.3')).toBe(true);
  });
});
