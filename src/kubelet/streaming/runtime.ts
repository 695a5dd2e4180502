import type { ContainerStreaming, ExecPreparer } from '../../cri/types.js';

/** The runtime's ContainerStreaming side, when it has one (every nodelet backend does; test doubles may not). */
export function streamingOf(runtime: object): ContainerStreaming | undefined {
  const r = runtime as Partial<ContainerStreaming>;
  return typeof r.exec === 'function' && typeof r.attach === 'function' && typeof r.portForward === 'function'
    ? (r as ContainerStreaming)
    : undefined;
}

/** The runtime's ExecPreparer capability, when it has one (CRI runtimes). */
export function execPreparerOf(runtime: object): ExecPreparer | undefined {
  const r = runtime as Partial<ExecPreparer>;
  return typeof r.prepareExec === 'function' ? (r as ExecPreparer) : undefined;
}
