// Bundles the agent into dist/nodelet.mjs with esbuild (tree-shaken: a smaller footprint than loading src/).
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';

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

/**
 * `import … from 'node:http'` in an ES module makes Node build that builtin's ESM facade, which reads every export,
 * including Node 24's lazy `http.WebSocket`: that loads Node's bundled undici (~760 KB of source; ~4 MB RSS and
 * ~50 ms CPU at every start). node:http / node:https loaded through require() read only what is used.
 */
const builtinHttpViaRequire = {
  name: 'builtin-http-via-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?https?$/ }, (a) =>
      a.namespace === 'builtin-cjs' ? { path: a.path, external: true } : { path: a.path.replace(/^node:/, ''), namespace: 'builtin-cjs' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin-cjs' }, (a) => ({ contents: `module.exports = require('node:${a.path}');`, loader: 'js' }));
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
  plugins: [stubSsh2, builtinHttpViaRequire],
  // pino transports (pino-pretty) load by path at run time.
  // dbus-next's optional transports (X11 address lookup, native unix sockets for fd passing) are never used.
  external: ['cpu-features', 'pino-pretty', 'x11', 'usocket'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
// Node decodes a UTF-8 source with any non-ASCII character into a two-byte string: the whole bundle would then be
// held in memory at twice its size (~2 MB more RSS). esbuild leaves non-ASCII in regex literals (e.g. /µs/), so
// escape what is left; \uXXXX means the same in string, regex and template literals, identifiers and comments.
const code = readFileSync(outfile, 'utf8');
if (/[^\x00-\x7f]/.test(code)) writeFileSync(outfile, code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
chmodSync(outfile, 0o755);
