import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKubeConfig } from './kubeconfig-file.js';
import { resolveContext, ClientConfig } from './kubeconfig.js';

// The client certificate of a kubeconfig is re-read when its file changes (certificate rotation re-points
// kubelet-client-current.pem), at most once a second.
describe('ClientConfig client certificate reload', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses the new pair after the symlink is replaced, and keeps the old one in between checks', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nodelet-kc-'));
    const cur = join(dir, 'current.pem');
    writeFileSync(join(dir, 'a.pem'), 'CERT-A\nKEY-A\n');
    writeFileSync(join(dir, 'b.pem'), 'CERT-B\nKEY-B\n');
    symlinkSync(join(dir, 'a.pem'), cur);
    let now = 1_000_000;
    const data = parseKubeConfig(`apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {client-certificate: ${cur}, client-key: ${cur}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`, 'kc', dir);
    const base = resolveContext(data, 'kc')!;
    const kc = new ClientConfig({ cluster: base.cluster, user: base.user, file: 'kc', now: () => now });
    const cert = async (): Promise<string> => {
      const o: RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      return String(o.cert);
    };
    expect(await cert()).toContain('CERT-A');
    symlinkSync(join(dir, 'b.pem'), `${cur}.tmp`);
    renameSync(`${cur}.tmp`, cur);
    now += 500;
    expect(await cert()).toContain('CERT-A');
    now += 600;
    expect(await cert()).toContain('CERT-B');
  });
});
