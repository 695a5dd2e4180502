import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mergeKubeConfigs, parseKubeConfig } from './kubeconfig-file.js';
import { ClientConfig, inClusterConfig, loadKubeConfig, resolveContext } from './kubeconfig.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodelet-kubeconfig-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function options(kc: ClientConfig): Promise<RequestOptions & { headers: Record<string, string> }> {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts as RequestOptions & { headers: Record<string, string> };
}

const doc = (user: string, cluster = '    server: https://127.0.0.1:6443\n'): string =>
  `apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: ctx
  context: {cluster: c1, user: u1, namespace: team}
clusters:
- name: c1
  cluster:
${cluster}users:
- name: u1
  user:
${user}`;

describe('parseKubeConfig and ClientConfig', () => {
  it('reads inline credentials: CA data, client certificate/key data and a token', async () => {
    const text = doc(`    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}\n    token: abc\n`,
      `    server: https://127.0.0.1:6443\n    certificate-authority-data: ${b64('CA')}\n    tls-server-name: api.local\n`);
    const kc = resolveContext(parseKubeConfig(text, 'inline'), 'inline');
    expect(kc?.getCurrentCluster()).toMatchObject({ name: 'c1', server: 'https://127.0.0.1:6443' });
    expect(kc?.namespace).toBe('team');
    const o = await options(kc as ClientConfig);
    expect(String(o.ca)).toBe('CA');
    expect(String(o.cert)).toBe('CERT');
    expect(String(o.key)).toBe('KEY');
    expect(o.rejectUnauthorized).toBe(true);
    expect(o.servername).toBe('api.local');
    expect(o.headers.Authorization).toBe('Bearer abc');
  });

  it('resolves relative file paths against the kubeconfig directory and honours insecure-skip-tls-verify', async () => {
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki/ca.crt'), 'CAFILE');
    writeFileSync(join(dir, 'pki/c.crt'), 'CERTFILE');
    writeFileSync(join(dir, 'pki/c.key'), 'KEYFILE');
    const file = join(dir, 'config');
    writeFileSync(file, doc('    client-certificate: pki/c.crt\n    client-key: pki/c.key\n',
      '    server: https://127.0.0.1:6443\n    certificate-authority: pki/ca.crt\n    insecure-skip-tls-verify: true\n'));
    const o = await options(loadKubeConfig(file));
    expect([String(o.ca), String(o.cert), String(o.key)]).toEqual(['CAFILE', 'CERTFILE', 'KEYFILE']);
    expect(o.rejectUnauthorized).toBe(false);
    expect(o.headers.Authorization).toBeUndefined();
  });

  it('re-reads a tokenFile at most once a minute (rotated tokens are picked up)', async () => {
    writeFileSync(join(dir, 'token'), 'one\n');
    let now = 1_000_000;
    const data = parseKubeConfig(doc('    tokenFile: token\n'), 'f', dir);
    const kc = new ClientConfig({ cluster: data.clusters[0]!, user: data.users[0]!, file: 'f', now: () => now });
    expect((await options(kc)).headers.Authorization).toBe('Bearer one');
    writeFileSync(join(dir, 'token'), 'two\n');
    now += 59_999;
    expect((await options(kc)).headers.Authorization).toBe('Bearer one');
    now += 1;
    expect((await options(kc)).headers.Authorization).toBe('Bearer two');
    rmSync(join(dir, 'token'));
    now += 60_000;
    await expect(kc.applyToHTTPSOptions({})).rejects.toThrow(/tokenFile: cannot read/);
  });

  it('sends basic auth for username/password users', async () => {
    const kc = resolveContext(parseKubeConfig(doc('    username: admin\n    password: s3cret\n'), 'f'), 'f');
    expect((await options(kc as ClientConfig)).headers.Authorization).toBe(`Basic ${b64('admin:s3cret')}`);
  });

  it('rejects what it cannot do, naming the file and the field', () => {
    const exec = doc('    exec:\n      command: aws\n');
    expect(() => parseKubeConfig(exec, '/k')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'users[0].user.exec', object: 'file /k' }));
    expect(() => parseKubeConfig(doc('    token: 1\n'), '/k')).toThrow(/users\[0\]\.user\.token: must be a string/);
    expect(() => parseKubeConfig(doc('', '    server: not a url\n'), '/k')).toThrow(/clusters\[0\]\.cluster\.server: "not a url" is not a URL/);
    expect(() => parseKubeConfig('clusters: {a: 1}', '/k')).toThrow(/clusters: must be a list/);
    expect(() => parseKubeConfig('a: [', '/k')).toThrow(/kubeconfig \/k: not valid YAML/);
    expect(() => resolveContext(parseKubeConfig(doc(`    client-certificate-data: ${b64('C')}\n`), '/k'), '/k')).toThrow(/without a key/);
    const noUser = doc('    token: x\n').replace('user: u1,', 'user: ghost,');
    expect(() => resolveContext(parseKubeConfig(noUser, '/k'), '/k')).toThrow(/names user "ghost", which is not defined/);
    expect(resolveContext(parseKubeConfig(doc('    token: x\n').replace('current-context: ctx', 'current-context: other'), '/k'), '/k')).toBeNull();
  });

  it('merges several files as kubectl does: the first definition and current-context win', () => {
    const a = parseKubeConfig('current-context: a\nclusters:\n- name: c1\n  cluster: {server: "http://127.0.0.1:1"}\n', 'a');
    const b = parseKubeConfig(
      'current-context: b\nclusters:\n- name: c1\n  cluster: {server: "http://127.0.0.1:2"}\ncontexts:\n- name: a\n  context: {cluster: c1, user: u}\nusers:\n- name: u\n  user: {token: t}\n',
      'b',
    );
    const kc = resolveContext(mergeKubeConfigs([a, b]), 'a:b');
    expect(kc?.getCurrentCluster().server).toBe('http://127.0.0.1:1');
  });
});

describe('loadKubeConfig sources', () => {
  it('merges a $KUBECONFIG list, skipping missing files', () => {
    const saved = process.env.KUBECONFIG;
    try {
      writeFileSync(join(dir, 'one'), doc('    token: one\n'));
      process.env.KUBECONFIG = `${join(dir, 'missing')}:${join(dir, 'one')}`;
      expect(loadKubeConfig().getCurrentCluster().server).toBe('https://127.0.0.1:6443');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('builds the in-cluster config from the service account directory and the service env', async () => {
    expect(inClusterConfig({}, dir)).toBeUndefined();
    writeFileSync(join(dir, 'token'), 'sa-token');
    writeFileSync(join(dir, 'ca.crt'), 'SACA');
    writeFileSync(join(dir, 'namespace'), 'kube-system\n');
    const kc = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(kc?.getCurrentCluster().server).toBe('https://[fd00::1]:443');
    expect(kc?.namespace).toBe('kube-system');
    const o = await options(kc as ClientConfig);
    expect(String(o.ca)).toBe('SACA');
    expect(o.headers.Authorization).toBe('Bearer sa-token');
  });
});
