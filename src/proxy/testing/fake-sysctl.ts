/** FakeSysctl: integer kernel parameters in memory, with a write log and injectable failures. */
import { SysctlError, type Sysctl } from '../sysctl.js';

/** See the file comment. Unknown entries fail to read, like a missing /proc file. */
export class FakeSysctl implements Sysctl {
  readonly values = new Map<string, number>();
  /** Every successful write, in order (`path=value`). */
  readonly writes: string[] = [];
  /** Entries whose writes fail (read-only sysfs, non-initial network namespace). */
  readonly readOnly = new Set<string>();

  constructor(initial: Record<string, number> = {}) {
    for (const [k, v] of Object.entries(initial)) this.values.set(k, v);
  }

  get(path: string): Promise<number> {
    const v = this.values.get(path);
    return v === undefined ? Promise.reject(new SysctlError(`reading ${path} failed: no such entry`)) : Promise.resolve(v);
  }

  set(path: string, value: number): Promise<void> {
    if (this.readOnly.has(path)) return Promise.reject(new SysctlError(`writing ${value} to ${path} failed: read-only`));
    this.values.set(path, value);
    this.writes.push(`${path}=${value}`);
    return Promise.resolve();
  }
}
