/**
 * The file-backed certificate material of the kubelet API, built on {@link DynamicFileContent}:
 * - {@link clientCAFromFile}: `--client-ca-file`, a {@link ClientCASource} (upstream `NewDynamicCAContentFromFile`
 *   `client-ca-bundle`);
 * - {@link servingCertificateFromFiles}: `tlsCertFile` + `tlsPrivateKeyFile`, a {@link ServingCertificateSource}
 *   (upstream `NewKubeletServerCertificateDynamicFileManager`, feature ReloadKubeletServerCertificateFile): a pair
 *   counts only when the key matches the certificate and Node accepts both for a TLS context, so a half-done rotation
 *   (new certificate, old key) keeps the old pair until the second file is written.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { Clock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { ClientCABundle } from '../server/api/types.js';
import { parseCABundle } from './ca-bundle.js';
import { CertificateFileError, DynamicFileContent } from './dynamic-file.js';
import type { FileWatcher } from './file-watcher.js';
import { parsePair } from './store.js';

/** What both factories need besides the paths. */
export interface FileMaterialOptions {
  files: FileWatcher;
  clock: Clock;
  logger: Logger;
  /** Safety-net check period (default 1 min). */
  periodMs?: number;
}

/** A PEM certificate chain and its key. */
export interface ServingPair {
  certPem: string;
  keyPem: string;
}

/** The client CA bundle in `path` (`load()` it, then `start()`). */
export function clientCAFromFile(path: string, o: FileMaterialOptions): DynamicFileContent<ClientCABundle> {
  const field = '--client-ca-file';
  return new DynamicFileContent<ClientCABundle>({
    ...o,
    name: 'client-ca-bundle',
    paths: [path],
    fields: [field],
    parse: ([pem]) => parseCABundle(pem?.toString('utf8') ?? '', field),
  });
}

/**
 * Checks a serving pair: both non-empty, the certificate parses and matches the key, and Node builds a TLS context
 * from them. Throws CertificateFileError `CERTIFICATE_INVALID`.
 */
export function parseServingPair(cert: string, key: string): ServingPair {
  const field = cert.trim() === '' ? '--tls-cert-file' : '--tls-private-key-file';
  if (cert.trim() === '' || key.trim() === '') throw new CertificateFileError('CERTIFICATE_INVALID', `${field}: missing content for the serving certificate`, { field });
  const check = (f: string, what: string, fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      throw new CertificateFileError('CERTIFICATE_INVALID', `${f}: ${what}: ${errorMessage(err)}`, { field: f, cause: err });
    }
  };
  check('--tls-cert-file', 'not a PEM certificate', () => new X509Certificate(cert));
  check('--tls-private-key-file', 'not a PEM private key', () => createPrivateKey(key));
  check('--tls-private-key-file', 'not the key of the certificate', () => parsePair(cert, key));
  check('--tls-cert-file', 'not usable for TLS', () => createSecureContext({ cert, key }));
  return { certPem: cert, keyPem: key };
}

/** The serving pair in `certFile` + `keyFile` (`load()` it, then `start()`). */
export function servingCertificateFromFiles(certFile: string, keyFile: string, o: FileMaterialOptions): DynamicFileContent<ServingPair> {
  return new DynamicFileContent<ServingPair>({
    ...o,
    name: 'kubelet-server-cert-files',
    paths: [certFile, keyFile],
    fields: ['--tls-cert-file', '--tls-private-key-file'],
    parse: ([cert, key]) => parseServingPair(cert?.toString('utf8') ?? '', key?.toString('utf8') ?? ''),
  });
}
