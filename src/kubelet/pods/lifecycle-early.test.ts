import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { PAUSE_IMAGE, type FakeRuntime, type PodSandboxConfig, type RunPodSandboxOptions } from '../../cri/index.js';
import type { ContainerContext, PodEnvironment } from '../podenv/types.js';
import { minimalPodEnvironment } from './default-env.js';
import { earlyCreatable } from './early.js';
import { apiPod, ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

/** What the environment saw: its calls in order, with the IP state of each containerConfig call. */
interface EnvLog {
  calls: string[];
}

/** The minimal environment with the podIPsKnown capability; resolves env `fieldRef: status.podIP` from ctx. */
function ipAwareEnv(log: EnvLog): PodEnvironment {
  const base = minimalPodEnvironment(PAUSE_IMAGE);
  return {
    ...base,
    async containerConfig(pod: V1Pod, c: V1Container, ctx: ContainerContext) {
      log.calls.push(`config ${c.name} ips=${ctx.podIPs.join(',')} pending=${String(ctx.podIPsPending === true)}`);
      const cfg = await base.containerConfig(pod, c, ctx);
      for (const e of c.env ?? []) {
        if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') cfg.envs.push({ key: e.name, value: ctx.podIPs[0] ?? '' });
      }
      return cfg;
    },
    async podIPsKnown(_pod: V1Pod, podIPs: string[]) {
      log.calls.push(`ipsKnown ${podIPs.join(',')}`);
    },
  };
}

/**
 * Makes the fake runtime's runPodSandbox behave like Docker's: the sandbox exists (onCreated) and its start takes
 * until `release()`; `fail` makes the start fail (the sandbox is removed, as DockerRuntime does).
 */
function slowSandboxStart(rt: FakeRuntime): { release(): void; held(): boolean; fail?: Error } {
  const run = rt.runPodSandbox.bind(rt);
  const removeSandbox = rt.removePodSandbox.bind(rt);
  let release: (() => void) | undefined;
  const gate: { release(): void; held(): boolean; fail?: Error } = {
    release: () => release?.(),
    held: () => release !== undefined,
  };
  rt.runPodSandbox = async (config: PodSandboxConfig, options?: RunPodSandboxOptions): Promise<string> => {
    const id = await run(config);
    options?.onCreated?.(id);
    await new Promise<void>((r) => {
      release = () => {
        release = undefined;
        r();
      };
    });
    if (gate.fail !== undefined) {
      const err = gate.fail;
      gate.fail = undefined;
      await removeSandbox(id);
      throw err;
    }
    return id;
  };
  return gate;
}

const podIPEnv = { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } };

describe('pod lifecycle: app containers created while the sandbox starts', () => {
  it('creates (not starts) the app containers during the sandbox start, completes the IP files, then starts them', async () => {
    const log: EnvLog = { calls: [] };
    w = await world({ podEnvironment: ipAwareEnv(log) });
    const gate = slowSandboxStart(w.runtime);
    w.api.apply(mkPod('early', { containers: [ctr('a'), ctr('b')] }));
    await w.settle();
    expect(gate.held()).toBe(true);
    expect(w.runtime.callsTo('createContainer')).toHaveLength(2);
    expect(w.runtime.callsTo('startContainer')).toHaveLength(0);
    expect(log.calls).toEqual(['config a ips= pending=true', 'config b ips= pending=true']);
    gate.release();
    await w.settle();
    const ip = apiPod(w, 'early')?.status?.podIP ?? '';
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(log.calls).toEqual(['config a ips= pending=true', 'config b ips= pending=true', `ipsKnown ${ip}`]);
    expect(w.runtime.callsTo('createContainer')).toHaveLength(2);
    expect(w.runtime.callsTo('startContainer')).toHaveLength(2);
    expect(apiPod(w, 'early')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'early')?.status?.containerStatuses?.map((c) => [c.name, c.restartCount, c.ready])).toEqual([
      ['a', 0, true],
      ['b', 0, true],
    ]);
    const reasons = w.recorder.events.filter((e) => e.ref.fieldPath === 'spec.containers{a}').map((e) => e.reason);
    expect(reasons).toEqual(['Pulled', 'Created', 'Started']);
  });

  it('configures a container that reads the pod IP only after the sandbox started, with the IP', async () => {
    const log: EnvLog = { calls: [] };
    w = await world({ podEnvironment: ipAwareEnv(log) });
    const gate = slowSandboxStart(w.runtime);
    w.api.apply(mkPod('ipenv', { containers: [ctr('a'), ctr('b', undefined, { env: [podIPEnv] })] }));
    await w.settle();
    expect(log.calls).toEqual(['config a ips= pending=true']);
    gate.release();
    await w.settle();
    const ip = apiPod(w, 'ipenv')?.status?.podIP ?? '';
    expect(log.calls).toEqual(['config a ips= pending=true', `ipsKnown ${ip}`, `config b ips=${ip} pending=false`]);
    const b = w.runtime.callsTo('createContainer')[1]?.args[1] as { envs: { key: string; value: string }[] } | undefined;
    expect(b?.envs).toContainEqual({ key: 'POD_IP', value: ip });
    expect(apiPod(w, 'ipenv')?.status?.phase).toBe('Running');
  });

  it('creates nothing early for a pod with init containers or an environment without podIPsKnown', async () => {
    const log: EnvLog = { calls: [] };
    w = await world({ podEnvironment: ipAwareEnv(log) });
    let gate = slowSandboxStart(w.runtime);
    w.api.apply(mkPod('init', { initContainers: [ctr('i', 'true')], containers: [ctr('a')] }));
    await w.settle();
    expect(gate.held()).toBe(true);
    expect(w.runtime.callsTo('createContainer')).toHaveLength(0);
    gate.release();
    await w.lc.stop();
    w = await world();
    gate = slowSandboxStart(w.runtime);
    w.api.apply(mkPod('plain', { containers: [ctr('a')] }));
    await w.settle();
    expect(gate.held()).toBe(true);
    expect(w.runtime.callsTo('createContainer')).toHaveLength(0);
    gate.release();
    await w.settle();
    expect(apiPod(w, 'plain')?.status?.phase).toBe('Running');
  });

  it('removes the early-created containers when the sandbox fails to start, and retries', async () => {
    const log: EnvLog = { calls: [] };
    w = await world({ podEnvironment: ipAwareEnv(log) });
    const gate = slowSandboxStart(w.runtime);
    w.api.apply(mkPod('fail', { containers: [ctr('a')] }));
    await w.settle();
    const earlyIds = (await w.runtime.listContainers({})).map((c) => c.id);
    expect(earlyIds).toHaveLength(1);
    gate.fail = new Error('failed to set up the network: boom');
    gate.release();
    await w.settle();
    expect(w.recorder.of('FailedCreatePodSandBox').map((e) => e.message)).toEqual([
      'Failed to create pod sandbox: failed to set up the network: boom',
    ]);
    expect(w.runtime.callsTo('removeContainer').map((c) => c.args[0])).toEqual(earlyIds);
    expect(w.runtime.callsTo('startContainer')).toHaveLength(0);
    expect(log.calls[0]).toBe('config a ips= pending=true');
    expect(log.calls).not.toContain(expect.stringMatching(/^ipsKnown/));
    // The sandbox's removal wakes the worker; it tries again (with a new sandbox) at once or after the retry delay.
    if (!gate.held()) await w.advance(10_000);
    expect(gate.held()).toBe(true);
    gate.release();
    await w.settle();
    expect(apiPod(w, 'fail')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'fail')?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});

describe('pod lifecycle: completing the IP files fails', () => {
  it('removes the early-created containers and tries again later', async () => {
    const log: EnvLog = { calls: [] };
    const env = ipAwareEnv(log);
    let broken = true;
    const known = env.podIPsKnown?.bind(env);
    env.podIPsKnown = async (pod, ips) => {
      if (broken) throw new Error('disk full');
      await known?.(pod, ips);
    };
    w = await world({ podEnvironment: env });
    const gate = slowSandboxStart(w.runtime);
    w.api.apply(mkPod('hosts', { containers: [ctr('a')] }));
    await w.settle();
    gate.release();
    await w.settle();
    const earlyId = w.runtime.callsTo('removeContainer')[0]?.args[0];
    expect(w.runtime.callsTo('removeContainer')).toHaveLength(1);
    expect(w.runtime.callsTo('createContainer').length).toBeGreaterThanOrEqual(1);
    // The removal wakes the worker: the sandbox is up now, so the container is created and started the usual way.
    broken = false;
    await w.advance(10_000);
    const ids = (await w.runtime.listContainers({})).map((c) => c.id);
    expect(ids).toHaveLength(1);
    expect(ids).not.toContain(earlyId);
    expect(apiPod(w, 'hosts')?.status?.phase).toBe('Running');
    expect(apiPod(w, 'hosts')?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});

describe('earlyCreatable', () => {
  const env = { env: { ...minimalPodEnvironment(PAUSE_IMAGE), podIPsKnown: async () => undefined } };
  const actions = (over: Partial<Parameters<typeof earlyCreatable>[1]>): Parameters<typeof earlyCreatable>[1] => ({
    killPod: false,
    createSandbox: true,
    sandboxId: '',
    attempt: 0,
    initContainersToStart: [],
    containersToStart: ['a', 'b'],
    containersToKill: [],
    initFailed: false,
    ...over,
  });
  const pod = mkPod('p', { containers: [ctr('a'), ctr('b', undefined, { env: [podIPEnv] })] });

  it('lists the app containers to start that do not read the pod IPs, only for a new sandbox', () => {
    expect(earlyCreatable(pod, actions({}), env)).toEqual(['a']);
    expect(earlyCreatable(pod, actions({ createSandbox: false }), env)).toEqual([]);
    expect(earlyCreatable(pod, actions({ initContainersToStart: ['i'] }), env)).toEqual([]);
    expect(earlyCreatable(pod, actions({ containersToStart: ['b'] }), env)).toEqual([]);
    expect(earlyCreatable(pod, actions({}), { env: minimalPodEnvironment(PAUSE_IMAGE) })).toEqual([]);
  });
});
