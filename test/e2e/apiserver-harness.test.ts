import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installServiceCidrSink, isRouted, runNodelet, startCluster, waitFor, waitForWatch, withServiceCidrSink, type Cluster } from './harness/index.js';

const linkExists = (name: string): boolean => {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

let c: Cluster;
beforeAll(async () => {
  c = await startCluster({ forceLocal: true }); // the test API server's own tests (and the harness's)
});
afterAll(() => c.stop());

describe('e2e harness', () => {
  it('routes the service CIDR into a veth sink and removes it, also when the body throws', async () => {
    if (isRouted('10.96.0.0/12')) {
      // A sink already covers the CIDR: someone else's is reused and left in place; our own leftover (from a killed
      // run) is adopted and removed.
      const leftover = execFileSync('ip', ['-4', 'route', 'show', 'exact', '10.96.0.0/12'], { encoding: 'utf8' }).includes('dev nle2e-sink0');
      await withServiceCidrSink(async () => expect(isRouted('10.96.0.0/12')).toBe(true));
      expect(isRouted('10.96.0.0/12')).toBe(!leftover);
      if (!leftover) return;
    }
    await withServiceCidrSink(async () => {
      // The /12 route itself (a real control plane's narrower sink, e.g. up.sh's 10.96.0.0/16 on k8ssink0, may win `ip route get`).
      const route = execFileSync('ip', ['-4', 'route', 'show', 'exact', '10.96.0.0/12'], { encoding: 'utf8' });
      expect(route).toContain('dev nle2e-sink0');
      expect(linkExists('nle2e-sink1')).toBe(true);
      const undoInner = installServiceCidrSink(); // nested use is reference-counted
      undoInner();
      expect(isRouted('10.96.0.0/12')).toBe(true);
    });
    expect(isRouted('10.96.0.0/12')).toBe(false);
    expect(linkExists('nle2e-sink0')).toBe(false);
    await expect(withServiceCidrSink(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(linkExists('nle2e-sink0')).toBe(false);
  });

  it('runs the daemon binary, captures its output and stops it by PID', async () => {
    const p = runNodelet(['--version'], { name: 'harness-version' });
    expect((await p.exited).code).toBe(0);
    expect(p.logs()).toMatch(/nodelet \d+\.\d+\.\d+/);
    expect(p.running()).toBe(false);
    rmSync(p.logPath, { force: true });
    // stop(): SIGTERM first, SIGKILL when the grace period runs out (a child that ignores SIGTERM).
    const dir = mkdtempSync(join(tmpdir(), 'nle2e-harness-'));
    try {
      const script = join(dir, 'stubborn.mjs');
      writeFileSync(script, "process.on('SIGTERM', () => console.log('got SIGTERM')); console.log('ready'); setInterval(() => {}, 1000);\n");
      const stubborn = runNodelet([], { name: 'harness-stubborn', entry: script });
      await waitFor(() => stubborn.logs().includes('ready'), { timeoutMs: 5000 });
      const exit = await stubborn.stop(300);
      expect(exit.signal).toBe('SIGKILL');
      expect(stubborn.logs()).toContain('got SIGTERM');
      writeFileSync(script.replace('stubborn', 'polite'), "console.log('ready'); setInterval(() => {}, 1000);\n");
      const polite = runNodelet([], { name: 'harness-polite', entry: script.replace('stubborn', 'polite') });
      await waitFor(() => polite.logs().includes('ready'), { timeoutMs: 5000 });
      expect((await polite.stop(5000)).signal).toBe('SIGTERM');
      for (const p of [stubborn, polite]) rmSync(p.logPath, { force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waits by polling and by watching', async () => {
    const watched = waitForWatch<{ metadata: { name: string } }>(c.kubeconfigPath, '/api/v1/namespaces/default/configmaps', (ev) => ev.type === 'ADDED' && (ev.object as { metadata: { name: string } }).metadata.name === 'hw', { timeoutMs: 5000 });
    await c.kubectlOk(['create', 'configmap', 'hw', '--from-literal=a=b']);
    expect((await watched).metadata.name).toBe('hw');
    expect(await waitFor(async () => (await c.kubectl(['get', 'cm', 'hw', '-o', 'name'])).stdout.trim() || false, { timeoutMs: 5000 })).toBe('configmap/hw');
    await expect(waitFor(() => false, { timeoutMs: 300, description: 'never' })).rejects.toThrow('timed out after 300 ms waiting for never');
    await expect(waitForWatch(c.kubeconfigPath, '/api/v1/namespaces/default/secrets', () => false, { timeoutMs: 300 })).rejects.toThrow(/timed out/);
  });

  it('kubectl typed-client commands (protobuf bodies) work', async () => {
    await c.kubectlOk(['create', 'namespace', 'pbns']);
    await waitFor(async () => (await c.kubectl(['get', 'sa', 'default', '-n', 'pbns'])).code === 0);
    await c.kubectlOk(['create', 'configmap', 'cm', '-n', 'pbns', '--from-literal=a=b']);
    await c.kubectlOk(['create', 'secret', 'generic', 's', '-n', 'pbns', '--from-literal=k=v']);
    await c.kubectlOk(['create', 'serviceaccount', 'sa', '-n', 'pbns']);
    await c.kubectlOk(['create', 'service', 'nodeport', 'np', '-n', 'pbns', '--tcp=80:8080']);
    expect(await c.kubectlOk(['get', 'cm', 'cm', '-n', 'pbns', '-o', 'jsonpath={.data.a}'])).toBe('b');
    expect(await c.kubectlOk(['get', 'secret', 's', '-n', 'pbns', '-o', 'jsonpath={.type} {.data.k}'])).toBe('Opaque dg==');
    const ports = JSON.parse(await c.kubectlOk(['get', 'svc', 'np', '-n', 'pbns', '-o', 'jsonpath={.spec.ports}'])) as { port: number; targetPort: number; nodePort: number; name: string }[];
    expect(ports).toEqual([{ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: expect.any(Number) }]);
    expect(ports[0]!.nodePort).toBeGreaterThanOrEqual(30000);
    const token = (await c.kubectlOk(['create', 'token', 'sa', '-n', 'pbns', '--duration=20m', '--audience=api'])).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { aud: string[]; sub: string; exp: number; iat: number };
    expect(claims).toMatchObject({ aud: ['api'], sub: 'system:serviceaccount:pbns:sa' });
    expect(claims.exp - claims.iat).toBe(1200);
  });
});
