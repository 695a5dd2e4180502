import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { createSelfSigned } from '../server/api/certificate.js';
import { parseCABundle } from './ca-bundle.js';
import { FakeFileWatcher } from './fake-file-watcher.js';
import { clientCAFromFile, parseServingPair, servingCertificateFromFiles } from './file-material.js';

const now = Date.now();
const a = createSelfSigned('ca-a', [], now);
const b = createSelfSigned('ca-b', [], now);

describe('parseCABundle', () => {
  it('keeps every certificate block with its fingerprint, skipping other blocks and text', () => {
    const bundle = parseCABundle(`# cluster CA\n${a.certPem}\n${a.keyPem}${b.certPem}`, '--client-ca-file');
    expect(bundle.certificates).toHaveLength(2);
    expect(bundle.fingerprints).toEqual(new Set([new X509Certificate(a.certPem).fingerprint256, new X509Certificate(b.certPem).fingerprint256]));
    expect(bundle.certificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n$/);
  });

  it('rejects empty content, a bundle without certificates and a block that does not parse (CERTIFICATE_INVALID)', () => {
    for (const bad of ['', '  \n', 'not a pem', a.keyPem, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']) {
      expect(() => parseCABundle(bad, '--client-ca-file')).toThrow(expect.objectContaining({ code: 'CERTIFICATE_INVALID', field: '--client-ca-file' }) as Error);
    }
    expect(() => parseCABundle(`${a.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, 'f')).toThrow(/certificate 2 of the CA bundle does not parse/);
  });
});

describe('parseServingPair', () => {
  it('accepts a matching pair and refuses a mismatched, empty or broken one (CERTIFICATE_INVALID)', () => {
    expect(parseServingPair(a.certPem, a.keyPem)).toEqual({ certPem: a.certPem, keyPem: a.keyPem });
    expect(() => parseServingPair(a.certPem, b.keyPem)).toThrow(expect.objectContaining({ code: 'CERTIFICATE_INVALID', field: '--tls-private-key-file', message: expect.stringContaining('not the key of the certificate') as string }) as Error);
    expect(() => parseServingPair(a.certPem, 'junk')).toThrow(expect.objectContaining({ field: '--tls-private-key-file' }) as Error);
    expect(() => parseServingPair(a.certPem, '')).toThrow(expect.objectContaining({ code: 'CERTIFICATE_INVALID', field: '--tls-private-key-file' }) as Error);
    expect(() => parseServingPair('', a.keyPem)).toThrow(expect.objectContaining({ field: '--tls-cert-file' }) as Error);
    expect(() => parseServingPair('garbage', a.keyPem)).toThrow(expect.objectContaining({ code: 'CERTIFICATE_INVALID', field: '--tls-cert-file' }) as Error);
  });
});

describe('file-backed kubelet API material', () => {
  const o = (files: FakeFileWatcher): { files: FakeFileWatcher; clock: FakeClock; logger: ReturnType<typeof silentLogger> } => ({ files, clock: new FakeClock(), logger: silentLogger() });

  it('the client CA follows the file and keeps the last good bundle on garbage', async () => {
    const files = new FakeFileWatcher();
    files.write('/ca.crt', a.certPem);
    const ca = clientCAFromFile('/ca.crt', o(files));
    await ca.load();
    expect(ca.current()?.fingerprints.has(new X509Certificate(a.certPem).fingerprint256)).toBe(true);
    files.write('/ca.crt', b.certPem);
    expect(await ca.check()).toBe('changed');
    expect([...(ca.current()?.fingerprints ?? [])]).toEqual([new X509Certificate(b.certPem).fingerprint256]);
    files.write('/ca.crt', 'garbage');
    expect(await ca.check()).toBe('invalid');
    expect([...(ca.current()?.fingerprints ?? [])]).toEqual([new X509Certificate(b.certPem).fingerprint256]);
  });

  it('the serving pair changes only when both files form a pair again', async () => {
    const files = new FakeFileWatcher();
    files.write('/tls.crt', a.certPem);
    files.write('/tls.key', a.keyPem);
    const pair = servingCertificateFromFiles('/tls.crt', '/tls.key', o(files));
    await pair.load();
    files.write('/tls.crt', b.certPem);
    expect(await pair.check()).toBe('invalid');
    expect(pair.current()?.certPem).toBe(a.certPem);
    files.write('/tls.key', b.keyPem);
    expect(await pair.check()).toBe('changed');
    expect(pair.current()).toEqual({ certPem: b.certPem, keyPem: b.keyPem });
  });

  it('refuses to start from an unreadable or invalid CA file', async () => {
    const files = new FakeFileWatcher();
    await expect(clientCAFromFile('/missing', o(files)).load()).rejects.toMatchObject({ code: 'CERTIFICATE_UNREADABLE', field: '--client-ca-file' });
    files.write('/ca.crt', 'junk');
    await expect(clientCAFromFile('/ca.crt', o(files)).load()).rejects.toMatchObject({ code: 'CERTIFICATE_INVALID', field: '--client-ca-file' });
  });
});
