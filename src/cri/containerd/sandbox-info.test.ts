import { describe, expect, it } from 'vitest';
import { sandboxNetnsInfo } from './sandbox-info.js';

const spec = (namespaces: unknown[]): string => JSON.stringify({ pid: 4242, netNamespaceClosed: false, runtimeSpec: { linux: { namespaces } } });

describe('sandboxNetnsInfo', () => {
  it('takes the netns file and the pause pid from containerd verbose info', () => {
    const info = { info: spec([{ type: 'pid' }, { type: 'network', path: '/var/run/netns/cni-1234' }]) };
    expect(sandboxNetnsInfo(info)).toEqual({ target: { pid: 4242, path: '/var/run/netns/cni-1234' }, closed: false });
  });

  it('a host-network sandbox has no netns entry: only its pid', () => {
    expect(sandboxNetnsInfo({ info: spec([{ type: 'ipc' }]) }).target).toEqual({ pid: 4242 });
  });

  it('reports a closed netns', () => {
    expect(sandboxNetnsInfo({ info: JSON.stringify({ pid: 7, netNamespaceClosed: true }) }).closed).toBe(true);
  });

  it('missing, unparsable or odd documents give an empty target, never a throw', () => {
    expect(sandboxNetnsInfo(undefined).target).toEqual({});
    expect(sandboxNetnsInfo({ info: '{not json' }).target).toEqual({});
    expect(sandboxNetnsInfo({ info: 'null' }).target).toEqual({});
    expect(sandboxNetnsInfo({ info: JSON.stringify({ pid: -1, runtimeSpec: { linux: { namespaces: [{ type: 'network', path: 7 }] } } }) }).target).toEqual({});
  });
});
