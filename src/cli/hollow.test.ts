import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '../../test/apiserver/index.js';
import { ApiClient, loadKubeConfig } from '../api/index.js';
import { hasCode } from '../util/errors.js';
import { silentLogger } from '../util/logger.js';
import { hollowNodeConfig, hollowNodeName, parseHollowArgs, serveHollowMetrics, startHollowNodes, type HollowFleet } from './hollow.js';
import { wiring } from './wiring.js';

const NODE_ARGS = ['--fail-swap-on=false', '--eviction-hard=memory.available<1Mi', '--image-gc-high-threshold=100'];

describe('nodelet hollow arguments', () => {
  it('parses the options and passes the nodelet flags after --', () => {
    const o = parseHollowArgs(['--count=3', '--name-prefix=h-', '--kubeconfig-dir=/k', '--metrics-port=9000', '--', '--max-pods=20']);
    expect(o).toMatchObject({ count: 3, namePrefix: 'h-', kubeconfigDir: '/k', metricsPort: 9000, kubeletApiBasePort: 0, rootDir: '/tmp/nodelet-hollow', nodeletArgs: ['--max-pods=20'] });
    expect(hollowNodeName('h-', 7)).toBe('h-007');
  });

  it('refuses a bad count and two identity sources with ConfigError', () => {
    for (const bad of [['--count=0'], ['--count=x'], ['--count=2', '--kubeconfig=/a', '--kubeconfig-dir=/b']]) {
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
    fleet = await startHollowNodes({ count: 2, namePrefix: 'hollow-', kubeconfig: s.kubeconfigPath, rootDir: dir, kubeletApiBasePort: 0, nodeletArgs: NODE_ARGS }, wiring, silentLogger());
    expect(fleet.names).toEqual(['hollow-001', 'hollow-002']);
    const api = new ApiClient(loadKubeConfig(s.kubeconfigPath));
    try {
      const ready = async (name: string): Promise<boolean> => {
        const n = await api.request<{ status?: { conditions?: { type: string; status: string }[] } }>({ path: `/api/v1/nodes/${name}` }).catch(() => undefined);
        return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      };
      for (let i = 0; i < 300 && !((await ready('hollow-001')) && (await ready('hollow-002'))); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await ready('hollow-001')).toBe(true);
      expect(await ready('hollow-002')).toBe(true);
      await api.request({
        method: 'POST',
        path: '/api/v1/namespaces/default/pods',
        body: { metadata: { name: 'hp' }, spec: { nodeName: 'hollow-002', containers: [{ name: 'c', image: 'example.com/any:1', command: ['sleep', 'infinity'] }] } },
      });
      type Pod = { status?: { phase?: string; podIP?: string } };
      let pod: Pod = {};
      for (let i = 0; i < 300 && pod.status?.phase !== 'Running'; i++) {
        pod = await api.request<Pod>({ path: '/api/v1/namespaces/default/pods/hp' });
        if (pod.status?.phase !== 'Running') await new Promise((r) => setTimeout(r, 100));
      }
      // Any image "pulls" on the fake runtime, and the pod IP comes from it.
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toMatch(/^10\.88\./);
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
