/** Disk usage cases of the runtime contract suite (see contract.ts): the container's writable layer. Test-only. */
import { describe, expect, it } from 'vitest';
import { isNotFound } from '../util/index.js';
import type { ContractContext } from './contract.js';
import { containerConfig, sandboxConfig, waitFor } from './contract-fixtures.js';

const WRITTEN = 2 * 1024 * 1024;

/** Registers the writable-layer cases. */
export function storageCases(ctx: ContractContext): void {
  describe('container storage', () => {
    it('reports the writable layer growing with what the container writes outside its volumes', async () => {
      const rt = ctx.runtime;
      const sb = sandboxConfig('disk-pod', ctx.labels);
      const sbId = await rt.runPodSandbox(sb);
      const id = await rt.createContainer(sbId, containerConfig('disk', sb, ctx.labels), sb);
      await rt.startContainer(id);
      const before = await rt.containerWritableLayerBytes(id);
      expect(before).toBeGreaterThanOrEqual(0);
      const r = await rt.execSync(id, ['sh', '-c', `dd if=/dev/zero of=/fill bs=64k count=${WRITTEN / 65536}`], 30);
      expect(r.exitCode).toBe(0);
      // containerd refreshes snapshot usage periodically (10 s): wait for the new figure.
      const after = await waitFor('the writable layer to grow', async () => {
        const n = await rt.containerWritableLayerBytes(id);
        return n - before >= WRITTEN ? n : undefined;
      }, 40_000);
      expect(after - before).toBeLessThan(WRITTEN * 4);
      await rt.removePodSandbox(sbId);
      await expect(rt.containerWritableLayerBytes(id)).rejects.toSatisfy(isNotFound);
    }, 60_000);
  });
}
