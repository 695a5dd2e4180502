/**
 * Pod conditions (upstream pkg/kubelet/status/generate.go), pure. lastTransitionTime is carried over from the
 * previous status when a condition's status did not change. Conditions of other types belong to whoever wrote them
 * (readiness gates, DisruptionTarget, …): they are read (from the API object when known) and passed through
 * unchanged, never computed here.
 */
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { isSidecar } from '../podstate/policy.js';
import { anyRegularContainerStarted } from './phase.js';

/** Inputs of {@link computeConditions}. */
export interface ConditionInput {
  pod: V1Pod;
  init: V1ContainerStatus[];
  app: V1ContainerStatus[];
  phase: string;
  /** A ready sandbox with networking exists. */
  sandboxReady: boolean;
  oldConditions: V1PodCondition[];
  /**
   * The conditions the API object has now, when known: the source of truth for conditions the kubelet does not own
   * (readiness gates are written by controllers through the status subresource). Default: `oldConditions`.
   */
  apiConditions?: V1PodCondition[];
  now: Date;
  /** PodResizePending / PodResizeInProgress, with their times, as the allocation manager holds them. */
  resizeConditions?: V1PodCondition[];
}

/** Condition types the kubelet owns (upstream kubetypes.PodConditionsByKubelet); all others belong to someone else. */
export const KUBELET_CONDITION_TYPES: ReadonlySet<string> = new Set([
  'PodScheduled',
  'Ready',
  'Initialized',
  'ContainersReady',
  'PodReadyToStartContainers',
  'PodResizePending',
  'PodResizeInProgress',
]);

/** True for condition types the kubelet computes and writes. */
export function isKubeletCondition(type: string): boolean {
  return KUBELET_CONDITION_TYPES.has(type);
}

/** The conditions written by others: from the API object when known, else from the previous status. */
function foreignConditions(input: ConditionInput): V1PodCondition[] {
  return (input.apiConditions ?? input.oldConditions).filter((c) => !isKubeletCondition(c.type));
}

/**
 * Readiness gates (upstream status.generatePodReadinessGateConditions): undefined when every gate's condition is
 * True, else the Ready condition's reason and message. Pure.
 */
export function readinessGatesCondition(
  pod: V1Pod,
  conditions: V1PodCondition[],
): { reason: string; message: string } | undefined {
  const problems: string[] = [];
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (c === undefined) problems.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') problems.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  return problems.length === 0 ? undefined : { reason: 'ReadinessGatesNotReady', message: problems.join(', ') };
}

type Cond = Omit<V1PodCondition, 'lastTransitionTime'>;

const list = (names: string[]): string => `[${names.join(' ')}]`;

function readiness(type: 'ContainersReady' | 'Ready', input: ConditionInput): Cond {
  const unknown: string[] = [];
  const unready: string[] = [];
  const check = (name: string, statuses: V1ContainerStatus[]): void => {
    const s = statuses.find((x) => x.name === name);
    if (s === undefined) unknown.push(name);
    else if (!s.ready) unready.push(name);
  };
  for (const c of input.pod.spec?.initContainers ?? []) if (isSidecar(c)) check(c.name, input.init);
  for (const c of input.pod.spec?.containers ?? []) check(c.name, input.app);
  if (input.phase === 'Succeeded' && unknown.length === 0) {
    return { type, status: 'False', reason: 'PodCompleted' };
  }
  const msgs: string[] = [];
  if (unknown.length > 0) msgs.push(`containers with unknown status: ${list(unknown)}`);
  if (unready.length > 0) msgs.push(`containers with unready status: ${list(unready)}`);
  if (msgs.length > 0) return { type, status: 'False', reason: 'ContainersNotReady', message: msgs.join(', ') };
  if (type === 'Ready') {
    const gates = readinessGatesCondition(input.pod, foreignConditions(input));
    if (gates !== undefined) return { type, status: 'False', ...gates };
  }
  return { type, status: 'True' };
}

function initialized(input: ConditionInput): Cond {
  const type = 'Initialized';
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of input.pod.spec?.initContainers ?? []) {
    const s = input.init.find((x) => x.name === c.name);
    if (s === undefined) unknown.push(c.name);
    else if (isSidecar(c) ? s.started !== true : s.state?.terminated?.exitCode !== 0) incomplete.push(c.name);
  }
  if (input.phase === 'Succeeded' && unknown.length === 0) return { type, status: 'True', reason: 'PodCompleted' };
  if (anyRegularContainerStarted(input.pod, input.app)) return { type, status: 'True' };
  const msgs: string[] = [];
  if (unknown.length > 0) msgs.push(`containers with unknown status: ${list(unknown)}`);
  if (incomplete.length > 0) msgs.push(`containers with incomplete status: ${list(incomplete)}`);
  if (msgs.length > 0) return { type, status: 'False', reason: 'ContainersNotInitialized', message: msgs.join(', ') };
  return { type, status: 'True' };
}

/**
 * The kubelet-owned conditions in upstream order, followed by the conditions others wrote (from `apiConditions`,
 * else `oldConditions`), unchanged.
 */
export function computeConditions(input: ConditionInput): V1PodCondition[] {
  const own: Cond[] = [
    { type: 'PodReadyToStartContainers', status: input.sandboxReady ? 'True' : 'False' },
    initialized(input),
    readiness('Ready', input),
    readiness('ContainersReady', input),
    { type: 'PodScheduled', status: 'True' },
  ];
  const out: V1PodCondition[] = own.map((c) => {
    const old = input.oldConditions.find((o) => o.type === c.type);
    const keep = old !== undefined && old.status === c.status && old.lastTransitionTime !== undefined;
    return { ...c, lastTransitionTime: keep ? old.lastTransitionTime : input.now } as V1PodCondition;
  });
  return [...out, ...(input.resizeConditions ?? []), ...foreignConditions(input)];
}
