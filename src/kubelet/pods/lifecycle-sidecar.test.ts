import { afterEach, describe, expect, it } from 'vitest';
import { createProberManager, type ProberManager } from '../../probes/index.js';
import { scriptedHandlers } from '../../probes/testing.js';
import { silentLogger } from '../../util/logger.js';
import { apiPod, ctr, mkPod, world, type World } from './harness.test-util.js';

let w: World | undefined;
afterEach(async () => {
  await w?.lc.stop();
  w = undefined;
});

describe('sidecars (init containers with restartPolicy: Always) with the real prober', () => {
  it('probes the sidecar (startup, readiness) and counts it Ready per its readiness probe', async () => {
    let sidecarReady = false;
    const { handlers, calls } = scriptedHandlers(() => ({ result: 'success', output: '' }));
    const exec = handlers.exec;
    const probedCommands = new Set<string>();
    handlers.exec = (req) => {
      probedCommands.add(req.command[0] ?? '');
      if (req.command[0] === 'side-ready' && !sidecarReady) return Promise.resolve({ result: 'failure', output: 'not yet' });
      return exec(req);
    };
    let real: ProberManager | undefined;
    // The real prober, wired like the daemon wires it (src/cli/pods-role.ts): it reads the computed status back.
    w = await world({}, ({ clock, runtime, podStatus }) => {
      real = createProberManager({ runtime, getPodStatus: podStatus, logger: silentLogger(), clock, nodeIP: '10.0.0.1', random: () => 0, handlers });
      return real;
    });
    w.api.apply(mkPod('side', {
      initContainers: [ctr('proxy', undefined, {
        restartPolicy: 'Always',
        startupProbe: { exec: { command: ['side-started'] }, periodSeconds: 1 },
        readinessProbe: { exec: { command: ['side-ready'] }, periodSeconds: 1 },
      })],
      containers: [ctr('app')],
    }));
    await w.advance(5_000);
    const status = () => apiPod(w as World, 'side')?.status;
    expect(probedCommands).toEqual(new Set(['side-started', 'side-ready']));
    expect(calls.length).toBeGreaterThan(0);
    expect(status()?.initContainerStatuses?.[0]).toMatchObject({ name: 'proxy', started: true, ready: false });
    expect(status()?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(status()?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
    sidecarReady = true;
    await w.advance(3_000);
    expect(status()?.initContainerStatuses?.[0]).toMatchObject({ name: 'proxy', started: true, ready: true });
    expect(status()?.containerStatuses?.[0]).toMatchObject({ name: 'app', started: true, ready: true });
    expect(status()?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    real?.stop();
  });
});
