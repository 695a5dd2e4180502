/** Container cases of the runtime contract suite (see contract.ts). Test-only. */
import { beforeAll, describe, expect, it } from 'vitest';
import { hasCode, isAlreadyExists, isNotFound, isTimeout } from '../util/index.js';
import type { ContractContext } from './contract.js';
import { containerConfig, logsOf, sandboxConfig, waitFor } from './contract-fixtures.js';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig } from './types.js';

const MISSING_ID = 'e'.repeat(64);

/** Registers the container cases (they share one sandbox). */
export function containerCases(ctx: ContractContext): void {
  describe('containers', () => {
    let sb: PodSandboxConfig;
    let sbId = '';

    beforeAll(async () => {
      sb = sandboxConfig('ctr-pod', ctx.labels);
      sbId = await ctx.runtime.runPodSandbox(sb);
    });

    const create = (name: string, overrides: Partial<ContainerConfig> = {}): Promise<string> =>
      ctx.runtime.createContainer(sbId, containerConfig(name, sb, ctx.labels, overrides), sb);

    const exited = (id: string): Promise<ContainerStatus> =>
      waitFor(`container ${id} to exit`, async () => {
        const st = await ctx.runtime.containerStatus(id);
        return st.state === 'exited' ? st : undefined;
      });

    it('creates, starts, stops and removes a container (stop/remove idempotent) with events', async () => {
      const rt = ctx.runtime;
      const annotations = { 'io.kubernetes.container.hash': 'abc123', 'x/y': '{"json": [1, 2]}\n=' };
      const id = await create('life', { annotations, labels: { ...containerConfig('life', sb, ctx.labels).labels, tier: 'a' } });
      const created = await rt.containerStatus(id);
      expect(created).toMatchObject({ id, podSandboxId: sbId, state: 'created', metadata: { name: 'life', attempt: 0 } });
      expect(created.annotations).toEqual(annotations);
      expect(created.labels).toMatchObject({ tier: 'a', 'io.kubernetes.container.name': 'life' });
      expect(created.imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);

      await rt.startContainer(id);
      const running = await rt.containerStatus(id);
      expect(running.state).toBe('running');
      expect(running.startedAt).toBeGreaterThanOrEqual(created.createdAt - 1000);

      const listed = await rt.listContainers({ podSandboxId: sbId, labelSelector: { tier: 'a' } });
      expect(listed.map((c) => c.id)).toEqual([id]);
      expect(listed[0]).toMatchObject({ state: 'running', metadata: { name: 'life' }, annotations });
      expect((await rt.listContainers({ id, state: 'exited' })).length).toBe(0);

      // `sleep` as PID 1 ignores SIGTERM: stop must wait the timeout, then kill.
      const t0 = Date.now();
      await rt.stopContainer(id, 1);
      const took = Date.now() - t0;
      const st = await rt.containerStatus(id);
      expect(st).toMatchObject({ state: 'exited', exitCode: 137, reason: 'Error' });
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(10_000);
      expect(st.finishedAt).toBeGreaterThanOrEqual(st.startedAt);
      await rt.stopContainer(id, 1);

      await rt.removeContainer(id);
      await expect(rt.containerStatus(id)).rejects.toSatisfy(isNotFound);
      await rt.removeContainer(id);
      await rt.stopContainer(id, 0);
      for (const type of ['created', 'started', 'stopped', 'deleted'] as const) {
        const e = await waitFor(`${type} event`, () => ctx.events.find((ev) => ev.containerId === id && ev.type === type));
        expect(e).toMatchObject({ podSandboxId: sbId, isSandbox: false });
      }
    });

    it('stops a container that handles SIGTERM without waiting for the timeout', async () => {
      const id = await create('term', { command: ['sh', '-c', "trap 'exit 0' TERM; touch /tmp/trap-set; sleep 1000 & wait"] });
      await ctx.runtime.startContainer(id);
      // A SIGTERM that arrives before the shell installed its trap is ignored (PID 1): wait until it is in place.
      await waitFor('the TERM trap', async () => ((await ctx.runtime.execSync(id, ['test', '-e', '/tmp/trap-set'], 5)).exitCode === 0 ? true : undefined));
      const t0 = Date.now();
      await ctx.runtime.stopContainer(id, 20);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(await ctx.runtime.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    });

    it('reports exit codes and reasons, and keeps the output in the log', async () => {
      const fail = await create('fail', { command: ['sh', '-c', 'echo failing; exit 3'] });
      const ok = await create('ok', { command: ['echo', 'hello', 'world'] });
      await ctx.runtime.startContainer(fail);
      await ctx.runtime.startContainer(ok);
      expect(await exited(fail)).toMatchObject({ exitCode: 3, reason: 'Error' });
      const okSt = await exited(ok);
      expect(okSt).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(okSt.finishedAt).toBeGreaterThanOrEqual(okSt.startedAt);
      expect(await logsOf(ctx.runtime, ok)).toBe('hello world\n');
      expect(await logsOf(ctx.runtime, fail, { tailLines: 1 })).toBe('failing\n');
    });

    it('applies Kubernetes command/args semantics', async () => {
      // args only: the image entrypoint (none for testbox) stays, args replace the image cmd.
      const argsOnly = await create('args', { command: [], args: ['echo', 'from-args'] });
      await ctx.runtime.startContainer(argsOnly);
      await exited(argsOnly);
      expect(await logsOf(ctx.runtime, argsOnly)).toBe('from-args\n');
    });

    it.skipIf(ctx.opts.skipOom !== undefined)(`reports OOMKilled under a memory limit ${ctx.opts.skipOom ?? ''}`, async () => {
      const id = await create('oom', {
        command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=128M', 'count=1'],
        linux: {
          resources: { memoryLimitInBytes: 32 * 1024 * 1024 },
          securityContext: { namespaceOptions: sb.linux.namespaceOptions },
        },
      });
      await ctx.runtime.startContainer(id);
      expect(await exited(id)).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    });

    it('updates a running container\'s CPU and memory settings in place, and reports them', async () => {
      const rt = ctx.runtime;
      const id = await create('resize', {
        linux: {
          resources: { cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 20_000, memoryLimitInBytes: 64 * 1024 * 1024 },
          securityContext: { namespaceOptions: sb.linux.namespaceOptions },
        },
      });
      await rt.startContainer(id);
      const before = await rt.containerStatus(id);
      expect(before.resources).toMatchObject({ cpuShares: 102, cpuQuota: 20_000, memoryLimitInBytes: 64 * 1024 * 1024 });
      await rt.updateContainerResources(id, { cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 128 * 1024 * 1024 });
      const after = await rt.containerStatus(id);
      expect(after).toMatchObject({ state: 'running', startedAt: before.startedAt });
      expect(after.resources).toMatchObject({ cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 128 * 1024 * 1024 });
      if (ctx.opts.realKernel) {
        // What the kernel enforces, read inside the container (cgroup v1 files, or v2's memory.max / cpu.max).
        const read = async (v1: string, v2: string): Promise<string> =>
          (await rt.execSync(id, ['sh', '-c', `cat /sys/fs/cgroup/${v1} 2>/dev/null || cat /sys/fs/cgroup/${v2}`], 5)).stdout.trim();
        expect(await read('memory/memory.limit_in_bytes', 'memory.max')).toBe(String(128 * 1024 * 1024));
        expect(await read('cpu/cpu.cfs_quota_us', 'cpu.max')).toMatch(/^50000( 100000)?$/);
        // A decrease works the same way.
        await rt.updateContainerResources(id, { cpuShares: 102, cpuPeriod: 100_000, cpuQuota: 20_000, memoryLimitInBytes: 96 * 1024 * 1024 });
        expect(await read('memory/memory.limit_in_bytes', 'memory.max')).toBe(String(96 * 1024 * 1024));
        expect(await read('cpu/cpu.cfs_quota_us', 'cpu.max')).toMatch(/^20000( 100000)?$/);
      }
      await expect(rt.updateContainerResources(MISSING_ID, { cpuShares: 2 })).rejects.toSatisfy(isNotFound);
    });

    it('runs exec with output and exit code, and times out a hung command', async () => {
      const id = await create('exec');
      await ctx.runtime.startContainer(id);
      expect(await ctx.runtime.execSync(id, ['echo', 'hi'], 5)).toEqual({ exitCode: 0, stdout: 'hi\n', stderr: '' });
      expect((await ctx.runtime.execSync(id, ['sh', '-c', 'exit 7'], 5)).exitCode).toBe(7);
      const t0 = Date.now();
      const err = await ctx.runtime.execSync(id, ['sleep', '30'], 1).then(
        () => undefined,
        (e: unknown) => e,
      );
      const took = Date.now() - t0;
      expect(isTimeout(err), String(err)).toBe(true);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(5_000);
    });

    it('rejects a duplicate name/attempt with AlreadyExistsError and a missing image with ImageNotFoundError', async () => {
      await create('dup');
      await expect(create('dup')).rejects.toSatisfy(isAlreadyExists);
      await expect(create('noimg', { image: 'localhost/nodelet/does-not-exist:0' })).rejects.toSatisfy((e: unknown) =>
        hasCode(e, 'IMAGE_NOT_FOUND'),
      );
    });

    it('throws NotFoundError for missing containers and sandboxes', async () => {
      const rt = ctx.runtime;
      await expect(rt.containerStatus(MISSING_ID)).rejects.toSatisfy(isNotFound);
      await expect(rt.startContainer(MISSING_ID)).rejects.toSatisfy(isNotFound);
      await expect(rt.execSync(MISSING_ID, ['true'], 1)).rejects.toSatisfy(isNotFound);
      await expect(
        rt.createContainer(MISSING_ID, containerConfig('orphan', sb, ctx.labels), sb),
      ).rejects.toSatisfy(isNotFound);
    });
  });
}
