/**
 * Upstream's validation of `podLogsDir` (pkg/kubelet/apis/config/validation): the directory must be an absolute,
 * normalized path of ASCII characters only (it appears in metrics).
 */
import { posix } from 'node:path';
import { ConfigError } from '../util/errors.js';

/** Go's `filepath.Clean(p) == p` for a POSIX path: no `.`/`..` elements, no doubled or trailing slash. Pure. */
export function isPathClean(p: string): boolean {
  return p !== '' && posix.normalize(p) === p && (p === '/' || !p.endsWith('/'));
}

/** Throws ConfigError (field `podLogsDir`) unless `dir` is absolute, normalized and ASCII, with upstream's wording. */
export function checkPodLogsDir(dir: string): void {
  const fail = (what: string): never => {
    throw new ConfigError(`field "podLogsDir": pod logs path "${dir}" must be ${what}`, { field: 'podLogsDir' });
  };
  if (!posix.isAbsolute(dir)) fail('absolute path');
  if (!isPathClean(dir)) fail('normalized');
  if (/[^\x00-\x7f]/.test(dir)) fail('ASCII characters only');
}
