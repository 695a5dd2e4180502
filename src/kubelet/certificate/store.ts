/**
 * Where certificates live: upstream's file store layout in `--cert-dir` — each certificate with its key in one file
 * `<prefix>-<YYYY-MM-DD-HH-MM-SS>.pem` (mode 0600), and the symlink `<prefix>-current.pem` pointing at the newest, so
 * a kubeconfig naming the symlink always reads the current pair. Prefixes: `kubelet-client`, `kubelet-server`.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate (chain) and its private key, both PEM, with the leaf's validity. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
  /** Milliseconds since the epoch. */
  notBefore: number;
  notAfter: number;
}

/** Holds the current certificate pair. Implementations: {@link FileCertificateStore}, {@link MemoryCertificateStore}. */
export interface CertificateStore {
  /** The current pair, or undefined when there is none or it cannot be read or does not match its key. */
  current(): CertificatePair | undefined;
  /** Stores a new pair and makes it current. Throws when the certificate does not parse or match the key. */
  update(certPem: string, keyPem: string): CertificatePair;
  /** Path of the current pair (the symlink), for kubeconfigs; undefined for stores without files. */
  readonly currentPath: string | undefined;
}

/** Parses and checks a pair. Throws a TypeError naming the problem. */
export function parsePair(certPem: string, keyPem: string): CertificatePair {
  const cert = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (!cert.checkPrivateKey(key)) throw new TypeError('the certificate does not match the private key');
  return { certPem, keyPem, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/** Splits a combined PEM file into its certificate blocks and its key block. */
export function splitPem(text: string): { certPem: string; keyPem: string } {
  const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----\n?/g) ?? [];
  const certPem = blocks.filter((b) => b.startsWith('-----BEGIN CERTIFICATE-----')).join('');
  const keyPem = blocks.find((b) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(b)) ?? '';
  return { certPem, keyPem };
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', '-').replace(/:/g, '-');
}

/** Options of {@link FileCertificateStore}. */
export interface FileCertificateStoreOptions {
  /** The certificate directory (`--cert-dir`); created 0700 when missing. */
  dir: string;
  /** `kubelet-client` or `kubelet-server`. */
  prefix: string;
  now?: () => number;
}

/** The file store. Not safe for concurrent writers of one prefix (one nodelet per root dir holds the lock). */
export class FileCertificateStore implements CertificateStore {
  readonly currentPath: string;
  readonly #dir: string;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(o: FileCertificateStoreOptions) {
    this.#dir = o.dir;
    this.#prefix = o.prefix;
    this.#now = o.now ?? Date.now;
    this.currentPath = join(o.dir, `${o.prefix}-current.pem`);
  }

  current(): CertificatePair | undefined {
    try {
      const { certPem, keyPem } = splitPem(readFileSync(this.currentPath, 'utf8'));
      return parsePair(certPem, keyPem);
    } catch {
      return undefined;
    }
  }

  update(certPem: string, keyPem: string): CertificatePair {
    const pair = parsePair(certPem, keyPem);
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const file = join(this.#dir, `${this.#prefix}-${stamp(this.#now())}.pem`);
    writeFileSync(file, `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`, { mode: 0o600 });
    // Replace the symlink atomically: a reader sees the old pair or the new one, never none.
    const tmp = `${this.currentPath}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(file, tmp);
    renameSync(tmp, this.currentPath);
    return pair;
  }
}

/** An in-memory store (tests). */
export class MemoryCertificateStore implements CertificateStore {
  readonly currentPath = undefined;
  #pair: CertificatePair | undefined;
  /** Every pair stored, oldest first. */
  readonly history: CertificatePair[] = [];

  current(): CertificatePair | undefined {
    return this.#pair;
  }

  update(certPem: string, keyPem: string): CertificatePair {
    this.#pair = parsePair(certPem, keyPem);
    this.history.push(this.#pair);
    return this.#pair;
  }
}
