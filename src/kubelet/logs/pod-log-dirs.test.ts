import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxConfig } from '../../cri/contract-fixtures.js';
import { FakeRuntime } from '../../cri/fake/index.js';
import { silentLogger } from '../../util/logger.js';
import { parsePodLogDirName, PodLogDirCleaner, selectOrphanedPodLogDirs, type PodLogDirEntry, type PodLogDirPodState } from './pod-log-dirs.js';

const dir = (name: string): PodLogDirEntry => ({ name, isDirectory: true });
const state = (o: Partial<{ ready: boolean; known: string[]; keepContent: string[] }> = {}): PodLogDirPodState => ({
  allSourcesReady: () => o.ready ?? true,
  knows: (uid) => (o.known ?? []).includes(uid),
  contentRemovable: (uid) => !(o.keepContent ?? []).includes(uid),
});

describe('pod log directory cleanup decision (pure, upstream evictPodLogsDirectories)', () => {
  it('parses <namespace>_<name>_<uid> only', () => {
    expect(parsePodLogDirName('shop_web_u-1')).toEqual({ namespace: 'shop', name: 'web', uid: 'u-1' });
    for (const n of ['notes', 'a_b', 'a_b_c_d', '_b_c', 'a__c', 'a_b_', 'a_b_..']) expect(parsePodLogDirName(n)).toBeUndefined();
  });

  it('removes only directories of pods that are gone from the agent and the runtime', () => {
    const entries = [dir('ns_gone_u1'), dir('ns_live_u2'), dir('ns_running_u3'), dir('ns_evicted_u4'), dir('README'), { name: 'ns_file_u5', isDirectory: false }];
    const out = selectOrphanedPodLogDirs({ entries, pods: state({ known: ['u2'], keepContent: ['u4'] }), runtimeUIDs: new Set(['u3']) });
    expect(out).toEqual(['ns_gone_u1']);
  });

  it('removes nothing before every pod source is ready', () => {
    expect(selectOrphanedPodLogDirs({ entries: [dir('ns_gone_u1')], pods: state({ ready: false }), runtimeUIDs: new Set() })).toEqual([]);
  });
});

describe('PodLogDirCleaner (real directory, fake runtime)', () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it('removes the orphaned directory with its files and keeps everything else', async () => {
    root = await mkdtemp(join(tmpdir(), 'lg-podlogs-'));
    const runtime = new FakeRuntime();
    const other = sandboxConfig('other', {});
    await runtime.runPodSandbox(other);
    await mkdir(join(root, 'ns_gone_u1', 'c'), { recursive: true });
    await writeFile(join(root, 'ns_gone_u1', 'c', '0.log'), 'x');
    await mkdir(join(root, `contract_other_${other.metadata.uid}`));
    await mkdir(join(root, 'ns_known_u2'));
    await mkdir(join(root, 'notes'));
    await writeFile(join(root, 'ns_file_u5'), '');
    const outside = await mkdtemp(join(tmpdir(), 'lg-outside-'));
    await writeFile(join(outside, 'precious'), 'x');
    await symlink(outside, join(root, 'ns_link_u6'));
    // A link inside a removed directory is removed, never followed.
    await symlink(outside, join(root, 'ns_gone_u1', 'link'));
    try {
      const cleaner = new PodLogDirCleaner({ dir: root, runtime, pods: state({ known: ['u2'] }), logger: silentLogger() });
      expect(await cleaner.cleanup()).toEqual(['ns_gone_u1']);
      expect((await readdir(root)).sort()).toEqual([`contract_other_${other.metadata.uid}`, 'notes', 'ns_file_u5', 'ns_known_u2', 'ns_link_u6'].sort());
      expect(await readdir(outside)).toEqual(['precious']);
      expect(await cleaner.cleanup()).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('treats a missing podLogsDir as empty and a runtime failure as an error that removes nothing', async () => {
    root = await mkdtemp(join(tmpdir(), 'lg-podlogs-'));
    const runtime = new FakeRuntime();
    const missing = new PodLogDirCleaner({ dir: join(root, 'absent'), runtime, pods: state(), logger: silentLogger() });
    expect(await missing.cleanup()).toEqual([]);
    await mkdir(join(root, 'ns_gone_u1'));
    const broken = { listContainers: () => Promise.reject(new Error('engine down')), listPodSandboxes: () => Promise.resolve([]) };
    const cleaner = new PodLogDirCleaner({ dir: root, runtime: broken, pods: state(), logger: silentLogger() });
    await expect(cleaner.cleanup()).rejects.toMatchObject({ code: 'CONTAINER_GC_FAILED' });
    expect(await readdir(root)).toEqual(['ns_gone_u1']);
  });
});
