/**
 * `$(VAR)` expansion of exec probe commands with the container's static env values only (upstream
 * ExpandContainerCommandOnlyStatic): `$$` is an escaped `$`; a reference to an unknown variable stays as written.
 */
import type { V1EnvVar } from '@kubernetes/client-node';

/** Expands every element of `command`. */
export function expandCommandStatic(command: string[], env: V1EnvVar[] | undefined): string[] {
  const vars = new Map<string, string>();
  for (const e of env ?? []) if (e.valueFrom === undefined && e.value !== undefined) vars.set(e.name, e.value);
  return command.map((c) => expand(c, vars));
}

function expand(s: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch !== '$' || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const end = s.indexOf(')', i + 2);
      if (end < 0) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, end);
      out += vars.get(name) ?? `$(${name})`;
      i = end;
    } else {
      out += '$' + next;
      i++;
    }
  }
  return out;
}
