import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveConfig, type RawFlag } from '../../src/config/index.js';

const FILE = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 50
staticPodPath: /etc/kubernetes/manifests
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
kubeReserved: {cpu: 100m, memory: 256Mi}
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clusterCIDR: 10.244.0.0/16
iptables: {syncPeriod: 20s, masqueradeAll: true}
`;

function resolve(flags: Record<string, RawFlag>, file?: string) {
  return resolveConfig({
    flags: file === undefined ? flags : { config: '/etc/nodelet/config.yaml', ...flags },
    hostname: 'Worker-1',
    readConfig: (p) => parseConfigText(file ?? '', p),
  });
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('resolveConfig', () => {
  it('applies upstream defaults when nothing is set (standalone)', () => {
    const c = resolve({});
    expect(c.nodeName).toBe('worker-1');
    expect(c.kubeconfig).toBeUndefined();
    expect(c.roles).toEqual({ kubelet: true, proxy: false });
    expect(c.rootDir).toBe('/var/lib/nodelet');
    expect(c.kubelet).toMatchObject({
      syncFrequencyMs: 60_000,
      fileCheckFrequencyMs: 20_000,
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeStatusReportFrequencyMs: 300_000,
      nodeLeaseDurationSeconds: 40,
      maxPods: 110,
      healthzPort: 10248,
      healthzBindAddress: '127.0.0.1',
      podInfraContainerImage: 'localhost/nodelet/pause:3.9',
      containerRuntimeEndpoint: 'unix:///var/run/docker.sock',
      registerNode: true,
      failSwapOn: true,
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
    });
    expect(c.kubelet.evictionHard['memory.available']).toEqual({ kind: 'quantity', value: 100 * 2 ** 20 });
    expect(c.kubelet.evictionHard['nodefs.available']).toEqual({ kind: 'percent', value: 10 });
    expect(c.proxy).toMatchObject({ syncPeriodMs: 30_000, minSyncPeriodMs: 1000, masqueradeBit: 14, healthzBindAddress: '0.0.0.0:10256', metricsBindAddress: '127.0.0.1:10249' });
  });

  it('reads the file and lets flags override it', () => {
    const c = resolve({ 'max-pods': '20', 'iptables-sync-period': '45s', kubeconfig: '/k', 'masquerade-all': 'false' }, FILE);
    expect(c.kubelet.maxPods).toBe(20);
    expect(c.kubelet.staticPodPath).toBe('/etc/kubernetes/manifests');
    expect(c.kubelet.clusterDNS).toEqual(['10.96.0.10']);
    expect(c.kubelet.kubeReserved).toMatchObject({ cpuMilli: 100, memoryBytes: 256 * 2 ** 20 });
    expect(c.proxy.syncPeriodMs).toBe(45_000);
    expect(c.proxy.masqueradeAll).toBe(false);
    expect(c.proxy.clusterCIDRs).toEqual(['10.244.0.0/16']);
    expect(c.roles).toEqual({ kubelet: true, proxy: true });
  });

  it('converts list, key=value, threshold, taint and header flags', () => {
    const c = resolve({
      'cluster-dns': '10.96.0.10, 10.96.0.11',
      'node-labels': 'tier=web,example.com/zone=a',
      'eviction-hard': 'memory.available<200Mi,nodefs.available<5%',
      'register-with-taints': 'dedicated=infra:NoSchedule,gpu:NoExecute',
      'manifest-url-header': ['a:1,b:2', 'a:3'],
      'fail-swap-on': true,
    });
    expect(c.kubelet.clusterDNS).toEqual(['10.96.0.10', '10.96.0.11']);
    expect(c.kubelet.nodeLabels).toEqual({ tier: 'web', 'example.com/zone': 'a' });
    expect(c.kubelet.evictionHard).toEqual({ 'memory.available': { kind: 'quantity', value: 200 * 2 ** 20 }, 'nodefs.available': { kind: 'percent', value: 5 } });
    expect(c.kubelet.registerWithTaints).toEqual([{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }, { key: 'gpu', effect: 'NoExecute' }]);
    expect(c.kubelet.staticPodURLHeader).toEqual({ a: ['1', '3'], b: ['2'] });
    expect(c.kubelet.failSwapOn).toBe(true);
  });

  it('names the flag in errors, with the allowed values', () => {
    expect(message(() => resolve({ 'max-pods': 'lots' }))).toContain('flag --max-pods: expected an integer from 1 to 10000 (got "lots")');
    expect(message(() => resolve({ 'max-pods': '0' }))).toContain('flag --max-pods: must be an integer from 1 to 10000');
    expect(message(() => resolve({ 'sync-frequency': '5' }))).toContain('flag --sync-frequency: expected a duration');
    expect(message(() => resolve({ 'iptables-sync-period': 'soon', kubeconfig: '/k' }))).toContain('flag --iptables-sync-period');
    expect(message(() => resolve({ 'proxy-mode': 'ipvs', kubeconfig: '/k' }))).toContain('flag --proxy-mode: allowed values: "iptables"');
    expect(message(() => resolve({ 'fail-swap-on': 'maybe' }))).toContain('flag --fail-swap-on: expected true or false');
    expect(message(() => resolve({ 'node-ip': '1.2.3' }))).toContain('flag --node-ip');
    expect(message(() => resolve({ 'node-labels': 'bad key=x' }))).toContain('flag --node-labels');
    expect(message(() => resolve({ 'eviction-hard': 'memory.available=1Mi' }))).toContain('flag --eviction-hard');
    expect(message(() => resolve({ 'register-with-taints': 'a=b:Sometimes' }))).toContain('allowed effects: NoSchedule, PreferNoSchedule, NoExecute');
    expect(message(() => resolve({ 'log-level': 'loud' }))).toContain('flag --log-level: unknown level "loud" (allowed values: fatal, error, warn, info, debug, trace)');
    expect(message(() => resolve({ v: '11' }))).toContain('flag --v: expected an integer from 0 to 10');
    expect(message(() => resolve({ 'hostname-override': 'Bad_Name' }))).toContain('not a valid DNS subdomain');
  });

  it('checks roles: names, at least one, proxy needs an API server', () => {
    expect(message(() => resolve({ roles: 'kubelet,dns' }))).toContain('unknown role "dns" (allowed values: kubelet, proxy)');
    expect(message(() => resolve({ roles: '' }))).toContain('at least one role');
    expect(message(() => resolve({ roles: 'proxy' }))).toContain('the proxy role needs an API server');
    expect(resolve({ roles: 'proxy', kubeconfig: '/k' }).roles).toEqual({ kubelet: false, proxy: true });
    expect(resolve({ roles: 'kubelet', kubeconfig: '/k' }).roles).toEqual({ kubelet: true, proxy: false });
  });

  it('checks cross-field rules', () => {
    expect(message(() => resolve({ 'image-gc-low-threshold': '90' }))).toContain('"imageGCLowThresholdPercent" (--image-gc-low-threshold) 90 must be less than "imageGCHighThresholdPercent" (--image-gc-high-threshold) 85');
    expect(message(() => resolve({ 'image-gc-low-threshold': '85' }))).toContain('must be less than');
    expect(message(() => resolve({ 'iptables-min-sync-period': '1m', kubeconfig: '/k' }))).toContain('iptables.minSyncPeriod');
    const logs = (v: string): string => `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerLogMonitorInterval: ${v}\n`;
    expect(message(() => resolve({}, logs('2s')))).toContain('"containerLogMonitorInterval" (2s) must be a positive time duration greater than or equal to 3s');
    expect(resolve({}, logs('3s')).kubelet.containerLogMonitorIntervalMs).toBe(3000);
    expect(resolve({}).kubelet.containerLogMonitorIntervalMs).toBe(10_000);
  });

  it('maps --v and the log format, and warns about fields without effect', () => {
    expect(resolve({ v: '4' }).log).toEqual({ level: 'debug', format: 'auto' });
    expect(resolve({ v: '2', 'log-level': 'warn', 'logging-format': 'json' }).log).toEqual({ level: 'warn', format: 'json' });
    const c = resolve({}, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nvolumeStatsAggPeriod: 1m\nreadOnlyPort: 10255\n');
    expect(c.warnings).toEqual(['KubeletConfiguration field "volumeStatsAggPeriod" is accepted but has no effect in nodelet']);
  });

  it('defaults the kubelet API securely (v1beta1, with or without a file) and takes its flags and fields', () => {
    const secure = { enabled: true, address: '0.0.0.0', port: 10250, readOnlyPort: 0, anonymousAuthentication: false, webhookAuthentication: true, webhookAuthenticationCacheTTLMs: 120_000, authorizationMode: 'Webhook', authorizedTTLMs: 300_000, unauthorizedTTLMs: 30_000, clientCAFile: '' };
    expect(resolve({}).kubelet.server).toMatchObject(secure);
    expect(resolve({}, FILE).kubelet.server).toMatchObject(secure);
    const flags = resolve({ port: '20150', address: '127.0.0.1', 'read-only-port': '10255', 'client-ca-file': '/ca.crt', 'anonymous-auth': 'true', 'authorization-mode': 'AlwaysAllow', 'tls-min-version': 'VersionTLS13' }).kubelet.server;
    expect(flags).toMatchObject({ port: 20150, address: '127.0.0.1', readOnlyPort: 10255, clientCAFile: '/ca.crt', anonymousAuthentication: true, authorizationMode: 'AlwaysAllow', tlsMinVersion: 'VersionTLS13' });
    const file = resolve({}, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication: {webhook: {cacheTTL: 10s}, x509: {clientCAFile: /f.crt}}\nauthorization: {webhook: {cacheAuthorizedTTL: 1m}}\nenableSystemLogHandler: false\n');
    expect(file.kubelet.server).toMatchObject({ webhookAuthenticationCacheTTLMs: 10_000, clientCAFile: '/f.crt', authorizedTTLMs: 60_000, enableSystemLogHandler: false });
    expect(file.warnings).toEqual([]);
    expect(message(() => resolve({ 'authorization-mode': 'Node' }))).toContain('--authorization-mode');
  });

  it('does not call runtimeRequestTimeout ineffective (it bounds runtime calls); reads allowedUnsafeSysctls', () => {
    const c = resolve({ 'allowed-unsafe-sysctls': 'kernel.msg*,net.core.somaxconn' }, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nruntimeRequestTimeout: 30s\n');
    expect(c.warnings).toEqual([]);
    expect(c.kubelet.runtimeRequestTimeoutMs).toBe(30_000);
    expect(c.kubelet.allowedUnsafeSysctls).toEqual(['kernel.msg*', 'net.core.somaxconn']);
    const f = resolve({}, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nallowedUnsafeSysctls: [net.core.somaxconn]\n');
    expect(f.kubelet.allowedUnsafeSysctls).toEqual(['net.core.somaxconn']);
  });
});
