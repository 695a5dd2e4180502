import type { Store } from '../store.js';
import type { StatusCause } from '../status.js';
import type { JsonObject } from '../json.js';
import type { ServiceAllocator } from './service-alloc.js';

/** What admission plugins may consult. */
export interface AdmissionContext {
  store: Store;
  now(): Date;
  allocator: ServiceAllocator;
}

/** Defaulting, mutating admission and validation for one resource type, run in that order. */
export interface Admission {
  /** Mutates a new object (defaults, admission plugins). May throw an ApiError (e.g. 403). */
  create?(obj: JsonObject, ctx: AdmissionContext): void;
  /** Mutates `next` on update given the stored `old` (e.g. keep allocated IPs). */
  update?(old: JsonObject, next: JsonObject, ctx: AdmissionContext): void;
  /** Field errors of the object (create and update). */
  validate?(obj: JsonObject): StatusCause[];
  /** Field errors of an update only (immutability). */
  validateUpdate?(old: JsonObject, next: JsonObject): StatusCause[];
  /** Called after the object is gone (release allocations). */
  deleted?(obj: JsonObject, ctx: AdmissionContext): void;
}
