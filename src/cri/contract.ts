/**
 * The one contract suite every ContainerRuntime backend must pass (FakeRuntime in src/cri/fake/fake.test.ts,
 * DockerRuntime in test/integration/cri-docker.test.ts, a CRI backend later). Test-only: imports vitest.
 *
 * It checks the contract written at the top of types.ts: sandbox and container lifecycles (idempotent stop/remove),
 * exit codes and reasons (Completed, Error, OOMKilled), stop with timeout, labels/annotations round-trip, exec with a
 * timeout, logs, images (status/list/remove, a pull from a closed loopback registry), version/status, events,
 * NotFound/AlreadyExists/RuntimeUnavailable errors, host-network sandboxes, a shared PID namespace, the writable
 * layer's usage and the pod CIDR update (CRI UpdateRuntimeConfig) of backends that take it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode, isRuntimeUnavailable } from '../util/index.js';
import { containerCases } from './contract-containers.js';
import { kernelCases } from './contract-kernel.js';
import { podCidrCases } from './contract-pod-cidr.js';
import { sandboxCases } from './contract-sandboxes.js';
import { storageCases } from './contract-storage.js';
import type { ContainerEvent, ContainerLogs, ContainerRuntime } from './types.js';
import { TESTBOX_IMAGE } from './images.js';

/** A backend under test plus how to dispose of it. */
export interface RuntimeUnderTest {
  runtime: ContainerRuntime & ContainerLogs;
  /** Called after the suite removed everything it created and closed the runtime. */
  cleanup: () => Promise<void>;
}

/** Options for {@link runRuntimeContract}. */
export interface RuntimeContractOptions {
  /** Label put on every sandbox and container the suite creates (cleanup removes only those). */
  testLabel: { key: string; value: string };
  /** Expected `version().runtimeName`. */
  runtimeName: string;
  /** Builds the same backend pointed at an engine that is not there (for RuntimeUnavailableError). */
  makeUnavailable: () => ContainerRuntime;
  /** Creates a removable extra tag/image and returns its reference (for removeImage). */
  makeRemovableImage: (runtime: ContainerRuntime) => Promise<string>;
  /**
   * True for backends that run real processes in real namespaces: adds checks through exec (hostname, shared network
   * and PID namespaces, host network) that a state-only fake cannot model.
   */
  realKernel: boolean;
  /** Reason to skip the OOMKilled case (only when the kernel cannot enforce memory limits). */
  skipOom?: string;
  /** True for backends that take the Node's pod CIDRs (PodCidrUpdater: CRI UpdateRuntimeConfig); default false. */
  takesPodCIDRs?: boolean;
}

/** Shared state of one contract run, handed to the case groups. */
export interface ContractContext {
  readonly runtime: ContainerRuntime & ContainerLogs;
  readonly labels: Record<string, string>;
  readonly events: ContainerEvent[];
  readonly opts: RuntimeContractOptions;
}

/** Registers the contract suite for one backend (call at the top level of a test file). */
export function runRuntimeContract(
  name: string,
  makeRuntime: () => Promise<RuntimeUnderTest>,
  opts: RuntimeContractOptions,
): void {
  describe(`ContainerRuntime contract: ${name}`, () => {
    let under: RuntimeUnderTest | undefined;
    let unsubscribe: (() => void) | undefined;
    const events: ContainerEvent[] = [];
    const labels = { [opts.testLabel.key]: opts.testLabel.value };
    const ctx: ContractContext = {
      get runtime() {
        if (under === undefined) throw new Error('runtime not created');
        return under.runtime;
      },
      labels,
      events,
      opts,
    };

    beforeAll(async () => {
      under = await makeRuntime();
      unsubscribe = under.runtime.subscribeEvents((e) => events.push(e));
    });

    afterAll(async () => {
      if (under === undefined) return;
      unsubscribe?.();
      const rt = under.runtime;
      try {
        // Concurrent removal of different objects is part of the contract.
        await Promise.all((await rt.listPodSandboxes({ labelSelector: labels })).map((s) => rt.removePodSandbox(s.id)));
        await Promise.all((await rt.listContainers({ labelSelector: labels })).map((c) => rt.removeContainer(c.id)));
        expect(await rt.listPodSandboxes({ labelSelector: labels })).toEqual([]);
      } finally {
        await rt.close();
        await under.cleanup();
      }
    });

    describe('runtime info', () => {
      it('reports its name and versions', async () => {
        const v = await ctx.runtime.version();
        expect(v.runtimeName).toBe(opts.runtimeName);
        expect(v.runtimeVersion).not.toBe('');
        expect(v.runtimeApiVersion).not.toBe('');
      });

      it('reports RuntimeReady and NetworkReady', async () => {
        const st = await ctx.runtime.status();
        const cond = (t: string): boolean | undefined => st.conditions.find((c) => c.type === t)?.status;
        expect(cond('RuntimeReady')).toBe(true);
        expect(cond('NetworkReady')).toBe(true);
      });

      it('throws RuntimeUnavailableError when the engine is not there', async () => {
        const down = opts.makeUnavailable();
        try {
          const err = await down.version().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isRuntimeUnavailable(err), String(err)).toBe(true);
          await expect(down.listContainers()).rejects.toSatisfy(isRuntimeUnavailable);
        } finally {
          await down.close();
        }
      });
    });

    describe('images', () => {
      it('returns status for a present image and null for a missing one', async () => {
        const img = await ctx.runtime.imageStatus(TESTBOX_IMAGE);
        expect(img).not.toBeNull();
        expect(img?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(img?.repoTags).toContain(TESTBOX_IMAGE);
        expect(await ctx.runtime.imageStatus(img?.id ?? '')).toMatchObject({ id: img?.id });
        expect(await ctx.runtime.imageStatus('localhost/nodelet/does-not-exist:0')).toBeNull();
        const all = await ctx.runtime.listImages();
        expect(all.map((i) => i.id)).toContain(img?.id);
      });

      it('removes an image idempotently', async () => {
        const ref = await opts.makeRemovableImage(ctx.runtime);
        expect(await ctx.runtime.imageStatus(ref)).not.toBeNull();
        await ctx.runtime.removeImage(ref);
        expect(await ctx.runtime.imageStatus(ref)).toBeNull();
        await ctx.runtime.removeImage(ref);
      });

      it('fails a pull from a closed loopback registry with IMAGE_PULL_FAILED', async () => {
        const err = await ctx.runtime.pullImage('127.0.0.1:1/nope:1').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(hasCode(err, 'IMAGE_PULL_FAILED'), String(err)).toBe(true);
      });
    });

    sandboxCases(ctx);
    containerCases(ctx);
    storageCases(ctx);
    podCidrCases(ctx);
    if (opts.realKernel) kernelCases(ctx);
  });
}
