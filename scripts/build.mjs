// Bundles the agent into dist/nodelet.mjs with esbuild (tree-shaken: a smaller footprint than loading src/).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/nodelet.mjs',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  // Native optional modules of ssh2 (pulled in by docker-modem) stay out of the bundle; pino transports load by path.
  external: ['cpu-features', 'ssh2', 'pino-pretty'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync('dist/nodelet.mjs', 0o755);
