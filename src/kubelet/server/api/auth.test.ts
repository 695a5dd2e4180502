import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../util/clock.js';
import { silentLogger } from '../../../util/logger.js';
import { requestAttributes, type AuthorizationAttributes, type UserInfo } from './attributes.js';
import { createAuthenticator } from './authn.js';
import { alwaysAllow, createWebhookAuthorizer } from './authz.js';
import type { ReviewClient } from './reviews.js';

/** A review client that counts calls and answers from tables. */
class FakeReviews implements ReviewClient {
  tokenCalls = 0;
  accessCalls: AuthorizationAttributes[] = [];
  down = false;
  constructor(
    private readonly tokens: Record<string, UserInfo>,
    private readonly allow: (a: AuthorizationAttributes) => boolean,
  ) {}
  reviewToken(token: string): Promise<UserInfo | undefined> {
    this.tokenCalls++;
    if (this.down) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(this.tokens[token]);
  }
  reviewAccess(a: AuthorizationAttributes): Promise<{ allowed: boolean; reason: string }> {
    this.accessCalls.push(a);
    if (this.down) return Promise.reject(new Error('connection refused'));
    return Promise.resolve({ allowed: this.allow(a), reason: '' });
  }
}

function req(headers: Record<string, string> = {}, socket: Record<string, unknown> = {}): IncomingMessage {
  return { headers, socket } as unknown as IncomingMessage;
}

function certSocket(subject: Record<string, string | string[]>, authorized = true): Record<string, unknown> {
  return { authorized, getPeerCertificate: () => ({ subject }) };
}

describe('kubelet API authentication', () => {
  const alice: UserInfo = { name: 'alice', groups: ['devs'] };

  it('with a reloadable client CA, trusts a verified chain only while it reaches a certificate of the current bundle', async () => {
    // getPeerCertificate(true): the leaf, then its issuers up to the trust anchor OpenSSL verified against (self-issued).
    const root = { fingerprint256: 'AA', subject: { CN: 'old-ca' } } as Record<string, unknown>;
    root['issuerCertificate'] = root;
    const leaf = { fingerprint256: 'LL', subject: { CN: 'ok-user', O: 'g' }, issuerCertificate: root };
    const socket = { authorized: true, getPeerCertificate: (detailed?: boolean) => (detailed === true ? leaf : { subject: leaf.subject }) };
    let bundle: { certificates: string[]; fingerprints: Set<string> } | undefined = { certificates: [], fingerprints: new Set(['AA']) };
    const authn = createAuthenticator({ x509: true, clientCA: { current: () => bundle }, tokenReviews: undefined, cacheTTLMs: 0, anonymous: false, clock: new FakeClock(), logger: silentLogger() });
    expect(await authn.authenticate(req({}, socket))).toEqual({ name: 'ok-user', groups: ['g', 'system:authenticated'] });
    bundle = { certificates: [], fingerprints: new Set(['BB']) };
    expect(await authn.authenticate(req({}, socket))).toBeUndefined();
    bundle = undefined;
    expect(await authn.authenticate(req({}, socket))).toBeUndefined();
  });

  it('takes x509 users from verified certificates only (CN = user, O = groups)', async () => {
    const authn = createAuthenticator({ x509: true, tokenReviews: undefined, cacheTTLMs: 0, anonymous: false, clock: new FakeClock(), logger: silentLogger() });
    expect(await authn.authenticate(req({}, certSocket({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' })))).toEqual({
      name: 'kube-apiserver-kubelet-client',
      groups: ['system:masters', 'system:authenticated'],
    });
    expect(await authn.authenticate(req({}, certSocket({ CN: 'x', O: ['a', 'b'] })))).toEqual({ name: 'x', groups: ['a', 'b', 'system:authenticated'] });
    expect(await authn.authenticate(req({}, certSocket({ CN: 'mallory' }, false)))).toBeUndefined();
  });

  it('reviews bearer tokens and caches verdicts for cacheTTL (fake clock)', async () => {
    const clock = new FakeClock();
    const reviews = new FakeReviews({ good: alice }, () => true);
    const authn = createAuthenticator({ x509: false, tokenReviews: reviews, cacheTTLMs: 120_000, anonymous: false, clock, logger: silentLogger() });
    const good = req({ authorization: 'Bearer good' });
    expect(await authn.authenticate(good)).toEqual({ name: 'alice', groups: ['devs', 'system:authenticated'] });
    await authn.authenticate(good);
    expect(reviews.tokenCalls).toBe(1);
    expect(await authn.authenticate(req({ authorization: 'Bearer bad' }))).toBeUndefined();
    await authn.authenticate(req({ authorization: 'Bearer bad' }));
    expect(reviews.tokenCalls).toBe(2); // failures are cached too
    clock.advance(120_000);
    await authn.authenticate(good);
    expect(reviews.tokenCalls).toBe(3);
  });

  it('does not cache an unreachable API server, and falls back to anonymous only when enabled', async () => {
    const reviews = new FakeReviews({ good: alice }, () => true);
    reviews.down = true;
    const closed = createAuthenticator({ x509: false, tokenReviews: reviews, cacheTTLMs: 60_000, anonymous: false, clock: new FakeClock(), logger: silentLogger() });
    expect(await closed.authenticate(req({ authorization: 'Bearer good' }))).toBeUndefined();
    reviews.down = false;
    expect(await closed.authenticate(req({ authorization: 'Bearer good' }))).toMatchObject({ name: 'alice' });
    expect(await closed.authenticate(req())).toBeUndefined();
    const open = createAuthenticator({ x509: false, tokenReviews: undefined, cacheTTLMs: 0, anonymous: true, clock: new FakeClock(), logger: silentLogger() });
    expect(await open.authenticate(req())).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
  });
});

describe('kubelet API authorization', () => {
  const user: UserInfo = { name: 'bob', groups: ['system:authenticated'] };

  it('asks per subresource until one is allowed, caching allowed/denied for their TTLs (fake clock)', async () => {
    const clock = new FakeClock();
    const reviews = new FakeReviews({}, (a) => a.subresource === 'proxy');
    const authz = createWebhookAuthorizer({ reviews, authorizedTTLMs: 300_000, unauthorizedTTLMs: 30_000, clock });
    const pods = requestAttributes(user, 'GET', '/pods', 'n1');
    expect(await authz.authorize(pods)).toEqual({ allowed: true });
    expect(reviews.accessCalls.map((a) => `${a.verb} nodes/${a.subresource} ${a.name}`)).toEqual(['get nodes/pods n1', 'get nodes/proxy n1']);
    await authz.authorize(pods);
    expect(reviews.accessCalls).toHaveLength(2);
    clock.advance(30_000); // the denial of nodes/pods expired, the allowance of nodes/proxy did not
    await authz.authorize(pods);
    expect(reviews.accessCalls.map((a) => a.subresource)).toEqual(['pods', 'proxy', 'pods']);
    clock.advance(270_000);
    await authz.authorize(pods);
    expect(reviews.accessCalls.map((a) => a.subresource)).toEqual(['pods', 'proxy', 'pods', 'pods', 'proxy']);
    expect(await authz.authorize(requestAttributes(user, 'GET', '/stats/summary', 'n1'))).toEqual({ allowed: false });
  });

  it('reports an error when the API server cannot be asked; denies everything without one; AlwaysAllow allows', async () => {
    const reviews = new FakeReviews({}, () => true);
    reviews.down = true;
    const a = requestAttributes(user, 'GET', '/metrics', 'n1');
    expect(await createWebhookAuthorizer({ reviews, authorizedTTLMs: 1, unauthorizedTTLMs: 1, clock: new FakeClock() }).authorize(a)).toMatchObject({ allowed: false, error: expect.stringContaining('connection refused') });
    expect(await createWebhookAuthorizer({ reviews: undefined, authorizedTTLMs: 1, unauthorizedTTLMs: 1, clock: new FakeClock() }).authorize(a)).toEqual({ allowed: false });
    expect(await alwaysAllow.authorize(a)).toEqual({ allowed: true });
  });
});
