/**
 * Fakes for node agent tests: an in-memory Node API and Lease API (with an "API server down" switch and
 * resourceVersion conflicts like the real one) and a host with fixed readings.
 */
import type { V1Lease, V1Node, V1NodeCondition } from '@kubernetes/client-node';
import type { LeaseApi } from '../../api/leases.js';
import type { NodeApi } from '../../api/nodes.js';
import { AlreadyExistsError, ConflictError, NodeletError, NotFoundError } from '../../util/errors.js';
import type { HostIdentity, HostReader, HostReadings } from './host.js';

function mergeByType<T extends { type?: string }>(old: T[] | undefined, patch: T[] | undefined): T[] | undefined {
  if (patch === undefined) return old;
  const out = [...(old ?? [])];
  for (const p of patch) {
    const i = out.findIndex((o) => o.type === p.type);
    if (i >= 0) out[i] = { ...out[i], ...p };
    else out.push(p);
  }
  return out;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** An in-memory Node API. `down = true` makes every call fail like an unreachable server. */
export class FakeNodeApi implements NodeApi {
  readonly nodes = new Map<string, V1Node>();
  /** Every status patch body, in order. */
  readonly statusPatches: { status: V1Node['status'] }[] = [];
  down = false;
  #rv = 1;

  #check(): void {
    if (this.down) throw new NodeletError('API_ERROR', 'connect ECONNREFUSED 127.0.0.1:6443');
  }

  async get(name: string): Promise<V1Node> {
    this.#check();
    const n = this.nodes.get(name);
    if (n === undefined) throw new NotFoundError(`nodes "${name}" not found`);
    return clone(n);
  }

  async create(node: V1Node): Promise<V1Node> {
    this.#check();
    const name = node.metadata?.name ?? '';
    if (this.nodes.has(name)) throw new AlreadyExistsError(`nodes "${name}" already exists`);
    const stored = clone({ ...node, metadata: { ...node.metadata, uid: `uid-${name}`, resourceVersion: String(this.#rv++) } });
    this.nodes.set(name, stored);
    return clone(stored);
  }

  async patch(name: string, patch: { metadata?: { labels?: Record<string, string> } }): Promise<V1Node> {
    const n = await this.get(name);
    n.metadata = { ...n.metadata, labels: { ...n.metadata?.labels, ...patch.metadata?.labels }, resourceVersion: String(this.#rv++) };
    this.nodes.set(name, n);
    return clone(n);
  }

  async patchStatus(name: string, patch: { status?: V1Node['status'] }): Promise<V1Node> {
    const n = await this.get(name);
    this.statusPatches.push(clone({ status: patch.status }));
    const s = clone(patch.status ?? {});
    n.status = {
      ...n.status,
      ...s,
      conditions: mergeByType<V1NodeCondition>(n.status?.conditions, s.conditions),
      addresses: mergeByType(n.status?.addresses, s.addresses),
    };
    this.nodes.set(name, n);
    return clone(n);
  }
}

/** An in-memory Lease API with optimistic concurrency. */
export class FakeLeaseApi implements LeaseApi {
  readonly leases = new Map<string, V1Lease>();
  /** Serialized renewTime of every successful write. */
  readonly renewTimes: string[] = [];
  down = false;
  #rv = 1;

  #check(): void {
    if (this.down) throw new NodeletError('API_ERROR', 'connect ECONNREFUSED 127.0.0.1:6443');
  }

  #store(key: string, lease: V1Lease): V1Lease {
    const stored = clone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(this.#rv++) } });
    this.renewTimes.push(String(stored.spec?.renewTime));
    this.leases.set(key, stored);
    return clone(stored);
  }

  async get(namespace: string, name: string): Promise<V1Lease> {
    this.#check();
    const l = this.leases.get(`${namespace}/${name}`);
    if (l === undefined) throw new NotFoundError(`leases "${name}" not found`);
    return clone(l);
  }

  async create(namespace: string, lease: V1Lease): Promise<V1Lease> {
    this.#check();
    const key = `${namespace}/${lease.metadata?.name ?? ''}`;
    if (this.leases.has(key)) throw new AlreadyExistsError(`leases "${lease.metadata?.name ?? ''}" already exists`);
    return this.#store(key, lease);
  }

  async replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease> {
    this.#check();
    const key = `${namespace}/${name}`;
    const cur = this.leases.get(key);
    if (cur === undefined) throw new NotFoundError(`leases "${name}" not found`);
    if (cur.metadata?.resourceVersion !== lease.metadata?.resourceVersion) throw new ConflictError('the object has been modified');
    return this.#store(key, lease);
  }
}

/** Identity used by {@link fakeHost}. */
export const FAKE_IDENTITY: HostIdentity = {
  hostname: 'worker-1',
  machineID: 'm-1',
  bootID: 'b-1',
  systemUUID: 'u-1',
  kernelVersion: '6.1.0-test',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  cpuCount: 4,
};

/** Default readings: 8 GiB memory (6 GiB available), 100 GiB disk (50 GiB free), few pids. */
export function fakeReadings(): HostReadings {
  return {
    memory: { totalBytes: 8 * 2 ** 30, availableBytes: 6 * 2 ** 30, swapTotalBytes: 0 },
    fs: { capacityBytes: 100 * 2 ** 30, availableBytes: 50 * 2 ** 30, inodes: 1_000_000, inodesFree: 900_000 },
    pids: { running: 200, max: 4_194_304 },
  };
}

/** A host whose readings the test controls. */
export function fakeHost(readings: HostReadings = fakeReadings()): HostReader & { readings_: HostReadings } {
  return {
    readings_: readings,
    identity: () => FAKE_IDENTITY,
    readings() {
      return this.readings_;
    },
    defaultAddress: () => '192.0.2.10',
  };
}
