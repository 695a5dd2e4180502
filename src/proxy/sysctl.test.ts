import { describe, expect, it } from 'vitest';
import { silentLogger } from '../util/index.js';
import { defaultProxyConfig, resolveProxyConfig } from './config.js';
import { CONNTRACK_MAX_LIMIT, HASHSIZE_PATH, applyConntrackSysctls, conntrackMax, netfilterSysctl, type ConntrackSysctlConfig } from './sysctl.js';
import { FakeSysctl } from './testing/fake-sysctl.js';

const MAX = netfilterSysctl('nf_conntrack_max');
const EST = netfilterSysctl('nf_conntrack_tcp_timeout_established');
const CW = netfilterSysctl('nf_conntrack_tcp_timeout_close_wait');
const LIB = netfilterSysctl('nf_conntrack_tcp_be_liberal');
const UDP = netfilterSysctl('nf_conntrack_udp_timeout');
const UDPS = netfilterSysctl('nf_conntrack_udp_timeout_stream');

/** A kernel as booted: 65536 entries, hashsize 16384, 5-day established timeout, 60 s close-wait. */
function kernel(): FakeSysctl {
  return new FakeSysctl({ [MAX]: 65536, [HASHSIZE_PATH]: 16384, [EST]: 432000, [CW]: 60, [LIB]: 0, [UDP]: 30, [UDPS]: 120 });
}

function defaults(): ConntrackSysctlConfig {
  return resolveProxyConfig(defaultProxyConfig()).conntrack;
}

describe('conntrack sysctls (upstream KubeProxyConfiguration conntrack)', () => {
  it('defaults: max = max(maxPerCore × CPUs, min), hashsize = max/4, 24 h established, 1 h close-wait', async () => {
    const s = kernel();
    await applyConntrackSysctls({ sysctl: s, config: defaults(), numCPU: 2, logger: silentLogger() });
    expect(s.writes).toEqual([`${MAX}=131072`, `${HASHSIZE_PATH}=32768`, `${EST}=86400`, `${CW}=3600`]);
    await applyConntrackSysctls({ sysctl: s, config: defaults(), numCPU: 2, logger: silentLogger() });
    expect(s.writes).toHaveLength(4);
    const big = kernel();
    await applyConntrackSysctls({ sysctl: big, config: defaults(), numCPU: 8, logger: silentLogger() });
    expect(big.values.get(MAX)).toBe(262144);
  });

  it('never lowers nf_conntrack_max or hashsize', async () => {
    const s = kernel();
    s.values.set(MAX, 1_000_000);
    s.values.set(HASHSIZE_PATH, 262144);
    await applyConntrackSysctls({ sysctl: s, config: defaults(), numCPU: 2, logger: silentLogger() });
    expect(s.values.get(MAX)).toBe(1_000_000);
    expect(s.values.get(HASHSIZE_PATH)).toBe(262144);
  });

  it('zero values leave entries alone; tcpBeLiberal and the UDP timeouts are set when asked', async () => {
    const s = kernel();
    const cfg = defaultProxyConfig();
    cfg.conntrack = { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0', tcpBeLiberal: true, udpTimeout: '1m30s', udpStreamTimeout: '3m' };
    await applyConntrackSysctls({ sysctl: s, config: resolveProxyConfig(cfg).conntrack, numCPU: 2, logger: silentLogger() });
    expect(s.writes).toEqual([`${LIB}=1`, `${UDP}=90`, `${UDPS}=180`]);
  });

  it('a failing write rejects (upstream fails the start); bad durations name their field', async () => {
    const s = kernel();
    s.readOnly.add(HASHSIZE_PATH);
    await expect(applyConntrackSysctls({ sysctl: s, config: defaults(), numCPU: 2, logger: silentLogger() })).rejects.toMatchObject({ code: 'SYSCTL_FAILED' });
    const cfg = defaultProxyConfig();
    cfg.conntrack.tcpCloseWaitTimeout = 'soon';
    expect(() => resolveProxyConfig(cfg)).toThrow(expect.objectContaining({ field: 'conntrack.tcpCloseWaitTimeout' }) as Error);
  });

  it('conntrackMax: 0 per core disables, the result is capped at 1,048,576', () => {
    expect(conntrackMax({ maxPerCore: 0, min: 131072 }, 4)).toBe(0);
    expect(conntrackMax({ maxPerCore: 32768, min: 131072 }, 64)).toBe(CONNTRACK_MAX_LIMIT);
    expect(conntrackMax({ maxPerCore: 32768, min: 0 }, 3)).toBe(98304);
  });
});
