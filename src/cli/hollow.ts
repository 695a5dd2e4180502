/**
 * `nodelet hollow`: many simulated ("hollow") nodes in one process, as upstream kubemark runs hollow kubelets, to
 * measure what a node costs the control plane. Each node is a whole daemon built by the production wiring
 * (`startDaemon` + `wiring`): its own API clients, node agent (registration, status, lease), pod informer, pod
 * workers, status writer and event recorder — over the in-memory fake runtime (fake://) with the host-touching parts
 * off ({@link simulationConfig}). Nodes share only the process (and its event loop). One HTTP server serves all the
 * nodes' metrics, each series labelled `hollow_node`.
 *
 * Pod IPs are unique across the fleet: node i's fake runtime hands out addresses from the i-th /24 of
 * `--pod-ip-range` until its Node has a podCIDR (controller-manager --allocate-node-cidrs), then from that.
 *
 *   nodelet hollow --count=N [--name-prefix=hollow-] [--kubeconfig-dir=DIR | --kubeconfig=FILE]
 *                  [--root-dir=/tmp/nodelet-hollow] [--metrics-port=0] [--metrics-address=127.0.0.1]
 *                  [--kubelet-api-base-port=0] [--pod-ip-range=100.64.0.0/10] [-- <nodelet flags for every node>]
 */
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ipaddr from 'ipaddr.js';
import { AggregatorRegistry } from 'prom-client';
import { resolveConfig, type NodeletConfig } from '../config/index.js';
import { podCidrUpdaterOf } from '../cri/index.js';
import { ConfigError, errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { startDaemon, type Daemon, type RoleFactories } from './daemon.js';
import { FAKE_ENDPOINT } from './endpoint.js';
import { createRootLogger } from './logging.js';
import { applyMemoryFlags } from './memory-flags.js';
import { buildProgram, rawFlags } from './program.js';
import { simulationConfig } from './simulation.js';

/** What `nodelet hollow` runs. */
export interface HollowOptions {
  count: number;
  /** Node names are `<prefix><index>`, the index 1-based and zero-padded to 3 digits. */
  namePrefix: string;
  /** Directory with `node-<name>.kubeconfig` per node (../shared/k8s/up.sh's layout): each node its own identity. */
  kubeconfigDir?: string;
  /** One kubeconfig for every node (an identity allowed to act for all of them). */
  kubeconfig?: string;
  /** Each node's --root-dir is `<rootDir>/<name>`. */
  rootDir: string;
  /** Node i's kubelet API listens on base + i; 0 = the kubelet API is off. */
  kubeletApiBasePort: number;
  /** Further nodelet flags given to every node. */
  nodeletArgs: string[];
  /** IPv4 range whose i-th /24 is node i's pod IP range until its Node has a podCIDR (default {@link HOLLOW_POD_IP_RANGE}). */
  podIpRange?: string;
}

/** Default of --pod-ip-range: the shared address space (RFC 6598), room for 16383 nodes' /24s. */
export const HOLLOW_POD_IP_RANGE = '100.64.0.0/10';

/**
 * The pod IP range of hollow node `i` (1-based) before its Node has a podCIDR: the i-th /24 of `range` (pure).
 * Throws ConfigError when `range` is not an IPv4 CIDR of /23 or wider, or has no i-th /24.
 */
export function hollowPodRange(range: string, i: number): string {
  const bad = (why: string): ConfigError => new ConfigError(`nodelet hollow: --pod-ip-range=${range}: ${why}`, { field: '--pod-ip-range' });
  let base: ipaddr.IPv4;
  let len: number;
  try {
    const [a, l] = ipaddr.IPv4.parseCIDR(range);
    base = a;
    len = l;
  } catch {
    throw bad('not an IPv4 CIDR');
  }
  if (len > 23) throw bad('needs /23 or wider (one /24 per node)');
  if (i < 0 || i >= 2 ** (24 - len)) throw bad(`has no room for node ${i}`);
  const start = (base.toByteArray().reduce((acc, b) => acc * 256 + b, 0) & ~(2 ** (32 - len) - 1)) >>> 0;
  const n = start + i * 256;
  return `${[24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.')}/24`;
}

/** The factories of one hollow node: its fake runtime starts on `podRange` (the pod CIDR sync moves it later). */
function withPodRange(factories: RoleFactories, podRange: string, logger: Logger): RoleFactories {
  return {
    ...factories,
    createRuntime(config, log) {
      const runtime = factories.createRuntime(config, log);
      podCidrUpdaterOf(runtime)
        ?.updatePodCIDR([podRange])
        .catch((err: unknown) => logger.warn({ podRange, err: errorMessage(err) }, 'hollow node: cannot set the pod IP range'));
      return runtime;
    },
  };
}

/** The running nodes. */
export interface HollowFleet {
  readonly names: readonly string[];
  readonly daemons: readonly Daemon[];
  /** Every node's metrics in the Prometheus text format, each series labelled `hollow_node`. */
  metrics(): Promise<string>;
  shutdown(reason: string): Promise<void>;
}

/** The name of node `i` (1-based). */
export function hollowNodeName(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(3, '0')}`;
}

/** The config of hollow node `name` (pure but for reading the flag table). */
export function hollowNodeConfig(o: HollowOptions, name: string, index: number): NodeletConfig {
  const kubeconfig = o.kubeconfig ?? (o.kubeconfigDir === undefined ? undefined : join(o.kubeconfigDir, `node-${name}.kubeconfig`));
  const args = [...o.nodeletArgs, '--hostname-override', name, '--root-dir', join(o.rootDir, name), '--container-runtime-endpoint', FAKE_ENDPOINT, '--healthz-port', '0', '--roles', 'kubelet'];
  if (kubeconfig !== undefined) args.push('--kubeconfig', kubeconfig);
  const program = buildProgram().exitOverride();
  program.parse(['node', 'nodelet', ...args]);
  const config = simulationConfig(resolveConfig({ flags: rawFlags(program), hostname: hostname() })).config;
  const server = o.kubeletApiBasePort > 0 ? { ...config.kubelet.server, port: o.kubeletApiBasePort + index } : { ...config.kubelet.server, enabled: false };
  return { ...config, kubelet: { ...config.kubelet, server } };
}

/** Starts the nodes one after another (a node that cannot start stops the ones started and throws). */
export async function startHollowNodes(o: HollowOptions, factories: RoleFactories, logger: Logger): Promise<HollowFleet> {
  const names: string[] = [];
  const daemons: Daemon[] = [];
  const fleet: HollowFleet = {
    names,
    daemons,
    async metrics() {
      const all = await Promise.all(daemons.map((d) => d.registry.getMetricsAsJSON()));
      return AggregatorRegistry.aggregate(all).metrics();
    },
    async shutdown(reason) {
      await Promise.all(daemons.map((d) => d.shutdown(reason)));
    },
  };
  try {
    for (let i = 1; i <= o.count; i++) {
      const name = hollowNodeName(o.namePrefix, i);
      const config = hollowNodeConfig(o, name, i);
      const nodeLogger = logger.child({ node: name });
      const podRange = hollowPodRange(o.podIpRange ?? HOLLOW_POD_IP_RANGE, i);
      const daemon = await startDaemon(config, withPodRange(factories, podRange, nodeLogger), nodeLogger, 0);
      daemon.registry.setDefaultLabels({ hollow_node: name });
      names.push(name);
      daemons.push(daemon);
    }
  } catch (err) {
    await fleet.shutdown('a hollow node failed to start');
    throw err;
  }
  return fleet;
}

/** Serves `GET /metrics` (all nodes) and `/healthz` on address:port (0 = any free port). */
export async function serveHollowMetrics(fleet: HollowFleet, address: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    if (req.url !== '/metrics') {
      res.statusCode = 404;
      res.end();
      return;
    }
    fleet.metrics().then(
      (text) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(text);
      },
      (err: unknown) => {
        res.statusCode = 500;
        res.end(errorMessage(err));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return server;
}

/** Parses `nodelet hollow` arguments (throws ConfigError). */
export function parseHollowArgs(argv: string[]): HollowOptions & { metricsPort: number; metricsAddress: string; logLevel: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      count: { type: 'string' },
      'name-prefix': { type: 'string', default: 'hollow-' },
      'kubeconfig-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      'root-dir': { type: 'string', default: '/tmp/nodelet-hollow' },
      'metrics-port': { type: 'string', default: '0' },
      'metrics-address': { type: 'string', default: '127.0.0.1' },
      'kubelet-api-base-port': { type: 'string', default: '0' },
      'pod-ip-range': { type: 'string', default: HOLLOW_POD_IP_RANGE },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const int = (field: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`nodelet hollow: --${field} must be an integer in ${min}..${max}, got "${v ?? ''}"`, { field: `--${field}` });
    return n;
  };
  if (values.kubeconfig !== undefined && values['kubeconfig-dir'] !== undefined) {
    throw new ConfigError('nodelet hollow: give --kubeconfig or --kubeconfig-dir, not both', { field: '--kubeconfig' });
  }
  const count = int('count', values.count, 1, 999);
  hollowPodRange(values['pod-ip-range'], count);
  return {
    count,
    podIpRange: values['pod-ip-range'],
    namePrefix: values['name-prefix'],
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    ...(values['kubeconfig-dir'] === undefined ? {} : { kubeconfigDir: values['kubeconfig-dir'] }),
    rootDir: values['root-dir'],
    kubeletApiBasePort: int('kubelet-api-base-port', values['kubelet-api-base-port'], 0, 65000),
    metricsPort: int('metrics-port', values['metrics-port'], 0, 65535),
    metricsAddress: values['metrics-address'],
    logLevel: values['log-level'],
    nodeletArgs: positionals,
  };
}

/** The `nodelet hollow` command: runs until SIGTERM/SIGINT. */
export async function runHollow(argv: string[]): Promise<void> {
  let o: ReturnType<typeof parseHollowArgs>;
  try {
    o = parseHollowArgs(argv);
  } catch (err) {
    console.error(`nodelet: ${errorMessage(err)}`);
    process.exit(1);
  }
  applyMemoryFlags();
  const logger = createRootLogger({ level: o.logLevel, format: 'json' }, { hollow: true });
  const { wiring } = await import('./wiring.js');
  let fleet: HollowFleet;
  try {
    fleet = await startHollowNodes(o, wiring, logger);
  } catch (err) {
    logger.flush();
    console.error(`nodelet hollow: ${errorMessage(err)}`);
    process.exit(1);
  }
  const server = await serveHollowMetrics(fleet, o.metricsAddress, o.metricsPort);
  const address = server.address();
  logger.info({ nodes: fleet.names.length, metricsPort: typeof address === 'object' && address !== null ? address.port : undefined, startupMs: Math.round(process.uptime() * 1000) }, 'hollow nodes started');
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const onSignal = (signal: NodeJS.Signals): void => {
    void fleet.shutdown(signal).then(() => {
      server.close();
      clearInterval(keepAlive);
      logger.flush();
      process.exit(0);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
