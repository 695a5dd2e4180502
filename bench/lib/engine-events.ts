/**
 * Records the private engine's container events (`docker events`: create, start) of kubelet-made containers, keyed
 * by pod name, to break pod startup down into its steps (API → sandbox create → sandbox started → app create →
 * app started → status seen). Engine times are wall-clock nanoseconds; they are compared with this process's
 * wall clock (the engine runs on the same machine).
 */
import type Docker from 'dockerode';

interface EngineEvent {
  Type?: string;
  Action?: string;
  timeNano?: number;
  Actor?: { Attributes?: Record<string, string> };
}

/** Epoch ms of the first create/start of the sandbox and of the app container of one pod. */
export interface PodEngineTimes {
  sandboxCreate?: number;
  sandboxStart?: number;
  appCreate?: number;
  appStart?: number;
}

/** Subscribes to the engine's events until `stop()`. */
export class EngineEvents {
  readonly #pods = new Map<string, PodEngineTimes>();
  #stream: NodeJS.ReadableStream | undefined;

  /** Starts listening. */
  async start(docker: Docker): Promise<void> {
    this.#stream = await docker.getEvents({ filters: { type: ['container'], event: ['create', 'start'] } });
    let buf = '';
    this.#stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== '') this.#on(JSON.parse(line) as EngineEvent);
      }
    });
    this.#stream.on('error', () => undefined);
  }

  #on(ev: EngineEvent): void {
    const a = ev.Actor?.Attributes ?? {};
    const pod = a['io.kubernetes.pod.name'];
    if (pod === undefined || ev.timeNano === undefined) return;
    const sandbox = a['io.kubernetes.docker.type'] === 'podsandbox';
    const t = this.#pods.get(pod) ?? {};
    const ms = ev.timeNano / 1e6;
    if (ev.Action === 'create') {
      if (sandbox) t.sandboxCreate ??= ms;
      else t.appCreate ??= ms;
    } else if (ev.Action === 'start') {
      if (sandbox) t.sandboxStart ??= ms;
      else t.appStart ??= ms;
    }
    this.#pods.set(pod, t);
  }

  /** The engine times of `pod`. */
  get(pod: string): PodEngineTimes | undefined {
    return this.#pods.get(pod);
  }

  /** Stops listening. */
  stop(): void {
    const s = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    s?.destroy?.();
  }
}
