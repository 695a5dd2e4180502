/** Options of {@link createProberManager}. */
import type { Registry } from 'prom-client';
import type { V1PodStatus } from '@kubernetes/client-node';
import type { EventRecorder } from '../api/types.js';
import type { ContainerManager } from '../cri/types.js';
import type { Clock, Logger } from '../util/index.js';
import type { ProbeHandlers } from './prober.js';

/** Plain options of the prober manager. */
export interface ProberManagerOptions {
  /** The exec part of the runtime seam (exec probes run through it, with timeoutSeconds). */
  runtime: Pick<ContainerManager, 'execSync'>;
  /**
   * The latest pod status the kubelet computed (container IDs, states with startedAt, pod IP), or undefined when the
   * pod is unknown or has no status yet. Called once per probe step; must be cheap and must not throw.
   */
  getPodStatus: (podUID: string) => V1PodStatus | undefined;
  /** Where Unhealthy / ProbeWarning events go (optional). */
  recorder?: EventRecorder;
  logger: Logger;
  clock: Clock;
  /** The node's address: hostNetwork pods are probed here (also always an allowed probe target). */
  nodeIP: string;
  /** Registry for prober_probe_total / prober_probe_duration_seconds (default: a private registry). */
  metrics?: Registry;
  /** Uniform [0, 1) source for the start jitter (default Math.random). */
  random?: () => number;
  /** Kubelet version for the probe User-Agent `kube-probe/<major>.<minor>` (default `v1.24.0`). */
  kubeletVersion?: string;
  /**
   * Start each worker's timer loop (default true). Tests set false and call `doProbe()` on workers themselves.
   */
  autoRun?: boolean;
  /** Replaces the exec/http/tcp/grpc effects (tests); unspecified ones stay real. */
  handlers?: Partial<ProbeHandlers>;
}
