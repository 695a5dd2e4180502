/**
 * The serving certificate of the kubelet API: `tlsCertFile`/`tlsPrivateKeyFile` when given, else an injected
 * {@link ServingCertificateSource} (serverTLSBootstrap), else — as upstream — a self-signed certificate for the node's
 * host names and IPs kept in `<root-dir>/pki/kubelet.crt|key` (created once, reused while it is valid).
 */
import { randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
// @peculiar/x509 loads tsyringe, which needs the reflect-metadata polyfill loaded first.
import 'reflect-metadata';
import { encodeName, encodeSan, generateKey, publicSpki } from '../../certificate/csr.js';
import { bits, bool, ctx, int, octets, oid, seq, time, tlv, toPem } from '../../certificate/der.js';
import { ConfigError, errorMessage } from '../../../util/errors.js';
import { parseCABundle } from '../../certificate/ca-bundle.js';
import type { ClientCASource, ServingCertificateSource } from './types.js';

/** A PEM certificate chain and key. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

/** A source that never changes (files, self-signed). */
export function staticCertificateSource(pair: CertificatePair): ServingCertificateSource {
  return { current: () => pair, onChange: () => () => undefined };
}

/** A client CA that never changes (tests, callers with a PEM in hand). Throws CertificateFileError when it does not parse. */
export function staticClientCA(pem: string): ClientCASource {
  const bundle = parseCABundle(pem, 'clientCA');
  return { current: () => bundle, onChange: () => () => undefined };
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

const OID_EC_SHA256 = '1.2.840.10045.4.3.2';

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/**
 * Creates a self-signed serving certificate (ECDSA P-256, 1 year, CA:TRUE as upstream's self-signed pair) for `host`
 * with the names and IPs as subject alternative names. Built with the DER helpers of src/kubelet/certificate.
 */
export function createSelfSigned(host: string, names: readonly string[], nowMs: number): CertificatePair {
  const key = generateKey();
  const all = [...new Set([host, ...names])];
  const subject = encodeName({ commonName: `${host}@${Math.floor(nowMs / 1000)}`, organization: [] });
  const san = encodeSan(
    all.filter((n) => isIP(n) === 0),
    all.filter((n) => isIP(n) !== 0),
  );
  const extensions = [
    // keyUsage: digitalSignature, keyEncipherment, keyCertSign.
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([2, 0xa4]))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.19', true, seq(bool(true))),
    ...(san === undefined ? [] : [extension('2.5.29.17', false, san)]),
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const validity = seq(time(nowMs - 60_000), time(nowMs + 365 * 24 * 3600 * 1000));
  const tbs = seq(ctx(0, int(2)), int(serial), seq(oid(OID_EC_SHA256)), subject, validity, subject, publicSpki(key.key), ctx(3, seq(...extensions)));
  const signature = sign('sha256', tbs, key.key);
  return { certPem: toPem('CERTIFICATE', seq(tbs, seq(oid(OID_EC_SHA256)), bits(signature))), keyPem: key.pem };
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
  const pair = createSelfSigned(host, names, nowMs);
  mkdirSync(pkiDir, { recursive: true, mode: 0o755 });
  writeFileSync(keyPath, pair.keyPem, { mode: 0o600 });
  writeFileSync(certPath, pair.certPem, { mode: 0o644 });
  return pair;
}
