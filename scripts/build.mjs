// Bundles the agent into dist/nodelet.mjs with esbuild (tree-shaken: a smaller footprint than loading src/).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

/** Output path: dist/nodelet.mjs, or $NODELET_BUILD_OUT (a private bundle, e.g. for one developer's e2e runs). */
const outfile = process.env.NODELET_BUILD_OUT || 'dist/nodelet.mjs';

/** docker-modem loads ssh2 for ssh:// engines only; nodelet speaks to unix sockets, so ssh2 is replaced by a stub. */
const stubSsh2 = {
  name: 'stub-ssh2',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "module.exports = { Client: class { constructor() { throw new Error('ssh:// container runtime endpoints are not supported'); } } };",
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // Minified: about 40 MB less memory at start (the bundle is mostly @kubernetes/client-node); stack traces map
  // back through the linked source map.
  minify: true,
  sourcemap: 'linked',
  plugins: [stubSsh2],
  // pino transports (pino-pretty) load by path at run time.
  // dbus-next's optional transports (X11 address lookup, native unix sockets for fd passing) are never used.
  external: ['cpu-features', 'pino-pretty', 'x11', 'usocket'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
