import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHostPath } from './host-path.js';

describe('hostPath type checks', () => {
  let tmp: string;
  let server: net.Server;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'nlpe-hp-'));
    await mkdir(path.join(tmp, 'dir'));
    await writeFile(path.join(tmp, 'file'), 'x');
    server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(tmp, 'sock'), r));
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(tmp, { recursive: true, force: true });
  });
  const at = (n: string) => path.join(tmp, n);

  it('passes matching types', async () => {
    await checkHostPath({ path: at('dir'), type: 'Directory' });
    await checkHostPath({ path: at('file'), type: 'File' });
    await checkHostPath({ path: at('sock'), type: 'Socket' });
    await checkHostPath({ path: '/dev/null', type: 'CharDevice' });
    await checkHostPath({ path: at('nothing'), type: '' });
    await checkHostPath({ path: at('nothing') });
  });

  it.each([
    ['file', 'Directory', 'is not a directory'],
    ['missing', 'Directory', 'is not a directory'],
    ['dir', 'File', 'is not a file'],
    ['missing', 'File', 'is not a file'],
    ['file', 'Socket', 'is not a socket file'],
    ['file', 'CharDevice', 'is not a character device'],
    ['file', 'BlockDevice', 'is not a block device'],
    ['file', 'DirectoryOrCreate', 'is not a directory'],
    ['dir', 'FileOrCreate', 'is not a file'],
  ])('%s as %s fails: %s', async (name, type, msg) => {
    await expect(checkHostPath({ path: at(name), type })).rejects.toThrow(`hostPath type check failed: ${at(name)} ${msg}`);
  });

  it('creates missing paths for DirectoryOrCreate and FileOrCreate', async () => {
    await checkHostPath({ path: at('new/deep/dir'), type: 'DirectoryOrCreate' });
    expect((await stat(at('new/deep/dir'))).isDirectory()).toBe(true);
    await checkHostPath({ path: at('newfile'), type: 'FileOrCreate' });
    expect((await stat(at('newfile'))).isFile()).toBe(true);
  });

  it('rejects an unknown type', async () => {
    await expect(checkHostPath({ path: at('dir'), type: 'Folder' })).rejects.toThrow('Folder is an invalid volume type');
  });
});
