/** Pure parts of invoking a plugin: its stdin configuration and CNI_ARGS (libcni buildOneConfig). */
import { resultForVersion } from './result.js';
import type { CniResult, NetworkConfigList, PluginConf, RuntimeConf } from './types.js';

/** True when spec version `v` is at least `min` (dotted numeric compare). */
export function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** `K=V;K=V` as CNI_ARGS carries them. */
export function cniArgsString(args: readonly [string, string][]): string {
  return args.map(([k, v]) => `${k}=${v}`).join(';');
}

/**
 * The stdin of one plugin: its entry with the list's `name` and `cniVersion`, `prevResult` when given, and
 * `runtimeConfig` holding only the capabilities the plugin declares.
 */
export function buildPluginConf(list: NetworkConfigList, plugin: PluginConf, rt: RuntimeConf, prev: CniResult | undefined): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prev !== undefined) conf['prevResult'] = resultForVersion(prev, list.cniVersion);
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt.capabilityArgs[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
  }
  if (Object.keys(runtimeConfig).length > 0) conf['runtimeConfig'] = runtimeConfig;
  return conf;
}
