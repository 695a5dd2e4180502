/**
 * Atomic full syncs (issue 14, defect 4) with the real iptables in a network namespace: a full sync whose many new
 * chains go in batches is made to fail at EVERY one of its transactions in turn (an invalid rule injected into the
 * k-th nat transaction); after each failure the kernel's reachable nat rules must be exactly the old set, and the
 * filter table the old or the new one; the sync that is finally let through leaves the new set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSliceObject, ServiceObject } from '../../src/proxy/apitypes.js';
import { ExecIptables, detectBackend } from '../../src/proxy/exec.js';
import type { Iptables, RestoreOptions } from '../../src/proxy/iptables.js';
import { newHarness } from '../../src/proxy/testing/harness.js';
import { objectKey } from '../../src/api/types.js';
import { createNamespace, deleteNamespaces, inNs } from '../support/netns.js';

const NS = 'nl6-atomic';
const BATCH = 4;

function service(name: string, ip: string): ServiceObject {
  return { metadata: { namespace: 'nl6', name }, spec: { clusterIP: ip, ports: [{ name: '', port: 80, protocol: 'TCP' }] } };
}
function slice(svc: string, ips: string[]): EndpointSliceObject {
  return {
    metadata: { namespace: 'nl6', name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'other', conditions: { ready: true } })),
  };
}

/** The real tools, with an invalid rule injected into the `failAt`-th nat transaction of the next restore. */
class FailingIptables {
  failAt = 0;
  injected = false;
  constructor(readonly inner: Iptables) {}
  wrap(): Iptables {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop !== 'restore') {
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (data: string | Iterable<string>, options: RestoreOptions): Promise<void> => {
          const text = typeof data === 'string' ? data : [...data].join('');
          let nat = 0;
          const out: string[] = [];
          let inNat = false;
          for (const line of text.split('\n')) {
            if (line.startsWith('*')) inNat = line === '*nat';
            if (inNat && line.startsWith('*')) nat++;
            if (line === 'COMMIT' && inNat && nat === this.failAt && this.failAt > 0) {
              out.push('-A KUBE-NL6-MISSING-CHAIN -j ACCEPT');
              this.injected = true;
            }
            out.push(line);
          }
          await target.restore(out.join('\n'), options);
        };
      },
    });
  }
}

/** Reachable nat rules: chains reachable from the built-in chains, each with its rules, sorted (counters dropped). */
function reachable(save: string): string {
  const rules = new Map<string, string[]>();
  for (const line of save.split('\n')) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (m) rules.set(m[1]!, [...(rules.get(m[1]!) ?? []), line]);
    const c = /^:(\S+) /.exec(line);
    if (c && !rules.has(c[1]!)) rules.set(c[1]!, []);
  }
  const seen = new Set<string>();
  const todo = ['PREROUTING', 'OUTPUT', 'POSTROUTING', 'INPUT'];
  while (todo.length > 0) {
    const ch = todo.pop()!;
    if (seen.has(ch)) continue;
    seen.add(ch);
    for (const r of rules.get(ch) ?? []) {
      const t = /-[jg] (\S+)/.exec(r)?.[1];
      if (t !== undefined && rules.has(t)) todo.push(t);
    }
  }
  return [...seen].sort().map((c) => [`:${c}`, ...(rules.get(c) ?? [])].join('\n')).join('\n');
}

const kubeFilter = (save: string): string => save.split('\n').filter((l) => /KUBE-/.test(l) && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, '')).join('\n');

let ipt: ExecIptables;
beforeAll(async () => {
  await deleteNamespaces(NS);
  await createNamespace(NS);
  ipt = new ExecIptables({ netns: NS, family: 'IPv4', backend: await detectBackend({ netns: NS }), randomFully: false });
});
afterAll(async () => {
  await deleteNamespaces(NS);
});

describe('full sync failure injection at every batch (real iptables in a netns)', () => {
  it('leaves the old rules after a failure at any transaction, the new ones once it succeeds', async () => {
    const failing = new FailingIptables(ipt);
    const h = newHarness({ proxier: { iptables: failing.wrap(), batchSize: BATCH } });
    const services = Array.from({ length: 20 }, (_, i) => service(`s${i}`, `10.214.6.${100 + i}`));
    h.load(services, services.map((s, i) => slice(s.metadata?.name ?? '', [`10.214.6.${10 + i}`, `10.214.6.${40 + i}`])));
    expect(await h.proxier.sync()).toMatchObject({ kind: 'full', ok: true });
    const oldNat = reachable(await inNs(NS, 'iptables-save', '-t', 'nat'));
    const oldFilter = kubeFilter(await inNs(NS, 'iptables-save', '-t', 'filter'));
    expect(oldNat).toContain('10.214.6.100/32');

    // Change every service's endpoints (new SEP chains, rewritten SVC chains), add 10 services, remove 2.
    for (const [i, s] of services.entries()) {
      if (i < 2) {
        h.proxier.onService(objectKey(s), undefined);
        h.proxier.onEndpointSlice(slice(s.metadata?.name ?? '', []), true);
      } else h.proxier.onEndpointSlice(slice(s.metadata?.name ?? '', [`10.214.6.${70 + i}`]), false);
    }
    for (let i = 20; i < 30; i++) {
      const s = service(`s${i}`, `10.214.6.${100 + i}`);
      h.proxier.onService(objectKey(s), s);
      h.proxier.onEndpointSlice(slice(`s${i}`, [`10.214.6.${70 + i}`]), false);
    }
    h.proxier.forceFullSync();
    let failures = 0;
    for (let k = 1; ; k++) {
      failing.failAt = k;
      failing.injected = false;
      const r = await h.proxier.sync();
      if (!failing.injected) {
        expect(r).toMatchObject({ kind: 'full', ok: true });
        break;
      }
      failures++;
      expect(r).toMatchObject({ kind: 'full', ok: false });
      expect(reachable(await inNs(NS, 'iptables-save', '-t', 'nat'))).toBe(oldNat);
      expect(k).toBeLessThan(50);
    }
    // Several batches plus the last transaction were each made to fail.
    expect(failures).toBeGreaterThanOrEqual(3);
    const newNat = reachable(await inNs(NS, 'iptables-save', '-t', 'nat'));
    expect(newNat).not.toBe(oldNat);
    expect(newNat).toContain('10.214.6.129/32');
    expect(newNat).not.toContain('10.214.6.100/32');
    expect(newNat).not.toContain('10.214.6.10:8080');
    expect(newNat).toContain('10.214.6.72:8080');
    const newFilter = kubeFilter(await inNs(NS, 'iptables-save', '-t', 'filter'));
    expect([oldFilter, newFilter]).toContain(newFilter);
    // Orphans of the failed attempts (new chains no one references) are gone after the next full sync.
    h.proxier.forceFullSync();
    expect(await h.proxier.sync()).toMatchObject({ ok: true });
    const chains = (await inNs(NS, 'iptables-save', '-t', 'nat')).split('\n').filter((l) => /^:KUBE-(SVC|SEP)-/.test(l)).length;
    const used = newNat.split('\n').filter((l) => /^:KUBE-(SVC|SEP)-/.test(l)).length;
    expect(chains).toBe(used);
  }, 60_000);
});
