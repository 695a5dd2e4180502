import { describe, expect, it } from 'vitest';
import { parseServerVersion, skewProblem, stripUnknownFields, unknownFieldFromError, unknownFieldsFor, writtenKind } from './server-version.js';

describe('parseServerVersion', () => {
  it('reads major/minor, a managed cluster minor with "+", or the gitVersion; undefined for a development build', () => {
    expect(parseServerVersion({ major: '1', minor: '33', gitVersion: 'v1.33.3' })).toEqual({ major: 1, minor: 33, gitVersion: 'v1.33.3' });
    expect(parseServerVersion({ major: '1', minor: '30+', gitVersion: 'v1.30.4-eks-a737599' })?.minor).toBe(30);
    expect(parseServerVersion({ major: '', minor: '', gitVersion: 'v1.28.15' })?.minor).toBe(28);
    // What the recorded pre-release v1.24 server (shared/reference/apiserver-v1.24/01-version.txt) answers:
    expect(parseServerVersion({ major: '', minor: '', gitVersion: 'v0.0.0-master+ab451280a0ea' })).toBeUndefined();
    expect(parseServerVersion('nonsense')).toBeUndefined();
  });
});

describe('skewProblem (upstream policy: the node agent up to 3 minors older than the API server, never newer)', () => {
  const v = (minor: number) => ({ major: 1, minor, gitVersion: `v1.${minor}.0` });
  it('accepts servers v1.33 to v1.36 for a v1.33 agent', () => {
    for (const m of [33, 34, 35, 36]) expect(skewProblem(v(m), 'v1.33.0-nodelet')).toBeUndefined();
  });
  it('names an older server, a too new one, and an unknown version', () => {
    expect(skewProblem(v(24), 'v1.33.0-nodelet')).toMatch(/API server \(v1\.24\.0\) is older than nodelet's Kubernetes version v1\.33\.0-nodelet.*supported servers: v1\.33 to v1\.36/);
    expect(skewProblem(v(32), 'v1.33.0-nodelet')).toMatch(/older/);
    expect(skewProblem(v(37), 'v1.33.0-nodelet')).toMatch(/more than 3 minor versions newer.*v1\.33 to v1\.36/);
    expect(skewProblem(undefined, 'v1.33.0-nodelet', 'v0.0.0-master+x')).toMatch(/cannot tell the API server's version.*"v0\.0\.0-master\+x"/);
  });
});

describe('stripUnknownFields', () => {
  const patch = {
    metadata: { uid: 'u' },
    status: {
      hostIP: '10.0.0.1',
      hostIPs: [{ ip: '10.0.0.1' }],
      '$setElementOrder/hostIPs': [{ ip: '10.0.0.1' }],
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1 }],
      containerStatuses: [{ name: 'c', ready: true, user: { linux: { uid: 0, gid: 0 } }, stopSignal: 'SIGTERM' }],
      initContainerStatuses: [{ name: 'i', ready: true, volumeMounts: [] }],
    },
  };
  it('keeps everything for a current server and returns the same object', () => {
    const r = stripUnknownFields('Pod', patch, unknownFieldsFor(33));
    expect(r.body).toBe(patch);
    expect(r.stripped).toEqual([]);
  });
  it('removes what v1.24 does not know, wherever the struct sits, without touching the input', () => {
    const before = structuredClone(patch);
    const r = stripUnknownFields('Pod', patch, unknownFieldsFor(24));
    expect(patch).toEqual(before);
    expect(r.body).toEqual({
      metadata: { uid: 'u' },
      status: { hostIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true }], initContainerStatuses: [{ name: 'i', ready: true }] },
    });
    expect(r.stripped).toEqual(expect.arrayContaining(['status.hostIPs', 'status.observedGeneration', 'status.conditions[].observedGeneration', 'status.containerStatuses[].user', 'status.initContainerStatuses[].volumeMounts']));
  });
  it('by version: v1.30 still lacks user and stopSignal, knows hostIPs and volumeMounts', () => {
    const body = stripUnknownFields('Pod', patch, unknownFieldsFor(30)).body as typeof patch;
    expect(body.status.hostIPs).toHaveLength(1);
    expect(body.status.initContainerStatuses[0]).toHaveProperty('volumeMounts');
    expect(body.status.containerStatuses[0]).toEqual({ name: 'c', ready: true });
  });
  it('strips node status fields (runtimeHandlers, features, nodeInfo.swap)', () => {
    const node = { status: { runtimeHandlers: [], features: {}, nodeInfo: { kubeletVersion: 'v1.33.0', swap: { capacity: 0 } }, conditions: [] } };
    expect(stripUnknownFields('Node', node, unknownFieldsFor(29)).body).toEqual({ status: { nodeInfo: { kubeletVersion: 'v1.33.0' }, conditions: [] } });
  });
  it('strips a field learned from an error even when the version is unknown', () => {
    expect(unknownFieldsFor(undefined).size).toBe(0);
    const learned = unknownFieldFromError('unable to find api field in struct PodStatus for the json field "hostIPs"');
    expect(learned).toBe('PodStatus.hostIPs');
    expect((stripUnknownFields('Pod', patch, new Set([learned!])).body as { status: Record<string, unknown> }).status).not.toHaveProperty('hostIPs');
    expect(unknownFieldFromError('some other error')).toBeUndefined();
  });
});

describe('writtenKind', () => {
  it('knows pod and node writes, nothing else', () => {
    expect(writtenKind('/api/v1/namespaces/ns/pods/p/status')).toBe('Pod');
    expect(writtenKind('/api/v1/namespaces/ns/pods')).toBe('Pod');
    expect(writtenKind('/api/v1/nodes/n/status')).toBe('Node');
    expect(writtenKind('/api/v1/nodes')).toBe('Node');
    expect(writtenKind('/api/v1/namespaces/ns/events')).toBeUndefined();
    expect(writtenKind('/api/v1/namespaces/ns/pods/p/eviction')).toBeUndefined();
  });
});
