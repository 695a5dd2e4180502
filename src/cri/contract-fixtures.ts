/**
 * Config builders and small waiting helpers for the runtime contract suite (src/cri/contract.ts). Test-only code.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { PAUSE_IMAGE, TESTBOX_IMAGE } from './images.js';
import type { ContainerConfig, ContainerLogs, NamespaceOptions, PodSandboxConfig } from './types.js';

/** Namespace options of an ordinary pod (network/IPC shared in the pod, PID per container). */
export const POD_NAMESPACES: NamespaceOptions = { network: 'pod', pid: 'container', ipc: 'pod' };

/** Builds a sandbox config with a fresh UID; `labels` should carry the suite's test label. */
export function sandboxConfig(
  name: string,
  labels: Record<string, string>,
  overrides: Partial<PodSandboxConfig> & { namespaceOptions?: NamespaceOptions } = {},
): PodSandboxConfig {
  const { namespaceOptions, ...rest } = overrides;
  const uid = randomUUID();
  return {
    metadata: { name, namespace: 'contract', uid, attempt: 0 },
    hostname: name,
    portMappings: [],
    labels: {
      'io.kubernetes.pod.name': name,
      'io.kubernetes.pod.namespace': 'contract',
      'io.kubernetes.pod.uid': uid,
      ...labels,
    },
    annotations: {},
    linux: { namespaceOptions: namespaceOptions ?? POD_NAMESPACES },
    image: PAUSE_IMAGE,
    ...rest,
  };
}

/** Builds a container config running `argv` (as Kubernetes `command`) in the test image. */
export function containerConfig(
  name: string,
  sandbox: PodSandboxConfig,
  labels: Record<string, string>,
  overrides: Partial<ContainerConfig> = {},
): ContainerConfig {
  return {
    metadata: { name, attempt: 0 },
    image: TESTBOX_IMAGE,
    command: ['sleep', 'infinity'],
    args: [],
    envs: [],
    mounts: [],
    labels: {
      'io.kubernetes.pod.name': sandbox.metadata.name,
      'io.kubernetes.pod.namespace': sandbox.metadata.namespace,
      'io.kubernetes.pod.uid': sandbox.metadata.uid,
      'io.kubernetes.container.name': name,
      ...labels,
    },
    annotations: {},
    linux: { resources: {}, securityContext: { namespaceOptions: sandbox.linux.namespaceOptions } },
    ...overrides,
  };
}

/** Polls `check` every 25 ms until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads a container's whole (non-following) log as text. */
export async function logsOf(runtime: ContainerLogs, id: string, options: { tailLines?: number } = {}): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  await runtime.readLogs(id, { ...options }, out);
  return text;
}
