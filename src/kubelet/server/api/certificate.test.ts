import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../util/errors.js';
import { createSelfSigned, loadOrCreateSelfSigned } from './certificate.js';
import { tlsOptions } from './tls-options.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('self-signed serving certificate', () => {
  it('covers the node names and IPs, is a serverAuth CA certificate valid for a year', () => {
    const now = Date.now();
    const pair = createSelfSigned('node-1', ['node-1.example', '10.0.0.5', 'fd00::5'], now);
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subject).toMatch(/^CN=node-1@\d+$/);
    expect(cert.checkHost('node-1')).toBe('node-1');
    expect(cert.checkHost('node-1.example')).toBe('node-1.example');
    expect(cert.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(cert.checkIP('fd00::5')).toBeDefined();
    expect(cert.checkHost('other')).toBeUndefined();
    expect(cert.ca).toBe(true);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(Date.parse(cert.validTo) - now).toBeGreaterThan(364 * 24 * 3600 * 1000);
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
  });

  it('is kept in <pki>/kubelet.crt|key, reused while valid and covering, replaced otherwise', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl1-pki-'));
    const now = Date.now();
    const a = await loadOrCreateSelfSigned(dir, 'n1', ['10.0.0.1'], now);
    expect(readFileSync(join(dir, 'kubelet.crt'), 'utf8')).toBe(a.certPem);
    expect(statSync(join(dir, 'kubelet.key')).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSelfSigned(dir, 'n1', ['10.0.0.1'], now + 1000)).toEqual(a);
    const b = await loadOrCreateSelfSigned(dir, 'n1', ['10.0.0.2'], now);
    expect(b.certPem).not.toBe(a.certPem);
    const c = await loadOrCreateSelfSigned(dir, 'n1', ['10.0.0.2'], now + 365 * 24 * 3600 * 1000);
    expect(c.certPem).not.toBe(b.certPem);
  });
});

describe('tlsOptions', () => {
  it('maps Go names to Node/OpenSSL names and rejects unknown ones', () => {
    expect(tlsOptions('', [])).toEqual({});
    expect(tlsOptions('VersionTLS12', ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305'])).toEqual({
      minVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',
    });
    expect(() => tlsOptions('VersionTLS99', [])).toThrow(ConfigError);
    expect(() => tlsOptions('', ['TLS_FAKE'])).toThrow(/unknown cipher suite "TLS_FAKE"/);
  });
});
