import { describe, expect, it } from 'vitest';
import { generateCerts } from '../../../test/apiserver/certs.js';
import { issueCertificate, parseCsr } from '../../../test/apiserver/certificates/signer.js';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { CLIENT_SIGNER, CLIENT_USAGES, nodeSubject } from './csr.js';
import { FakeCsrApi } from './fake-csr-api.js';
import { CertificateManager, MIN_ROTATION_INTERVAL_MS } from './manager.js';
import { MemoryCertificateStore } from './store.js';

function setup(o: { lifetimeS?: number; autoApprove?: boolean } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const ca = generateCerts();
  const sign = (pem: string, exp: number | undefined): string => issueCertificate(ca, parseCsr(pem), CLIENT_USAGES, exp ?? o.lifetimeS ?? 3600, clock.now());
  const api = new FakeCsrApi({ sign, autoApprove: o.autoApprove });
  const bootstrapApi = new FakeCsrApi({ sign });
  const store = new MemoryCertificateStore();
  const used: string[] = [];
  const m = new CertificateManager({
    kind: 'client',
    store,
    api: (cur) => {
      used.push(cur === undefined ? 'bootstrap' : 'current');
      return cur === undefined ? bootstrapApi : api;
    },
    subject: () => nodeSubject('nl5-m'),
    signerName: CLIENT_SIGNER,
    usages: CLIENT_USAGES,
    clock,
    logger: silentLogger(),
    random: () => 0.5,
  });
  return { clock, api, bootstrapApi, store, m, used };
}

describe('CertificateManager', () => {
  it('requests a certificate when there is none, stores it and notifies listeners', async () => {
    const { m, store, bootstrapApi, used } = setup();
    let changes = 0;
    m.onChange(() => changes++);
    expect(m.current()).toBeUndefined();
    const next = await m.step();
    expect(store.history).toHaveLength(1);
    expect(changes).toBe(1);
    expect(used).toEqual(['bootstrap']); // nothing valid yet: the fallback credentials
    expect(bootstrapApi.created[0]!.spec).toMatchObject({ signerName: CLIENT_SIGNER, usages: ['digital signature', 'client auth'] });
    expect(m.current()?.certPem).toContain('BEGIN CERTIFICATE');
    // 1 h certificate backdated 5 min: total 65 min; deadline at 0.7 × 1.1 = 77% → 50.05 min after notBefore
    const pair = store.current()!;
    expect(m.deadline()).toBe(pair.notBefore + Math.round(0.77 * 65 * 60_000));
    expect(next).toBe(m.deadline()! - (pair.notBefore + 5 * 60_000));
  });

  it('rotates at the deadline, not before, with the current certificate as credentials', async () => {
    const { m, clock, store, used } = setup();
    await m.step();
    const deadline = m.deadline()!;
    clock.advance(deadline - clock.now() - 1);
    expect(await m.step()).toBe(1);
    expect(store.history).toHaveLength(1);
    clock.advance(1);
    await m.step();
    expect(store.history).toHaveLength(2);
    expect(used).toEqual(['bootstrap', 'current']);
    expect(store.history[1]!.notAfter).toBeGreaterThan(store.history[0]!.notAfter);
    expect(m.deadline()).toBeGreaterThan(deadline);
  });

  it('does not loop when a new certificate is already past its deadline', async () => {
    // 600 s certificates backdated 5 minutes with a rotation at 30% would be due at once
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const ca = generateCerts();
    const api = new FakeCsrApi({ sign: (pem) => issueCertificate(ca, parseCsr(pem), CLIENT_USAGES, 600, clock.now()) });
    const m = new CertificateManager({ kind: 'client', store: new MemoryCertificateStore(), api: () => api, subject: () => nodeSubject('n'), signerName: CLIENT_SIGNER, usages: CLIENT_USAGES, clock, logger: silentLogger(), policy: { baseFraction: 0.3, jitter: 0 } });
    expect(await m.step()).toBe(MIN_ROTATION_INTERVAL_MS);
  });

  it('retries a denied request with backoff (2 s, 4 s) and recovers', async () => {
    const { m, api, clock, store } = setup({ autoApprove: false });
    await m.step(); // first certificate through the (auto-approving) bootstrap API
    clock.advance(m.deadline()! - clock.now());
    const pending = m.step();
    await new Promise((r) => setImmediate(r));
    api.deny(api.created[0]!.metadata.name!);
    expect(await pending).toBe(2000);
    const second = m.step();
    await new Promise((r) => setImmediate(r));
    api.deny(api.created[1]!.metadata.name!);
    expect(await second).toBe(4000);
    api.autoApprove = true;
    expect(await m.step()).toBeGreaterThan(60_000);
    expect(store.history).toHaveLength(2);
  });

  it('runs on the clock after start() and stops cleanly', async () => {
    const { m, clock, store } = setup();
    m.start();
    clock.advance(0);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(store.history).toHaveLength(1);
    clock.advance(m.deadline()! - clock.now());
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(store.history).toHaveLength(2);
    await m.stop();
    clock.advance(86_400_000);
    await new Promise((r) => setImmediate(r));
    expect(store.history).toHaveLength(2);
  });
});
