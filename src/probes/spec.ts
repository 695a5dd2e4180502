/**
 * A container probe with upstream defaults applied and checked once (pure). Invalid specs yield an InvalidError whose
 * `field` names the offending field (`spec.containers[0].livenessProbe.successThreshold`); the worker reports it as a
 * prober error instead of probing, so a bad manifest never crashes the agent and never kills a container.
 */
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { InvalidError } from '../util/index.js';
import type { ProbeType } from './types.js';

/** The action of a probe (exactly one handler). */
export type ProbeAction =
  | { kind: 'exec'; command: string[] }
  | { kind: 'httpGet'; action: NonNullable<V1Probe['httpGet']> }
  | { kind: 'tcpSocket'; host: string | undefined; port: number | string }
  | { kind: 'grpc'; port: number; service: string };

/** A probe with defaults applied. */
export interface ResolvedProbe {
  action: ProbeAction;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** Probe-level override of the pod's grace period for a kill caused by this probe. */
  terminationGracePeriodSeconds: number | undefined;
}

/** Upstream defaults (API defaulting). */
export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

/** The container's probe of the given type, or undefined. */
export function probeOf(container: V1Container, type: ProbeType): V1Probe | undefined {
  if (type === 'liveness') return container.livenessProbe;
  if (type === 'readiness') return container.readinessProbe;
  return container.startupProbe;
}

/** Spec field name of a probe type (`livenessProbe`). */
export function probeField(type: ProbeType): string {
  return `${type}Probe`;
}

/**
 * Applies defaults and validates. `fieldPrefix` is the probe's path, e.g. `spec.containers[0].livenessProbe`.
 * Throws InvalidError naming the field.
 */
export function resolveProbe(probe: V1Probe, type: ProbeType, fieldPrefix: string): ResolvedProbe {
  const num = (name: keyof typeof PROBE_DEFAULTS, min: number): number => {
    const v = probe[name];
    if (v === undefined || v === null || (v === 0 && name !== 'initialDelaySeconds')) return PROBE_DEFAULTS[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new InvalidError(`${fieldPrefix}.${name}: must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, {
        field: `${fieldPrefix}.${name}`,
      });
    }
    return v;
  };
  const resolved: ResolvedProbe = {
    action: resolveAction(probe, fieldPrefix),
    initialDelaySeconds: num('initialDelaySeconds', 0),
    periodSeconds: num('periodSeconds', 1),
    timeoutSeconds: num('timeoutSeconds', 1),
    successThreshold: num('successThreshold', 1),
    failureThreshold: num('failureThreshold', 1),
    terminationGracePeriodSeconds: undefined,
  };
  if (type !== 'readiness' && resolved.successThreshold !== 1) {
    throw new InvalidError(`${fieldPrefix}.successThreshold: must be 1 for ${type} probes`, {
      field: `${fieldPrefix}.successThreshold`,
    });
  }
  const tgp = probe.terminationGracePeriodSeconds;
  if (tgp !== undefined && tgp !== null) {
    if (type === 'readiness') {
      throw new InvalidError(`${fieldPrefix}.terminationGracePeriodSeconds: must not be set for readiness probes`, {
        field: `${fieldPrefix}.terminationGracePeriodSeconds`,
      });
    }
    if (!Number.isInteger(tgp) || tgp < 1) {
      throw new InvalidError(`${fieldPrefix}.terminationGracePeriodSeconds: must be greater than 0`, {
        field: `${fieldPrefix}.terminationGracePeriodSeconds`,
      });
    }
    resolved.terminationGracePeriodSeconds = tgp;
  }
  return resolved;
}

function resolveAction(probe: V1Probe, fieldPrefix: string): ProbeAction {
  const set = (['exec', 'httpGet', 'tcpSocket', 'grpc'] as const).filter((k) => probe[k] !== undefined && probe[k] !== null);
  if (set.length === 0) {
    throw new InvalidError(`${fieldPrefix}: must specify a handler type (exec, httpGet, tcpSocket or grpc)`, {
      field: fieldPrefix,
    });
  }
  if (set.length > 1) {
    throw new InvalidError(`${fieldPrefix}: may not specify more than 1 handler type (${set.join(', ')})`, {
      field: fieldPrefix,
    });
  }
  if (probe.exec) {
    const command = probe.exec.command ?? [];
    if (command.length === 0 || command.some((c) => typeof c !== 'string')) {
      throw new InvalidError(`${fieldPrefix}.exec.command: must be a non-empty list of strings`, {
        field: `${fieldPrefix}.exec.command`,
      });
    }
    return { kind: 'exec', command };
  }
  if (probe.httpGet) {
    requirePort(probe.httpGet.port, `${fieldPrefix}.httpGet.port`);
    return { kind: 'httpGet', action: probe.httpGet };
  }
  if (probe.tcpSocket) {
    requirePort(probe.tcpSocket.port, `${fieldPrefix}.tcpSocket.port`);
    return { kind: 'tcpSocket', host: probe.tcpSocket.host, port: probe.tcpSocket.port };
  }
  const g = probe.grpc!;
  if (!Number.isInteger(g.port) || g.port < 1 || g.port > 65535) {
    throw new InvalidError(`${fieldPrefix}.grpc.port: must be between 1 and 65535, got ${JSON.stringify(g.port)}`, {
      field: `${fieldPrefix}.grpc.port`,
    });
  }
  return { kind: 'grpc', port: g.port, service: g.service ?? '' };
}

function requirePort(port: unknown, field: string): void {
  if (typeof port === 'number' || (typeof port === 'string' && port !== '')) return;
  throw new InvalidError(`${field}: required (a number or a container port name)`, { field });
}
