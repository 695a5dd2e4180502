/**
 * The one outside effect of the stats code: reading the host's kernel interfaces (cgroupfs, /proc) and file system
 * usage. The real implementation is built in src/cli (`createHostStatsFs`); tests use `FakeStatsFs` (fake.ts), and
 * both pass the same contract (fs-contract.ts).
 */
import { readdirSync, readFileSync, statfsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

/** Capacity and usage of the file system holding a path (statfs). */
export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
  /** capacity − free blocks (root-reserved blocks count as used, as upstream). */
  usedBytes: number;
  inodes: number;
  inodesFree: number;
}

/** Bytes and inodes a directory tree uses (like `du`). */
export interface DirUsage {
  bytes: number;
  inodes: number;
}

/** Read-only view of the host that the stats code needs. Every method returns undefined when the path is missing. */
export interface StatsFs {
  /** The text of a (small) file: cgroup or /proc files. */
  readFile(path: string): string | undefined;
  /** Names in a directory (undefined when it does not exist). */
  readDir(path: string): string[] | undefined;
  /** statfs of the file system holding `path`. */
  statfs(path: string): FsUsage | undefined;
  /** Disk usage of a directory tree, walking at most `maxEntries` entries (a bound on cost). */
  diskUsage(path: string, maxEntries: number): DirUsage | undefined;
}

/** The real host: node:fs, synchronous (the files are tiny and in-kernel). */
export class HostStatsFs implements StatsFs {
  readFile(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }

  readDir(path: string): string[] | undefined {
    try {
      return readdirSync(path);
    } catch {
      return undefined;
    }
  }

  statfs(path: string): FsUsage | undefined {
    try {
      const s = statfsSync(path);
      return {
        capacityBytes: s.blocks * s.bsize,
        availableBytes: s.bavail * s.bsize,
        usedBytes: (s.blocks - s.bfree) * s.bsize,
        inodes: s.files,
        inodesFree: s.ffree,
      };
    } catch {
      return undefined;
    }
  }

  diskUsage(path: string, maxEntries: number): DirUsage | undefined {
    let root;
    try {
      root = lstatSync(path);
    } catch {
      return undefined;
    }
    const out: DirUsage = { bytes: root.blocks * 512, inodes: 1 };
    if (!root.isDirectory()) return out;
    const stack = [path];
    const seen = new Set<string>();
    let budget = maxEntries;
    while (stack.length > 0 && budget > 0) {
      const dir = stack.pop()!;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (--budget < 0) break;
        const p = join(dir, n);
        try {
          const st = lstatSync(p);
          const key = `${st.dev}:${st.ino}`;
          if (seen.has(key)) continue; // hard links count once, as du does
          if (st.nlink > 1) seen.add(key);
          out.bytes += st.blocks * 512;
          out.inodes += 1;
          if (st.isDirectory()) stack.push(p);
        } catch {
          // raced with a delete: skip
        }
      }
    }
    return out;
  }
}

/** Builds the real host view (only src/cli calls this). */
export function createHostStatsFs(): StatsFs {
  return new HostStatsFs();
}
