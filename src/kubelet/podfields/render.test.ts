import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPodFieldsMarkdown } from './render.js';
import { POD_FIELDS } from './table.js';

describe('docs/pod-fields.md', () => {
  it('is the rendering of the table (UPDATE_DOCS=1 rewrites it)', () => {
    const path = join(import.meta.dirname, '../../../docs/pod-fields.md');
    const want = renderPodFieldsMarkdown();
    if (process.env.UPDATE_DOCS === '1') writeFileSync(path, want);
    expect(readFileSync(path, 'utf8')).toBe(want);
  });
  it('lists each path once, and every rejected field has a reason', () => {
    const paths = POD_FIELDS.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const f of POD_FIELDS.filter((x) => x.support === 'rejected')) expect(f.reason, f.path).toBeDefined();
  });
});
