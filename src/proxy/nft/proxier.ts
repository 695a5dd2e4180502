/**
 * The nftables proxier (upstream pkg/proxy/nftables): the same change trackers and runner as the iptables mode,
 * rendering per service port into nft chains and verdict-map elements (render.ts) and writing them with `nft -f`
 * transactions (state.ts): a full, atomic table replacement at start, after any failure and every fullSyncPeriodMs,
 * otherwise a partial transaction rewriting only what changed. The kernel is listed once, before the first full
 * transaction (to take over an earlier run's table). Invalid parts of Services/EndpointSlices are dropped and their
 * valid parts programmed; the role logs and counts them (../validate.ts, the same for both modes).
 */
import type { Clock, Logger } from '../../util/index.js';
import { errorMessage } from '../../util/index.js';
import type { EndpointSliceObject, ServiceObject } from '../apitypes.js';
import type { ResolvedProxyConfig } from '../config.js';
import { staleConntrackFilters, type Conntrack } from '../conntrack.js';
import { categorizeEndpoints, endpointPortKey } from '../endpoints.js';
import { cidrContains } from '../families.js';
import type { ProxyMetrics } from '../metrics.js';
import type { ProxierHealthSink, ServiceHealthSink, SyncResult } from '../proxier.js';
import type { ServicePortInfo } from '../serviceport.js';
import { ZONE_LABEL } from '../topology.js';
import { EndpointsChangeTracker, ServiceChangeTracker } from '../tracker.js';
import type { NftBaseOptions } from './base.js';
import type { Nft } from './exec.js';
import { nftLocalMatches, renderNftServicePort, type NftRenderContext, type NftServicePortRules } from './render.js';
import { NftState, type NftExistingObjects } from './state.js';

/** Options of {@link NftProxier}. */
export interface NftProxierOptions {
  nft: Nft;
  config: ResolvedProxyConfig;
  nodeName: string;
  /** Node IPs of this family (the default NodePort addresses in nftables mode, as upstream's "primary"). */
  nodeIPs: string[];
  /** Local addresses NodePorts may use when nodePortAddresses lists CIDRs (default: nodeIPs). */
  localAddresses?: string[];
  /** Service CIDRs of this family: unallocated ClusterIPs in them are dropped (optional). */
  serviceCIDRs?: string[];
  /** MASQUERADE fully-random (default true: every kernel able to run this mode has it). */
  randomFully?: boolean;
  logger: Logger;
  clock: Clock;
  metrics: ProxyMetrics;
  conntrack?: Conntrack;
  health?: ProxierHealthSink;
  serviceHealth?: ServiceHealthSink;
  /** Force a full (atomic replacement) sync this often (default 1 h). */
  fullSyncPeriodMs?: number;
  requestSync?: () => void;
  retryAfter?: (ms: number) => void;
}

/** See the file comment. One instance per IP family; same handler surface as the iptables Proxier. */
export class NftProxier {
  readonly #o: NftProxierOptions;
  readonly #log: Logger;
  readonly services: ServiceChangeTracker;
  readonly endpoints: EndpointsChangeTracker;
  readonly #state: NftState;
  #servicesSynced = false;
  #slicesSynced = false;
  #needFull = true;
  #lastFull = -Infinity;
  #zone = '';
  #renderedWith = '';
  /** Rendered rules per service port name, and the port names of each service. */
  readonly #rules = new Map<string, NftServicePortRules>();
  readonly #ports = new Map<string, ServicePortInfo>();
  readonly #portsOf = new Map<string, Set<string>>();
  /** Port names with a health-check node port, and the no-local-endpoints counts: kept up to date per change. */
  readonly #hcPorts = new Set<string>();
  #noLocalInt = 0;
  #noLocalExt = 0;
  /** Adopting an earlier run's table failed once: later first syncs replace it instead. */
  #adoptFailed = false;
  #serviceCIDRs: string[] | undefined;

  constructor(options: NftProxierOptions) {
    this.#o = options;
    this.#log = options.logger;
    const family = options.nft.family;
    this.services = new ServiceChangeTracker(family);
    this.endpoints = new EndpointsChangeTracker(family, options.nodeName, () => options.clock.monotonic());
    this.#state = new NftState(family);
    this.#serviceCIDRs = options.serviceCIDRs;
  }

  /**
   * ServiceCIDR handler (upstream OnServiceCIDRsChanged): every service CIDR of the cluster, both families; this
   * proxier keeps its family's. A change rewrites the drop rule for unallocated ClusterIPs in the next (full) sync.
   */
  onServiceCIDRs(cidrs: readonly string[]): void {
    const mine = cidrs.filter((c) => c.includes(':') === (this.#o.nft.family === 'IPv6'));
    if (this.#serviceCIDRs !== undefined && mine.join(',') === this.#serviceCIDRs.join(',')) return;
    this.#log.info({ serviceCIDRs: mine }, 'Service CIDRs changed');
    this.#serviceCIDRs = mine;
    this.#needFull = true;
    if (this.initialized) this.requestSync();
  }

  /** Stale chains and sets waiting for their batched deletion (see state.ts). */
  stale(): { chains: string[]; sets: string[] } {
    return this.#state.stale();
  }

  /** True once both initial lists have been delivered. */
  get initialized(): boolean {
    return this.#servicesSynced && this.#slicesSynced;
  }

  /** Written totals: per-service chains, their rules, and map/set elements. */
  totals(): { chains: number; rules: number; elements: number } {
    return this.#state.totals();
  }

  #changed(pending: boolean): void {
    this.#o.metrics.serviceChangesPending.set(this.services.pending);
    this.#o.metrics.endpointChangesPending.set(this.endpoints.pending);
    if (pending && this.initialized) this.requestSync();
  }

  /** Informer handler: service added/updated/deleted (`obj` undefined when deleted). */
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

  /** Node handler: a zone change re-renders every service in the next sync. */
  onNodeLabels(labels: Readonly<Record<string, string>> | undefined): void {
    const zone = labels?.[ZONE_LABEL] ?? '';
    if (zone === this.#zone) return;
    this.#log.info({ zone, previous: this.#zone }, 'Node zone changed; re-rendering all services');
    this.#zone = zone;
    if (this.initialized) this.requestSync();
  }

  /** Forces the next sync to be a full one and requests it. */
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

  /** One sync step. Never throws: a failed transaction leaves the kernel as it was and makes the next sync full. */
  async sync(): Promise<SyncResult> {
    if (!this.initialized) {
      this.#log.debug('Not syncing nftables until Services and EndpointSlices have been received');
      return { kind: 'skipped', ok: true, restoreBytes: 0, transactions: 0 };
    }
    const clock = this.#o.clock;
    const start = clock.monotonic();
    let full = this.#needFull || !this.#state.written || start - this.#lastFull >= (this.#o.fullSyncPeriodMs ?? 3_600_000);
    const svcChanges = this.services.apply();
    const epChanges = this.endpoints.apply();
    this.#changed(false);
    let ok = false;
    let bytes = 0;
    let transactions = 0;
    try {
      const changes = this.#rerender(new Set([...svcChanges.map((c) => c.name), ...epChanges.map((c) => c.name)]));
      if (changes === 'all') full = true;
      let tx = full || changes === 'all' ? undefined : this.#state.partial(changes, start);
      if (tx === undefined) {
        full = true;
        tx = this.#state.full(this.#base(), this.#rules, await this.#existing());
      }
      for (const batch of [tx.prepare ?? [], tx.commands]) {
        if (batch.length === 0) continue;
        for (const c of batch) bytes += c.length + 1;
        transactions++;
        await this.#o.nft.run(batch);
      }
      tx.commit();
      ok = true;
      this.#needFull = false;
      if (full) this.#lastFull = start;
      this.#afterSuccess();
      for (const c of epChanges) {
        for (const t of c.triggers) this.#o.metrics.networkProgramming.observe(Math.max(0, (clock.now() - t) / 1000));
      }
      await this.#o.conntrack?.clear(staleConntrackFilters(svcChanges, epChanges, (n) => this.services.services().get(n)));
    } catch (err) {
      // The kernel kept its previous ruleset (a failed transaction changes nothing); the state still describes it.
      if (full && !this.#state.written && !this.#adoptFailed) {
        this.#adoptFailed = true;
        this.#log.warn('Could not take over the existing nftables table; the next sync replaces it');
      }
      // A failed full transaction means the kernel is not what the state says (e.g. the table was deleted): the
      // next full sync starts from the kernel again (listing it, or replacing the table).
      if (full) this.#state.reset();
      this.#needFull = true;
      this.#o.metrics.restoreFailures.inc();
      if (!full) this.#o.metrics.partialRestoreFailures.inc();
      this.#log.error({ err: errorMessage(err), full }, 'Sync failed; the previous ruleset stays, retrying with a full sync');
      this.#o.retryAfter?.(this.#o.config.minSyncPeriodMs);
    } finally {
      const secs = (clock.monotonic() - start) / 1000;
      this.#o.metrics.syncDuration.observe(secs);
      (full ? this.#o.metrics.syncFullDuration : this.#o.metrics.syncPartialDuration).observe(secs);
      this.#log.debug({ full, ok, elapsedMs: Math.round(secs * 1000), bytes }, 'SyncProxyRules complete');
    }
    return { kind: full ? 'full' : 'partial', ok, restoreBytes: bytes, transactions };
  }

  #ctx(): NftRenderContext {
    const family = this.#o.nft.family;
    const [podMatch, notPodMatch] = nftLocalMatches(this.#o.config.localDetector, family);
    return { family, masqueradeAll: this.#o.config.masqueradeAll, podMatch, notPodMatch, nodeIPs: this.#o.nodeIPs, zone: this.#zone };
  }

  /**
   * Re-renders the changed services; returns the changed service ports (name → rules, undefined = removed), or
   * 'all' when the render context changed and everything was re-rendered.
   */
  #rerender(changed: Set<string>): Map<string, NftServicePortRules | undefined> | 'all' {
    const ctx = this.#ctx();
    const key = JSON.stringify(ctx);
    const all = key !== this.#renderedWith;
    this.#renderedWith = key;
    const services = this.services.services();
    const names = all ? new Set([...services.keys(), ...this.#portsOf.keys()]) : changed;
    const out = new Map<string, NftServicePortRules | undefined>();
    for (const svc of names) {
      const ports = services.get(svc);
      const eps = this.endpoints.endpoints(svc);
      const before = this.#portsOf.get(svc) ?? new Set<string>();
      const now = new Set<string>();
      for (const [portName, info] of ports ?? []) {
        const r = renderNftServicePort(info, eps?.get(endpointPortKey(info.portName, info.protocol)) ?? [], ctx);
        this.#forget(portName);
        this.#rules.set(portName, r);
        this.#ports.set(portName, info);
        if (r.noLocalInternal) this.#noLocalInt++;
        if (r.noLocalExternal) this.#noLocalExt++;
        if (info.healthCheckNodePort !== 0) this.#hcPorts.add(portName);
        now.add(portName);
        out.set(portName, r);
      }
      for (const portName of before) {
        if (now.has(portName)) continue;
        this.#forget(portName);
        out.set(portName, undefined);
      }
      if (now.size > 0) this.#portsOf.set(svc, now);
      else this.#portsOf.delete(svc);
    }
    return all ? 'all' : out;
  }

  /** Drops a port's rendered rules and its share of the running counts. */
  #forget(portName: string): void {
    const r = this.#rules.get(portName);
    if (r?.noLocalInternal === true) this.#noLocalInt--;
    if (r?.noLocalExternal === true) this.#noLocalExt--;
    this.#rules.delete(portName);
    this.#ports.delete(portName);
    this.#hcPorts.delete(portName);
  }

  /** Before the first full sync: the objects of a table an earlier run left (undefined: none, or replace it). */
  async #existing(): Promise<NftExistingObjects | undefined> {
    if (this.#state.written || this.#adoptFailed) return undefined;
    try {
      const found = await this.#o.nft.objects();
      if (found !== undefined) this.#log.info({ chains: found.chains.length, sets: found.sets.size }, 'Taking over the existing nftables table');
      return found;
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'Could not list the existing nftables table; replacing it');
      return undefined;
    }
  }

  #base(): NftBaseOptions {
    const family = this.#o.nft.family;
    const loopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1';
    const c = this.#o.config;
    let nodePortIPs: string[] | undefined;
    if (c.nodePortCIDRs.length > 0) {
      const addrs = this.#o.localAddresses ?? this.#o.nodeIPs;
      nodePortIPs = addrs.filter((ip) => (c.nodePortPrimary && this.#o.nodeIPs.includes(ip)) || c.nodePortCIDRs.some((cidr) => cidrContains(cidr, ip)));
    } else {
      // Upstream's nftables default is "primary": the node IPs; none known → every local non-loopback address.
      nodePortIPs = [...this.#o.nodeIPs];
    }
    return {
      family,
      masqueradeMark: c.masqueradeMark,
      nodePortIPs: nodePortIPs.filter((ip) => !loopback(ip)),
      serviceCIDRs: this.#serviceCIDRs,
      randomFully: this.#o.randomFully ?? true,
    };
  }

  #afterSuccess(): void {
    const m = this.#o.metrics;
    const totals = this.#state.totals();
    m.rulesTotal.set({ table: 'nftables' }, totals.rules);
    m.lastTimestamp.set(this.#o.clock.now() / 1000);
    this.#o.health?.updated();
    m.noLocalEndpoints.set({ traffic_policy: 'internal' }, this.#noLocalInt);
    m.noLocalEndpoints.set({ traffic_policy: 'external' }, this.#noLocalExt);
    if (this.#o.serviceHealth === undefined) return;
    const hc = new Map<number, string>();
    const local = new Map<string, number>();
    for (const name of this.#hcPorts) {
      const p = this.#ports.get(name);
      if (p === undefined) continue;
      hc.set(p.healthCheckNodePort, p.service);
      const eps = this.endpoints.endpoints(p.service)?.get(endpointPortKey(p.portName, p.protocol)) ?? [];
      const n = categorizeEndpoints(eps, p, this.#zone).local.filter((e) => e.ready).length;
      local.set(p.service, Math.max(local.get(p.service) ?? 0, n));
    }
    this.#o.serviceHealth.sync(hc, local).catch((err: unknown) => this.#log.error({ err: errorMessage(err) }, 'Error syncing healthcheck services'));
  }
}
