/**
 * A container's environment, built like upstream makeEnvironmentVariables: envFrom first (prefix; invalid names
 * skipped with an InvalidEnvironmentVariableNames event), then env in declared order (value with `$(VAR)` expansion
 * over the variables so far and the service variables, or valueFrom), then the remaining service variables.
 */
import type { V1Container, V1EnvFromSource, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import type { PodObjectSource } from '../../api/objects.js';
import { podRef } from '../../api/refs.js';
import type { EventRecorder } from '../../api/types.js';
import { NodeletError, errorMessage, hasCode } from '../../util/errors.js';
import { expand, mappingFor } from './expansion.js';
import { podFieldValue, type FieldContext } from './fieldref.js';
import { resourceFieldValue, type NodeAllocatable } from './resourcefield.js';
import { serviceEnvMap, type EnvVar } from './service-env.js';
import { fetchObject, isStaticPod, notFoundMessage, secretData } from './sources.js';

/** What building an environment needs besides the pod. */
export interface EnvDeps {
  /** API objects; undefined in standalone mode. */
  objects?: PodObjectSource;
  recorder?: EventRecorder;
  allocatable: NodeAllocatable;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** True for a valid environment variable name (upstream IsEnvVarName). */
export function isEnvVarName(name: string): boolean {
  return ENV_NAME.test(name);
}

function configError(err: unknown): NodeletError {
  if (hasCode(err, 'CREATE_CONTAINER_CONFIG')) return err;
  const field = err instanceof NodeletError ? err.field : undefined;
  return new NodeletError('CREATE_CONTAINER_CONFIG', errorMessage(err), { cause: err, field });
}

async function serviceEnv(pod: V1Pod, deps: EnvDeps): Promise<Map<string, string>> {
  if (deps.objects === undefined) return new Map();
  const ns = pod.metadata?.namespace ?? '';
  try {
    const lists = await Promise.all([deps.objects.listServices(ns), ns === 'default' ? [] : deps.objects.listServices('default')]);
    return serviceEnvMap(lists.flat(), ns, pod.spec?.enableServiceLinks ?? true);
  } catch (err) {
    // Static pods start without the API (upstream only waits for services for API pods).
    if (isStaticPod(pod)) return new Map();
    throw configError(err);
  }
}

async function applyEnvFrom(pod: V1Pod, src: V1EnvFromSource, into: Map<string, string>, deps: EnvDeps): Promise<void> {
  const ns = pod.metadata?.namespace ?? '';
  const ref = src.configMapRef ?? src.secretRef;
  if (ref === undefined) return;
  const kind = src.configMapRef !== undefined ? 'configmap' : 'secret';
  const name = ref.name ?? '';
  let data: [string, string][];
  if (kind === 'configmap') {
    const cm = await fetchObject('configmap', pod, name, deps.objects, 'CREATE_CONTAINER_CONFIG');
    if (cm === undefined) {
      if (ref.optional === true) return;
      throw new NodeletError('CREATE_CONTAINER_CONFIG', notFoundMessage(kind, name));
    }
    data = Object.entries(cm.data ?? {});
  } else {
    const s = await fetchObject('secret', pod, name, deps.objects, 'CREATE_CONTAINER_CONFIG');
    if (s === undefined) {
      if (ref.optional === true) return;
      throw new NodeletError('CREATE_CONTAINER_CONFIG', notFoundMessage(kind, name));
    }
    data = [...secretData(s)].map(([k, v]) => [k, v.toString('utf8')]);
  }
  const invalid: string[] = [];
  for (const [k0, v] of data.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const k = (src.prefix ?? '') + k0;
    if (!isEnvVarName(k)) {
      invalid.push(k);
      continue;
    }
    into.set(k, v);
  }
  if (invalid.length > 0) {
    deps.recorder?.event(
      podRef(pod),
      'Warning',
      'InvalidEnvironmentVariableNames',
      `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind === 'configmap' ? 'configMap' : 'secret'} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
    );
  }
}

/** Resolves one env var's valueFrom; undefined = skip it (optional source missing). */
async function valueFrom(
  pod: V1Pod,
  c: V1Container,
  v: V1EnvVar,
  fctx: FieldContext,
  deps: EnvDeps,
): Promise<string | undefined> {
  const vf = v.valueFrom;
  const ns = pod.metadata?.namespace ?? '';
  if (vf === undefined) return '';
  if (vf.fieldRef !== undefined) return podFieldValue(pod, vf.fieldRef.fieldPath, fctx, `env ${v.name}.valueFrom.fieldRef`);
  if (vf.resourceFieldRef !== undefined) {
    return resourceFieldValue(vf.resourceFieldRef, pod, c, deps.allocatable, `env ${v.name}.valueFrom.resourceFieldRef`);
  }
  const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
  if (ref === undefined) return '';
  const optional = ref.optional === true;
  const name = ref.name ?? '';
  if (vf.configMapKeyRef !== undefined) {
    const cm = await fetchObject('configmap', pod, name, deps.objects, 'CREATE_CONTAINER_CONFIG');
    if (cm === undefined) {
      if (optional) return undefined;
      throw new NodeletError('CREATE_CONTAINER_CONFIG', notFoundMessage('configmap', name));
    }
    const val = cm.data?.[ref.key];
    if (val === undefined && !optional) {
      throw new NodeletError('CREATE_CONTAINER_CONFIG', `couldn't find key ${ref.key} in ConfigMap ${ns}/${name}`);
    }
    return val;
  }
  const s = await fetchObject('secret', pod, name, deps.objects, 'CREATE_CONTAINER_CONFIG');
  if (s === undefined) {
    if (optional) return undefined;
    throw new NodeletError('CREATE_CONTAINER_CONFIG', notFoundMessage('secret', name));
  }
  const val = secretData(s).get(ref.key);
  if (val === undefined && !optional) {
    throw new NodeletError('CREATE_CONTAINER_CONFIG', `couldn't find key ${ref.key} in Secret ${ns}/${name}`);
  }
  return val?.toString('utf8');
}

/**
 * The container's environment. Throws NodeletError CREATE_CONTAINER_CONFIG with upstream messages
 * (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`, …). Secret values are never logged.
 */
export async function makeEnvironment(
  pod: V1Pod,
  c: V1Container,
  fctx: FieldContext,
  deps: EnvDeps,
): Promise<EnvVar[]> {
  try {
    const svcEnv = await serviceEnv(pod, deps);
    const env = new Map<string, string>();
    for (const src of c.envFrom ?? []) await applyEnvFrom(pod, src, env, deps);
    const mapping = mappingFor(env, svcEnv);
    for (const v of c.env ?? []) {
      let value: string | undefined;
      if (v.value !== undefined && v.value !== '') value = expand(v.value, mapping);
      else value = await valueFrom(pod, c, v, fctx, deps);
      if (value === undefined) continue;
      env.set(v.name, value);
    }
    const out: EnvVar[] = [...env].map(([name, value]) => ({ name, value }));
    for (const [name, value] of svcEnv) if (!env.has(name)) out.push({ name, value });
    return out;
  } catch (err) {
    throw configError(err);
  }
}
