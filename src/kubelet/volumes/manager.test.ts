import { chmod, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeObjectSource } from '../../api/objects-fake.js';
import { FakeClock } from '../../util/clock.js';
import { hasCode } from '../../util/errors.js';
import { silentLogger } from '../../util/logger.js';
import { VolumeManager } from './manager.js';
import { FakeMounter } from './mounter.js';
import { TokenManager } from './token-manager.js';

const allocatable = { cpuMilli: 2000, memoryBytes: 2 ** 30, ephemeralStorageBytes: 2 ** 34 };

describe('VolumeManager', () => {
  let root: string;
  let clock: FakeClock;
  let objects: FakeObjectSource;
  let mounter: FakeMounter;
  let vm: VolumeManager;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nlpe-vm-'));
    clock = new FakeClock();
    objects = new FakeObjectSource(clock);
    mounter = new FakeMounter();
    vm = new VolumeManager({ rootDir: root, objects, mounter, tokens: new TokenManager(clock), allocatable, clock, logger: silentLogger() });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function pod(volumes: V1Volume[], extra: Partial<NonNullable<V1Pod['spec']>> = {}, annotations?: Record<string, string>): V1Pod {
    return {
      metadata: { name: 'web', namespace: 'app', uid: 'uid-1', labels: { app: 'web' }, annotations },
      spec: { serviceAccountName: 'builder', containers: [{ name: 'c', resources: { limits: { memory: '64Mi' } } }], volumes, ...extra },
    };
  }
  const vdir = (plugin: string, name: string) => path.join(root, 'pods/uid-1/volumes', plugin, name);
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

  it('missing configMap: MOUNT_FAILED with the upstream FailedMount text; created later: mounted', async () => {
    const p = pod([{ name: 'cfg', configMap: { name: 'app-config' } }]);
    const err = await failure(vm.prepare(p));
    expect(hasCode(err, 'MOUNT_FAILED')).toBe(true);
    expect((err as Error).message).toBe('MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found');
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'app-config' }, data: { 'app.conf': 'v1' } });
    await vm.prepare(p);
    expect(await readFile(path.join(vdir('kubernetes.io~configmap', 'cfg'), 'app.conf'), 'utf8')).toBe('v1');
  });

  it('configMap updates in place; items with paths and modes; removed keys disappear', async () => {
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'c' }, data: { a: '1', b: '2' }, binaryData: { bin: Buffer.from([0, 1]).toString('base64') } });
    const p = pod([{ name: 'cfg', configMap: { name: 'c', defaultMode: 0o600 } }]);
    await vm.prepare(p);
    const dir = vdir('kubernetes.io~configmap', 'cfg');
    expect((await stat(path.join(dir, 'a'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(dir, 'bin'))).toEqual(Buffer.from([0, 1]));
    const ts1 = await readlink(path.join(dir, '..data'));
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'c' }, data: { a: '1-new' } });
    await vm.prepare(p);
    expect(await readFile(path.join(dir, 'a'), 'utf8')).toBe('1-new');
    await expect(stat(path.join(dir, 'b'))).rejects.toThrow();
    expect(await readlink(path.join(dir, '..data'))).not.toBe(ts1);

    const items = pod([{ name: 'cfg2', configMap: { name: 'c', items: [{ key: 'a', path: 'conf/x.txt', mode: 0o640 }] } }]);
    await vm.prepare(items);
    const f = path.join(vdir('kubernetes.io~configmap', 'cfg2'), 'conf/x.txt');
    expect(await readFile(f, 'utf8')).toBe('1-new');
    expect((await stat(f)).mode & 0o777).toBe(0o640);
    const bad = pod([{ name: 'cfg3', configMap: { name: 'c', items: [{ key: 'zzz', path: 'z' }] } }]);
    expect(((await failure(vm.prepare(bad))) as Error).message).toBe(
      'MountVolume.SetUp failed for volume "cfg3" : configmap references non-existent config key: zzz',
    );
  });

  it('optional missing configMap/secret gives an empty volume', async () => {
    await vm.prepare(pod([{ name: 'o', configMap: { name: 'nope', optional: true } }, { name: 's', secret: { secretName: 'nope', optional: true } }]));
    expect((await stat(vdir('kubernetes.io~configmap', 'o'))).isDirectory()).toBe(true);
  });

  it('secret volumes are tmpfs-backed with defaultMode and never log content', async () => {
    objects.setSecret('app', 'creds', { password: 'hunter2' });
    const p = pod([{ name: 'sec', secret: { secretName: 'creds', defaultMode: 0o400 } }]);
    await vm.prepare(p);
    const dir = vdir('kubernetes.io~secret', 'sec');
    expect(mounter.mounts.get(dir)?.type).toBe('tmpfs');
    expect(await readFile(path.join(dir, 'password'), 'utf8')).toBe('hunter2');
    expect((await stat(path.join(dir, 'password'))).mode & 0o777).toBe(0o400);
    await vm.prepare(p);
    expect(mounter.calls.filter((c) => c.startsWith('tmpfs'))).toHaveLength(1);
    const err = await failure(vm.prepare(pod([{ name: 'sec2', secret: { secretName: 'missing' } }])));
    expect((err as Error).message).toBe('MountVolume.SetUp failed for volume "sec2" : secret "missing" not found');
  });

  it('emptyDir: disk dir 0777, Memory medium as tmpfs with sizeLimit', async () => {
    await vm.prepare(pod([{ name: 'scratch', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]));
    expect((await stat(vdir('kubernetes.io~empty-dir', 'scratch'))).mode & 0o777).toBe(0o777);
    expect(mounter.calls).toEqual([`tmpfs ${vdir('kubernetes.io~empty-dir', 'mem')} size=${16 * 2 ** 20}`]);
    // Later syncs leave the volume alone (no chmod back to 0777, no second mount).
    await chmod(vdir('kubernetes.io~empty-dir', 'scratch'), 0o700);
    await vm.prepare(pod([{ name: 'scratch', emptyDir: {} }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]));
    expect((await stat(vdir('kubernetes.io~empty-dir', 'scratch'))).mode & 0o777).toBe(0o700);
    expect(mounter.calls).toHaveLength(1);
  });

  it('downwardAPI writes labels/annotations/resources and follows label changes', async () => {
    const vol: V1Volume = {
      name: 'info',
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
          { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
        ],
      },
    };
    const p = pod([vol]);
    await vm.prepare(p);
    const dir = vdir('kubernetes.io~downward-api', 'info');
    expect(await readFile(path.join(dir, 'labels'), 'utf8')).toBe('app="web"');
    expect(await readFile(path.join(dir, 'mem'), 'utf8')).toBe('64');
    p.metadata!.labels = { app: 'web', version: 'v2' };
    await vm.prepare(p);
    expect(await readFile(path.join(dir, 'labels'), 'utf8')).toBe('app="web"\nversion="v2"');
  });

  it('projected: bound token with audience/expiration, kube-root-ca.crt, refreshed after 80 % of its life', async () => {
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CA' } });
    const p = pod([
      {
        name: 'kube-api-access',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 3600 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ]);
    await vm.prepare(p);
    const dir = vdir('kubernetes.io~projected', 'kube-api-access');
    expect(mounter.mounts.get(dir)?.type).toBe('tmpfs');
    expect(await readFile(path.join(dir, 'token'), 'utf8')).toBe('token-1');
    expect(await readFile(path.join(dir, 'ca.crt'), 'utf8')).toBe('CA');
    expect(await readFile(path.join(dir, 'namespace'), 'utf8')).toBe('app');
    expect(objects.tokenRequests[0]).toEqual({
      namespace: 'app',
      serviceAccount: 'builder',
      spec: { audiences: ['vault'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'uid-1' } },
    });
    clock.advance(2879_000); // 79.97 %: still cached
    await vm.prepare(p);
    expect(objects.tokenRequests).toHaveLength(1);
    clock.advance(2_000); // past 80 %
    await vm.prepare(p);
    expect(objects.tokenRequests).toHaveLength(2);
    expect(await readFile(path.join(dir, 'token'), 'utf8')).toBe('token-2');
    objects.failTokens = 'boom';
    clock.advance(3000_000); // due again, refresh fails, old token still valid → kept
    await vm.prepare(p);
    expect(await readFile(path.join(dir, 'token'), 'utf8')).toBe('token-2');
  });

  it('static pods may not reference configMaps (clear rejection), but may use emptyDir/hostPath', async () => {
    const err = await failure(vm.prepare(pod([{ name: 'cfg', configMap: { name: 'x' } }], {}, { 'kubernetes.io/config.source': 'file' })));
    expect(hasCode(err, 'MOUNT_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^MountVolume\.SetUp failed for volume "cfg" : static pod "web_app\(uid-1\)" \(source file\) may not reference configmap "x"/);
    await vm.prepare(pod([{ name: 'e', emptyDir: {} }, { name: 'h', hostPath: { path: root, type: 'Directory' } }], {}, { 'kubernetes.io/config.source': 'file' }));
    const tok = await failure(
      vm.prepare(pod([{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }], {}, { 'kubernetes.io/config.source': 'http' })),
    );
    expect((tok as Error).message).toBe(
      'MountVolume.SetUp failed for volume "tok" : static pod "web_app(uid-1)" may not use service account tokens: static pods cannot use API objects',
    );
    expect(objects.tokenRequests).toHaveLength(0);
  });

  it('hostPath check failure names the volume and path; unsupported types are refused', async () => {
    const missing = path.join(root, 'nope');
    expect(((await failure(vm.prepare(pod([{ name: 'h', hostPath: { path: missing, type: 'Directory' } }])))) as Error).message).toBe(
      `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${missing} is not a directory`,
    );
    expect(((await failure(vm.prepare(pod([{ name: 'pvc', persistentVolumeClaim: { claimName: 'x' } }])))) as Error).message).toBe(
      'MountVolume.SetUp failed for volume "pvc" : volume type "persistentVolumeClaim" is not supported by nodelet',
    );
  });

  it('refuses names that could leave the pod directory', async () => {
    expect(((await failure(vm.prepare(pod([{ name: '../../escape', emptyDir: {} }])))) as Error).message).toBe(
      'MountVolume.SetUp failed for volume "../../escape" : invalid volume name "../../escape": must be a DNS-1123 label',
    );
    const err = await failure(vm.mountsFor(pod([]), { name: '../x', volumeMounts: [] }, []));
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
  });

  it('fsGroup: volume files get the group and group read access', async () => {
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'c' }, data: { a: '1' } });
    await vm.prepare(pod([{ name: 'cfg', configMap: { name: 'c', defaultMode: 0o600 } }, { name: 'e', emptyDir: {} }], { securityContext: { fsGroup: 4242 } }));
    const f = await stat(path.join(vdir('kubernetes.io~configmap', 'cfg'), 'a'));
    expect(f.gid).toBe(4242);
    expect(f.mode & 0o777).toBe(0o640);
    const e = await stat(vdir('kubernetes.io~empty-dir', 'e'));
    expect(e.gid).toBe(4242);
    expect(e.mode & 0o2000).toBe(0o2000);
  });

  it('mountsFor: read-only for API volumes, hostPath direct, subPath pinned, unknown volume refused', async () => {
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'c' }, data: { 'app.conf': '1' } });
    const p = pod([{ name: 'cfg', configMap: { name: 'c' } }, { name: 'host', hostPath: { path: '/tmp' } }]);
    await vm.prepare(p);
    const mounts = await vm.mountsFor(
      p,
      {
        name: 'c',
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/app' },
          { name: 'host', mountPath: '/host', mountPropagation: 'HostToContainer' },
          { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
        ],
      },
      [],
    );
    expect(mounts[0]).toEqual({ containerPath: '/etc/app', hostPath: vdir('kubernetes.io~configmap', 'cfg'), readonly: true, propagation: 'private' });
    expect(mounts[1]).toEqual({ containerPath: '/host', hostPath: '/tmp', readonly: false, propagation: 'rslave' });
    expect(mounts[2]?.hostPath).toBe(path.join(root, 'pods/uid-1/volume-subpaths/cfg/c/2'));
    const err = await failure(vm.mountsFor(p, { name: 'c', volumeMounts: [{ name: 'ghost', mountPath: '/g' }] }, []));
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe('cannot find volume "ghost" to mount into container "c"');
  });

  it('cleanup unmounts, removes the pod dir and never follows symlinks out of it', async () => {
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'keep'), 'precious');
    objects.setSecret('app', 's', { k: 'v' });
    const p = pod([{ name: 'e', emptyDir: {} }, { name: 's', secret: { secretName: 's' } }, { name: 'h', hostPath: { path: outside } }]);
    await vm.prepare(p);
    await symlink(outside, path.join(vdir('kubernetes.io~empty-dir', 'e'), 'link'));
    await vm.cleanup('uid-1');
    await expect(stat(path.join(root, 'pods/uid-1'))).rejects.toThrow();
    expect(await readFile(path.join(outside, 'keep'), 'utf8')).toBe('precious');
    expect(mounter.mounts.size).toBe(0);
    await vm.cleanup('uid-1');
    await expect(vm.cleanup('../..')).rejects.toThrow(/invalid uid/);
  });
});
