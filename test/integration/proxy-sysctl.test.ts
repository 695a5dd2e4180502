/**
 * Conntrack sysctls against the real kernel, ONLY inside a throwaway network namespace: the per-namespace
 * net.netfilter entries are set there and the host's values are checked to be untouched. The global ones
 * (nf_conntrack_max, the module hashsize) are never written by this test (maxPerCore 0); that they cannot be written
 * from a non-initial namespace is checked with a write that the kernel refuses.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/index.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/apitypes.js';
import { defaultProxyConfig, resolveProxyConfig } from '../../src/proxy/config.js';
import { createProxy, type ProxyRoleInternals } from '../../src/proxy/role.js';
import { createExecProxyHost } from '../../src/cli/proxy-host.js';
import { ProcSysctl, applyConntrackSysctls, netfilterSysctl } from '../../src/proxy/sysctl.js';
import { FakeInformer } from '../../src/proxy/testing/fake-informer.js';
import { createNamespace, deleteNamespaces, inNs } from '../support/netns.js';

const P = 'nlpx-sc-';
const NS = `${P}node`;
const ENTRIES = ['nf_conntrack_tcp_timeout_established', 'nf_conntrack_tcp_timeout_close_wait', 'nf_conntrack_tcp_be_liberal', 'nf_conntrack_udp_timeout'];

async function hostValues(): Promise<string[]> {
  return Promise.all([...ENTRIES, 'nf_conntrack_max'].map(async (e) => (await readFile(netfilterSysctl(e), 'utf8')).trim()));
}

async function nsValue(entry: string): Promise<number> {
  return Number((await inNs(NS, 'cat', netfilterSysctl(entry))).trim());
}

describe.skipIf(process.getuid?.() !== 0)('conntrack sysctls in a network namespace', () => {
  let before: string[] = [];
  let role: ProxyRoleInternals | undefined;

  beforeAll(async () => {
    before = await hostValues();
    await deleteNamespaces(P);
    await createNamespace(NS);
  });

  afterAll(async () => {
    await role?.stop();
    await deleteNamespaces(P);
  });

  it('sets the per-namespace timeouts and tcp_be_liberal there, and leaves the host alone', async () => {
    const cfg = defaultProxyConfig();
    cfg.conntrack = { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '1h', tcpCloseWaitTimeout: '2m', tcpBeLiberal: true, udpTimeout: '45s', udpStreamTimeout: '0s' };
    await applyConntrackSysctls({ sysctl: new ProcSysctl({ netns: NS }), config: resolveProxyConfig(cfg).conntrack, numCPU: 2, logger: silentLogger() });
    expect(await nsValue('nf_conntrack_tcp_timeout_established')).toBe(3600);
    expect(await nsValue('nf_conntrack_tcp_timeout_close_wait')).toBe(120);
    expect(await nsValue('nf_conntrack_tcp_be_liberal')).toBe(1);
    expect(await nsValue('nf_conntrack_udp_timeout')).toBe(45);
    expect(await hostValues()).toEqual(before);
  });

  it('a refused write rejects with SYSCTL_FAILED (nf_conntrack_max is read-only outside the initial namespace)', async () => {
    const s = new ProcSysctl({ netns: NS });
    const current = await s.get(netfilterSysctl('nf_conntrack_max'));
    await expect(s.set(netfilterSysctl('nf_conntrack_max'), current)).rejects.toMatchObject({ code: 'SYSCTL_FAILED' });
    expect(await hostValues()).toEqual(before);
  });

  it('the proxy role applies its conntrack config at start through the given Sysctl', async () => {
    const cfg = defaultProxyConfig();
    cfg.healthzBindAddress = '127.0.0.1:0';
    cfg.metricsBindAddress = '';
    cfg.conntrack.maxPerCore = 0;
    cfg.conntrack.tcpEstablishedTimeout = '2h';
    role = createProxy({
      config: cfg,
      informers: { services: new FakeInformer<ServiceObject>(), endpointSlices: new FakeInformer<EndpointSliceObject>() },
      nodeName: NS,
      nodeIPs: [],
      logger: silentLogger(),
      // The namespace opts in to sysctls explicitly (the global ones are left alone by maxPerCore 0).
      host: createExecProxyHost({ netns: NS, sysctls: true }),
    });
    await role.start();
    expect(await nsValue('nf_conntrack_tcp_timeout_established')).toBe(7200);
    expect(await nsValue('nf_conntrack_tcp_timeout_close_wait')).toBe(3600);
    expect(await hostValues()).toEqual(before);
  });
});
