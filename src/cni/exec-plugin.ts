import { silentLogger, type Logger } from '../util/index.js';
import { attachmentOf, ResultCache, type CachedAttachment } from './cache.js';
import { CniError } from './errors.js';
import { findPlugin, runPluginProcess, type PluginInvocation, type PluginOutput } from './exec.js';
import { buildPluginConf, cniArgsString, versionAtLeast } from './invoke.js';
import { parseResult } from './result.js';
import type { CniPlugin } from './plugin.js';
import type { CniResult, NetworkConfigList, PluginConf, RuntimeConf } from './types.js';

/** Options for {@link ExecCniPlugin}. */
export interface ExecCniPluginOptions {
  /** Directories searched for plugin binaries, in order (CNI_PATH). */
  binDirs: readonly string[];
  /** libcni cache directory (default /var/lib/cni). */
  cacheDir: string;
  /** Timeout of one plugin process (default 60 s). */
  timeoutMs?: number;
  logger?: Logger;
  /** Replaces the process runner (tests). */
  run?: (inv: PluginInvocation) => Promise<PluginOutput>;
}

type Command = 'ADD' | 'DEL' | 'CHECK';

/** {@link CniPlugin} running the plugin binaries the way libcni does, with a libcni-compatible result cache. */
export class ExecCniPlugin implements CniPlugin {
  readonly #binDirs: readonly string[];
  readonly #cache: ResultCache;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #run: (inv: PluginInvocation) => Promise<PluginOutput>;

  constructor(options: ExecCniPluginOptions) {
    this.#binDirs = options.binDirs;
    this.#cache = new ResultCache(options.cacheDir);
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'cni' });
    this.#run = options.run ?? runPluginProcess;
  }

  async add(list: NetworkConfigList, rt: RuntimeConf): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const p of list.plugins) prev = await this.#invoke('ADD', list, p, rt, prev);
    if (prev === undefined) throw new CniError('plugin-error', `network ${list.name}: no result`);
    await this.#cache.write(attachmentOf(list.name, list.bytes, rt, prev));
    return prev;
  }

  async del(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    const cached = versionAtLeast(list.cniVersion, '0.4.0') ? await this.#cache.read(list.name, rt.containerId, rt.ifName) : undefined;
    for (const p of [...list.plugins].reverse()) await this.#invoke('DEL', list, p, rt, cached?.result);
    await this.#cache.remove(list.name, rt.containerId, rt.ifName);
  }

  async check(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    if (!versionAtLeast(list.cniVersion, '0.4.0')) {
      throw new CniError('bad-config', `network ${list.name}: configuration version "${list.cniVersion}" does not support the CHECK command`);
    }
    if (list.disableCheck) return;
    const cached = await this.#cache.read(list.name, rt.containerId, rt.ifName);
    if (cached?.result === undefined) {
      throw new CniError('no-cached-result', `network ${list.name}: no cached result for container ${rt.containerId}`);
    }
    for (const p of list.plugins) await this.#invoke('CHECK', list, p, rt, cached.result);
  }

  cached(networkName: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    return this.#cache.read(networkName, containerId, ifName);
  }

  listCached(containerId?: string): Promise<CachedAttachment[]> {
    return this.#cache.list(containerId);
  }

  async validate(list: NetworkConfigList): Promise<void> {
    for (const p of list.plugins) await this.#binary(p.type, list.name);
  }

  async #binary(type: string, network: string): Promise<string> {
    const path = await findPlugin(type, this.#binDirs);
    if (path === undefined) {
      throw new CniError('plugin-not-found', `failed to find plugin "${type}" in path [${this.#binDirs.join(' ')}] (network ${network})`);
    }
    return path;
  }

  async #invoke(cmd: Command, list: NetworkConfigList, p: PluginConf, rt: RuntimeConf, prev: CniResult | undefined): Promise<CniResult | undefined> {
    const path = await this.#binary(p.type, list.name);
    const stdin = JSON.stringify(buildPluginConf(list, p, rt, cmd === 'DEL' && prev === undefined ? undefined : prev));
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      CNI_COMMAND: cmd,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_ARGS: cniArgsString(rt.args),
      CNI_PATH: this.#binDirs.join(':'),
    };
    const started = Date.now();
    const out = await this.#run({ path, env, stdin, timeoutMs: this.#timeoutMs });
    this.#log.debug({ plugin: p.type, command: cmd, container: rt.containerId, exitCode: out.exitCode, ms: Date.now() - started }, 'Ran CNI plugin');
    if (out.exitCode !== 0) throw pluginError(cmd, list.name, p.type, out);
    if (cmd !== 'ADD') return prev;
    let json: unknown;
    try {
      json = JSON.parse(out.stdout);
    } catch {
      throw new CniError('plugin-error', `plugin type="${p.type}" name="${list.name}" failed (add): invalid result ${JSON.stringify(out.stdout.slice(0, 200))}`);
    }
    return parseResult(json, `plugin ${p.type}`);
  }
}

function pluginError(cmd: Command, network: string, type: string, out: PluginOutput): CniError {
  let msg = out.stderr.trim() || `exit code ${out.exitCode}`;
  let code: number | undefined;
  try {
    const e = JSON.parse(out.stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.msg === 'string') msg = e.details ? `${e.msg}: ${e.details}` : e.msg;
    if (typeof e.code === 'number') code = e.code;
  } catch {
    // not JSON: keep stderr
  }
  return new CniError('plugin-error', `plugin type="${type}" name="${network}" failed (${cmd.toLowerCase()}): ${msg}`, { ...(code === undefined ? {} : { cniCode: code }) });
}
