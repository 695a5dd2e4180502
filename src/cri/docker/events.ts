import type Docker from 'dockerode';
import { RealClock, type Clock, type Logger, type TimerHandle } from '../../util/index.js';
import type { ContainerEvent } from '../types.js';
import { DOCKER_LABELS } from './labels.js';
import { LineSplitter } from './lines.js';

const ACTIONS: Record<string, ContainerEvent['type']> = {
  create: 'created',
  start: 'started',
  die: 'stopped',
  destroy: 'deleted',
};

interface DockerEventJson {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Translates one Docker event line into a CRI event (undefined for actions and objects we do not report). */
export function toContainerEvent(line: string): (ContainerEvent & { timeNano: number }) | undefined {
  let e: DockerEventJson;
  try {
    e = JSON.parse(line) as DockerEventJson;
  } catch {
    return undefined;
  }
  const type = ACTIONS[e.Action ?? ''];
  const attrs = e.Actor?.Attributes ?? {};
  const kind = attrs[DOCKER_LABELS.type];
  if (e.Type !== 'container' || type === undefined || e.Actor?.ID === undefined || kind === undefined) return undefined;
  const isSandbox = kind === 'podsandbox';
  const timeNano = e.timeNano ?? (e.time ?? 0) * 1e9;
  return {
    type,
    containerId: e.Actor.ID,
    podSandboxId: isSandbox ? e.Actor.ID : (attrs[DOCKER_LABELS.sandboxId] ?? ''),
    isSandbox,
    at: Math.floor(timeNano / 1e6),
    timeNano,
  };
}

/** Options for {@link DockerEventStream}. */
export interface DockerEventStreamOptions {
  docker: Docker;
  logger: Logger;
  onEvent: (e: ContainerEvent) => void;
  /** First reconnect delay (doubles up to maxBackoffMs). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Time source for reconnect delays (default: the real clock). */
  clock?: Clock;
}

/**
 * One Docker events stream (filtered to containers carrying io.kubernetes.docker.type) that reconnects with backoff
 * when it breaks, resuming from the last event seen (events in between are replayed by the engine; duplicates are
 * dropped). Events can still be lost when the engine restarts, which is why callers also relist.
 */
export class DockerEventStream {
  readonly #o: Required<DockerEventStreamOptions>;
  #stream: NodeJS.ReadableStream | undefined;
  #timer: TimerHandle | undefined;
  #running = false;
  #delay: number;
  #lastNano = 0;
  readonly #seenAtLast = new Set<string>();

  constructor(options: DockerEventStreamOptions) {
    this.#o = { initialBackoffMs: 500, maxBackoffMs: 30_000, clock: new RealClock(), ...options };
    this.#delay = this.#o.initialBackoffMs;
  }

  /** Starts streaming (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#connect();
  }

  /** Stops streaming and cancels a pending reconnect (idempotent). */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.#stream = undefined;
    s?.destroy?.();
  }

  async #connect(): Promise<void> {
    const filters = { type: ['container' as const], label: [DOCKER_LABELS.type as string] };
    let stream: NodeJS.ReadableStream;
    try {
      const opts: Docker.GetEventsOptions = { filters };
      // Resume where the last stream ended; the engine replays from there and duplicates are dropped in #handle.
      if (this.#lastNano > 0) opts.since = this.#lastNano / 1e9;
      stream = await this.#o.docker.getEvents(opts);
    } catch (err) {
      this.#retry(err);
      return;
    }
    if (!this.#running) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.#stream = stream;
    this.#delay = this.#o.initialBackoffMs;
    const lines = new LineSplitter();
    stream.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) this.#handle(line);
    });
    let ended = false;
    const onEnd = (err?: unknown): void => {
      if (ended) return;
      ended = true;
      if (this.#stream === stream) this.#stream = undefined;
      this.#retry(err ?? new Error('event stream ended'));
    };
    stream.on('end', () => onEnd());
    stream.on('close', () => onEnd());
    stream.on('error', (err: unknown) => onEnd(err));
  }

  #handle(line: string): void {
    const e = toContainerEvent(line);
    if (e === undefined || e.timeNano < this.#lastNano) return;
    // timeNano loses precision as a JS number (~256 ns), so events at the resume point are told apart by key too.
    const key = `${e.type}/${e.containerId}`;
    if (e.timeNano === this.#lastNano && this.#seenAtLast.has(key)) return;
    if (e.timeNano > this.#lastNano) this.#seenAtLast.clear();
    this.#lastNano = e.timeNano;
    this.#seenAtLast.add(key);
    const { timeNano: _t, ...event } = e;
    try {
      this.#o.onEvent(event);
    } catch (err) {
      this.#o.logger.warn({ err }, 'Container event listener failed');
    }
  }

  #retry(err: unknown): void {
    if (!this.#running) return;
    this.#o.logger.warn({ err, retryInMs: this.#delay }, 'Docker event stream broke; reconnecting');
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#running) void this.#connect();
    }, this.#delay);
    this.#delay = Math.min(this.#delay * 2, this.#o.maxBackoffMs);
  }
}
