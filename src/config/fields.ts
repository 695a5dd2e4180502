/**
 * Reusable zod field types for the upstream configuration documents. Each carries an error message that states the
 * allowed values, so a rejected field always tells the user what would have been accepted.
 */
import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';
import * as z from 'zod';
import { DURATION_HINT, isDuration } from './duration.js';
import { parseQuantity } from '../util/quantity.js';
import { parseThreshold } from './quantity.js';

// The schemas parse a few documents once, at start: zod's JIT (a generated `new Function` fast path per parsed object
// schema, kept alive with the schema) would only add to the agent's idle footprint (issue 14).
z.config({ jitless: true });

/** A Go duration string (`10s`, `1m0s`). */
export const duration = (): z.ZodString =>
  z.string({ error: `expected ${DURATION_HINT}` }).refine(isDuration, { message: `expected ${DURATION_HINT}` });

/** An integer within [min, max]. */
export const intRange = (min: number, max: number): z.ZodNumber =>
  z
    .number({ error: `expected an integer from ${min} to ${max}` })
    .int({ error: `expected an integer from ${min} to ${max}` })
    .min(min, { error: `must be an integer from ${min} to ${max}` })
    .max(max, { error: `must be an integer from ${min} to ${max}` });

/** A TCP port, 0 meaning disabled where upstream allows it. */
export const port = (allowZero: boolean): z.ZodNumber => intRange(allowZero ? 0 : 1, 65535);

/** An IPv4 or IPv6 address literal. */
export const ipAddress = (): z.ZodString =>
  z
    .string({ error: 'expected an IP address such as "127.0.0.1" or "::1"' })
    .refine((s) => isIP(s) !== 0, { message: 'expected an IP address such as "127.0.0.1" or "::1"' });

/** A CIDR (`10.244.0.0/16`). */
export function isCidr(s: string): boolean {
  try {
    const [addr] = ipaddr.parseCIDR(s);
    return isIP(s.split('/')[0] ?? '') !== 0 && addr !== undefined;
  } catch {
    return false;
  }
}

/** `host:port` or `:port` (as kube-proxy's bind addresses); an empty string disables. */
export const hostPort = (): z.ZodString =>
  z
    .string({ error: 'expected "<ip>:<port>" such as "0.0.0.0:10256" (or "" to disable)' })
    .refine(
      (s) => {
        if (s === '') return true;
        const m = /^(?:\[(.+)\]|([^:]*)):(\d{1,5})$/.exec(s);
        if (m === null) return false;
        const host = m[1] ?? m[2] ?? '';
        return (host === '' || isIP(host) !== 0) && Number(m[3]) <= 65535;
      },
      { message: 'expected "<ip>:<port>" such as "0.0.0.0:10256" (or "" to disable)' },
    );

/** A map of resource name → quantity (kubeReserved, systemReserved). */
export const resourceList = () =>
  z.partialRecord(
    z.enum(['cpu', 'memory', 'ephemeral-storage', 'pid'], {
      error: 'allowed resource names: cpu, memory, ephemeral-storage, pid',
    }),
    z
      .string({ error: 'expected a quantity such as "100Mi", "1Gi" or "500m"' })
      .refine((s) => (parseQuantity(s) ?? -1) >= 0, {
        message: 'expected a quantity such as "100Mi", "1Gi" or "500m"',
      }),
  );

/** Eviction signals nodelet understands. */
export const EVICTION_SIGNALS = [
  'memory.available',
  'allocatableMemory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'pid.available',
] as const;

/** A map of eviction signal → threshold (`100Mi`, `10%`). */
export const evictionMap = () =>
  z.partialRecord(
    z.enum(EVICTION_SIGNALS, { error: `allowed eviction signals: ${EVICTION_SIGNALS.join(', ')}` }),
    z
      .string({ error: 'expected a threshold such as "100Mi" or "10%"' })
      .refine((s) => parseThreshold(s) !== undefined, { message: 'expected a threshold such as "100Mi" or "10%"' }),
  );

/** A string enum with the allowed values in its message. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T): z.ZodEnum<{ [K in T[number]]: K }> =>
  z.enum(values, { error: `allowed values: ${values.map((v) => JSON.stringify(v)).join(', ')}` });

/** A boolean with a clear message. */
export const bool = (): z.ZodBoolean => z.boolean({ error: 'expected true or false' });

/** A string with a clear message. */
export const str = (): z.ZodString => z.string({ error: 'expected a string' });

/** A map of string → boolean (featureGates). */
export const boolMap = (): z.ZodRecord<z.ZodString, z.ZodBoolean> => z.record(z.string(), bool());
