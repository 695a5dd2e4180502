/**
 * The contract every {@link Cgroups} implementation passes (FakeCgroups in unit tests, HostCgroups on the real
 * kernel in test/integration/cgroups-host.test.ts). Test-only code. `root` is a path the suite may create and remove.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Cgroups } from './cgroups.js';

/** Runs the contract against `make()`; everything it creates lies under `root`. */
export function runCgroupsContract(name: string, make: () => Promise<Cgroups>, root: string): void {
  describe(`Cgroups contract: ${name}`, () => {
    let cg: Cgroups | undefined;
    const get = async (): Promise<Cgroups> => (cg ??= await make());
    afterAll(async () => {
      const c = await get();
      for (const p of [`${root}/a/b`, `${root}/a`, root]) await c.remove(p);
    });

    it('creates missing parents and applies only the settings given', async () => {
      const c = await get();
      await c.ensure(`${root}/a/b`, { cpuShares: 512, cpuPeriod: 100000, cpuQuota: 50000, memoryLimit: 64 * 2 ** 20, pidsLimit: 100 });
      expect(await c.read(`${root}/a/b`)).toMatchObject({ cpuQuota: 50000, cpuPeriod: 100000, memoryLimit: 64 * 2 ** 20, pidsLimit: 100 });
      expect(await c.children(`${root}/a`)).toEqual(['b']);
      await c.ensure(`${root}/a/b`, { memoryLimit: -1, cpuQuota: -1, pidsLimit: -1 });
      expect(await c.read(`${root}/a/b`)).toMatchObject({ memoryLimit: -1, cpuQuota: -1, pidsLimit: -1 });
    });

    it('reports the memory usage of an existing cgroup and none for a missing one', async () => {
      const c = await get();
      await c.ensure(`${root}/a/b`, {});
      const used = await c.memoryUsage(`${root}/a/b`);
      expect(typeof used).toBe('number');
      expect(used).toBeGreaterThanOrEqual(0);
      expect(await c.memoryUsage(`${root}/missing`)).toBeUndefined();
    });

    it('refuses to remove a cgroup with children, removes it once empty, and a missing one is fine', async () => {
      const c = await get();
      expect(await c.remove(`${root}/a`)).toBe(false);
      expect(await c.remove(`${root}/a/b`)).toBe(true);
      expect(await c.remove(`${root}/a/b`)).toBe(true);
      expect(await c.read(`${root}/a/b`)).toBeUndefined();
      expect(await c.children(`${root}/missing`)).toEqual([]);
    });
  });
}
