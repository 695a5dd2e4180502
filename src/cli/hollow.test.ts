import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { ApiClient, loadKubeConfig } from '../api/index.js';
import { hasCode } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import { HOLLOW_POD_IP_RANGE, hollowNodeConfig, hollowNodeName, hollowPodRange, parseHollowArgs, serveHollowMetrics, startHollowNodes, type HollowFleet } from './hollow.js';
import { wiring } from './wiring.js';

const NODE_ARGS = ['--fail-swap-on=false', '--eviction-hard=memory.available<1Mi', '--image-gc-high-threshold=100'];

describe('nodelet hollow arguments', () => {
  it('parses the options and passes the nodelet flags after --', () => {
    const o = parseHollowArgs(['--count=3', '--name-prefix=h-', '--kubeconfig-dir=/k', '--metrics-port=9000', '--', '--max-pods=20']);
    expect(o).toMatchObject({ count: 3, namePrefix: 'h-', kubeconfigDir: '/k', metricsPort: 9000, kubeletApiBasePort: 0, rootDir: '/tmp/nodelet-hollow', nodeletArgs: ['--max-pods=20'] });
    expect(hollowNodeName('h-', 7)).toBe('h-007');
  });

  it('gives node i the i-th /24 of the pod IP range (distinct per node) and refuses ranges without room', () => {
    expect(parseHollowArgs(['--count=2']).podIpRange).toBe(HOLLOW_POD_IP_RANGE);
    expect(hollowPodRange(HOLLOW_POD_IP_RANGE, 1)).toBe('100.64.1.0/24');
    expect(hollowPodRange(HOLLOW_POD_IP_RANGE, 999)).toBe('100.67.231.0/24');
    expect(hollowPodRange('10.215.0.0/16', 255)).toBe('10.215.255.0/24');
    expect(hollowPodRange('10.215.7.9/16', 3)).toBe('10.215.3.0/24');
    const ranges = new Set(Array.from({ length: 999 }, (_, i) => hollowPodRange(HOLLOW_POD_IP_RANGE, i + 1)));
    expect(ranges.size).toBe(999);
  });

  it('refuses a bad count, two identity sources and a pod IP range without room with ConfigError', () => {
    for (const bad of [['--count=0'], ['--count=x'], ['--count=2', '--kubeconfig=/a', '--kubeconfig-dir=/b'], ['--count=2', '--pod-ip-range=10.0.0.0/24'], ['--count=300', '--pod-ip-range=10.215.0.0/16'], ['--count=2', '--pod-ip-range=fd15::/48']]) {
      let err: unknown;
      try {
        parseHollowArgs(bad);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'CONFIG_INVALID'), bad.join(' ')).toBe(true);
    }
  });

  it('builds each node a simulated config: own name, identity, root dir; fake runtime; host parts off', () => {
    const o = { ...parseHollowArgs(['--count=2', '--kubeconfig-dir=/k', '--root-dir=/r', '--', '--cgroups-per-qos=true', '--roles=kubelet,proxy']), count: 2 };
    const c = hollowNodeConfig(o, 'hollow-002', 2);
    expect(c.nodeName).toBe('hollow-002');
    expect(c.kubeconfig).toBe('/k/node-hollow-002.kubeconfig');
    expect(c.rootDir).toBe('/r/hollow-002');
    expect(c.kubelet.containerRuntimeEndpoint).toBe('fake://');
    expect(c.kubelet.cgroupsPerQOS).toBe(false);
    expect(c.roles).toEqual({ kubelet: true, proxy: false });
    expect(c.kubelet.healthzPort).toBe(0);
    expect(c.kubelet.server.enabled).toBe(false);
    const withApi = hollowNodeConfig({ ...o, kubeletApiBasePort: 30000 }, 'hollow-002', 2);
    expect(withApi.kubelet.server).toMatchObject({ enabled: true, port: 30002 });
  });
});

describe('nodelet hollow against the test API server', () => {
  let s: TestApiServer;
  let dir: string;
  let fleet: HollowFleet | undefined;

  beforeAll(async () => {
    s = await startTestApiServer();
    dir = mkdtempSync(join(tmpdir(), 'nodelet-hollow-test-'));
  });
  afterAll(async () => {
    await fleet?.shutdown('test end');
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers N nodes through the production wiring, runs their pods on the fake runtime and serves their metrics', async () => {
    const api = new ApiClient(loadKubeConfig(s.kubeconfigPath));
    // hollow-002's Node already has pod CIDRs (as the controller-manager allocates them); hollow-001's has none.
    await api.request({ method: 'POST', path: '/api/v1/nodes', body: { metadata: { name: 'hollow-002' }, spec: { podCIDR: '10.215.2.0/24', podCIDRs: ['10.215.2.0/24', 'fd15:0:0:2::/64'] } } });
    fleet = await startHollowNodes({ count: 2, namePrefix: 'hollow-', kubeconfig: s.kubeconfigPath, rootDir: dir, kubeletApiBasePort: 0, nodeletArgs: NODE_ARGS }, wiring, silentLogger());
    expect(fleet.names).toEqual(['hollow-001', 'hollow-002']);
    try {
      const ready = async (name: string): Promise<boolean> => {
        const n = await api.request<{ status?: { conditions?: { type: string; status: string }[] } }>({ path: `/api/v1/nodes/${name}` }).catch(() => undefined);
        return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      };
      for (let i = 0; i < 300 && !((await ready('hollow-001')) && (await ready('hollow-002'))); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await ready('hollow-001')).toBe(true);
      expect(await ready('hollow-002')).toBe(true);
      type Pod = { status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] } };
      const running = async (name: string, node: string): Promise<Pod> => {
        await api.request({
          method: 'POST',
          path: '/api/v1/namespaces/default/pods',
          body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'example.com/any:1', command: ['sleep', 'infinity'] }] } },
        });
        let pod: Pod = {};
        for (let i = 0; i < 300 && pod.status?.phase !== 'Running'; i++) {
          pod = await api.request<Pod>({ path: `/api/v1/namespaces/default/pods/${name}` });
          if (pod.status?.phase !== 'Running') await new Promise((r) => setTimeout(r, 100));
        }
        return pod;
      };
      // Any image "pulls" on the fake runtime, and the pod IPs come from it: unique across the fleet, from the
      // Node's pod CIDRs when allocated, else from the node's own /24 of --pod-ip-range.
      const pods = [await running('hp', 'hollow-002'), await running('hp2', 'hollow-002'), await running('hp1', 'hollow-001')];
      expect(pods.map((p) => p.status?.phase)).toEqual(['Running', 'Running', 'Running']);
      expect(pods.map((p) => p.status?.podIPs?.map((x) => x.ip))).toEqual([
        ['10.215.2.2', 'fd15:0:0:2::2'],
        ['10.215.2.3', 'fd15:0:0:2::3'],
        ['100.64.1.2'],
      ]);
    } finally {
      api.close();
    }
    const server = await serveHollowMetrics(fleet, '127.0.0.1', 0);
    try {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const node of ['hollow-001', 'hollow-002']) {
        expect(text).toMatch(new RegExp(`rest_client_requests_total\\{code="\\d+",host="[^"]+",method="PATCH",hollow_node="${node}"\\} [1-9]`));
        expect(text).toMatch(new RegExp(`nodelet_rest_client_watches\\{host="[^"]+",hollow_node="${node}"\\} 1`));
      }
    } finally {
      server.close();
    }
  }, 60_000);
});
