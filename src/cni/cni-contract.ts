/**
 * The contract every {@link CniPlugin} passes: FakeCniPlugin (cni-contract.test.ts) and ExecCniPlugin with the real
 * bridge/host-local/portmap plugins in network namespaces (test/integration/cni-plugins.test.ts). Test-only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCniError } from './errors.js';
import type { CniPlugin } from './plugin.js';
import { podIps } from './result.js';
import type { NetworkConfigList, RuntimeConf } from './types.js';

/** A plugin under test with a network whose addresses it allocates. */
export interface CniPluginUnderTest {
  plugin: CniPlugin;
  /** A list using host-local-like IPAM on one IPv4 subnet, cniVersion 1.0.0 or 0.4.0. */
  list: NetworkConfigList;
  /** The same network with a plugin type that has no binary. */
  brokenList: NetworkConfigList;
  /** A fresh network namespace path for a container. */
  newNetns: (name: string) => Promise<string>;
  /** Addresses the IPAM of `list` holds now. */
  allocations: () => Promise<string[]>;
  /** Deletes the cached results of a container (as if the agent died between the plugins and the cache write). */
  dropCache: (containerId: string) => Promise<void>;
  cleanup: () => Promise<void>;
}

/** Registers the contract for one implementation. */
export function runCniPluginContract(name: string, make: () => Promise<CniPluginUnderTest>): void {
  describe(`CniPlugin contract: ${name}`, () => {
    let u: CniPluginUnderTest;
    const rt = (id: string, netns: string): RuntimeConf => ({
      containerId: id,
      netns,
      ifName: 'eth0',
      args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', 'ns'], ['K8S_POD_NAME', id], ['K8S_POD_INFRA_CONTAINER_ID', id], ['K8S_POD_UID', `uid-${id}`]],
      capabilityArgs: { portMappings: [] },
    });

    beforeAll(async () => {
      u = await make();
    });
    afterAll(async () => {
      await u?.cleanup();
    });

    it('ADD gives distinct IPs, caches the result, DEL releases and forgets it', async () => {
      const a = rt('contract-a', await u.newNetns('a'));
      const b = rt('contract-b', await u.newNetns('b'));
      const ra = await u.plugin.add(u.list, a);
      const rb = await u.plugin.add(u.list, b);
      const ipA = podIps(ra)[0];
      const ipB = podIps(rb)[0];
      expect(ipA).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(ipB).not.toBe(ipA);
      expect((await u.allocations()).sort()).toEqual([ipA, ipB].sort());
      const cached = await u.plugin.cached(u.list.name, 'contract-a', 'eth0');
      expect(cached?.result && podIps(cached.result)).toEqual([ipA]);
      expect(cached?.args).toContainEqual(['K8S_POD_NAME', 'contract-a']);
      expect((await u.plugin.listCached('contract-b')).map((x) => x.containerId)).toEqual(['contract-b']);
      await u.plugin.check(u.list, a);
      await u.plugin.del(u.list, a);
      await u.plugin.del(u.list, b);
      expect(await u.allocations()).toEqual([]);
      expect(await u.plugin.cached(u.list.name, 'contract-a', 'eth0')).toBeUndefined();
    });

    it('DEL is idempotent: unknown container, second DEL, and netns gone', async () => {
      await u.plugin.del(u.list, rt('contract-never', ''));
      const c = rt('contract-c', await u.newNetns('c'));
      await u.plugin.add(u.list, c);
      await u.plugin.del(u.list, { ...c, netns: '' });
      await u.plugin.del(u.list, c);
      expect(await u.allocations()).toEqual([]);
    });

    it('DEL without a cached result (ADD cut short) still releases the allocation', async () => {
      const d = rt('contract-d', await u.newNetns('d'));
      await u.plugin.add(u.list, d);
      // Simulate a crash between ADD and the cache write: the cache entry is gone, the allocation is not.
      expect(await u.plugin.listCached('contract-d')).toHaveLength(1);
      await u.dropCache('contract-d');
      expect(await u.plugin.listCached('contract-d')).toHaveLength(0);
      expect(await u.allocations()).toHaveLength(1);
      await u.plugin.del(u.list, d);
      expect(await u.allocations()).toEqual([]);
    });

    it('CHECK without a cached result fails with no-cached-result', async () => {
      await expect(u.plugin.check(u.list, rt('contract-none', ''))).rejects.toSatisfy((e: unknown) => isCniError(e, 'no-cached-result'));
    });

    it('a missing plugin binary fails validate and ADD with plugin-not-found, allocating nothing', async () => {
      await expect(u.plugin.validate(u.brokenList)).rejects.toSatisfy((e: unknown) => isCniError(e, 'plugin-not-found'));
      await expect(u.plugin.add(u.brokenList, rt('contract-e', await u.newNetns('e')))).rejects.toSatisfy((e: unknown) => isCniError(e));
      await u.plugin.validate(u.list);
    });
  });
}
