/**
 * `$(VAR)` expansion of command, args and subPathExpr against a container's final environment
 * (upstream kubecontainer.ExpandContainerCommandAndArgs / ExpandContainerVolumeMounts).
 */
import type { V1Container, V1VolumeMount } from '@kubernetes/client-node';
import { NodeletError } from '../../util/errors.js';
import { expand, mappingFor } from './expansion.js';
import type { EnvVar } from './service-env.js';

function envMap(envs: readonly EnvVar[]): Map<string, string> {
  // Later duplicates win, as in upstream EnvVarsToMap.
  return new Map(envs.map((e) => [e.name, e.value]));
}

/** Command and args with references expanded; unresolved references stay verbatim. Pure. */
export function expandCommandAndArgs(c: V1Container, envs: readonly EnvVar[]): { command: string[]; args: string[] } {
  const mapping = mappingFor(envMap(envs));
  return {
    command: (c.command ?? []).map((s) => expand(s, mapping)),
    args: (c.args ?? []).map((s) => expand(s, mapping)),
  };
}

/**
 * A mount's subPathExpr expanded. Unlike command/args, a missing or empty variable is an error
 * (CREATE_CONTAINER_CONFIG, upstream `missing value for A, B`).
 */
export function expandSubPathExpr(mount: V1VolumeMount, envs: readonly EnvVar[]): string {
  const env = envMap(envs);
  const missing = new Set<string>();
  const out = expand(mount.subPathExpr ?? '', (name) => {
    const v = env.get(name);
    if (v === undefined || v === '') missing.add(name);
    return v ?? '';
  });
  if (missing.size > 0) {
    throw new NodeletError('CREATE_CONTAINER_CONFIG', `missing value for ${[...missing].sort().join(', ')}`, {
      field: `volumeMounts{${mount.name}}.subPathExpr`,
    });
  }
  return out;
}
