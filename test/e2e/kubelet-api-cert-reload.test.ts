/**
 * e2e (issue 13): the built daemon (standalone, fake runtime, AlwaysAllow) re-reads `--client-ca-file` and
 * `--tls-cert-file`/`--tls-private-key-file` while it runs, as kubelet v1.33 does: a CA file replaced by another CA
 * makes the new CA's client certificates work and the old CA's fail; a serving pair rewritten in place is what new
 * connections see; garbage keeps the old material and is logged with its code; a bad CA file at start stops the
 * daemon with the flag's name.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodelet, waitFor, type NodeletProcess } from './harness/index.js';
import { freePort, tempDir } from './node-helpers.js';

const dir = tempDir('cr-e2e-reload-');
const path = (n: string): string => join(dir.path, n);

function ossl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir.path, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** `<name>-ca.crt` and a client pair `<name>.crt|key` it signed. */
function clientPki(name: string): void {
  ossl('req', '-x509', ...EC, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`, '-days', '1', '-subj', `/CN=${name}-ca`);
  ossl('req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=system:masters/CN=${name}-user`);
  ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${name}-ca.crt`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1');
}

/** A self-signed serving pair `<name>.crt|key` for 127.0.0.1. */
function servingPair(name: string): void {
  ossl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1');
}

const read = (n: string): string => readFileSync(path(n), 'utf8');
let port = 0;
let daemon: NodeletProcess | undefined;

function get(client: string): Promise<{ status: number; serverCN: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, rejectUnauthorized: false, cert: read(`${client}.crt`), key: read(`${client}.key`) }, (res) => {
      const cn = (res.socket as TLSSocket).getPeerCertificate().subject?.CN;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, serverCN: Array.isArray(cn) ? String(cn[0]) : String(cn) }));
    });
    r.on('error', reject);
    r.end();
  });
}

function daemonArgs(root: string, apiPort: number, healthz: number): string[] {
  return [
    '--container-runtime-endpoint=fake://',
    '--hostname-override=cr-e2e-reload',
    `--root-dir=${root}`,
    '--address=127.0.0.1',
    `--port=${apiPort}`,
    `--healthz-port=${healthz}`,
    `--client-ca-file=${path('ca.crt')}`,
    `--tls-cert-file=${path('tls.crt')}`,
    `--tls-private-key-file=${path('tls.key')}`,
    '--authorization-mode=AlwaysAllow',
    '--fail-swap-on=false',
  ];
}

beforeAll(async () => {
  clientPki('a');
  clientPki('b');
  servingPair('s1');
  servingPair('s2');
  writeFileSync(path('ca.crt'), read('a-ca.crt'));
  writeFileSync(path('tls.crt'), read('s1.crt'));
  writeFileSync(path('tls.key'), read('s1.key'));
  port = await freePort();
  const d = runNodelet(daemonArgs(path('root'), port, await freePort()), { name: 'cr-cert-reload' });
  daemon = d;
  await waitFor(async () => (await get('a')).status === 200, { description: 'kubelet API up with CA a', timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  dir.remove();
});

describe('kubelet API certificate reload (daemon)', () => {
  it('follows a CA file replaced by another CA', async () => {
    expect((await get('b')).status).toBe(401);
    writeFileSync(path('ca.tmp'), read('b-ca.crt'));
    renameSync(path('ca.tmp'), path('ca.crt'));
    await waitFor(async () => (await get('b')).status === 200, { description: 'CA b accepted' });
    expect((await get('a')).status).toBe(401);
  });

  it('serves a serving pair rewritten in place to new connections', async () => {
    expect((await get('b')).serverCN).toBe('s1');
    writeFileSync(path('tls.crt'), read('s2.crt'));
    writeFileSync(path('tls.key'), read('s2.key'));
    await waitFor(async () => (await get('b')).serverCN === 's2', { description: 'serving certificate s2' });
  });

  it('keeps the last good material on garbage and logs the code', async () => {
    writeFileSync(path('ca.crt'), 'garbage\n');
    writeFileSync(path('tls.key'), 'junk\n');
    await waitFor(() => (daemon?.logs().match(/"code":"CERTIFICATE_INVALID"/g) ?? []).length >= 2, { description: 'two CERTIFICATE_INVALID log lines' });
    expect(await get('b')).toEqual({ status: 200, serverCN: 's2' });
    expect((await get('a')).status).toBe(401);
    expect(daemon?.running()).toBe(true);
  });

  it('refuses to start with a CA file that does not parse, naming the flag', async () => {
    const other = runNodelet(daemonArgs(path('root2'), await freePort(), await freePort()), { name: 'cr-cert-reload-bad' });
    const exit = await other.exited;
    expect(exit.code).toBe(1);
    expect(other.logs()).toContain('--client-ca-file: the CA bundle holds no PEM certificate');
  });
});
