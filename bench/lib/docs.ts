/** Writes a benchmark's section of docs/benchmarks.md (between `<!-- bench:<name>:start/end -->` markers). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const DOC = 'docs/benchmarks.md';

function replaceBlock(text: string, name: string, body: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) return text.slice(0, i) + block + text.slice(j + end.length);
  return `${text.trimEnd()}\n\n${block}\n`;
}

/**
 * Replaces the sub-block `sub` (e.g. `pods:startup`) inside the section `section` (e.g. `pods`) of docs/benchmarks.md,
 * creating the file, the section (with `sectionHeader`) and the sub-block as needed; other sections and other
 * sub-blocks are left alone. Re-reads the file right before writing (other benchmarks write their own sections).
 */
export function writeSubsection(section: string, sectionHeader: string, sub: string, body: string): void {
  let text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n\nResults of `npm run bench` (bench/*.ts); each benchmark writes its own section.\n';
  const start = `<!-- bench:${section}:start -->`;
  const end = `<!-- bench:${section}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  let inner = i >= 0 && j > i ? text.slice(i + start.length, j) : `\n${sectionHeader.trim()}\n`;
  if (!inner.includes(sectionHeader.trim().split('\n')[0] ?? '')) inner = `\n${sectionHeader.trim()}\n${inner}`;
  inner = replaceBlock(inner.trimEnd(), sub, body);
  text = replaceBlock(text, section, inner.trim());
  writeFileSync(DOC, text);
}
