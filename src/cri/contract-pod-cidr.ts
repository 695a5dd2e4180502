/**
 * Pod CIDR cases of the runtime contract suite (see contract.ts): CRI UpdateRuntimeConfig's pod CIDR, which the
 * kubelet sends once its Node has a podCIDR and on change ({@link PodCidrUpdater}). Test-only.
 */
import { describe, expect, it } from 'vitest';
import { hasCode } from '../util/index.js';
import type { ContractContext } from './contract.js';
import { podCidrUpdaterOf } from './pod-cidr.js';

/** Registers the pod CIDR cases: a backend takes pod CIDRs exactly when `opts.takesPodCIDRs` says so. */
export function podCidrCases(ctx: ContractContext): void {
  describe('pod CIDR update (CRI UpdateRuntimeConfig)', () => {
    it(ctx.opts.takesPodCIDRs === true ? 'takes the pod CIDRs' : 'does not offer pod CIDR updates', () => {
      expect(podCidrUpdaterOf(ctx.runtime) !== undefined).toBe(ctx.opts.takesPodCIDRs === true);
    });

    it.runIf(ctx.opts.takesPodCIDRs === true)('takes one CIDR or one per family, idempotently; refuses malformed ones as INVALID', async () => {
      const rt = podCidrUpdaterOf(ctx.runtime);
      if (rt === undefined) throw new Error('the backend offers no pod CIDR updates');
      await rt.updatePodCIDR(['10.215.9.0/24']);
      await rt.updatePodCIDR(['10.215.9.0/24']);
      await rt.updatePodCIDR(['10.215.9.0/24', 'fd15:0:0:9::/64']);
      for (const bad of [['not-a-cidr'], ['10.215.9.0'], ['10.215.9.0/24', '10.215.10.0/24']]) {
        await expect(rt.updatePodCIDR(bad), bad.join(',')).rejects.toSatisfy((e: unknown) => hasCode(e, 'INVALID'));
      }
      // The runtime keeps working after a refused update.
      expect((await ctx.runtime.status()).conditions.find((c) => c.type === 'RuntimeReady')?.status).toBe(true);
    });
  });
}
