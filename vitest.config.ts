import { defineConfig } from 'vitest/config';

/**
 * Three projects:
 * - unit: pure and fake-backed tests next to the code (src/**) — fast, parallel.
 * - integration: real Docker / containerd / iptables in network namespaces (test/integration) — serial.
 * - e2e: the real daemon against the test API server (or $KUBECONFIG) with kubectl (test/e2e) — serial within one
 *   vitest process; scripts/test.sh runs two processes side by side on disjoint file lists (test/e2e/lanes.json).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/apiserver/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          // cluster-cni runs its two clusters' independent checks concurrently (2 × 4; the default limit is 5).
          maxConcurrency: 8,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
