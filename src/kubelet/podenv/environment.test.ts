import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeObjectSource } from '../../api/objects-fake.js';
import type { EventRecorder } from '../../api/types.js';
import { FakeClock } from '../../util/clock.js';
import { hasCode } from '../../util/errors.js';
import { silentLogger } from '../../util/logger.js';
import { FakeMounter, createPodEnvironment } from './index.js';
import type { PodEnvironment } from './types.js';

const image = { id: 'sha256:1', repoTags: [], repoDigests: [], size: 1, user: '', stopSignal: '' };

describe('createPodEnvironment', () => {
  let root: string;
  let env: PodEnvironment;
  let objects: FakeObjectSource;
  let events: string[];

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nlpe-env-'));
    await writeFile(path.join(root, 'resolv.conf'), 'nameserver 192.168.0.1\nsearch home.example\n');
    await writeFile(path.join(root, 'hosts'), '127.0.0.1 localhost node-1\n');
    const clock = new FakeClock();
    objects = new FakeObjectSource(clock);
    events = [];
    const recorder: EventRecorder = { event: (_r, type, reason, msg) => void events.push(`${type} ${reason} ${msg}`) };
    env = createPodEnvironment({
      rootDir: root,
      nodeName: 'node-1',
      nodeIPs: ['192.168.0.10'],
      podInfraImage: 'localhost/nodelet/pause:3.9',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      resolvConf: path.join(root, 'resolv.conf'),
      hostsFile: path.join(root, 'hosts'),
      objects,
      recorder,
      logger: silentLogger(),
      clock,
      mounter: new FakeMounter(),
      memoryCapacityBytes: 2 ** 30,
      podPidsLimit: 256,
    });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const pod = (spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x' } },
    spec: {
      hostname: 'web',
      subdomain: 'front',
      containers: [
        {
          name: 'app',
          image: 'localhost/nodelet/testbox:1.0',
          command: ['sh', '-c', 'echo $(GREETING)'],
          env: [{ name: 'GREETING', value: 'hi $(POD_NAME)' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          ports: [{ containerPort: 8080, hostPort: 18080 }, { containerPort: 9090 }],
          resources: { limits: { cpu: '500m', memory: '32Mi' } },
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        },
      ],
      volumes: [{ name: 'scratch', emptyDir: {} }],
      hostAliases: [{ ip: '10.9.9.9', hostnames: ['db.local'] }],
      ...spec,
    },
  });

  it('builds the sandbox config: DNS, hostname, ports, namespaces, labels, log dir, image', async () => {
    const cfg = await env.sandboxConfig(pod(), 2);
    expect(cfg).toMatchObject({
      metadata: { name: 'web', namespace: 'shop', uid: 'u-1', attempt: 2 },
      hostname: 'web',
      logDirectory: '/var/log/pods/shop_web_u-1',
      dnsConfig: {
        servers: ['10.96.0.10'],
        searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'home.example'],
        options: ['ndots:5'],
      },
      portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort: 18080 }],
      annotations: { note: 'x' },
      linux: { namespaceOptions: { network: 'pod', pid: 'container', ipc: 'pod' }, sysctls: {}, privileged: false },
      image: 'localhost/nodelet/pause:3.9',
    });
    expect(cfg.labels).toMatchObject({ app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.uid': 'u-1' });
  });

  it('builds the container config with expanded env/command, mounts, /etc/hosts, termination file, resources', async () => {
    const p = pod();
    await env.prepareVolumes(p);
    const c = p.spec!.containers[0]!;
    const cfg = await env.containerConfig(p, c, { podIPs: ['172.17.0.5'], hostIPs: [], attempt: 1, image, isInit: false, logDirectory: '/x' });
    expect(cfg.command).toEqual(['sh', '-c', 'echo hi $(POD_NAME)']);
    expect(cfg.envs.slice(0, 2)).toEqual([{ key: 'GREETING', value: 'hi $(POD_NAME)' }, { key: 'POD_NAME', value: 'web' }]);
    expect(cfg.logPath).toBe('app/1.log');
    // The pod workers write the container hash when they create the container; the environment leaves it out.
    expect(cfg.annotations).not.toHaveProperty('io.kubernetes.container.hash');
    expect(cfg.annotations['io.kubernetes.container.restartCount']).toBe('1');
    expect(cfg.linux.resources).toMatchObject({ memoryLimitInBytes: 32 * 2 ** 20, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512, oomScoreAdj: -997 });
    expect(cfg.linux.resources.pidsLimit).toBe(256);
    const byPath = new Map(cfg.mounts.map((m) => [m.containerPath, m]));
    expect(byPath.get('/scratch')?.hostPath).toBe(path.join(root, 'pods/u-1/volumes/kubernetes.io~empty-dir/scratch'));
    const hosts = byPath.get('/etc/hosts');
    expect(hosts?.hostPath).toBe(path.join(root, 'pods/u-1/etc-hosts'));
    const text = await readFile(hosts!.hostPath, 'utf8');
    expect(text).toContain('172.17.0.5\tweb.front.shop.svc.cluster.local\tweb\n');
    expect(text).toContain('# Entries added by HostAliases.\n10.9.9.9\tdb.local\n');
    const term = byPath.get('/dev/termination-log');
    expect(term?.hostPath.startsWith(path.join(root, 'pods/u-1/containers/app/'))).toBe(true);
    expect((await stat(term!.hostPath)).mode & 0o777).toBe(0o666);
  });

  it('no /etc/hosts before the pod IP is known; hostNetwork pods get the node file', async () => {
    const p = pod();
    await env.prepareVolumes(p);
    const ctx = { podIPs: [], hostIPs: [], attempt: 0, image, isInit: false, logDirectory: '/x' };
    const cfg = await env.containerConfig(p, p.spec!.containers[0]!, ctx);
    expect(cfg.mounts.some((m) => m.containerPath === '/etc/hosts')).toBe(false);
    const hn = pod({ hostNetwork: true });
    await env.prepareVolumes(hn);
    const cfg2 = await env.containerConfig(hn, hn.spec!.containers[0]!, ctx);
    const hosts = cfg2.mounts.find((m) => m.containerPath === '/etc/hosts');
    expect(await readFile(hosts!.hostPath, 'utf8')).toBe(
      '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost node-1\n\n# Entries added by HostAliases.\n10.9.9.9\tdb.local\n',
    );
  });

  it('hostNetwork pods with ClusterFirstWithHostNet get a kubelet-written resolv.conf; ClusterFirst keeps the node file', async () => {
    const ctx = { podIPs: [], hostIPs: [], attempt: 0, image, isInit: false, logDirectory: '/x' };
    const withNet = pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    await env.prepareVolumes(withNet);
    const cfg = await env.containerConfig(withNet, withNet.spec!.containers[0]!, ctx);
    const resolv = cfg.mounts.find((m) => m.containerPath === '/etc/resolv.conf');
    expect(await readFile(resolv!.hostPath, 'utf8')).toBe(
      'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local home.example\noptions ndots:5\n',
    );
    const plain = pod({ hostNetwork: true, dnsPolicy: 'ClusterFirst' });
    const cfg2 = await env.containerConfig(plain, plain.spec!.containers[0]!, ctx);
    expect(cfg2.mounts.some((m) => m.containerPath === '/etc/resolv.conf')).toBe(false);
    const podNet = pod({ dnsPolicy: 'ClusterFirstWithHostNet' });
    const cfg3 = await env.containerConfig(podNet, podNet.spec!.containers[0]!, { ...ctx, podIPs: ['172.17.0.9'] });
    expect(cfg3.mounts.some((m) => m.containerPath === '/etc/resolv.conf')).toBe(false);
  });

  it('refuses runAsNonRoot with a root image and privileged containers on this node', async () => {
    const p = pod({ securityContext: { runAsNonRoot: true } });
    const ctx = { podIPs: ['172.17.0.5'], hostIPs: [], attempt: 0, image, isInit: false, logDirectory: '/x' };
    const err = await env.containerConfig(p, p.spec!.containers[0]!, ctx).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe('container has runAsNonRoot and image will run as root (pod: "web_shop(u-1)", container: app)');
  });

  it('runs privileged containers (upstream always allows them since v1.15; admission decides who may create them)', async () => {
    const p = pod();
    p.spec!.containers[0]!.securityContext = { privileged: true };
    await env.prepareVolumes(p);
    const ctx = { podIPs: ['172.17.0.5'], hostIPs: [], attempt: 0, image, isInit: false, logDirectory: '/x' };
    const cfg = await env.containerConfig(p, p.spec!.containers[0]!, ctx);
    expect(cfg.linux.securityContext.privileged).toBe(true);
    expect(cfg.linux.securityContext.maskedPaths).toEqual([]);
  });

  it('a malformed quantity is a CREATE_CONTAINER_CONFIG error naming the field', async () => {
    const p = pod();
    p.spec!.containers[0]!.resources = { limits: { memory: 'lots' } };
    await env.prepareVolumes(p);
    const ctx = { podIPs: ['172.17.0.5'], hostIPs: [], attempt: 0, image, isInit: false, logDirectory: '/x' };
    const err = await env.containerConfig(p, p.spec!.containers[0]!, ctx).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/^spec\.containers\{app\}\.resources\.limits\.memory: quantities must match/);
  });

  it('missing configMap in env: CREATE_CONTAINER_CONFIG, then works once created', async () => {
    const p = pod();
    p.spec!.containers[0]!.env = [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }];
    await env.prepareVolumes(p);
    const ctx = { podIPs: ['172.17.0.5'], hostIPs: [], attempt: 0, image, isInit: false, logDirectory: '/x' };
    const err = await env.containerConfig(p, p.spec!.containers[0]!, ctx).catch((e: unknown) => e);
    expect((err as Error).message).toBe('configmap "cfg" not found');
    objects.setConfigMap({ metadata: { namespace: 'shop', name: 'cfg' }, data: { k: 'v' } });
    const cfg = await env.containerConfig(p, p.spec!.containers[0]!, ctx);
    expect(cfg.envs[0]).toEqual({ key: 'X', value: 'v' });
  });

  it('DNS limits produce a DNSConfigForming event', async () => {
    await env.sandboxConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] } }), 0);
    expect(events).toEqual([
      'Warning DNSConfigForming Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3',
    ]);
  });

  it('cleanupPod removes the pod directory', async () => {
    const p = pod();
    await env.prepareVolumes(p);
    expect(await env.podUIDsOnDisk?.()).toEqual(['u-1']);
    await env.cleanupPod('u-1');
    await expect(stat(path.join(root, 'pods/u-1'))).rejects.toThrow();
    expect(await env.podUIDsOnDisk?.()).toEqual([]);
  });
});
