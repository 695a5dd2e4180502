/**
 * The pod environment against real Docker: a pod built by hand through the runtime seam (sandbox + containers from
 * createPodEnvironment's configs). Checks resolv.conf (never queried), /etc/hosts, a tmpfs secret volume, an
 * emptyDir shared by two containers, OOMKilled under a 32Mi limit, and the runAsNonRoot refusal.
 * Everything created carries io.nodelet.test=podenv; the pod dir (with its tmpfs mounts) is cleaned up.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeObjectSource } from '../../src/api/objects-fake.js';
import { waitFor } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime, PAUSE_IMAGE, TESTBOX_IMAGE, type Image, type PodSandboxConfig } from '../../src/cri/index.js';
import { createPodEnvironment, type ContainerContext, type PodEnvironment } from '../../src/kubelet/podenv/index.js';
import { HostMounter } from '../../src/kubelet/volumes/mounter.js';
import { RealClock } from '../../src/util/clock.js';
import { hasCode } from '../../src/util/errors.js';
import { silentLogger } from '../../src/util/logger.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const TEST_LABEL = 'podenv';
const docker = dockerClient();
const UID = `nlpe-${process.pid}-${Date.now()}`;

const pod: V1Pod = {
  metadata: { name: 'envpod', namespace: 'shop', uid: UID, labels: { 'io.nodelet.test': TEST_LABEL, app: 'envpod' } },
  spec: {
    hostname: 'envpod',
    subdomain: 'front',
    hostAliases: [{ ip: '10.9.9.9', hostnames: ['db.alias.local', 'db2.alias.local'] }],
    volumes: [
      { name: 'shared', emptyDir: {} },
      { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'cfg', configMap: { name: 'app-config' } },
    ],
    containers: [
      {
        name: 'writer',
        image: TESTBOX_IMAGE,
        command: ['sh', '-c', 'echo $(MESSAGE) > /shared/hello; exec sleep 300'],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'MESSAGE', value: 'from-$(POD_NAME)' }],
        volumeMounts: [
          { name: 'shared', mountPath: '/shared' },
          { name: 'creds', mountPath: '/etc/creds' },
        ],
      },
      {
        name: 'reader',
        image: TESTBOX_IMAGE,
        command: ['sleep', '300'],
        volumeMounts: [
          { name: 'shared', mountPath: '/data' },
          { name: 'cfg', mountPath: '/cfg' },
          { name: 'cfg', mountPath: '/pinned.conf', subPath: 'app.conf' },
        ],
      },
      {
        name: 'hog',
        image: TESTBOX_IMAGE,
        command: ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'],
        resources: { limits: { memory: '32Mi' } },
      },
    ],
  },
};

describe('pod environment on Docker', () => {
  const rt = new DockerRuntime({ socketPath: DOCKER_SOCKET });
  let root = '';
  let env: PodEnvironment;
  let objects: FakeObjectSource;
  let image: Image;
  let sandbox: PodSandboxConfig;
  let sandboxId = '';
  let podIP = '';
  const ids = new Map<string, string>();

  const ctx = (attempt = 0): ContainerContext => ({ podIPs: [podIP], hostIPs: ['127.0.0.1'], attempt, image, isInit: false, logDirectory: sandbox.logDirectory ?? '' });

  async function start(name: string): Promise<string> {
    const c = pod.spec!.containers.find((x) => x.name === name)!;
    const cfg = await env.containerConfig(pod, c, ctx());
    cfg.labels['io.nodelet.test'] = TEST_LABEL;
    const id = await rt.createContainer(sandboxId, cfg, sandbox);
    await rt.startContainer(id);
    ids.set(name, id);
    return id;
  }

  const sh = async (name: string, script: string): Promise<string> => {
    const r = await rt.execSync(ids.get(name)!, ['sh', '-c', script], 10);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    await removeLabelled(docker, 'io.nodelet.test', TEST_LABEL);
    root = mkdtempSync(join(tmpdir(), 'nlpe-int-'));
    writeFileSync(join(root, 'resolv.conf'), 'nameserver 127.0.0.53\nsearch corp.example\noptions edns0\n');
    objects = new FakeObjectSource(new RealClock());
    objects.setSecret('shop', 'creds', { password: 'hunter2' });
    objects.setConfigMap({ metadata: { namespace: 'shop', name: 'app-config' }, data: { 'app.conf': 'v1' } });
    env = createPodEnvironment({
      rootDir: root,
      nodeName: 'node-1',
      nodeIPs: ['127.0.0.1'],
      podInfraImage: PAUSE_IMAGE,
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      resolvConf: join(root, 'resolv.conf'),
      objects,
      logger: silentLogger(),
      clock: new RealClock(),
      podLogsDir: join(root, 'logs'),
      mounter: new HostMounter(),
    });
    image = (await rt.imageStatus(TESTBOX_IMAGE))!;
    await env.prepareVolumes(pod);
    sandbox = await env.sandboxConfig(pod, 0);
    sandboxId = await rt.runPodSandbox(sandbox);
    podIP = (await rt.podSandboxStatus(sandboxId)).ip;
    await start('writer');
    await start('reader');
  });

  afterAll(async () => {
    await rt.close();
    await removeLabelled(docker, 'io.nodelet.test', TEST_LABEL);
    await env?.cleanupPod(UID);
    rmSync(root, { recursive: true, force: true });
  });

  it('ClusterFirst resolv.conf: cluster DNS, the three cluster search domains (+ host search), ndots:5', async () => {
    const text = await sh('writer', 'cat /etc/resolv.conf');
    expect(text).toMatch(/^nameserver 10\.96\.0\.10$/m);
    expect(text).not.toMatch(/127\.0\.0\.53/);
    expect(text).toMatch(/^search shop\.svc\.cluster\.local svc\.cluster\.local cluster\.local corp\.example$/m);
    expect(text).toMatch(/^options ndots:5$/m);
  });

  it('/etc/hosts has the pod entry with FQDN and the hostAliases', async () => {
    expect(podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const text = await sh('reader', 'cat /etc/hosts');
    expect(text).toContain('# Kubernetes-managed hosts file.');
    expect(text).toContain(`${podIP}\tenvpod.front.shop.svc.cluster.local\tenvpod\n`);
    expect(text).toContain('# Entries added by HostAliases.\n10.9.9.9\tdb.alias.local\tdb2.alias.local\n');
    expect(readFileSync(join(root, 'pods', UID, 'etc-hosts'), 'utf8')).toBe(text);
  });

  it('secret volume: content, mode 0400, on tmpfs, read-only', async () => {
    expect(await sh('writer', 'cat /etc/creds/password')).toBe('hunter2');
    expect((await sh('writer', 'stat -L -c %a /etc/creds/password')).trim()).toBe('400');
    expect(await sh('writer', 'grep " /etc/creds " /proc/mounts')).toMatch(/^tmpfs \/etc\/creds tmpfs ro[, ]/m);
    const r = await rt.execSync(ids.get('writer')!, ['sh', '-c', 'echo x > /etc/creds/new'], 10);
    expect(r.exitCode).not.toBe(0);
  });

  it('two containers share an emptyDir; env expansion reached the command', async () => {
    const text = await waitFor('hello file', async () => {
      const r = await rt.execSync(ids.get('reader')!, ['cat', '/data/hello'], 10);
      return r.exitCode === 0 ? r.stdout : undefined;
    });
    expect(text).toBe('from-envpod\n');
  });

  it('configMap update reaches the volume in place while a subPath mount keeps its content', async () => {
    expect(await sh('reader', 'cat /cfg/app.conf /pinned.conf')).toBe('v1v1');
    objects.setConfigMap({ metadata: { namespace: 'shop', name: 'app-config' }, data: { 'app.conf': 'v2' } });
    await env.prepareVolumes(pod);
    expect(await sh('reader', 'cat /cfg/app.conf')).toBe('v2');
    expect(await sh('reader', 'cat /pinned.conf')).toBe('v1');
  });

  it('a subPath symlink pointing out of the volume is refused', async () => {
    await sh('writer', 'ln -s /etc /shared/escape');
    const c = { name: 'sneaky', image: TESTBOX_IMAGE, volumeMounts: [{ name: 'shared', mountPath: '/x', subPath: 'escape' }] };
    const err = await env.containerConfig(pod, c, ctx()).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe('failed to prepare subPath for volumeMount "shared" of container "sneaky": subPath "escape" resolves outside the volume');
  });

  it('a hostNetwork pod with ClusterFirstWithHostNet sees the cluster DNS in /etc/resolv.conf (never queried)', async () => {
    const hostUID = `${UID}-hn`;
    const hn: V1Pod = {
      metadata: { name: 'hnpod', namespace: 'shop', uid: hostUID, labels: { 'io.nodelet.test': TEST_LABEL } },
      spec: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', containers: [{ name: 'c', image: TESTBOX_IMAGE, command: ['sleep', '300'] }] },
    };
    let sbId = '';
    try {
      await env.prepareVolumes(hn);
      const sbCfg = await env.sandboxConfig(hn, 0);
      sbId = await rt.runPodSandbox(sbCfg);
      const cfg = await env.containerConfig(hn, hn.spec!.containers[0]!, { ...ctx(), podIPs: [] });
      cfg.labels['io.nodelet.test'] = TEST_LABEL;
      const id = await rt.createContainer(sbId, cfg, sbCfg);
      await rt.startContainer(id);
      const r = await rt.execSync(id, ['cat', '/etc/resolv.conf'], 10);
      expect(r.stdout).toBe('nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n');
    } finally {
      if (sbId !== '') await rt.removePodSandbox(sbId);
      await env.cleanupPod(hostUID);
    }
  });

  it('a memory hog with a 32Mi limit ends OOMKilled', async () => {
    const id = await start('hog');
    const st = await waitFor('hog exit', async () => {
      const s = await rt.containerStatus(id);
      return s.state === 'exited' ? s : undefined;
    }, 30_000);
    expect(st.reason).toBe('OOMKilled');
  });

  it('runAsNonRoot with a root image is refused before anything is created', async () => {
    const strict: V1Pod = { ...pod, spec: { ...pod.spec!, securityContext: { runAsNonRoot: true } } };
    const before = (await rt.listContainers({ podSandboxId: sandboxId })).length;
    const err = await env.containerConfig(strict, strict.spec!.containers[1]!, ctx()).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe(`container has runAsNonRoot and image will run as root (pod: "envpod_shop(${UID})", container: reader)`);
    expect((await rt.listContainers({ podSandboxId: sandboxId })).length).toBe(before);
  });
});
