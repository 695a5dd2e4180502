import { readFileSync } from 'node:fs';

const CAP_SYS_RESOURCE = 24n;

/** True when this process has CAP_SYS_RESOURCE in its effective set (false when it cannot tell). */
export function hasSysResource(statusText?: string): boolean {
  try {
    const text = statusText ?? readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(text);
    if (m?.[1] === undefined) return false;
    return ((BigInt(`0x${m[1]}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * The oom_score_adj floor to apply: without CAP_SYS_RESOURCE nothing started from here can go below our own score
 * (runc fails the start), so that score is the floor; with it there is none (undefined).
 */
export function defaultOomScoreAdjFloor(): number | undefined {
  if (hasSysResource()) return undefined;
  try {
    return Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}
