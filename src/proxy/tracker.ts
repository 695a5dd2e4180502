/**
 * Change trackers (upstream ServiceChangeTracker / EndpointsChangeTracker): watch handlers only record the latest
 * state per service and drop no-ops (a change that ends where the applied state already is); `apply()` hands the
 * accumulated (previous, current) pairs to the sync. Not thread-safe by design: one owner (the proxier).
 */
import { objectKey } from '../api/types.js';
import type { EndpointSliceObject, ServiceObject } from './apitypes.js';
import { LAST_CHANGE_TRIGGER_TIME, SERVICE_NAME_LABEL } from './apitypes.js';
import { mergeSlices, type ServiceEndpoints } from './endpoints.js';
import { servicePorts, type IPFamily, type ServicePortInfo } from './serviceport.js';

/** One applied change of one service (`ns/name`). */
export interface Change<T> {
  name: string;
  previous: T | undefined;
  current: T | undefined;
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, mapReplacer) === JSON.stringify(b, mapReplacer);
}

function mapReplacer(_k: string, v: unknown): unknown {
  return v instanceof Map ? [...v.entries()] : v;
}

/** Tracks Services → ports. */
export class ServiceChangeTracker {
  readonly #family: IPFamily;
  readonly #applied = new Map<string, Map<string, ServicePortInfo>>();
  readonly #pending = new Map<string, Map<string, ServicePortInfo> | undefined>();

  constructor(family: IPFamily) {
    this.#family = family;
  }

  /** Records the latest state of a service (`obj` undefined = deleted). Returns true when a change is pending for it. */
  update(key: string, obj: ServiceObject | undefined): boolean {
    const ports = obj === undefined ? undefined : servicePorts(obj, this.#family);
    const cur = ports === undefined || ports.size === 0 ? undefined : ports;
    const applied = this.#applied.get(key);
    // Nothing applied yet (the initial list): no need to serialize the new state to see that it differs.
    if (cur === undefined ? applied === undefined : applied !== undefined && sameJSON(cur, applied)) this.#pending.delete(key);
    else this.#pending.set(key, cur);
    return this.#pending.has(key);
  }

  /** Number of services with pending changes. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Applies pending changes and returns them. */
  apply(): Change<Map<string, ServicePortInfo>>[] {
    const out: Change<Map<string, ServicePortInfo>>[] = [];
    for (const [name, current] of this.#pending) {
      out.push({ name, previous: this.#applied.get(name), current });
      if (current === undefined) this.#applied.delete(name);
      else this.#applied.set(name, current);
    }
    this.#pending.clear();
    return out;
  }

  /** Applied ports of all services. */
  services(): ReadonlyMap<string, Map<string, ServicePortInfo>> {
    return this.#applied;
  }
}

/** The service (`ns/name`) an EndpointSlice belongs to, or undefined. */
export function sliceServiceName(slice: EndpointSliceObject): string | undefined {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  const ns = slice.metadata?.namespace;
  return svc === undefined || ns === undefined ? undefined : `${ns}/${svc}`;
}

/** Tracks EndpointSlices → endpoints per service. */
export class EndpointsChangeTracker {
  readonly #family: IPFamily;
  readonly #nodeName: string;
  readonly #now: () => number;
  readonly #slices = new Map<string, Map<string, EndpointSliceObject>>();
  readonly #applied = new Map<string, ServiceEndpoints>();
  readonly #pending = new Map<string, { eps: ServiceEndpoints; triggers: number[]; received: number }>();

  constructor(family: IPFamily, nodeName: string, now: () => number) {
    this.#family = family;
    this.#nodeName = nodeName;
    this.#now = now;
  }

  /** Records a slice add/update (`deleted` false) or delete. Returns true when a change is pending for its service. */
  update(slice: EndpointSliceObject, deleted: boolean): boolean {
    const name = sliceServiceName(slice);
    if (name === undefined) return false;
    let slices = this.#slices.get(name);
    if (slices === undefined) this.#slices.set(name, (slices = new Map()));
    const key = objectKey(slice);
    if (deleted) slices.delete(key);
    else slices.set(key, slice);
    if (slices.size === 0) this.#slices.delete(name);
    const eps = mergeSlices(slices.values(), this.#family, this.#nodeName);
    const applied = this.#applied.get(name);
    if (applied === undefined ? eps.size === 0 : sameJSON(eps, applied)) {
      this.#pending.delete(name);
      return false;
    }
    const prev = this.#pending.get(name);
    const triggers = prev?.triggers ?? [];
    const t = Date.parse(slice.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME] ?? '');
    if (!Number.isNaN(t)) triggers.push(t);
    this.#pending.set(name, { eps, triggers, received: prev?.received ?? this.#now() });
    return true;
  }

  /** Number of services with pending endpoint changes. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Applies pending changes; returns them with the trigger times and the time the first change was received. */
  apply(): (Change<ServiceEndpoints> & { triggers: number[]; received: number })[] {
    const out: (Change<ServiceEndpoints> & { triggers: number[]; received: number })[] = [];
    for (const [name, p] of this.#pending) {
      out.push({ name, previous: this.#applied.get(name), current: p.eps.size === 0 ? undefined : p.eps, triggers: p.triggers, received: p.received });
      if (p.eps.size === 0) this.#applied.delete(name);
      else this.#applied.set(name, p.eps);
    }
    this.#pending.clear();
    return out;
  }

  /** Applied endpoints of a service. */
  endpoints(name: string): ServiceEndpoints | undefined {
    return this.#applied.get(name);
  }

  /** Total number of applied endpoints over all services and ports. */
  total(): number {
    let n = 0;
    for (const eps of this.#applied.values()) for (const l of eps.values()) n += l.length;
    return n;
  }
}
