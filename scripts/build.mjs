// Bundles the agent with esbuild (tree-shaken: a smaller footprint than loading src/): dist/nodelet.mjs, the entry,
// and dist/nodelet-chunks/*.mjs, the code it imports on demand (code splitting). The entry holds only what every
// command needs (flags, configuration, logging); the daemon, the kubelet role's code and the proxy's load when a
// command uses them, so a proxy-only process never parses or evaluates the kubelet's (~1.5 MB of the 2.3 MB), and no
// process parses all of it at once (V8's parser needs several times a script's size of malloc memory while parsing
// it, which glibc keeps: 15 MB for one 2.3 MB file). The chunks directory belongs next to the entry (install.sh).
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Output path: dist/nodelet.mjs, or $NODELET_BUILD_OUT (a private bundle, e.g. for one developer's e2e runs). */
const outfile = process.env.NODELET_BUILD_OUT || 'dist/nodelet.mjs';
const outdir = dirname(outfile);
const name = basename(outfile).replace(/\.mjs$/, '');
/** This entry's chunks (several bundles may share one directory): `<name>-chunks/`, emptied at every build. */
const chunkDir = `${name}-chunks`;

/** docker-modem loads ssh2 for ssh:// engines only; nodelet speaks to unix sockets, so ssh2 is replaced by a stub. */
const stubSsh2 = {
  name: 'stub-ssh2',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'stub' }));
    b.onLoad({ filter: /^ssh2$/, namespace: 'stub' }, () => ({
      contents:
        "module.exports = { Client: class { constructor() { throw new Error('ssh:// container runtime endpoints are not supported'); } } };",
      loader: 'js',
    }));
    b.onLoad({ filter: /^dockerode-session$/, namespace: 'stub' }, () => ({
      contents: "module.exports = (_docker, _auth, cb) => cb(new Error('BuildKit sessions are not supported'));",
      loader: 'js',
    }));
  },
};

/**
 * dockerode requires its BuildKit session helper (lib/session.js) at load time, and with it @grpc/grpc-js and
 * @grpc/proto-loader + protobufjs (~1 MB of source, evaluated at every start on either backend). Only
 * `buildImage({ version: '2' })` uses it, which nodelet never calls: it is replaced by a stub that fails.
 */
const stubDockerodeSession = {
  name: 'stub-dockerode-session',
  setup(b) {
    b.onResolve({ filter: /^\.\/session$/ }, (a) => (/[\\/]dockerode[\\/]lib$/.test(a.resolveDir) ? { path: 'dockerode-session', namespace: 'stub' } : undefined));
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

rmSync(join(outdir, chunkDir), { recursive: true, force: true });
const result = await build({
  entryPoints: { [name]: 'src/cli/main.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: `${chunkDir}/[name]-[hash]`,
  metafile: true,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // Minified: about 40 MB less memory at start (the bundle is mostly @kubernetes/client-node); stack traces map
  // back through the linked source map.
  minify: true,
  sourcemap: 'linked',
  plugins: [stubSsh2, stubDockerodeSession, builtinHttpViaRequire],
  // pino transports (pino-pretty) load by path at run time.
  // dbus-next's optional transports (X11 address lookup, native unix sockets for fd passing) are never used.
  external: ['cpu-features', 'pino-pretty', 'x11', 'usocket'],
  // Every output file is a module of its own: each gets the `require` that bundled CommonJS code calls.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
// Node decodes a UTF-8 source with any non-ASCII character into a two-byte string: the whole file would then be
// held in memory at twice its size (~2 MB more RSS). esbuild leaves non-ASCII in regex literals (e.g. /µs/), so
// escape what is left; \uXXXX means the same in string, regex and template literals, identifiers and comments.
for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.mjs'))) {
  const code = readFileSync(file, 'utf8');
  const ascii = code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const entry = result.metafile.outputs[file].entryPoint !== undefined;
  if (entry || ascii !== code) writeFileSync(file, entry ? `#!/usr/bin/env node\n${ascii}` : ascii);
  if (entry) {
    // The shebang line shifts the entry's code one line down: so do its source map's mappings.
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
    writeFileSync(`${file}.map`, JSON.stringify({ ...map, mappings: `;${map.mappings}` }));
  }
}
chmodSync(outfile, 0o755);
