import { describe, expect, it } from 'vitest';
import { hasCode } from '../../util/errors.js';
import { sandboxConfig } from '../contract-fixtures.js';
import { podCidrUpdaterOf } from '../pod-cidr.js';
import { FakeRuntime } from './fake-runtime.js';

describe('FakeRuntime pod IPs', () => {
  it('hands out unique IPs from its ranges (dual-stack: the IPv6 one as additional IP), none with host networking', async () => {
    const rt = new FakeRuntime({ podCIDRs: ['10.215.7.0/24', 'fd15:0:0:7::/64'] });
    const a = await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('a', {})));
    const b = await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('b', {})));
    expect([a.ip, a.additionalIps]).toEqual(['10.215.7.2', ['fd15:0:0:7::2']]);
    expect([b.ip, b.additionalIps]).toEqual(['10.215.7.3', ['fd15:0:0:7::3']]);
    const h = await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('h', {}, { namespaceOptions: { network: 'node', pid: 'container', ipc: 'pod' } })));
    expect([h.ip, h.additionalIps]).toEqual(['', []]);
  });

  it('updatePodCIDR (the CRI pod CIDR update) moves new sandboxes to the new range; a bad CIDR is INVALID', async () => {
    const rt = new FakeRuntime();
    expect(podCidrUpdaterOf(rt)).toBe(rt);
    expect(rt.podCIDRs()).toEqual(['10.88.0.0/16']);
    const first = await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('a', {})));
    expect(first.ip).toBe('10.88.0.2');
    await rt.updatePodCIDR(['10.215.5.0/24']);
    const second = await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('b', {})));
    expect(second.ip).toBe('10.215.5.2');
    expect((await rt.podSandboxStatus(first.id)).ip).toBe('10.88.0.2');
    await expect(rt.updatePodCIDR(['not-a-cidr'])).rejects.toSatisfy((e: unknown) => hasCode(e, 'INVALID'));
    expect(rt.podCIDRs()).toEqual(['10.215.5.0/24']);
  });

  it('releases a removed sandbox\'s IP', async () => {
    const rt = new FakeRuntime({ podCIDRs: ['10.215.6.0/30'] });
    const id = await rt.runPodSandbox(sandboxConfig('a', {}));
    await expect(rt.runPodSandbox(sandboxConfig('b', {}))).rejects.toSatisfy((e: unknown) => hasCode(e, 'NETWORK_PLUGIN_FAILED'));
    await rt.stopPodSandbox(id);
    await rt.removePodSandbox(id);
    expect((await rt.podSandboxStatus(await rt.runPodSandbox(sandboxConfig('c', {})))).ip).toBe('10.215.6.2');
  });
});
