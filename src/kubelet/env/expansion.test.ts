import { describe, expect, it } from 'vitest';
import { expand, mappingFor } from './expansion.js';

const vars = new Map([
  ['VAR_A', 'A'],
  ['VAR_B', 'B'],
  ['VAR_C', 'C'],
  ['VAR_REF', '$(VAR_A)'],
  ['VAR_EMPTY', ''],
]);
const mapping = mappingFor(vars);

describe('expand (upstream expansion semantics)', () => {
  it.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_A)$(VAR_B)$(VAR_C)', 'ABC'],
    ['$(VAR_EMPTY)', ''],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$', '$'],
    ['$', '$'],
    ['foo$', 'foo$'],
    ['$VAR_A', '$VAR_A'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$(', '$('],
    ['$()', '$()'],
    ['$(VAR_A)$(', 'A$('],
    ['$(VAR_$(VAR_A))', '$(VAR_$(VAR_A))'],
    ['$(VAR_A)))', 'A))'],
    ['no refs at all', 'no refs at all'],
    ['', ''],
    ['$(VAR_A) and $$(VAR_B) and $(VAR_DNE) and $(VAR_C)', 'A and $(VAR_B) and $(VAR_DNE) and C'],
    ['ünïcødé $(VAR_A) $é', 'ünïcødé A $é'],
  ])('%j → %j', (input, want) => {
    expect(expand(input, mapping)).toBe(want);
  });

  it('first context wins', () => {
    const m = mappingFor(new Map([['X', '1']]), new Map([['X', '2'], ['Y', '3']]));
    expect(expand('$(X)$(Y)', m)).toBe('13');
  });
});
