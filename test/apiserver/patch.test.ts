import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch } from './jsonpatch.js';
import { mergeMap } from './smp.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { JsonObject } from './json.js';
import { ApiError } from './status.js';

const pod = (): JsonObject => ({
  metadata: { name: 'p', finalizers: ['a'], ownerReferences: [{ uid: 'u1', name: 'o1' }] },
  spec: {
    containers: [
      { name: 'a', image: 'a:1', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'X', value: '1' }], volumeMounts: [{ mountPath: '/m', name: 'v' }] },
      { name: 'b', image: 'b:1' },
    ],
    tolerations: [{ key: 't1' }],
  },
  status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] },
});

describe('strategic merge patch', () => {
  it('merges lists by their upstream merge keys and replaces lists without one', () => {
    const out = mergeMap(pod(), {
      metadata: { finalizers: ['b', 'a'], ownerReferences: [{ uid: 'u2', name: 'o2' }] },
      spec: { containers: [{ name: 'a', image: 'a:2', ports: [{ containerPort: 81 }], env: [{ name: 'Y', value: '2' }] }], tolerations: [{ key: 't2' }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const spec = out.spec as { containers: JsonObject[]; tolerations: JsonObject[] };
    expect(spec.containers.map((c) => `${String(c.name)}=${String(c.image)}`)).toEqual(['a=a:2', 'b=b:1']);
    expect(spec.containers[0]!.ports).toEqual([{ containerPort: 80, name: 'http' }, { containerPort: 81 }]);
    expect(spec.containers[0]!.env).toEqual([{ name: 'X', value: '1' }, { name: 'Y', value: '2' }]);
    expect(spec.tolerations).toEqual([{ key: 't2' }]);
    expect((out.status as { conditions: unknown }).conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }]);
    expect((out.metadata as JsonObject).finalizers).toEqual(['a', 'b']);
    expect((out.metadata as JsonObject).ownerReferences).toHaveLength(2);
  });

  it('honours $patch delete/replace, $retainKeys, $setElementOrder, $deleteFromPrimitiveList and null', () => {
    const out = mergeMap(pod(), {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        containers: [{ name: 'b', $patch: 'delete' }],
        '$setElementOrder/containers': [{ name: 'a' }],
        tolerations: null,
      },
      status: { conditions: [{ $patch: 'replace' }, { type: 'X', status: 'True' }] },
    });
    expect(((out.spec as JsonObject).containers as JsonObject[]).map((c) => c.name)).toEqual(['a']);
    expect((out.spec as JsonObject).tolerations).toBeUndefined();
    expect((out.metadata as JsonObject).finalizers).toEqual([]);
    expect((out.status as JsonObject).conditions).toEqual([{ type: 'X', status: 'True' }]);
    const replaced = mergeMap({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } });
    expect(replaced).toEqual({ spec: { c: 3 } });
    const retained = mergeMap({ spec: { strategy: { type: 'A', rollingUpdate: { x: 1 } } } }, { spec: { strategy: { $retainKeys: ['type'], type: 'B' } } });
    expect(retained).toEqual({ spec: { strategy: { type: 'B' } } });
    const ordered = mergeMap({ c: { containers: [{ name: 'a' }, { name: 'b' }] } }, { c: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'a', x: 1 }] } });
    expect(ordered).toEqual({ c: { containers: [{ name: 'b' }, { name: 'a', x: 1 }] } });
  });

  it('uses port as the merge key of Service ports', () => {
    const out = mergeMap({ spec: { ports: [{ port: 80, targetPort: 1 }] } }, { spec: { ports: [{ port: 80, targetPort: 2 }, { port: 443 }] } });
    expect(out).toEqual({ spec: { ports: [{ port: 80, targetPort: 2 }, { port: 443 }] } });
  });
});

describe('json patch and merge patch', () => {
  it('applies RFC 6902 operations and fails a test op with 422', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e' },
      { op: 'remove', path: '/a/b/0' },
      { op: 'test', path: '/e', value: 'y' },
    ]);
    expect(out).toEqual({ a: { b: [2, 3] }, c: 'y', e: 'y' });
    expect(doc).toEqual({ a: { b: [1, 2] }, c: 'x' });
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/c', value: 'nope' }])).toThrow(ApiError);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/zz' }])).toThrow(/nonexistent/);
    expect(() => applyJsonPatch(doc, { op: 'add' })).toThrow('jsonpatch.Patch');
  });

  it('merge patch replaces lists and deletes nulls', () => {
    expect(applyMergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });
});

describe('selectors', () => {
  it('parses and matches label selectors', () => {
    const m = (sel: string, labels: Record<string, string>): boolean => matchLabels(parseLabelSelector(sel), labels);
    expect(m('a=b', { a: 'b' })).toBe(true);
    expect(m('a==b,c', { a: 'b' })).toBe(false);
    expect(m('a!=b', {})).toBe(true);
    expect(m('a in (x, y),!z', { a: 'y' })).toBe(true);
    expect(m('a notin (x)', { a: 'x' })).toBe(false);
    expect(m('example.com/k=v', { 'example.com/k': 'v' })).toBe(true);
    expect(() => parseLabelSelector('a b')).toThrow(/unable to parse requirement/);
  });

  it('rejects unknown field labels and matches Go zero values', () => {
    expect(() => parseFieldSelector('spec.bogus=x', ['spec.nodeName'])).toThrow('field label not supported: spec.bogus');
    const reqs = parseFieldSelector('spec.nodeName=,status.phase!=Failed', ['spec.nodeName', 'status.phase']);
    expect(matchFields(reqs, { spec: {}, status: { phase: 'Running' } })).toBe(true);
    expect(matchFields(reqs, { spec: { nodeName: 'n' }, status: {} })).toBe(false);
  });
});
