import { describe, expect, it } from 'vitest';
import { kubeletSettings } from '../../config/defaults.js';
import { FakeRuntime } from '../../cri/index.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { NodeAgent } from './node-agent.js';
import { RuntimeMonitor } from './runtime-monitor.js';
import { FakeLeaseApi, FakeNodeApi, fakeHost } from './testing.js';

/** Lets promise chains started by fired timers settle (no real time passes). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  let t = 0;
  do {
    const d = Math.min(step, ms - t);
    clock.advance(d);
    await settle();
    t += d;
  } while (t < ms);
}

function setup() {
  const clock = new FakeClock();
  const runtime = new FakeRuntime({ clock });
  const nodes = new FakeNodeApi();
  const leases = new FakeLeaseApi();
  const logger = silentLogger();
  const monitor = new RuntimeMonitor({ runtime, clock, logger });
  const agent = new NodeAgent({
    nodeName: 'worker-1',
    nodeIP: undefined,
    rootDir: '/var/lib/nodelet',
    settings: kubeletSettings({}),
    versions: { kubeletVersion: 'v1.30.0-nodelet', kubeProxyVersion: 'v1.30.0-nodelet' },
    kubeletPort: 10250,
    nodes,
    leases,
    host: fakeHost(),
    runtime: monitor,
    clock,
    logger,
  });
  const ready = () => nodes.nodes.get('worker-1')?.status?.conditions?.find((c) => c.type === 'Ready');
  return { clock, runtime, nodes, leases, agent, ready };
}

describe('node agent', () => {
  it('registers the node, writes Ready status and creates the lease', async () => {
    const { clock, nodes, leases, agent, ready } = setup();
    agent.start();
    await advance(clock, 300);
    const node = nodes.nodes.get('worker-1');
    expect(node?.metadata?.labels?.['kubernetes.io/hostname']).toBe('worker-1');
    expect(node?.status?.addresses?.[0]).toEqual({ type: 'InternalIP', address: '192.0.2.10' });
    expect(node?.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^[a-z]+:\/\/.+/);
    expect(ready()).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(leases.leases.get('kube-node-lease/worker-1')?.metadata?.ownerReferences?.[0]?.uid).toBe('uid-worker-1');
    await agent.stop();
  });

  it('writes status only when changed, and at least every nodeStatusReportFrequency', async () => {
    const { clock, nodes, leases, agent } = setup();
    agent.start();
    await advance(clock, 300);
    const first = nodes.statusPatches.length;
    await advance(clock, 60_000, 1000);
    expect(nodes.statusPatches.length).toBe(first);
    expect(leases.renewTimes.length).toBe(7);
    await advance(clock, 241_000, 1000);
    expect(nodes.statusPatches.length).toBe(first + 1);
    await agent.stop();
  });

  it('turns NotReady within one period when the runtime goes away, and Ready when it returns', async () => {
    const { clock, runtime, agent, ready } = setup();
    agent.start();
    await advance(clock, 300);
    runtime.setUnavailable(true);
    await advance(clock, 10_000);
    expect(ready()).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down' });
    runtime.setUnavailable(false);
    await advance(clock, 10_000);
    expect(ready()).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    await agent.stop();
  });

  it('keeps retrying registration with backoff while the API server is away', async () => {
    const { clock, nodes, agent, ready } = setup();
    nodes.down = true;
    agent.start();
    await advance(clock, 30_000);
    expect(agent.registered()).toBe(false);
    nodes.down = false;
    await advance(clock, 7_100);
    expect(agent.registered()).toBe(true);
    expect(ready()?.status).toBe('True');
    await agent.stop();
  });

  it('catches up node status and lease after an API outage', async () => {
    const { clock, nodes, leases, runtime, agent, ready } = setup();
    agent.start();
    await advance(clock, 300);
    nodes.down = true;
    leases.down = true;
    runtime.setUnavailable(true);
    await advance(clock, 30_000);
    const renewed = leases.renewTimes.length;
    nodes.down = false;
    leases.down = false;
    await advance(clock, 10_000);
    expect(ready()?.message).toBe('container runtime is down');
    expect(leases.renewTimes.length).toBeGreaterThan(renewed);
    await agent.stop();
  });

  it('registers again when the Node object is deleted', async () => {
    const { clock, nodes, agent } = setup();
    agent.start();
    await advance(clock, 300);
    nodes.nodes.delete('worker-1');
    // Noticed at the next write (unchanged status is written every nodeStatusReportFrequency = 5 min).
    await advance(clock, 301_000, 100);
    expect(agent.registered()).toBe(true);
    expect(nodes.nodes.get('worker-1')?.status?.conditions?.length).toBe(4);
    await agent.stop();
  });
});
