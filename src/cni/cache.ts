/**
 * The libcni result cache, file-compatible with libcni (`<cacheDir>/results/<network>-<containerID>-<ifName>`,
 * kind `cniCacheV1`, config base64): what ADD used and returned, so DEL and CHECK work after an agent restart or crash
 * and with a config directory that changed since.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseResult } from './result.js';
import type { CniResult, RuntimeConf } from './types.js';

/** One cached attachment: a network attached to a container by ADD and not yet removed by DEL. */
export interface CachedAttachment {
  networkName: string;
  containerId: string;
  ifName: string;
  netns: string;
  /** The configuration list ADD used (raw bytes). */
  config: string;
  args: [string, string][];
  capabilityArgs: Record<string, unknown>;
  result: CniResult | undefined;
  /** RuntimeConf.owner of the ADD ('' for records of other runtimes). */
  owner: string;
}

/** The cache file of an attachment. */
export function cacheFile(cacheDir: string, networkName: string, containerId: string, ifName: string): string {
  return join(cacheDir, 'results', `${networkName}-${containerId}-${ifName}`);
}

/** Serializes an attachment as libcni does. */
export function encodeAttachment(a: CachedAttachment): string {
  return JSON.stringify({
    kind: 'cniCacheV1',
    containerId: a.containerId,
    config: Buffer.from(a.config).toString('base64'),
    ifName: a.ifName,
    networkName: a.networkName,
    netns: a.netns,
    cniArgs: a.args,
    capabilityArgs: a.capabilityArgs,
    ...(a.result === undefined ? {} : { result: a.result }),
    ...(a.owner === '' ? {} : { nodeletOwner: a.owner }),
  });
}

/** Parses a cache file; undefined when it is not a cniCacheV1 record. */
export function decodeAttachment(text: string): CachedAttachment | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r['kind'] !== 'cniCacheV1' || typeof r['containerId'] !== 'string' || typeof r['networkName'] !== 'string') return undefined;
  return {
    networkName: r['networkName'],
    containerId: r['containerId'],
    ifName: typeof r['ifName'] === 'string' ? r['ifName'] : 'eth0',
    netns: typeof r['netns'] === 'string' ? r['netns'] : '',
    config: typeof r['config'] === 'string' ? Buffer.from(r['config'], 'base64').toString() : '',
    args: Array.isArray(r['cniArgs']) ? (r['cniArgs'] as [string, string][]) : [],
    capabilityArgs: typeof r['capabilityArgs'] === 'object' && r['capabilityArgs'] !== null ? (r['capabilityArgs'] as Record<string, unknown>) : {},
    result: r['result'] === undefined ? undefined : parseResult(r['result'], 'cached result'),
    owner: typeof r['nodeletOwner'] === 'string' ? r['nodeletOwner'] : '',
  };
}

/** Builds the attachment record of an ADD. */
export function attachmentOf(networkName: string, config: string, rt: RuntimeConf, result: CniResult | undefined): CachedAttachment {
  return { networkName, containerId: rt.containerId, ifName: rt.ifName, netns: rt.netns, config, args: rt.args, capabilityArgs: rt.capabilityArgs, result, owner: rt.owner ?? '' };
}

/** The cache on disk. Writes are atomic (temp file + rename); removing a missing entry succeeds. */
export class ResultCache {
  readonly #dir: string;

  constructor(cacheDir: string) {
    this.#dir = cacheDir;
  }

  async write(a: CachedAttachment): Promise<void> {
    const file = cacheFile(this.#dir, a.networkName, a.containerId, a.ifName);
    await mkdir(join(this.#dir, 'results'), { recursive: true, mode: 0o700 });
    await writeFile(`${file}.tmp`, encodeAttachment(a), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async read(networkName: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    try {
      return decodeAttachment(await readFile(cacheFile(this.#dir, networkName, containerId, ifName), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Removes the entry and a temp file a write interrupted by a crash (SIGKILL between write and rename) left. */
  async remove(networkName: string, containerId: string, ifName: string): Promise<void> {
    const file = cacheFile(this.#dir, networkName, containerId, ifName);
    await rm(file, { force: true });
    await rm(`${file}.tmp`, { force: true });
  }

  /** Every cached attachment, or those of one container (unreadable files are skipped). */
  async list(containerId?: string): Promise<CachedAttachment[]> {
    let names: string[];
    try {
      names = await readdir(join(this.#dir, 'results'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: CachedAttachment[] = [];
    const wanted = (n: string): boolean => !n.endsWith('.tmp') && (containerId === undefined || n.includes(`-${containerId}-`));
    for (const n of names.filter(wanted)) {
      const a = await readFile(join(this.#dir, 'results', n), 'utf8').then(decodeAttachment, () => undefined);
      if (a !== undefined && (containerId === undefined || a.containerId === containerId)) out.push(a);
    }
    return out;
  }
}
