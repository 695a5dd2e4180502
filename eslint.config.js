// Lint rules: typescript-eslint recommended, plus a ban on `any` leaking through seams.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  ...layerRules(),
);

/**
 * The layers of docs/architecture.md, enforced: each area may import only what sits below it. One config object per
 * area (ESLint does not merge the options of a rule across objects, so every area lists all of its bans). Tests are
 * exempt (they may reach fakes anywhere).
 */
function layerRules() {
  // Only src/cli builds the real runtime backends (the containerd log parser is a pure helper others may use).
  const realBackends = ['**/cri/docker/*', '**/cri/containerd/*', '!**/cri/containerd/logs.js'];
  const cli = ['**/cli/*'];
  // The proxy gets its iptables/nft runners, conntrack, sysctls (a ProxyHost) and informers from src/cli. Only the
  // files that implement the real tools (and index.ts, which exports them to src/cli; trace/cli.ts, a command) may
  // import them or node:child_process.
  const proxyRealFiles = ['src/proxy/exec.ts', 'src/proxy/conntrack.ts', 'src/proxy/sysctl.ts', 'src/proxy/nft/exec.ts', 'src/proxy/index.ts', 'src/proxy/trace/cli.ts'];
  const proxyReal = [
    { group: ['**/api/informer.js'], message: 'only src/cli builds informers; pass them in (ProxyOptions.informers)' },
    { group: ['**/api/client.js', '**/api/index.js'], importNames: ['ApiClient', 'createInformer'], message: 'only src/cli builds API clients and informers; pass them in' },
    {
      group: ['**/exec.js', '**/conntrack.js', '**/sysctl.js'],
      importNames: ['ExecIptables', 'ExecNft', 'ExecConntrack', 'ProcSysctl', 'runCommand', 'detectBackend', 'supportsRandomFully', 'checkNftSupport', 'realBackendProbe'],
      message: 'only src/cli builds the real iptables/nft/conntrack/sysctl tools (src/cli/proxy-host.ts); use the ProxyHost',
    },
  ];
  const childProcess = [
    { name: 'node:child_process', message: 'only src/cli builds real implementations; run tools through the ProxyHost' },
    { name: 'child_process', message: 'only src/cli builds real implementations; run tools through the ProxyHost' },
  ];
  // The kubelet's real implementations that run tools (built by src/cli): the host mounter and logind over D-Bus.
  const kubeletRealFiles = ['src/kubelet/volumes/mounter.ts', 'src/kubelet/shutdown/logind.ts'];
  const areas = [
    { files: ['src/util/**'], group: ['**/api/*', '**/cri/*', '**/kubelet/*', '**/kubelet/**', '**/proxy/*', '**/probes/*', ...cli], why: 'src/util is the bottom layer' },
    { files: ['src/api/**'], group: ['**/cri/*', '**/kubelet/**', '**/proxy/*', '**/probes/*', ...cli], why: 'src/api depends on src/util only' },
    { files: ['src/cri/**'], group: ['**/kubelet/**', '**/proxy/*', '**/probes/*', ...cli], why: 'src/cri is below the kubelet and the proxy' },
    { files: ['src/proxy/**'], ignores: proxyRealFiles, group: ['**/kubelet/**', '**/probes/*', ...realBackends, ...cli], extra: proxyReal, paths: childProcess, why: 'src/proxy does not import src/kubelet' },
    { files: proxyRealFiles, group: ['**/kubelet/**', '**/probes/*', ...realBackends, ...cli], why: 'src/proxy does not import src/kubelet' },
    { files: ['src/probes/**'], group: ['**/kubelet/**', '**/proxy/*', ...realBackends, ...cli], why: 'src/probes is used by the kubelet, not the other way round' },
    { files: ['src/kubelet/podstate/**'], group: ['**/kubelet/pods/*', '../pods/*', '**/kubelet/status/*', '../status/*', ...realBackends, ...cli], paths: childProcess, why: 'podstate is shared by pods and status and depends on neither' },
    { files: ['src/kubelet/status/**'], group: ['**/kubelet/pods/*', '../pods/*', '**/proxy/*', ...realBackends, ...cli], paths: childProcess, why: 'kubelet/status does not import kubelet/pods (shared types live in kubelet/podstate)' },
    { files: ['src/kubelet/**'], ignores: ['src/kubelet/status/**', 'src/kubelet/podstate/**', ...kubeletRealFiles], group: ['**/proxy/*', ...realBackends, ...cli], paths: childProcess, why: 'only src/cli builds real implementations; the kubelet does not import the proxy' },
    { files: kubeletRealFiles, group: ['**/proxy/*', ...realBackends, ...cli], why: 'only src/cli builds real implementations; the kubelet does not import the proxy' },
  ];
  // The kubelet gets its API clients, informers and the host mounter from src/cli (src/kubelet/pods, podenv).
  const kubeletReal = [
    { group: ['**/api/informer.js'], message: 'only src/cli builds informers; pass them in' },
    { group: ['**/api/client.js', '**/api/index.js'], importNames: ['ApiClient'], message: 'only src/cli builds API clients; pass them in' },
    { group: ['**/volumes/mounter.js', '**/podenv/index.js', '**/volumes/index.js'], importNames: ['HostMounter'], message: 'only src/cli builds the real mounter' },
  ];
  return areas.map((a) => ({
    files: a.files,
    ignores: [...(a.ignores ?? []), '**/*.test.ts', '**/*.test-util.ts', '**/testing.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: a.group, message: `layering (docs/architecture.md): ${a.why}` },
          ...(a.files.some((f) => f.startsWith('src/kubelet')) ? kubeletReal : []),
          ...(a.extra ?? []),
        ],
        ...(a.paths === undefined ? {} : { paths: a.paths }),
      }],
    },
  }));
}
