import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.js';
import { FakeRuntime } from '../cri/fake/index.js';
import { silentLogger } from '../util/logger.js';
import { runtimeKind } from './endpoint.js';
import { isSimulation, simulationConfig } from './simulation.js';
import { wiring } from './wiring.js';

const config = (endpoint: string) =>
  resolveConfig({ flags: { 'container-runtime-endpoint': endpoint, kubeconfig: '/k', 'pod-network': 'host-gw' }, hostname: 'h' });

describe('simulation mode (fake://)', () => {
  it('is a runtime kind of its own; the socket endpoints keep theirs', () => {
    expect(runtimeKind('fake://')).toBe('fake');
    expect(runtimeKind('unix:///var/run/docker.sock')).toBe('docker');
    expect(runtimeKind('unix:///run/containerd/containerd.sock')).toBe('cri');
  });

  it('turns off the parts that touch the host, and names them', () => {
    const c = config('fake://');
    expect(isSimulation(c)).toBe(true);
    const r = simulationConfig(c);
    expect(r.config.kubelet.cgroupsPerQOS).toBe(false);
    expect(r.config.roles.proxy).toBe(false);
    expect(r.config.network.podNetwork).toBe('');
    expect(r.notes).toHaveLength(3);
  });

  it('leaves a real runtime config alone', () => {
    const c = config('unix:///var/run/docker.sock');
    expect(simulationConfig(c)).toEqual({ config: c, notes: [] });
  });

  it('the wiring builds the fake runtime for fake://, which pulls any image and keeps no call log', async () => {
    const rt = wiring.createRuntime(config('fake://'), silentLogger());
    expect(rt).toBeInstanceOf(FakeRuntime);
    const fake = rt as FakeRuntime;
    await fake.pullImage('example.com/anything:2');
    expect(await fake.imageStatus('example.com/anything:2')).not.toBeNull();
    expect(fake.calls).toHaveLength(0);
    await rt.close();
  });
});
