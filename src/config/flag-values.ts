/**
 * Converts raw flag text into config values. Conversions that cannot be expressed by the document schema
 * (`k=v` lists, eviction thresholds, taints) reject bad text here with a ConfigError naming the flag; scalar values
 * are converted leniently (a non-number stays a string) so the strict schema reports the type error, naming the flag.
 */
import { ConfigError } from '../util/errors.js';
import type { FlagSpec } from './flags.js';

/** What commander hands over for one flag. */
export type RawFlag = string | boolean | string[];

function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function pairs(flag: string, text: string, sep: string, example: string): [string, string][] {
  return splitList(text).map((item) => {
    const i = item.indexOf(sep);
    if (i <= 0) throw new ConfigError(`flag ${flag}: "${item}" is not of the form ${example}`, { field: flag });
    return [item.slice(0, i).trim(), item.slice(i + sep.length).trim()];
  });
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function taints(flag: string, text: string): unknown[] {
  return splitList(text).map((item) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(item);
    if (m === null || !EFFECTS.includes(m[3] ?? '')) {
      throw new ConfigError(
        `flag ${flag}: "${item}" is not of the form key[=value]:Effect (allowed effects: ${EFFECTS.join(', ')})`,
        { field: flag },
      );
    }
    return m[2] === undefined ? { key: m[1], effect: m[3] } : { key: m[1], value: m[2], effect: m[3] };
  });
}

function thresholds(flag: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitList(text)) {
    const m = /^([a-zA-Z.]+)<(.+)$/.exec(item);
    if (m === null) throw new ConfigError(`flag ${flag}: "${item}" is not of the form signal<threshold (e.g. memory.available<100Mi)`, { field: flag });
    out[m[1] ?? ''] = m[2] ?? '';
  }
  return out;
}

/** Converts one flag's raw value into the value of its config field (or process setting). */
export function convertFlag(spec: FlagSpec, raw: RawFlag): unknown {
  const flag = `--${spec.name}`;
  const texts = Array.isArray(raw) ? raw : [raw];
  const last = texts[texts.length - 1];
  switch (spec.kind) {
    case 'bool':
      if (last === true || last === 'true') return true;
      if (last === false || last === 'false') return false;
      throw new ConfigError(`flag ${flag}: expected true or false (got ${JSON.stringify(last)})`, { field: flag });
    case 'int':
      return typeof last === 'string' && /^-?\d+$/.test(last.trim()) ? Number(last) : last;
    case 'string':
      return typeof last === 'string' ? last : '';
    case 'list':
      return typeof last === 'string' ? splitList(last) : [];
    case 'keyValues':
      return Object.fromEntries(pairs(flag, String(last), '=', 'key=value'));
    case 'thresholds':
      return thresholds(flag, String(last));
    case 'taints':
      return taints(flag, String(last));
    case 'headers': {
      const out: Record<string, string[]> = {};
      for (const t of texts) for (const [key, v] of pairs(flag, String(t), ':', 'key:value')) (out[key] ??= []).push(v);
      return out;
    }
  }
}
