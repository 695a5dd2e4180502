/**
 * Building what the kubelet sends to the CSR API: an ECDSA P-256 key (as upstream's certificate manager and TLS
 * bootstrap), a PKCS#10 certificate request for `system:node:<name>` / `system:nodes`, and the
 * `certificates.k8s.io/v1` CertificateSigningRequest object around it. Pure apart from key generation.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bits, children, ctx, fromPem, int, octets, oid, readTlv, seq, set, tlv, toPem, utf8 } from './der.js';

/** Signer of kubelet client certificates. */
export const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
/** Signer of kubelet serving certificates. */
export const SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** Usages of a client certificate with an ECDSA key (upstream adds "key encipherment" only for RSA keys). */
export const CLIENT_USAGES: readonly string[] = ['digital signature', 'client auth'];
/** Usages of a serving certificate with an ECDSA key. */
export const SERVING_USAGES: readonly string[] = ['digital signature', 'server auth'];

const OID_EC_SHA256 = '1.2.840.10045.4.3.2';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';

/** A private key in the two forms needed: for signing, and as the PEM block written to disk (`EC PRIVATE KEY`). */
export interface PrivateKey {
  key: KeyObject;
  pem: string;
}

/** Generates an ECDSA P-256 key. */
export function generateKey(): PrivateKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey, pem: privateKey.export({ type: 'sec1', format: 'pem' }).toString() };
}

/** Loads a PEM private key (SEC1, PKCS#8 or PKCS#1). Throws when `pem` holds none. */
export function loadKey(pem: string): PrivateKey {
  return { key: createPrivateKey(pem), pem };
}

/** The subject and names of a request. */
export interface CsrSubject {
  commonName: string;
  organization: readonly string[];
  /** DNS subject alternative names (serving certificates). */
  dnsNames?: readonly string[];
  /** IP subject alternative names (serving certificates). */
  ipAddresses?: readonly string[];
}

/** The subject of the kubelet's certificates for `nodeName`: CN=system:node:<name>, O=system:nodes. */
export function nodeSubject(nodeName: string): CsrSubject {
  return { commonName: `system:node:${nodeName}`, organization: ['system:nodes'] };
}

function attribute(type: string, value: string): Buffer {
  return set(seq(oid(type), utf8(value)));
}

/** DER of a Name as Go's pkix.Name orders it (O before CN). */
export function encodeName(s: Pick<CsrSubject, 'commonName' | 'organization'>): Buffer {
  return seq(...s.organization.map((o) => attribute(OID_O, o)), attribute(OID_CN, s.commonName));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = ip.includes('::') ? groups(tail) : [];
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Buffer.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

/** DER of a subjectAltName extension value (GeneralNames), or undefined when there are no names. */
export function encodeSan(dnsNames: readonly string[] = [], ips: readonly string[] = []): Buffer | undefined {
  if (dnsNames.length === 0 && ips.length === 0) return undefined;
  return seq(...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...ips.map((ip) => tlv(0x87, ipBytes(ip))));
}

/** A PEM `CERTIFICATE REQUEST` for `subject`, signed with `key` (ECDSA with SHA-256). */
export function buildCsrPem(key: KeyObject, subject: CsrSubject): string {
  const spki = publicSpki(key);
  const san = encodeSan(subject.dnsNames, subject.ipAddresses);
  const attrs = san === undefined ? ctx(0) : ctx(0, seq(oid(OID_EXTENSION_REQUEST), set(seq(seq(oid(OID_SAN), octets(san))))));
  const info = seq(int(0), encodeName(subject), spki, attrs);
  const signature = sign('sha256', info, key);
  return toPem('CERTIFICATE REQUEST', seq(info, seq(oid(OID_EC_SHA256)), bits(signature)));
}

/** DER SubjectPublicKeyInfo of a key pair's public half. */
export function publicSpki(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

/** The DER SubjectPublicKeyInfo inside a PEM certificate request; undefined when it does not parse. */
export function csrPublicKey(csrPem: string): Buffer | undefined {
  try {
    const der = fromPem('CERTIFICATE REQUEST', csrPem);
    if (der === undefined) return undefined;
    const info = children(readTlv(der).content)[0];
    return info === undefined ? undefined : children(info.content)[2]?.raw;
  } catch {
    return undefined;
  }
}

/**
 * The CSR name TLS bootstrap uses (upstream `digestedName`): `node-csr-` + base64url(SHA-512/256 of the public key,
 * common name, organizations and usages), so a restarted bootstrap with the same key finds its own request again.
 */
export function digestedCsrName(key: KeyObject, subject: CsrSubject, usages: readonly string[]): string {
  const h = createHash('sha512-256');
  const write = (data: Buffer): void => {
    h.update(data.toString('base64url'));
    h.update('|');
  };
  write(publicSpki(key));
  write(Buffer.from(subject.commonName));
  for (const o of subject.organization) write(Buffer.from(o));
  for (const u of usages) write(Buffer.from(u));
  return `node-csr-${h.digest('base64url')}`;
}

/** A certificates.k8s.io/v1 CertificateSigningRequest (the fields nodelet writes and reads). */
export interface CertificateSigningRequest {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; generateName?: string; uid?: string; resourceVersion?: string };
  spec: { request: string; signerName: string; usages: string[]; expirationSeconds?: number; username?: string; groups?: string[] };
  status?: {
    certificate?: string;
    conditions?: { type: string; status?: string; reason?: string; message?: string }[];
  };
}

/** Inputs of {@link csrObject}. */
export interface CsrObjectOptions {
  csrPem: string;
  signerName: string;
  usages: readonly string[];
  /** `metadata.name`; default: `generateName: csr-` as client-go's certificate manager. */
  name?: string;
  /** `spec.expirationSeconds` (the API server requires ≥ 600); default: the signer's duration. */
  expirationSeconds?: number;
}

/** The CertificateSigningRequest object to create. Pure. */
export function csrObject(o: CsrObjectOptions): CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: o.name === undefined ? { generateName: 'csr-' } : { name: o.name },
    spec: {
      request: Buffer.from(o.csrPem).toString('base64'),
      signerName: o.signerName,
      usages: [...o.usages],
      ...(o.expirationSeconds === undefined ? {} : { expirationSeconds: o.expirationSeconds }),
    },
  };
}
