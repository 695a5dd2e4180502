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
  const areas = [
    { files: ['src/util/**'], group: ['**/api/*', '**/cri/*', '**/kubelet/*', '**/kubelet/**', '**/proxy/*', '**/probes/*', ...cli], why: 'src/util is the bottom layer' },
    { files: ['src/api/**'], group: ['**/cri/*', '**/kubelet/**', '**/proxy/*', '**/probes/*', ...cli], why: 'src/api depends on src/util only' },
    { files: ['src/cri/**'], group: ['**/kubelet/**', '**/proxy/*', '**/probes/*', ...cli], why: 'src/cri is below the kubelet and the proxy' },
    { files: ['src/proxy/**'], group: ['**/kubelet/**', '**/probes/*', ...realBackends, ...cli], why: 'src/proxy does not import src/kubelet' },
    { files: ['src/probes/**'], group: ['**/kubelet/**', '**/proxy/*', ...realBackends, ...cli], why: 'src/probes is used by the kubelet, not the other way round' },
    { files: ['src/kubelet/podstate/**'], group: ['**/kubelet/pods/*', '../pods/*', '**/kubelet/status/*', '../status/*', ...realBackends, ...cli], why: 'podstate is shared by pods and status and depends on neither' },
    { files: ['src/kubelet/status/**'], group: ['**/kubelet/pods/*', '../pods/*', '**/proxy/*', ...realBackends, ...cli], why: 'kubelet/status does not import kubelet/pods (shared types live in kubelet/podstate)' },
    { files: ['src/kubelet/**'], ignores: ['src/kubelet/status/**', 'src/kubelet/podstate/**'], group: ['**/proxy/*', ...realBackends, ...cli], why: 'only src/cli builds real implementations; the kubelet does not import the proxy' },
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
        ],
      }],
    },
  }));
}
