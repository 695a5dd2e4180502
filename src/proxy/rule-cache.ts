/**
 * The rendered rules of every service port, kept between syncs so that a partial sync re-renders only changed
 * services. Tracks which nat chains are active, which became stale since the last successful write, and whether any
 * top-level content (KUBE-SERVICES, KUBE-NODEPORTS, filter rules) changed. One owner: the proxier.
 *
 * Memory: once written, a service's per-chain rule lines are dropped (only chain names and one digest per service
 * port stay); they are only ever written right after being rendered. A full sync compares the digests with the
 * kernel's and re-renders only the services whose chains differ.
 */
import { endpointPortKey, type ServiceEndpoints } from './endpoints.js';
import { renderServicePort, type RenderContext, type ServiceRules } from './render-service.js';
import type { ServicePortInfo } from './serviceport.js';
import { chainsDigest, rulesDigest } from './snapshot.js';

/** Placeholder for chain rules that were written and dropped from memory. */
const WRITTEN: string[] = [];

function topText(r: ServiceRules | undefined): string {
  if (r === undefined) return '';
  return [r.natServices, r.natNodePorts, r.filterServices, r.filterExternal, r.filterNodePorts, r.filterFirewall].map((l) => l.join('\n')).join('\n|');
}

/** See the file comment. */
export class RuleCache {
  readonly rules = new Map<string, ServiceRules>();
  readonly ports = new Map<string, ServicePortInfo>();
  readonly #byService = new Map<string, string[]>();
  /** Active nat chain → service port that owns it. */
  readonly #active = new Map<string, string>();
  /** Chains dropped since the last successful write (candidates for deletion). */
  readonly #dropped = new Set<string>();
  #topDirty = true;
  #natRules = 0;
  readonly #counts = new Map<string, number>();
  readonly #fresh = new Set<string>();
  /** Freshly rendered ports whose chain lines were dropped at once (rendered again when written). */
  readonly #deferred = new Set<string>();
  /** Service port → {@link chainsDigest} of its rendered nat chains. */
  readonly #digests = new Map<string, string>();

  /** What the last update rendered with (to render deferred chain lines again while writing). */
  #renderedWith: { endpoints: (service: string) => ServiceEndpoints | undefined; ctx: RenderContext } | undefined;

  /**
   * Re-renders the ports of `names` from `services`/`endpoints`; returns the service ports whose chains must be
   * written. With `deferLines` (bulk renders: full syncs) only the digests, counts and top-level lines are kept: the
   * chain lines are rendered again, one batch at a time, by {@link chainsOf} while the restore input is produced, so
   * the rules of 10,000 services never sit in memory at once.
   */
  update(
    names: Iterable<string>,
    services: ReadonlyMap<string, Map<string, ServicePortInfo>>,
    endpoints: (service: string) => ServiceEndpoints | undefined,
    ctx: RenderContext,
    deferLines = false,
  ): Set<string> {
    this.#renderedWith = { endpoints, ctx };
    const written = new Set<string>();
    for (const name of names) {
      const old = new Map<string, ServiceRules>();
      for (const portName of this.#byService.get(name) ?? []) {
        const r = this.rules.get(portName);
        if (r !== undefined) old.set(portName, r);
        this.#forget(portName);
      }
      this.#byService.delete(name);
      const current = services.get(name);
      if (current !== undefined) {
        const eps = endpoints(name);
        this.#byService.set(name, [...current.keys()]);
        for (const [portName, p] of current) {
          const r = renderServicePort(p, eps?.get(endpointPortKey(p.portName, p.protocol)) ?? [], ctx);
          this.ports.set(portName, p);
          this.rules.set(portName, r);
          let count = r.natServices.length + r.natNodePorts.length;
          for (const [chain, lines] of r.natChains) {
            this.#active.set(chain, portName);
            count += lines.length;
          }
          this.#counts.set(portName, count);
          this.#digests.set(portName, chainsDigest([...r.natChains].map(([c, l]) => [c, rulesDigest(l)] as const)));
          this.#natRules += count;
          if (deferLines) {
            for (const chain of r.natChains.keys()) r.natChains.set(chain, WRITTEN);
            this.#deferred.add(portName);
          } else {
            this.#fresh.add(portName);
          }
          if (topText(old.get(portName)) !== topText(r)) this.#topDirty = true;
          old.delete(portName);
          written.add(portName);
        }
      }
      if (old.size > 0) this.#topDirty = true;
    }
    return written;
  }

  #forget(portName: string): void {
    const r = this.rules.get(portName);
    if (r === undefined) return;
    for (const chain of r.natChains.keys()) {
      if (this.#active.get(chain) === portName) {
        this.#active.delete(chain);
        this.#dropped.add(chain);
      }
    }
    this.#natRules -= this.#counts.get(portName) ?? 0;
    this.#counts.delete(portName);
    this.#digests.delete(portName);
    this.#fresh.delete(portName);
    this.#deferred.delete(portName);
    this.rules.delete(portName);
    this.ports.delete(portName);
  }

  /** {@link chainsDigest} of a service port's rendered nat chains. */
  digest(portName: string): string | undefined {
    return this.#digests.get(portName);
  }

  /** All service names with rendered ports. */
  serviceNames(): IterableIterator<string> {
    return this.#byService.keys();
  }

  /** True when a nat chain belongs to a rendered service port. */
  isActive(chain: string): boolean {
    return this.#active.has(chain);
  }

  /** Chains dropped since the last `committed()` that are not active again. */
  dropped(): string[] {
    return [...this.#dropped].filter((c) => !this.#active.has(c));
  }

  /** True when KUBE-SERVICES / KUBE-NODEPORTS / filter content may have changed since the last `committed()`. */
  get topDirty(): boolean {
    return this.#topDirty;
  }

  /** Number of nat rules of all services (per-service chains plus their KUBE-SERVICES/KUBE-NODEPORTS lines). */
  get natRules(): number {
    return this.#natRules;
  }

  /** All rules in a stable order (by service port name). */
  ordered(): [string, ServiceRules][] {
    return [...this.rules.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The current state was written successfully: forget dropped chains. */
  committed(): void {
    this.#dropped.clear();
    this.#topDirty = false;
  }

  /**
   * The nat chains of a service port with their rule lines, for writing: as kept, or rendered again when they were
   * deferred (the inputs cannot have changed in between: they only change when the next sync applies changes).
   */
  chainsOf(portName: string): ReadonlyMap<string, readonly string[]> {
    const r = this.rules.get(portName);
    const p = this.ports.get(portName);
    const w = this.#renderedWith;
    if (r === undefined || p === undefined || w === undefined || !this.#deferred.has(portName)) return r?.natChains ?? new Map();
    return renderServicePort(p, w.endpoints(p.service)?.get(endpointPortKey(p.portName, p.protocol)) ?? [], w.ctx).natChains;
  }

  /** Drops the rule lines of one freshly rendered service port (they are in the restore input now). */
  release(portName: string): void {
    this.#deferred.delete(portName);
    if (!this.#fresh.delete(portName)) return;
    const chains = this.rules.get(portName)?.natChains;
    if (chains !== undefined) for (const chain of chains.keys()) chains.set(chain, WRITTEN);
  }

  /**
   * Drops the rule lines of freshly rendered chains once the restore input holds them (a failed write forces a full
   * sync, which renders everything again).
   */
  releaseRules(): void {
    for (const portName of this.#fresh) {
      const chains = this.rules.get(portName)?.natChains;
      if (chains !== undefined) for (const chain of chains.keys()) chains.set(chain, WRITTEN);
    }
    this.#fresh.clear();
    this.#deferred.clear();
  }

  /** Forces the next write to include the top-level chains (after a failure or a full sync request). */
  markTopDirty(): void {
    this.#topDirty = true;
  }
}
