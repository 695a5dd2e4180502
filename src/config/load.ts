/**
 * Reads a `--config` file: one YAML stream holding a KubeletConfiguration and/or a KubeProxyConfiguration document
 * (JSON works too). Each document is validated against its strict schema; every problem is reported with the file,
 * the document number and kind, and the field.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { describeIssues } from './issues.js';
import {
  KUBELET_API_VERSION,
  KUBELET_KIND,
  kubeletConfigurationSchema,
  type KubeletConfigurationDoc,
} from './kubelet-schema.js';
import {
  PROXY_API_VERSION,
  PROXY_KIND,
  kubeProxyConfigurationSchema,
  type KubeProxyConfigurationDoc,
} from './proxy-schema.js';

/** The documents found in a config file (each optional). */
export interface ConfigDocuments {
  kubelet?: KubeletConfigurationDoc;
  proxy?: KubeProxyConfigurationDoc;
}

const KINDS = `${KUBELET_KIND} (${KUBELET_API_VERSION}), ${PROXY_KIND} (${PROXY_API_VERSION})`;

function validate<S extends z.ZodType>(schema: S, doc: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  const problems = describeIssues(schema, doc, r.error.issues);
  throw new ConfigError(`${where}: ${problems.map((p) => p.message).join('; ')}`, {
    field: problems[0]?.field,
    object: where,
  });
}

/** Parses and validates config text; `source` names it in messages. Throws ConfigError. */
export function parseConfigText(text: string, source: string): ConfigDocuments {
  const out: ConfigDocuments = {};
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new ConfigError(`config file ${source}: not a YAML stream`, { object: source });
  let n = 0;
  for (const d of docs) {
    n++;
    const at = `config file ${source}, document ${n}`;
    const err = d.errors[0];
    if (err !== undefined) {
      throw new ConfigError(`${at}: invalid YAML: ${err.message.split('\n')[0] ?? ''}`, { object: source, cause: err });
    }
    const value: unknown = d.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError(`${at}: expected a mapping with apiVersion and kind (allowed kinds: ${KINDS})`, {
        object: source,
      });
    }
    const kind = (value as { kind?: unknown }).kind;
    if (kind === KUBELET_KIND) {
      if (out.kubelet !== undefined) throw new ConfigError(`${at}: a second ${KUBELET_KIND} document`, { object: source });
      out.kubelet = validate(kubeletConfigurationSchema, value, `${at} (${KUBELET_KIND})`);
    } else if (kind === PROXY_KIND) {
      if (out.proxy !== undefined) throw new ConfigError(`${at}: a second ${PROXY_KIND} document`, { object: source });
      out.proxy = validate(kubeProxyConfigurationSchema, value, `${at} (${PROXY_KIND})`);
    } else {
      throw new ConfigError(`${at}: field "kind": unknown kind ${JSON.stringify(kind)} (allowed kinds: ${KINDS})`, {
        object: source,
        field: 'kind',
      });
    }
  }
  return out;
}

/** Reads and validates a config file. Throws ConfigError (also for an unreadable file). */
export function loadConfigFile(path: string): ConfigDocuments {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      object: path,
      cause: err,
    });
  }
  return parseConfigText(text, path);
}
