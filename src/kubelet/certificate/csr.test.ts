import { describe, expect, it } from 'vitest';
import { parseCsr } from '../../../test/apiserver/certificates/signer.js';
import { buildCsrPem, CLIENT_SIGNER, CLIENT_USAGES, csrObject, digestedCsrName, encodeName, encodeSan, generateKey, nodeSubject } from './csr.js';

describe('certificate requests', () => {
  it('builds a signed PKCS#10 request for system:node:<name> in system:nodes with an ECDSA P-256 key', () => {
    const k = generateKey();
    expect(k.pem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(k.key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const pem = buildCsrPem(k.key, nodeSubject('nl5-x'));
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n$/);
    const p = parseCsr(pem); // verifies the signature
    expect(p.commonName).toBe('system:node:nl5-x');
    expect(p.organizations).toEqual(['system:nodes']);
    expect(p.sanDer).toBeUndefined();
  });

  it('puts DNS and IP (v4 and v6) subject alternative names into an extension request', () => {
    const k = generateKey();
    const p = parseCsr(buildCsrPem(k.key, { ...nodeSubject('n'), dnsNames: ['n', 'n.example'], ipAddresses: ['10.0.0.1', 'fd00::1'] }));
    expect(p.dnsNames).toEqual(['n', 'n.example']);
    expect(p.ipCount).toBe(2);
    const san = encodeSan([], ['fd00::1'])!;
    expect(san.subarray(-16).toString('hex')).toBe('fd000000000000000000000000000001');
    expect(encodeSan([], [])).toBeUndefined();
  });

  it('orders the subject as Go does: O before CN', () => {
    const der = encodeName(nodeSubject('a'));
    expect(der.indexOf(Buffer.from('system:nodes'))).toBeLessThan(der.indexOf(Buffer.from('system:node:a')));
  });

  it('names bootstrap CSRs by a digest of key, subject and usages (stable for the same key, different otherwise)', () => {
    const k = generateKey();
    const a = digestedCsrName(k.key, nodeSubject('n'), CLIENT_USAGES);
    expect(a).toMatch(/^node-csr-[A-Za-z0-9_-]{43}$/);
    expect(digestedCsrName(k.key, nodeSubject('n'), CLIENT_USAGES)).toBe(a);
    expect(digestedCsrName(k.key, nodeSubject('m'), CLIENT_USAGES)).not.toBe(a);
    expect(digestedCsrName(generateKey().key, nodeSubject('n'), CLIENT_USAGES)).not.toBe(a);
  });

  it('wraps the request into a certificates.k8s.io/v1 object with signer, usages and optional expirationSeconds', () => {
    const o = csrObject({ csrPem: 'PEM', signerName: CLIENT_SIGNER, usages: CLIENT_USAGES });
    expect(o).toEqual({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { generateName: 'csr-' },
      spec: { request: Buffer.from('PEM').toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
    });
    expect(csrObject({ csrPem: 'P', signerName: 's', usages: [], name: 'x', expirationSeconds: 600 }).spec.expirationSeconds).toBe(600);
  });
});
