import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFileNames, parseConfigFile } from './conf.js';
import { CniError, isCniError } from './errors.js';
import type { CniPlugin } from './plugin.js';
import type { NetworkConfigList } from './types.js';

/** The outcome of looking for the default network in a config directory. */
export interface DefaultNetwork {
  list: NetworkConfigList | undefined;
  /** Why files were skipped (bad JSON, missing plugin binary), one line per file. */
  problems: string[];
}

/**
 * The default network of `confDir`: the first file (lexical order) that parses and whose plugin binaries all exist,
 * as cri-dockerd picks it. A missing directory is "no config". Never throws for a bad file; I/O errors propagate.
 */
export async function loadDefaultNetwork(confDir: string, plugin: Pick<CniPlugin, 'validate'>): Promise<DefaultNetwork> {
  let names: string[];
  try {
    names = configFileNames(await readdir(confDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { list: undefined, problems: [] };
    throw err;
  }
  const problems: string[] = [];
  for (const n of names) {
    try {
      const list = parseConfigFile(n, await readFile(join(confDir, n), 'utf8'));
      list.source = join(confDir, n);
      await plugin.validate(list);
      return { list, problems };
    } catch (err) {
      if (!isCniError(err) && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
      problems.push(`${n}: ${(err as Error).message}`);
    }
  }
  return { list: undefined, problems };
}

/** The error of a directory without a usable network (message as cri-dockerd's "cni config uninitialized"). */
export function noNetworkError(d: DefaultNetwork): CniError {
  const why = d.problems.length === 0 ? 'cni config uninitialized' : `cni config uninitialized: ${d.problems.join('; ')}`;
  return new CniError(d.problems.length === 0 ? 'no-config' : 'bad-config', why);
}
