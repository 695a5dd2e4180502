/**
 * The iptables proxier: watch handlers feed the change trackers; `sync()` (driven by the BoundedFrequencyRunner)
 * renders rules as a pure function of the applied state and writes them with one iptables-restore run.
 * Full syncs (at start, after any failure, after the canary is lost, and every fullSyncPeriodMs) rewrite every
 * chain and delete stale ones found by iptables-save; partial syncs rewrite only changed services' chains plus the
 * small top-level chains.
 */
import type { Clock, Logger } from '../util/index.js';
import { errorMessage } from '../util/index.js';
import { objectKey } from '../api/types.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { staleConntrackFilters, type Conntrack } from './conntrack.js';
import { categorizeEndpoints, endpointPortKey } from './endpoints.js';
import type { Iptables } from './iptables.js';
import { SnapshotBuilder, kernelChainsDigest, type KernelSnapshot } from './snapshot.js';
import type { ProxyMetrics } from './metrics.js';
import { isServiceChainName } from './names.js';
import type { ResolvedProxyConfig } from './config.js';
import type { RenderContext } from './render-service.js';
import { RuleCache } from './rule-cache.js';
import { JUMP_RULES, KUBELET_JUMP_RULES, renderTop, type JumpRule } from './render-top.js';
import { buildRestoreData, type WrittenTop } from './restore-data.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from './tracker.js';
import { missingJumps } from './jumps.js';
import { ZONE_LABEL } from './topology.js';
import { cidrContains } from './families.js';

/** Health-check servers the proxier reports to (see healthz.ts / svchealth.ts). */
export interface ProxierHealthSink {
  queued(): void;
  updated(): void;
}
/** Per-service health check node ports. */
export interface ServiceHealthSink {
  sync(services: Map<number, string>, localEndpoints: Map<string, number>): Promise<void>;
}

/** Options of {@link Proxier}. */
export interface ProxierOptions {
  iptables: Iptables;
  config: ResolvedProxyConfig;
  nodeName: string;
  /** Node IPs of this family. */
  nodeIPs: string[];
  /** Local addresses NodePorts may use when nodePortAddresses is set (defaults to nodeIPs + 127.0.0.1). */
  localAddresses?: string[];
  logger: Logger;
  clock: Clock;
  metrics: ProxyMetrics;
  conntrack?: Conntrack;
  health?: ProxierHealthSink;
  serviceHealth?: ServiceHealthSink;
  /** Services per nat transaction in full syncs (default 100). */
  batchSize?: number;
  /** Force a full sync this often (default 1 h, as upstream). */
  fullSyncPeriodMs?: number;
  /** Called when a sync wants a retry (wired to the runner). */
  requestSync?: () => void;
  retryAfter?: (ms: number) => void;
}

/** Result of one sync step, for tests and benchmarks. */
export interface SyncResult {
  kind: 'skipped' | 'full' | 'partial';
  ok: boolean;
  restoreBytes: number;
  transactions: number;
}

const LARGE_CLUSTER_ENDPOINTS = 1000;
/** Renders of more services than this keep only digests and render chain lines again batch by batch when writing. */
const DEFER_LINES_ABOVE = 100;

/** The kernel's nat chains after a successful write: those it had, plus the ones written, minus the stale ones. */
function afterWrite(before: Set<string> | undefined, written: readonly string[], stale: readonly string[]): Set<string> | undefined {
  if (before === undefined) return undefined;
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', ...written]) before.add(c);
  for (const c of stale) before.delete(c);
  return before;
}

/** See the file comment. One instance per IP family. */
export class Proxier {
  readonly #o: ProxierOptions;
  readonly #log: Logger;
  readonly services: ServiceChangeTracker;
  readonly endpoints: EndpointsChangeTracker;
  #servicesSynced = false;
  #slicesSynced = false;
  #needFull = true;
  #lastFull = -Infinity;
  /** JSON of the render context the cached rules were rendered with ('' = nothing rendered yet). */
  #renderedWith = '';
  #ctx: RenderContext | undefined;
  /** This node's topology.kubernetes.io/zone label. */
  #zone = '';
  readonly #cache = new RuleCache();
  #written: WrittenTop | undefined;
  /** nat chains the kernel has after the last successful sync (undefined: unknown, e.g. after a failure). */
  #kernelChains: Set<string> | undefined;

  constructor(options: ProxierOptions) {
    this.#o = options;
    this.#log = options.logger;
    const family = options.iptables.family;
    this.services = new ServiceChangeTracker(family);
    this.endpoints = new EndpointsChangeTracker(family, options.nodeName, () => options.clock.monotonic());
  }

  /** True once both initial lists have been delivered. */
  get initialized(): boolean {
    return this.#servicesSynced && this.#slicesSynced;
  }

  #changed(pending: boolean): void {
    this.#o.metrics.serviceChangesPending.set(this.services.pending);
    this.#o.metrics.endpointChangesPending.set(this.endpoints.pending);
    if (pending && this.initialized) this.requestSync();
  }

  /** Informer handler: service added/updated/deleted (`obj` undefined when deleted, `key` = ns/name). */
  onService(key: string, obj: ServiceObject | undefined): void {
    const pending = this.services.update(key, obj);
    if (pending) this.#o.metrics.serviceChangesTotal.inc();
    this.#changed(pending);
  }

  /** Informer handler: EndpointSlice added/updated (deleted=false) or deleted. */
  onEndpointSlice(slice: EndpointSliceObject, deleted: boolean): void {
    const pending = this.endpoints.update(slice, deleted);
    if (pending) this.#o.metrics.endpointChangesTotal.inc();
    this.#changed(pending);
  }

  /** Informer handler: initial service list delivered. */
  onServicesSynced(): void {
    this.#servicesSynced = true;
    if (this.initialized) this.requestSync();
  }

  /** Informer handler: initial EndpointSlice list delivered. */
  onEndpointSlicesSynced(): void {
    this.#slicesSynced = true;
    if (this.initialized) this.requestSync();
  }

  /**
   * Node handler: this node's labels (added/updated). A zone change re-renders every service (zone hints) in the next
   * sync; other label changes are no-ops.
   */
  onNodeLabels(labels: Readonly<Record<string, string>> | undefined): void {
    const zone = labels?.[ZONE_LABEL] ?? '';
    if (zone === this.#zone) return;
    this.#log.info({ zone, previous: this.#zone }, 'Node zone changed; re-rendering all services');
    this.#zone = zone;
    if (this.initialized) this.requestSync();
  }

  /** Forces the next sync to be a full one (canary lost, node changed) and requests it. */
  forceFullSync(): void {
    this.#needFull = true;
    this.requestSync();
  }

  /** Asks for a sync soon (rate-limited by the runner). */
  requestSync(): void {
    this.#o.metrics.lastQueuedTimestamp.set(this.#o.clock.now() / 1000);
    this.#o.health?.queued();
    this.#o.requestSync?.();
  }

  /** One sync step. Never throws: failures are logged, counted, and turn the next sync into a full one. */
  async sync(): Promise<SyncResult> {
    if (!this.initialized) {
      this.#log.debug('Not syncing iptables until Services and EndpointSlices have been received');
      return { kind: 'skipped', ok: true, restoreBytes: 0, transactions: 0 };
    }
    const clock = this.#o.clock;
    const start = clock.monotonic();
    const full = this.#needFull || start - this.#lastFull >= (this.#o.fullSyncPeriodMs ?? 3_600_000);
    const svcChanges = this.services.apply();
    const epChanges = this.endpoints.apply();
    this.#changed(false);
    let ok = false;
    let bytes = 0;
    let transactions = 0;
    try {
      const changedServices = new Set<string>([...svcChanges.map((c) => c.name), ...epChanges.map((c) => c.name)]);
      let writeSet = this.#rerender(changedServices);
      let jumps: JumpRule[] = [];
      let stale: string[];
      // The nat chains the kernel has now: batches of a big write only create chains not among them (atomicity).
      let inKernel: Set<string> | undefined = this.#kernelChains;
      if (full) {
        const b = new SnapshotBuilder();
        await this.#o.iptables.scan((l) => b.line(l));
        const snap = b.done();
        inKernel = new Set(snap.nat.chains);
        const wanted = [...JUMP_RULES, ...(this.#localhostNodePorts() ? KUBELET_JUMP_RULES : [])];
        jumps = missingJumps(wanted, snap);
        stale = snap.nat.chains.filter((c) => isServiceChainName(c) && !this.#cache.isActive(c));
        writeSet = this.#differingFromKernel(snap, writeSet);
      } else {
        stale = this.#cache.dropped();
      }
      // Partial sync without top-level changes: hand over only the written services (O(changes), no sort).
      const skipTop = !full && !this.#cache.topDirty && this.#written !== undefined;
      const data = buildRestoreData({
        services: skipTop ? [...writeSet].flatMap((n) => { const r = this.#cache.rules.get(n); return r ? [[n, r] as const] : []; }) : this.#cache.ordered(),
        top: renderTop({
          family: this.#o.iptables.family,
          masqueradeMark: this.#o.config.masqueradeMark,
          randomFully: this.#o.iptables.randomFully,
          localhostNodePorts: this.#localhostNodePorts(),
          tcpBeLiberal: this.#o.config.tcpBeLiberal,
          nodePortIPs: this.#nodePortIPs(),
        }),
        write: writeSet,
        full,
        skipTop,
        staleNatChains: stale,
        jumps,
        canary: full,
        batchSize: this.#o.batchSize ?? 100,
        previous: this.#written,
        release: (name) => this.#cache.release(name),
        chainsOf: (name) => this.#cache.chainsOf(name),
        existingNatChain: inKernel === undefined ? undefined : (c) => inKernel.has(c),
      });
      const previous = this.#written;
      this.#written = undefined;
      try {
        const chunks = nonEmpty(data.chunks);
        if (chunks !== undefined) await this.#o.iptables.restore(chunks, { noflush: true });
      } finally {
        this.#cache.releaseRules();
        bytes = data.bytes;
        transactions = data.transactions;
      }
      this.#written = skipTop ? previous : data.written;
      this.#kernelChains = afterWrite(inKernel, data.writtenNatChains, stale);
      this.#cache.committed();
      ok = true;
      this.#needFull = false;
      if (full) this.#lastFull = start;
      this.#afterSuccess(this.#cache.natRules, data.filterRules, data.natRules);
      for (const c of epChanges) {
        for (const t of c.triggers) this.#o.metrics.networkProgramming.observe(Math.max(0, (clock.now() - t) / 1000));
      }
      await this.#o.conntrack?.clear(staleConntrackFilters(svcChanges, epChanges, (n) => this.services.services().get(n)));
    } catch (err) {
      this.#needFull = true;
      this.#kernelChains = undefined;
      this.#cache.markTopDirty();
      this.#o.metrics.restoreFailures.inc();
      if (!full) this.#o.metrics.partialRestoreFailures.inc();
      this.#log.error({ err: errorMessage(err), full }, 'Sync failed');
      this.#o.retryAfter?.(this.#o.config.syncPeriodMs);
    } finally {
      const secs = (clock.monotonic() - start) / 1000;
      this.#o.metrics.syncDuration.observe(secs);
      (full ? this.#o.metrics.syncFullDuration : this.#o.metrics.syncPartialDuration).observe(secs);
      this.#log.debug({ full, ok, elapsedMs: Math.round(secs * 1000), bytes }, 'SyncProxyRules complete');
    }
    return { kind: full ? 'full' : 'partial', ok, restoreBytes: bytes, transactions };
  }

  /**
   * Re-renders changed services (all of them when the render context or large-cluster mode changed); returns the
   * written port names.
   */
  #rerender(changedServices: Set<string>): Set<string> {
    const ctx: RenderContext = {
      family: this.#o.iptables.family,
      masqueradeMark: this.#o.config.masqueradeMark,
      masqueradeAll: this.#o.config.masqueradeAll,
      localDetector: this.#o.config.localDetector,
      largeClusterMode: this.endpoints.total() > LARGE_CLUSTER_ENDPOINTS,
      nodeIPs: this.#o.nodeIPs,
      zone: this.#zone,
    };
    const key = JSON.stringify(ctx);
    const all = key !== this.#renderedWith;
    this.#renderedWith = key;
    this.#ctx = ctx;
    const services = this.services.services();
    const names = all ? new Set([...services.keys(), ...this.#cache.serviceNames()]) : changedServices;
    return this.#cache.update(names, services, (n) => this.endpoints.endpoints(n), ctx, names.size > DEFER_LINES_ABOVE);
  }

  /**
   * Full sync: the service ports whose nat chains differ from what the kernel has (per iptables-save digests), out of
   * all rendered ones. Ports rendered in this sync are compared as they are; older ones (whose rule lines were dropped
   * after writing) are re-rendered when they differ. A full sync over intact rules thus costs an iptables-save, not a
   * re-render or rewrite of every chain.
   */
  #differingFromKernel(snap: KernelSnapshot, fresh: Set<string>): Set<string> {
    const out = new Set<string>();
    const rerender = new Set<string>();
    for (const [portName, r] of this.#cache.rules) {
      if (this.#cache.digest(portName) === kernelChainsDigest(snap, r.natChains.keys())) continue;
      if (fresh.has(portName)) out.add(portName);
      else rerender.add(this.#cache.ports.get(portName)?.service ?? portName);
    }
    if (rerender.size > 0 && this.#ctx !== undefined) {
      const again = this.#cache.update(rerender, this.services.services(), (n) => this.endpoints.endpoints(n), this.#ctx, rerender.size > DEFER_LINES_ABOVE);
      for (const p of again) out.add(p);
    }
    return out;
  }

  #localhostNodePorts(): boolean {
    const c = this.#o.config;
    if (!c.localhostNodePorts || this.#o.iptables.family !== 'IPv4') return false;
    const lo = this.#nodePortIPs();
    return lo === undefined || lo.some((ip) => ip.startsWith('127.'));
  }

  #nodePortIPs(): string[] | undefined {
    const cidrs = this.#o.config.nodePortCIDRs;
    const primary = this.#o.config.nodePortPrimary;
    if (cidrs.length === 0 && !primary) return undefined;
    const addrs = this.#o.localAddresses ?? [...this.#o.nodeIPs, this.#o.iptables.family === 'IPv4' ? '127.0.0.1' : '::1'];
    return addrs.filter((ip) => (primary && this.#o.nodeIPs.includes(ip)) || cidrs.some((c) => cidrContains(c, ip)));
  }

  #afterSuccess(natTotal: number, filterRules: number, natRules: number): void {
    const m = this.#o.metrics;
    m.rulesTotal.set({ table: 'nat' }, natTotal);
    m.rulesTotal.set({ table: 'filter' }, filterRules);
    m.rulesLastSync.set({ table: 'nat' }, natRules);
    m.rulesLastSync.set({ table: 'filter' }, filterRules);
    m.lastTimestamp.set(this.#o.clock.now() / 1000);
    this.#o.health?.updated();
    let noLocalInt = 0;
    let noLocalExt = 0;
    for (const r of this.#cache.rules.values()) {
      if (r.noLocalInternal) noLocalInt++;
      if (r.noLocalExternal) noLocalExt++;
    }
    m.noLocalEndpoints.set({ traffic_policy: 'internal' }, noLocalInt);
    m.noLocalEndpoints.set({ traffic_policy: 'external' }, noLocalExt);
    if (this.#o.serviceHealth !== undefined) {
      const hc = new Map<number, string>();
      const local = new Map<string, number>();
      for (const p of this.#cache.ports.values()) {
        if (p.healthCheckNodePort === 0) continue;
        hc.set(p.healthCheckNodePort, p.service);
        const eps = this.endpoints.endpoints(p.service)?.get(endpointPortKey(p.portName, p.protocol)) ?? [];
        const n = categorizeEndpoints(eps, p, this.#zone).local.filter((e) => e.ready).length;
        local.set(p.service, Math.max(local.get(p.service) ?? 0, n));
      }
      this.#o.serviceHealth.sync(hc, local).catch((err: unknown) => this.#log.error({ err: errorMessage(err) }, 'Error syncing healthcheck services'));
    }
  }
}

/** `it` as a fresh iterable when it yields anything, else undefined (pulls the first item to find out). */
function nonEmpty(it: Iterable<string>): Iterable<string> | undefined {
  const iter = it[Symbol.iterator]();
  const first = iter.next();
  if (first.done === true) return undefined;
  return (function* () {
    yield first.value;
    for (let n = iter.next(); n.done !== true; n = iter.next()) yield n.value;
  })();
}

/** Helper also used by the handlers wiring: the informer key of an object. */
export const keyOf = objectKey;
