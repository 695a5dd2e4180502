/**
 * Pure parsing of CNI configuration files as libcni does it: `.conflist` is a list, `.conf`/`.json` a single plugin
 * wrapped into a list; the default network is the first loadable file in lexical order (as cri-dockerd picks it).
 */
import { CniError } from './errors.js';
import type { NetworkConfigList, PluginConf } from './types.js';

/** Spec versions nodelet can drive (CHECK needs 0.4.0 or later). */
export const SUPPORTED_CNI_VERSIONS: readonly string[] = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

/** File name extensions libcni loads from a config directory. */
export const CONF_EXTENSIONS: readonly string[] = ['.conf', '.conflist', '.json'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string, source: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CniError('bad-config', `error parsing configuration ${source}: ${(err as Error).message}`, { object: source, cause: err });
  }
  if (!isObject(v)) throw new CniError('bad-config', `error parsing configuration ${source}: not a JSON object`, { object: source });
  return v;
}

function checkVersion(version: unknown, source: string): string {
  if (typeof version !== 'string' || version === '') {
    throw new CniError('bad-config', `configuration ${source}: missing cniVersion`, { object: source, field: 'cniVersion' });
  }
  if (!SUPPORTED_CNI_VERSIONS.includes(version)) {
    throw new CniError('bad-config', `configuration ${source}: unsupported cniVersion "${version}" (supported: ${SUPPORTED_CNI_VERSIONS.join(', ')})`, {
      object: source,
      field: 'cniVersion',
    });
  }
  return version;
}

function checkPlugin(p: unknown, source: string, index: number): PluginConf {
  if (!isObject(p) || typeof p['type'] !== 'string' || p['type'] === '') {
    throw new CniError('bad-config', `configuration ${source}: plugin ${index} has no "type"`, { object: source, field: `plugins[${index}].type` });
  }
  return p as PluginConf;
}

/** Parses a `.conflist` text. Throws CniError('bad-config'). */
export function parseConfList(text: string, source = ''): NetworkConfigList {
  const raw = parseJson(text, source);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') throw new CniError('bad-config', `configuration ${source}: missing "name"`, { object: source, field: 'name' });
  const cniVersion = checkVersion(raw['cniVersion'], source);
  const plugins = raw['plugins'];
  if (!Array.isArray(plugins) || plugins.length === 0) {
    throw new CniError('bad-config', `configuration ${source}: no plugins in list`, { object: source, field: 'plugins' });
  }
  return {
    name,
    cniVersion,
    disableCheck: raw['disableCheck'] === true,
    plugins: plugins.map((p, i) => checkPlugin(p, source, i)),
    bytes: text,
    source,
  };
}

/** Parses a single-plugin `.conf` and wraps it into a list (libcni ConfListFromConf). Throws CniError('bad-config'). */
export function parseConf(text: string, source = ''): NetworkConfigList {
  const raw = parseJson(text, source);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') throw new CniError('bad-config', `configuration ${source}: missing "name"`, { object: source, field: 'name' });
  const cniVersion = checkVersion(raw['cniVersion'], source);
  const plugin = checkPlugin(raw, source, 0);
  return { name, cniVersion, disableCheck: false, plugins: [plugin], bytes: JSON.stringify({ cniVersion, name, plugins: [raw] }), source };
}

/** Parses a config file by its extension. */
export function parseConfigFile(fileName: string, text: string): NetworkConfigList {
  return fileName.endsWith('.conflist') ? parseConfList(text, fileName) : parseConf(text, fileName);
}

/** The files of a directory listing that libcni would load, in load order. */
export function configFileNames(names: readonly string[]): string[] {
  return names.filter((n) => CONF_EXTENSIONS.some((e) => n.endsWith(e))).sort();
}
