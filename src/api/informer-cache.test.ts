import { describe, expect, it } from 'vitest';
import { silentLogger } from '../util/index.js';
import { InformerCache } from './informer-cache.js';
import type { KubeObject } from './types.js';

const obj = (name: string, rv: string, uid = `uid-${name}`): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv, uid } });

function recorded(cache: InformerCache<KubeObject>): string[] {
  const log: string[] = [];
  cache.addHandlers({
    onAdd: (o) => log.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    onUpdate: (a, b) => log.push(`update ${b.metadata?.name}@${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
    onDelete: (o) => log.push(`delete ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    onSynced: () => log.push('synced'),
  });
  return log;
}

describe('InformerCache', () => {
  it('delivers a relist as the difference to what was cached, never duplicating unchanged objects', () => {
    const c = new InformerCache<KubeObject>(silentLogger());
    const log = recorded(c);
    c.replace([obj('a', '1'), obj('b', '2')]);
    c.apply('MODIFIED', obj('a', '3'));
    c.replace([obj('a', '3'), obj('c', '5'), obj('b', '4')]);
    c.replace([obj('a', '3'), obj('c', '5'), obj('b', '4')]);
    c.replace([obj('a', '3', 'new-uid'), obj('c', '5')]);
    expect(log).toEqual([
      'add a@1', 'add b@2', 'synced',
      'update a@1->3',
      'add c@5', 'update b@2->4', 'synced',
      'synced',
      'delete b@4', 'update a@3->3', 'synced',
    ]);
    expect(c.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'c']);
  });

  it('ignores repeated versions and deletes of unknown objects; ADDED for a cached object is an update', () => {
    const c = new InformerCache<KubeObject>(silentLogger());
    const log = recorded(c);
    c.apply('ADDED', obj('a', '1'));
    c.apply('ADDED', obj('a', '1'));
    c.apply('MODIFIED', obj('a', '1'));
    c.apply('ADDED', obj('a', '2'));
    c.apply('DELETED', obj('zz', '3'));
    c.apply('DELETED', obj('a', '4'));
    c.apply('DELETED', obj('a', '4'));
    c.apply('BOOKMARK', obj('a', '9'));
    expect(log).toEqual(['add a@1', 'update a@1->2', 'delete a@4']);
    expect(c.get('ns/a')).toBeUndefined();
  });

  it('replays the cache to late handlers, isolates throwing handlers, and resolves waitForSync', async () => {
    const c = new InformerCache<KubeObject>(silentLogger());
    const waiting = c.waitForSync();
    c.addHandlers({ onAdd: () => { throw new Error('bad handler'); } });
    c.replace([obj('a', '1')]);
    await waiting;
    const late = recorded(c);
    expect(late).toEqual(['add a@1', 'synced']);
    c.apply('MODIFIED', obj('a', '2'));
    expect(late).toEqual(['add a@1', 'synced', 'update a@1->2']);
    const remove = c.addHandlers({ onDelete: () => late.push('removed handler called') });
    remove();
    c.apply('DELETED', obj('a', '3'));
    expect(late).toEqual(['add a@1', 'synced', 'update a@1->2', 'delete a@3']);
    const ac = new AbortController();
    ac.abort(new Error('no'));
    await expect(new InformerCache<KubeObject>(silentLogger()).waitForSync(ac.signal)).rejects.toThrow('no');
  });
});
