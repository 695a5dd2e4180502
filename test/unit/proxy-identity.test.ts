import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accessDenials, type KubeConfig } from '../../src/api/index.js';
import { startDaemon, type WiringContext } from '../../src/cli/daemon.js';
import { parseConfigText, resolveConfig, type RawFlag } from '../../src/config/index.js';
import { FakeRuntime } from '../../src/cri/fake/fake-runtime.js';
import { silentLogger } from '../../src/util/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'nl4-proxy-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, port: number): string {
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(path, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: ${name}, user: {token: ${name}-token}}]
contexts: [{name: c, context: {cluster: c, user: ${name}}}]
current-context: c
`);
  return path;
}

const resolve = (flags: Record<string, RawFlag>, file = '') =>
  resolveConfig({ flags: file === '' ? flags : { config: '/c.yaml', ...flags }, hostname: 'n1', readConfig: (p) => parseConfigText(file, p) });

describe('the proxy role has its own identity (clientConnection.kubeconfig / --proxy-kubeconfig)', () => {
  it('the flag and the file field set the proxy kubeconfig; the kubelet keeps --kubeconfig', () => {
    const c = resolve({ kubeconfig: '/node.kubeconfig', 'proxy-kubeconfig': '/proxy.kubeconfig' });
    expect(c.kubeconfig).toBe('/node.kubeconfig');
    expect(c.proxy.document.clientConnection?.kubeconfig).toBe('/proxy.kubeconfig');
    expect(c.roles).toEqual({ kubelet: true, proxy: true });
    const f = resolve({ kubeconfig: '/node.kubeconfig' }, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclientConnection: {kubeconfig: /kp.kubeconfig}\n');
    expect(f.kubeconfig).toBe('/node.kubeconfig');
    expect(f.proxy.document.clientConnection?.kubeconfig).toBe('/kp.kubeconfig');
  });

  it('the daemon gives the proxy role that identity, and a 403 of it fails the proxy-api-access health check', async () => {
    const node = kubeconfig('node', 1);
    const proxy = kubeconfig('proxy', 2);
    const config = resolve({ kubeconfig: node, 'proxy-kubeconfig': proxy, roles: 'kubelet,proxy', 'root-dir': join(dir, 'root'), 'healthz-port': '0', 'fail-swap-on': 'false' });
    let seen: WiringContext | undefined;
    const runtime = new FakeRuntime();
    const daemon = await startDaemon(
      { ...config, roles: { kubelet: false, proxy: true } },
      { createRuntime: () => runtime, proxy: (ctx) => ((seen = ctx), { name: 'proxy', start: async () => undefined, stop: async () => undefined }) },
      silentLogger(),
      0,
    );
    try {
      const kc = seen?.kubeConfig as KubeConfig;
      expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:2');
      expect(seen?.checks.run('proxy-api-access')?.ok).toBe(true);
      accessDenials(kc).denied('GET', '/apis/discovery.k8s.io/v1/endpointslices', 'endpointslices.discovery.k8s.io is forbidden: User "system:node:n1" cannot list resource "endpointslices"');
      const report = seen?.checks.run('proxy-api-access');
      expect(report?.ok).toBe(false);
      expect(report?.text).toContain('[-]proxy-api-access failed: forbidden by the API server: GET /apis/discovery.k8s.io/v1/endpointslices: endpointslices.discovery.k8s.io is forbidden: User "system:node:n1"');
    } finally {
      await daemon.shutdown('test');
    }
  });
});
