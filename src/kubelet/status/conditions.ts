/**
 * Pod conditions (upstream pkg/kubelet/status/generate.go), pure. lastTransitionTime is carried over from the
 * previous status when a condition's status did not change.
 */
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { isSidecar } from '../pods/policy.js';
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
  now: Date;
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
    const missing: string[] = [];
    for (const g of input.pod.spec?.readinessGates ?? []) {
      const c = input.oldConditions.find((x) => x.type === g.conditionType);
      if (c === undefined) missing.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
      else if (c.status !== 'True') missing.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
    }
    if (missing.length > 0) return { type, status: 'False', reason: 'ReadinessGatesNotReady', message: missing.join(', ') };
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

/** The kubelet-owned conditions in upstream order; other conditions from `oldConditions` are kept. */
export function computeConditions(input: ConditionInput): V1PodCondition[] {
  const own: Cond[] = [
    { type: 'PodReadyToStartContainers', status: input.sandboxReady ? 'True' : 'False' },
    initialized(input),
    readiness('Ready', input),
    readiness('ContainersReady', input),
    { type: 'PodScheduled', status: 'True' },
  ];
  const ownTypes = new Set(own.map((c) => c.type));
  const out: V1PodCondition[] = own.map((c) => {
    const old = input.oldConditions.find((o) => o.type === c.type);
    const keep = old !== undefined && old.status === c.status && old.lastTransitionTime !== undefined;
    return { ...c, lastTransitionTime: keep ? old.lastTransitionTime : input.now } as V1PodCondition;
  });
  for (const o of input.oldConditions) if (!ownTypes.has(o.type)) out.push(o);
  return out;
}
