import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material of the test server's TLS: a CA and a serving certificate signed by it. */
export interface ServerCerts {
  caCertPem: string;
  /** The CA's private key (PEM), for the CSR signer. */
  caKeyPem: string;
  certPem: string;
  keyPem: string;
  /** Client certificate the server presents to kubelets (CN=kube-apiserver-kubelet-client, O=system:masters). */
  kubeletClientCertPem: string;
  kubeletClientKeyPem: string;
}

let cached: ServerCerts | undefined;

/**
 * Generates a throw-away CA and a serving certificate for 127.0.0.1, 172.17.0.1 (docker0), 10.96.0.1, localhost and
 * kubernetes.default.svc with the
 * `openssl` CLI (node:crypto cannot issue certificates). EC P-256 keeps it fast; the result is cached per process
 * because every test server may share it.
 */
export function generateCerts(): ServerCerts {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'nodelet-apiserver-pki-'));
  const f = (n: string): string => join(dir, n);
  const ossl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
    ossl('req', '-x509', '-new', '-key', f('ca.key'), '-subj', '/CN=nodelet-test-ca', '-days', '3650', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out', f('ca.crt'));
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('server.key.ec'));
    ossl('pkcs8', '-topk8', '-nocrypt', '-in', f('server.key.ec'), '-out', f('server.key'));
    ossl('req', '-new', '-key', f('server.key'), '-subj', '/CN=kube-apiserver', '-out', f('server.csr'));
    writeFileSync(
      f('ext.cnf'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:172.17.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
      ].join('\n'),
    );
    ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '3650', '-sha256', '-extfile', f('ext.cnf'), '-out', f('server.crt'));
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('kc.key.ec'));
    ossl('pkcs8', '-topk8', '-nocrypt', '-in', f('kc.key.ec'), '-out', f('kc.key'));
    ossl('req', '-new', '-key', f('kc.key'), '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client', '-out', f('kc.csr'));
    writeFileSync(f('kc.cnf'), ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'].join('\n'));
    ossl('x509', '-req', '-in', f('kc.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '3650', '-sha256', '-extfile', f('kc.cnf'), '-out', f('kc.crt'));
    cached = {
      caCertPem: readFileSync(f('ca.crt'), 'utf8'),
      caKeyPem: readFileSync(f('ca.key'), 'utf8'),
      certPem: readFileSync(f('server.crt'), 'utf8'),
      keyPem: readFileSync(f('server.key'), 'utf8'),
      kubeletClientCertPem: readFileSync(f('kc.crt'), 'utf8'),
      kubeletClientKeyPem: readFileSync(f('kc.key'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A client certificate and its key (PEM). */
export interface ClientCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Issues a client certificate CN=`commonName`, O=`organizations` signed by the test CA (what kube-apiserver's x509
 * authenticator maps to user `commonName` in those groups), with the `openssl` CLI. One year, EC P-256.
 */
export function issueClientCertificate(certs: ServerCerts, commonName: string, organizations: readonly string[] = []): ClientCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'nodelet-apiserver-client-'));
  const f = (n: string): string => join(dir, n);
  const ossl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    writeFileSync(f('ca.crt'), certs.caCertPem);
    writeFileSync(f('ca.key'), certs.caKeyPem, { mode: 0o600 });
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('key.ec'));
    ossl('pkcs8', '-topk8', '-nocrypt', '-in', f('key.ec'), '-out', f('key.pem'));
    const subject = [...organizations.map((o) => `/O=${o}`), `/CN=${commonName}`].join('');
    ossl('req', '-new', '-key', f('key.pem'), '-subj', subject, '-out', f('req.csr'));
    writeFileSync(f('ext.cnf'), ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth'].join('\n'));
    ossl('x509', '-req', '-in', f('req.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', '365', '-sha256', '-extfile', f('ext.cnf'), '-out', f('cert.pem'));
    return { certPem: readFileSync(f('cert.pem'), 'utf8'), keyPem: readFileSync(f('key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
