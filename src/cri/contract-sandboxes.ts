/** Sandbox cases of the runtime contract suite (see contract.ts). Test-only. */
import { describe, expect, it } from 'vitest';
import { isAlreadyExists, isNotFound, hasCode } from '../util/index.js';
import type { ContractContext } from './contract.js';
import { containerConfig, sandboxConfig, waitFor } from './contract-fixtures.js';

const MISSING_ID = 'f'.repeat(64);

/** Registers the sandbox cases. */
export function sandboxCases(ctx: ContractContext): void {
  describe('pod sandboxes', () => {
    it('runs, lists, reports, stops and removes a sandbox (stop/remove idempotent)', async () => {
      const rt = ctx.runtime;
      const cfg = sandboxConfig('sb-life', ctx.labels, {
        annotations: { 'example.com/note': 'a=b, "quoted"\nsecond line', 'kubernetes.io/config.source': 'file' },
      });
      cfg.labels['app'] = 'web';
      const id = await rt.runPodSandbox(cfg);
      const st = await rt.podSandboxStatus(id);
      expect(st).toMatchObject({ id, state: 'ready', metadata: cfg.metadata, namespaceOptions: cfg.linux.namespaceOptions });
      expect(st.labels).toMatchObject(cfg.labels);
      expect(st.annotations).toEqual(cfg.annotations);
      expect(st.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(st.createdAt).toBeGreaterThan(Date.UTC(2020, 0, 1));

      const byLabel = await rt.listPodSandboxes({ labelSelector: { 'io.kubernetes.pod.uid': cfg.metadata.uid } });
      expect(byLabel.map((s) => s.id)).toEqual([id]);
      expect(byLabel[0]).toMatchObject({ metadata: cfg.metadata, state: 'ready' });
      expect(byLabel[0]?.annotations).toEqual(cfg.annotations);
      expect((await rt.listPodSandboxes({ id })).map((s) => s.id)).toEqual([id]);
      expect(await rt.listPodSandboxes({ id, state: 'notready' })).toEqual([]);

      await rt.stopPodSandbox(id);
      expect((await rt.podSandboxStatus(id)).state).toBe('notready');
      expect((await rt.listPodSandboxes({ id, state: 'notready' })).map((s) => s.id)).toEqual([id]);
      await rt.stopPodSandbox(id);

      await rt.removePodSandbox(id);
      await expect(rt.podSandboxStatus(id)).rejects.toSatisfy(isNotFound);
      expect(await rt.listPodSandboxes({ id })).toEqual([]);
      await rt.removePodSandbox(id);
      await rt.stopPodSandbox(id);
    });

    it('rejects a second sandbox with the same metadata with AlreadyExistsError', async () => {
      const cfg = sandboxConfig('sb-dup', ctx.labels);
      await ctx.runtime.runPodSandbox(cfg);
      await expect(ctx.runtime.runPodSandbox(cfg)).rejects.toSatisfy(isAlreadyExists);
    });

    it('throws ImageNotFoundError for a missing infra image', async () => {
      const cfg = sandboxConfig('sb-noimg', ctx.labels, { image: 'localhost/nodelet/does-not-exist:0' });
      await expect(ctx.runtime.runPodSandbox(cfg)).rejects.toSatisfy((e: unknown) => hasCode(e, 'IMAGE_NOT_FOUND'));
    });

    it('throws NotFoundError for status of a missing sandbox', async () => {
      await expect(ctx.runtime.podSandboxStatus(MISSING_ID)).rejects.toSatisfy(isNotFound);
    });

    it('stops and removes the containers of a sandbox with it', async () => {
      const rt = ctx.runtime;
      const sb = sandboxConfig('sb-cascade', ctx.labels);
      const id = await rt.runPodSandbox(sb);
      const cid = await rt.createContainer(id, containerConfig('app', sb, ctx.labels), sb);
      await rt.startContainer(cid);
      await rt.stopPodSandbox(id);
      expect((await rt.containerStatus(cid)).state).toBe('exited');
      await rt.removePodSandbox(id);
      await expect(rt.containerStatus(cid)).rejects.toSatisfy(isNotFound);
      expect(await rt.listContainers({ podSandboxId: id })).toEqual([]);
    });

    it('runs a host-network sandbox without a pod IP', async () => {
      const sb = sandboxConfig('sb-hostnet', ctx.labels, {
        namespaceOptions: { network: 'node', pid: 'container', ipc: 'node' },
      });
      const id = await ctx.runtime.runPodSandbox(sb);
      const st = await ctx.runtime.podSandboxStatus(id);
      expect(st.state).toBe('ready');
      expect(st.ip).toBe('');
      expect(st.namespaceOptions.network).toBe('node');
    });

    it('emits created/started/stopped/deleted events for the sandbox', async () => {
      const id = await ctx.runtime.runPodSandbox(sandboxConfig('sb-events', ctx.labels));
      await ctx.runtime.stopPodSandbox(id);
      await ctx.runtime.removePodSandbox(id);
      for (const type of ['created', 'started', 'stopped', 'deleted'] as const) {
        await waitFor(`sandbox ${type} event`, () =>
          ctx.events.find((e) => e.containerId === id && e.type === type && e.isSandbox) ? true : undefined,
        );
      }
    });
  });
}
