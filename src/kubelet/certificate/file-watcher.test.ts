import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeFileWatcher } from './fake-file-watcher.js';
import { runFileWatcherContract } from './file-watcher-contract.js';
import { NodeFileWatcher } from './file-watcher.js';

runFileWatcherContract('FakeFileWatcher', () => {
  const files = new FakeFileWatcher();
  return {
    files,
    path: (name) => `/fake/${name}`,
    write: (p, data) => files.write(p, data),
    replace: (p, data) => files.replace(p, data),
    remove: (p) => files.remove(p),
    cleanup: () => undefined,
  };
});

runFileWatcherContract('NodeFileWatcher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nl-fw-'));
  return {
    files: new NodeFileWatcher(),
    path: (name) => join(dir, name),
    write: (p, data) => writeFileSync(p, data),
    replace: (p, data) => {
      writeFileSync(`${p}.tmp`, data);
      renameSync(`${p}.tmp`, p);
    },
    remove: (p) => unlinkSync(p),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});
