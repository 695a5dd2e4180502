import { describe, expect, it } from 'vitest';
import { forbiddenMessage, isSubpath, requestAttributes, subresourcesFor, verbFor } from './attributes.js';

describe('kubelet API authorization attributes (upstream auth.go)', () => {
  it('maps HTTP methods to API verbs', () => {
    expect(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map(verbFor)).toEqual(['get', 'create', 'update', 'patch', 'delete', '']);
  });

  it('maps paths to subresources, fine-grained ones first with proxy as fallback', () => {
    expect(subresourcesFor('/pods')).toEqual(['pods', 'proxy']);
    expect(subresourcesFor('/runningpods/')).toEqual(['pods', 'proxy']);
    expect(subresourcesFor('/healthz')).toEqual(['healthz', 'proxy']);
    expect(subresourcesFor('/healthz/ping')).toEqual(['healthz', 'proxy']);
    expect(subresourcesFor('/configz')).toEqual(['configz', 'proxy']);
    expect(subresourcesFor('/stats/summary')).toEqual(['stats']);
    expect(subresourcesFor('/metrics')).toEqual(['metrics']);
    expect(subresourcesFor('/metrics/cadvisor')).toEqual(['metrics']);
    expect(subresourcesFor('/logs/syslog')).toEqual(['log']);
    expect(subresourcesFor('/checkpoint/ns/p/c')).toEqual(['checkpoint']);
    expect(subresourcesFor('/containerLogs/ns/p/c')).toEqual(['proxy']);
    expect(subresourcesFor('/exec/ns/p/c')).toEqual(['proxy']);
    expect(subresourcesFor('/podsX')).toEqual(['proxy']);
    expect(subresourcesFor('/statsfoo')).toEqual(['proxy']);
    expect(subresourcesFor('/pods', false)).toEqual(['proxy']);
  });

  it('isSubpath matches the path itself and below, not siblings', () => {
    expect(isSubpath('/stats', '/stats/')).toBe(true);
    expect(isSubpath('/stats/summary', '/stats/')).toBe(true);
    expect(isSubpath('/statsx', '/stats/')).toBe(false);
  });

  it("builds upstream's 403 body", () => {
    const a = requestAttributes({ name: 'system:serviceaccount:ns:sa', groups: [] }, 'GET', '/pods', 'node-1');
    expect(a).toMatchObject({ verb: 'get', resource: 'nodes', name: 'node-1', subresources: ['pods', 'proxy'] });
    expect(forbiddenMessage(a)).toBe('Forbidden (user=system:serviceaccount:ns:sa, verb=get, resource=nodes, subresource(s)=[pods proxy])\n');
    const exec = requestAttributes({ name: 'u', groups: [] }, 'POST', '/exec/ns/p/c', 'node-1');
    expect(forbiddenMessage(exec)).toBe('Forbidden (user=u, verb=create, resource=nodes, subresource(s)=[proxy])\n');
  });
});
