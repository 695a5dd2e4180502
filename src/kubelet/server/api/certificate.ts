/**
 * The serving certificate of the kubelet API: `tlsCertFile`/`tlsPrivateKeyFile` when given, else an injected
 * {@link ServingCertificateSource} (serverTLSBootstrap), else — as upstream — a self-signed certificate for the node's
 * host names and IPs kept in `<root-dir>/pki/kubelet.crt|key` (created once, reused while it is valid).
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509 loads tsyringe, which needs the reflect-metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ConfigError, errorMessage } from '../../../util/errors.js';
import type { ServingCertificateSource } from './types.js';

/** A PEM certificate chain and key. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

/** A source that never changes (files, self-signed). */
export function staticCertificateSource(pair: CertificatePair): ServingCertificateSource {
  return { current: () => pair, onChange: () => () => undefined };
}

/** Reads `tlsCertFile`/`tlsPrivateKeyFile`; throws ConfigError naming the flag when unreadable. */
export function readCertificateFiles(certFile: string, keyFile: string): CertificatePair {
  const read = (path: string, field: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${field}: cannot read ${path}: ${errorMessage(err)}`, { field, cause: err });
    }
  };
  if (keyFile === '') throw new ConfigError('--tls-cert-file needs --tls-private-key-file', { field: '--tls-private-key-file' });
  return { certPem: read(certFile, '--tls-cert-file'), keyPem: read(keyFile, '--tls-private-key-file') };
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Creates a self-signed serving certificate (ECDSA P-256, 1 year) for `host` with the names and IPs as SANs. */
export async function createSelfSigned(host: string, names: readonly string[], nowMs: number): Promise<CertificatePair> {
  const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1] & typeof webcrypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const sans = [...new Set([host, ...names])].map((n) => (isIP(n) === 0 ? { type: 'dns' as const, value: n } : { type: 'ip' as const, value: n }));
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Math.floor(nowMs / 1000).toString(16).padStart(2, '0'),
      name: `CN=${host}@${Math.floor(nowMs / 1000)}`,
      notBefore: new Date(nowMs - 60_000),
      notAfter: new Date(nowMs + 365 * 24 * 3600 * 1000),
      signingAlgorithm: alg,
      keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(sans),
      ],
    },
    crypto,
  );
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', keyDer) };
}

/**
 * The self-signed pair in `<pkiDir>/kubelet.crt|key`: reused when present, valid and covering `names`; created (and
 * written with mode 0600 for the key) otherwise.
 */
export async function loadOrCreateSelfSigned(pkiDir: string, host: string, names: readonly string[], nowMs: number): Promise<CertificatePair> {
  const certPath = join(pkiDir, 'kubelet.crt');
  const keyPath = join(pkiDir, 'kubelet.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const pair = { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
      const cert = new X509Certificate(pair.certPem);
      const valid = Date.parse(cert.validTo) > nowMs + 24 * 3600 * 1000;
      const covers = [host, ...names].every((n) => (isIP(n) === 0 ? cert.checkHost(n) !== undefined : cert.checkIP(n) !== undefined));
      if (valid && covers) return pair;
    } catch {
      // Unreadable or broken: replaced below.
    }
  }
  const pair = await createSelfSigned(host, names, nowMs);
  mkdirSync(pkiDir, { recursive: true, mode: 0o755 });
  writeFileSync(keyPath, pair.keyPem, { mode: 0o600 });
  writeFileSync(certPath, pair.certPem, { mode: 0o644 });
  return pair;
}
