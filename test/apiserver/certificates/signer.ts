/**
 * The CSR signer of the test API server (kube-controller-manager's csrsigning for the kubelet signers): parses a
 * PKCS#10 request, checks its signature, and issues an X.509 certificate signed by the server's CA, with upstream's
 * validity rule (notBefore backdated 5 minutes; lifetime `min(spec.expirationSeconds, 1 year)`, counted from now for
 * lifetimes under 8 hours as upstream's PermissiveSigningPolicy).
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import { bool, children, ctx, fromPem, int, octets, oid, oidText, readTlv, seq, time, tlv, toPem, type Tlv } from '../../../src/kubelet/certificate/der.js';

const OID_EC_SHA256 = '1.2.840.10045.4.3.2';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

/** What a parsed request says. */
export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** DER of the subjectAltName extension value, when requested. */
  sanDer: Buffer | undefined;
  dnsNames: string[];
  ipCount: number;
  otherSanCount: number;
}

function names(subject: Tlv): { cn: string; orgs: string[] } {
  let cn = '';
  const orgs: string[] = [];
  for (const rdn of children(subject.content)) {
    for (const atv of children(rdn.content)) {
      const [type, value] = children(atv.content);
      if (type === undefined || value === undefined) continue;
      const t = oidText(type.content);
      if (t === OID_CN) cn = value.content.toString('utf8');
      if (t === OID_O) orgs.push(value.content.toString('utf8'));
    }
  }
  return { cn, orgs };
}

/** Parses and verifies a PEM certificate request. Throws an Error with a reason when it is not one. */
export function parseCsr(pem: string): ParsedCsr {
  const der = fromPem('CERTIFICATE REQUEST', pem);
  if (der === undefined) throw new Error('PEM block type must be CERTIFICATE REQUEST');
  const [info, , sig] = children(readTlv(der).content);
  if (info === undefined || sig === undefined) throw new Error('malformed certificate request');
  const [, subject, spki, attrs] = children(info.content);
  if (subject === undefined || spki === undefined) throw new Error('malformed certificate request');
  const pub = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  if (!verify('sha256', info.raw, pub, sig.content.subarray(1))) throw new Error('certificate request signature does not verify');
  let sanDer: Buffer | undefined;
  for (const attr of attrs === undefined ? [] : children(attrs.content)) {
    const [type, values] = children(attr.content);
    if (type === undefined || values === undefined || oidText(type.content) !== OID_EXTENSION_REQUEST) continue;
    for (const exts of children(values.content)) {
      for (const ext of children(exts.content)) {
        const parts = children(ext.content);
        if (parts[0] !== undefined && oidText(parts[0].content) === OID_SAN) sanDer = parts[parts.length - 1]?.content;
      }
    }
  }
  const san = sanDer === undefined ? [] : children(readTlv(sanDer).content);
  const { cn, orgs } = names(subject);
  return {
    commonName: cn,
    organizations: orgs,
    subjectDer: subject.raw,
    spkiDer: spki.raw,
    sanDer,
    dnsNames: san.filter((n) => n.tag === 0x82).map((n) => n.content.toString('ascii')),
    ipCount: san.filter((n) => n.tag === 0x87).length,
    otherSanCount: san.filter((n) => n.tag !== 0x82 && n.tag !== 0x87).length,
  };
}

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

const EKU: Record<string, string> = { 'client auth': '1.3.6.1.5.5.7.3.2', 'server auth': '1.3.6.1.5.5.7.3.1' };

function keyUsage(usages: readonly string[]): Buffer {
  let v = 0;
  if (usages.includes('digital signature')) v |= 0x80;
  if (usages.includes('key encipherment')) v |= 0x20;
  let unused = 0;
  while (unused < 7 && (v & (1 << unused)) === 0) unused++;
  return tlv(0x03, Buffer.from([unused, v]));
}

/** The CA that signs. */
export interface SigningCa {
  caCertPem: string;
  caKeyPem: string;
}

/** Issues a certificate for `csr` (PEM); returns the certificate PEM. */
export function issueCertificate(ca: SigningCa, csr: ParsedCsr, usages: readonly string[], lifetimeSeconds: number, nowMs: number): string {
  const caCert = new X509Certificate(ca.caCertPem);
  const caTbs = children(readTlv(caCert.raw).content)[0]!;
  const caSubject = children(caTbs.content)[5]!;
  const notBefore = nowMs - 5 * 60_000;
  const lifetimeMs = lifetimeSeconds * 1000;
  let notAfter = lifetimeMs < 8 * 3600_000 ? nowMs + lifetimeMs : notBefore + lifetimeMs;
  notAfter = Math.min(notAfter, Date.parse(caCert.validTo));
  const ekus = usages.map((u) => EKU[u]).filter((x): x is string => x !== undefined);
  const extensions = [
    ext('2.5.29.15', true, keyUsage(usages)),
    ...(ekus.length > 0 ? [ext('2.5.29.37', false, seq(...ekus.map(oid)))] : []),
    ext('2.5.29.19', true, seq()),
    ...(csr.sanDer === undefined ? [] : [ext(OID_SAN, false, csr.sanDer)]),
  ];
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(ctx(0, int(2)), int(serial), seq(oid(OID_EC_SHA256)), caSubject.raw, seq(time(notBefore), time(notAfter)), csr.subjectDer, csr.spkiDer, ctx(3, seq(...extensions)));
  const signature = sign('sha256', tbs, createPrivateKey(ca.caKeyPem));
  return toPem('CERTIFICATE', seq(tbs, seq(oid(OID_EC_SHA256)), tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
}
