/**
 * Parsing of a CA bundle file (`--client-ca-file`), as client-go's `cert.NewPoolFromBytes`: every `CERTIFICATE`
 * block must parse, other PEM blocks and text around them are skipped, and at least one certificate is required.
 * Pure.
 */
import { X509Certificate } from 'node:crypto';
import type { ClientCABundle } from '../server/api/types.js';
import { errorMessage } from '../../util/errors.js';
import { CertificateFileError } from './dynamic-file.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Parses a PEM CA bundle. Throws CertificateFileError `CERTIFICATE_INVALID` (`field` = `field`) when it is empty,
 * holds no certificate, or a certificate block does not parse.
 */
export function parseCABundle(pem: string, field: string): ClientCABundle {
  if (pem.trim() === '') throw new CertificateFileError('CERTIFICATE_INVALID', `${field}: missing content for CA bundle`, { field });
  const certificates: string[] = [];
  const fingerprints = new Set<string>();
  for (const m of pem.matchAll(BLOCK)) {
    if (m[1] !== 'CERTIFICATE') continue;
    try {
      const cert = new X509Certificate(m[0]);
      certificates.push(`${m[0]}\n`);
      fingerprints.add(cert.fingerprint256);
    } catch (err) {
      throw new CertificateFileError('CERTIFICATE_INVALID', `${field}: certificate ${certificates.length + 1} of the CA bundle does not parse: ${errorMessage(err)}`, { field, cause: err });
    }
  }
  if (certificates.length === 0) throw new CertificateFileError('CERTIFICATE_INVALID', `${field}: the CA bundle holds no PEM certificate`, { field });
  return { certificates, fingerprints };
}
