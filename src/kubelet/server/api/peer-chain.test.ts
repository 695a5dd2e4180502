import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetailedPeerCertificate } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { peerChainVerifies } from './peer-chain.js';
import type { ClientCABundle } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'peer-chain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ossl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const pem = (name: string): string => readFileSync(join(dir, `${name}.crt`), 'utf8');

/** A self-signed CA. */
function root(name: string): void {
  ossl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}
/** A certificate `name` signed by `issuer` with the given extensions. */
function signed(name: string, issuer: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  ossl('req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=system:nodes/CN=${name}`);
  ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
}

/** What `getPeerCertificate(true)` gives for a peer that sent `chain` (leaf first). */
function peer(...names: string[]): DetailedPeerCertificate {
  const certs = names.map((n) => new X509Certificate(pem(n)));
  let linked: DetailedPeerCertificate | undefined;
  for (const c of [...certs].reverse()) {
    linked = { raw: c.raw, fingerprint256: c.fingerprint256, ...(linked === undefined ? {} : { issuerCertificate: linked }) } as DetailedPeerCertificate;
  }
  return linked as DetailedPeerCertificate;
}
const bundle = (...names: string[]): ClientCABundle => ({
  certificates: names.map(pem),
  fingerprints: new Set(names.map((n) => new X509Certificate(pem(n)).fingerprint256)),
});

root('root');
root('other');
signed('intermediate', 'root', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
signed('client', 'intermediate', 'extendedKeyUsage=clientAuth\n');
signed('direct', 'root', 'extendedKeyUsage=clientAuth\n');
signed('server', 'root', 'extendedKeyUsage=serverAuth\n');
signed('notca', 'root', 'basicConstraints=critical,CA:FALSE\n');
signed('undercut', 'notca', 'extendedKeyUsage=clientAuth\n');

describe('peerChainVerifies', () => {
  const now = new Date();

  it('accepts a leaf signed by a bundle CA, directly or through an intermediate the peer sent', () => {
    expect(peerChainVerifies(peer('direct'), bundle('root'), now)).toBe(true);
    expect(peerChainVerifies(peer('client', 'intermediate'), bundle('root'), now)).toBe(true);
    expect(peerChainVerifies(peer('client', 'intermediate'), bundle('other', 'root'), now)).toBe(true);
  });

  it('refuses another CA, a missing intermediate, an issuer that is no CA, a server-only leaf, and dates outside validity', () => {
    expect(peerChainVerifies(peer('direct'), bundle('other'), now)).toBe(false);
    expect(peerChainVerifies(peer('client'), bundle('root'), now)).toBe(false);
    expect(peerChainVerifies(peer('undercut', 'notca'), bundle('root'), now)).toBe(false);
    expect(peerChainVerifies(peer('server'), bundle('root'), now)).toBe(false);
    expect(peerChainVerifies(peer('direct'), bundle('root'), new Date(Date.now() + 3 * 86_400_000))).toBe(false);
    expect(peerChainVerifies(peer('direct'), bundle('root'), new Date(Date.now() - 86_400_000))).toBe(false);
  });
});
