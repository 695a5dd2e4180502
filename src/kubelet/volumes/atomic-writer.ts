/**
 * Atomic projection of a set of files into a volume directory, like upstream pkg/volume/util/atomic_writer.go:
 *
 *   <dir>/..2026_01_01_00_00_00.123456789/   the current payload (a timestamped directory)
 *   <dir>/..data -> ..2026_…                   switched with one rename(2) of a temporary symlink
 *   <dir>/<key>  -> ..data/<key>               user-visible names, created once
 *
 * Readers in the container always see either the old or the new complete set. Old timestamped directories and
 * user-visible names that left the payload are removed after the switch. Never logs file contents.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidError } from '../../util/errors.js';

/** One file of a payload. */
export interface FileProjection {
  data: Buffer;
  /** Permission bits (e.g. 0o644). */
  mode: number;
}

/** Relative path → file. */
export type Payload = Map<string, FileProjection>;

const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** Rejects absolute paths, `..` elements and paths starting with `..` (upstream validatePath). */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new InvalidError('invalid path: must not be empty');
  if (path.isAbsolute(p)) throw new InvalidError(`invalid path: must be relative path: ${p}`);
  if (p.length > 4096) throw new InvalidError(`invalid path: must be less than or equal to 4096 characters`);
  if (p.split('/').includes('..')) throw new InvalidError(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith('..')) throw new InvalidError(`invalid path: must not start with '..': ${p}`);
}

function timestampDirName(now: Date): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const base =
    `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_` +
    `${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  return `${base}.${randomBytes(5).readUInt32BE(0)}`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Files under `dir` (relative paths; symlinks and directories are not files). */
async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

async function samePayload(tsDir: string, payload: Payload): Promise<boolean> {
  const files = await listFiles(tsDir);
  if (files.length !== payload.size) return false;
  for (const f of files) {
    const want = payload.get(f);
    if (want === undefined) return false;
    const st = await lstat(path.join(tsDir, f));
    if ((st.mode & 0o7777) !== want.mode) return false;
    if (!(await readFile(path.join(tsDir, f))).equals(want.data)) return false;
  }
  return true;
}

/**
 * Writes `payload` into `dir` atomically. Returns true when something changed (false: the payload was already
 * current). Idempotent; one writer per directory at a time (the pod worker serializes per pod).
 * Throws InvalidError for a bad payload path; fs errors propagate.
 */
export async function writeAtomic(dir: string, payload: Payload, now: Date = new Date()): Promise<boolean> {
  for (const p of payload.keys()) validatePayloadPath(p);
  await mkdir(dir, { recursive: true });
  const dataLink = path.join(dir, DATA_DIR);
  let oldTs: string | undefined;
  try {
    oldTs = await readlink(dataLink);
  } catch {
    oldTs = undefined;
  }
  if (oldTs !== undefined && (await exists(path.join(dir, oldTs))) && (await samePayload(path.join(dir, oldTs), payload))) {
    return false;
  }
  const tsName = timestampDirName(now);
  const tsDir = path.join(dir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  await chmod(tsDir, 0o755);
  for (const [rel, f] of payload) {
    const target = path.join(tsDir, rel);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, f.data, { mode: f.mode });
    await chmod(target, f.mode);
  }
  const tmpLink = path.join(dir, DATA_TMP);
  await rm(tmpLink, { force: true });
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataLink);
  const top = new Set([...payload.keys()].map((p) => p.split('/')[0] as string));
  for (const name of top) {
    const userPath = path.join(dir, name);
    if (!(await exists(userPath))) await symlink(path.join(DATA_DIR, name), userPath);
  }
  for (const e of await readdir(dir)) {
    if (e.startsWith('..')) continue;
    if (!top.has(e)) await unlink(path.join(dir, e)).catch(() => rm(path.join(dir, e), { recursive: true, force: true }));
  }
  for (const e of await readdir(dir)) {
    if (e.startsWith('..') && e !== DATA_DIR && e !== tsName) await rm(path.join(dir, e), { recursive: true, force: true });
  }
  return true;
}

/** The directory holding the current payload (`<dir>/<ts>`), or undefined before the first write. */
export async function currentPayloadDir(dir: string): Promise<string | undefined> {
  try {
    return path.join(dir, await readlink(path.join(dir, DATA_DIR)));
  } catch {
    return undefined;
  }
}

/** A digest of a payload (paths, modes and contents). */
export function payloadDigest(payload: Payload): string {
  const h = createHash('sha256');
  for (const k of [...payload.keys()].sort()) {
    const f = payload.get(k) as FileProjection;
    h.update(`${k}\0${f.mode}\0${f.data.length}\0`).update(f.data);
  }
  return h.digest('hex');
}

/**
 * What this agent last wrote into each volume directory (timestamped dir + payload digest), so that a pod sync whose
 * payload did not change costs one readlink instead of re-reading every file. A directory whose `..data` link no
 * longer points where this agent left it (removed, unmounted, rewritten by someone else) takes the full path again.
 */
export class WrittenPayloads {
  readonly #dirs = new Map<string, { ts: string; digest: string }>();

  /** True when `dir` holds exactly `payload` as this agent last wrote it. */
  async isCurrent(dir: string, payload: Payload): Promise<boolean> {
    const w = this.#dirs.get(dir);
    if (w === undefined || w.digest !== payloadDigest(payload)) return false;
    try {
      return (await readlink(path.join(dir, DATA_DIR))) === w.ts;
    } catch {
      return false;
    }
  }

  /** Records that `dir` now holds `payload` (call after {@link writeAtomic} returned). */
  async remember(dir: string, payload: Payload): Promise<void> {
    const current = await currentPayloadDir(dir);
    if (current === undefined) this.#dirs.delete(dir);
    else this.#dirs.set(dir, { ts: path.basename(current), digest: payloadDigest(payload) });
  }

  /** Forgets every directory under `prefix` (a pod directory being removed). */
  forgetUnder(prefix: string): void {
    const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
    for (const d of this.#dirs.keys()) if (d.startsWith(p)) this.#dirs.delete(d);
  }
}
