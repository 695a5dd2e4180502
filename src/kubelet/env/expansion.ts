/**
 * `$(VAR)` expansion with the exact semantics of upstream third_party/forked/golang/expansion:
 * - `$(NAME)` is replaced by the mapping's value; an unknown name stays verbatim as `$(NAME)`;
 * - `$$` is an escaped `$` (so `$$(NAME)` yields the literal `$(NAME)`);
 * - a `$` not followed by `(` or `$`, an unterminated `$(`, and a trailing `$` are copied unchanged.
 */

/** Looks a variable up; returns its replacement text. */
export type Mapping = (name: string) => string;

/**
 * A mapping over several maps, first match wins; unknown names map to themselves wrapped as `$(name)`, which keeps
 * unresolved references verbatim.
 */
export function mappingFor(...contexts: ReadonlyMap<string, string>[]): Mapping {
  return (name) => {
    for (const ctx of contexts) {
      const v = ctx.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

/** Expands every `$(VAR)` in `input` through `mapping`. Pure. */
export function expand(input: string, mapping: Mapping): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { text, isVar, advance } = readVariableName(input.slice(cursor + 1));
    out += isVar ? mapping(text) : text;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function readVariableName(input: string): { text: string; isVar: boolean; advance: number } {
  const first = input[0];
  if (first === '$') return { text: '$', isVar: false, advance: 1 };
  if (first === '(') {
    const close = input.indexOf(')', 1);
    if (close !== -1) return { text: input.slice(1, close), isVar: true, advance: close + 1 };
    return { text: '$(', isVar: false, advance: 1 };
  }
  return { text: `$${first ?? ''}`, isVar: false, advance: 1 };
}
