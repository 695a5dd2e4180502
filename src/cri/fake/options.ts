import type { Clock } from '../../util/index.js';
import { PAUSE_IMAGE, TESTBOX_IMAGE } from '../images.js';
import type { ContainerLogs, ContainerRuntime, ContainerStreaming, ExecResult } from '../types.js';
import type { FakeImageSpec } from './images.js';

/** Method names of the runtime seam (for {@link FakeRuntime.failNext} and call records). */
export type RuntimeMethod = keyof ContainerRuntime | keyof ContainerLogs | keyof ContainerStreaming;

/** One recorded call. */
export interface RecordedCall {
  method: RuntimeMethod;
  args: unknown[];
}

/** Decides the result of an exec; return undefined to fall back to the modelled command. */
export type FakeExecHandler = (
  containerId: string,
  cmd: string[],
) => ExecResult | undefined | Promise<ExecResult | undefined>;

/** Options for {@link FakeRuntime}. */
export interface FakeRuntimeOptions {
  /** Time source for timestamps, exits, stop timeouts and exec timeouts (default: the real clock). */
  clock?: Clock;
  /** Images present locally (default: {@link FAKE_DEFAULT_IMAGES}). */
  images?: FakeImageSpec[];
  /** Images the fake "registry" can pull (default: none: every pull fails with IMAGE_PULL_FAILED). */
  remoteImages?: FakeImageSpec[];
  /**
   * When true (default), stopping a container whose program ignores SIGTERM (anything but `/pause` or a script with
   * `trap 'exit N' TERM`) waits the full timeout on the clock and then kills it (exit 137), like Docker does.
   * Set false to make every stop immediate (exit 137 for programs without a handler).
   */
  honorStopTimeout?: boolean;
  /** Record every call for {@link FakeRuntime.calls} (default true; false for long runs such as hollow nodes). */
  recordCalls?: boolean;
  /** Every pull succeeds: an image the registry does not have is made up (no entrypoint/cmd). Default false. */
  pullAnyImage?: boolean;
  /**
   * Ranges pod IPs come from, at most one per family (default ['10.88.0.0/16']); {@link FakeRuntime.updatePodCIDR}
   * replaces them. Hollow nodes give each node its own, so pod IPs are unique across the fleet.
   */
  podCIDRs?: string[];
}

/** The local images a FakeRuntime starts with: the pause and testbox images with their real configs. */
export const FAKE_DEFAULT_IMAGES: FakeImageSpec[] = [
  { ref: PAUSE_IMAGE, entrypoint: ['/pause'] },
  { ref: TESTBOX_IMAGE, cmd: ['sh'] },
];

