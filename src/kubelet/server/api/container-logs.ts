/**
 * `/containerLogs/{namespace}/{pod}/{container}`: the container's log as upstream's handler serves it, read through
 * the Docker engine (Docker) or from the CRI log file (containerd). Errors before the first byte are Status bodies
 * (404 unknown pod/container, 400 bad options or no such run); a client that goes away aborts the read at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import type { LogLine } from '../../../cri/containerd/logs.js';
import type { ContainerLogs, ContainerRuntime } from '../../../cri/types.js';
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/logger.js';
import type { EngineLogReader } from './docker-logs.js';
import { streamCriLogFile, type LineSink } from './log-file.js';
import { parseLogRequest, type LogRequest } from './log-request.js';
import { containerStatus } from './lookup.js';
import { sendStatus, sendText } from './respond.js';
import type { KubeletPodLookup } from './types.js';

/** How container logs are read. */
export type LogBackend = 'engine' | 'cri-files';

/** Dependencies of {@link serveContainerLogs}. */
export interface ContainerLogsDeps {
  lookup: KubeletPodLookup;
  runtime: Pick<ContainerRuntime, 'containerStatus'> & Partial<ContainerLogs>;
  backend: LogBackend;
  /** The Docker engine's log stream (backend 'engine'); without it the runtime's readLogs is used. */
  engineLogs?: EngineLogReader;
  clock: Pick<Clock, 'now' | 'sleep' | 'monotonic'>;
  logger: Logger;
  /** Follow poll period for CRI files (default 250 ms). */
  pollMs?: number;
}

/**
 * Writes formatted lines to the response with backpressure, stopping at limitBytes or when the client left. A batch
 * ({@link LineSink.writeMany}) is one response write: per-line writes cost a chunk header, a TLS record and a promise
 * each, and with nodelet's small young generation most of a large read's CPU.
 */
export function responseSink(res: ServerResponse, req: LogRequest, signal: AbortSignal): Required<LineSink> & { remaining(): number } {
  let left = req.limitBytes ?? Infinity;
  const send = async (text: string): Promise<boolean> => {
    if (left <= 0 || signal.aborted) return false;
    let buf = Buffer.from(text);
    if (buf.length > left) buf = buf.subarray(0, left);
    left -= buf.length;
    if (!res.write(buf)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    return left > 0 && !signal.aborted;
  };
  const format = (l: LogLine): string => (req.timestamps ? `${l.time} ${l.text}` : l.text);
  return {
    remaining: () => left,
    write: (l) => send(format(l)),
    writeMany(lines) {
      let text = '';
      for (const l of lines) {
        text += format(l);
        // Past the limit the rest of the batch is not needed (nor worth concatenating).
        if (text.length >= left) break;
      }
      return send(text);
    },
  };
}

function waitingMessage(pod: V1Pod, name: string): string {
  const st = containerStatus(pod, name);
  const reason = st?.state?.waiting?.reason ?? 'ContainerCreating';
  return `container "${name}" in pod "${pod.metadata?.name ?? ''}" is waiting to start: ${reason}`;
}

/** Serves one log request (path already authorized). */
export async function serveContainerLogs(d: ContainerLogsDeps, req: IncomingMessage, res: ServerResponse, parts: { namespace: string; pod: string; container: string }, query: URLSearchParams): Promise<void> {
  const parsed = parseLogRequest(query, d.clock.now());
  // 400s are plain text as upstream: the API server turns the body into the message kubectl prints.
  if ('error' in parsed) return sendText(res, 400, parsed.error);
  const pod = d.lookup.findPod(parts.namespace, parts.pod);
  if (pod === undefined) return sendStatus(res, 404, `pod "${parts.pod}" does not exist`);
  const resolved = await d.lookup.resolveContainer(parts.namespace, parts.pod, parts.container);
  if (resolved === undefined) return sendStatus(res, 404, `container "${parts.container}" not found in pod "${parts.pod}"`);
  const id = parsed.previous ? resolved.previousContainerId : resolved.containerId;
  if (id === undefined) {
    return sendText(res, 400, parsed.previous ? `previous terminated container "${resolved.containerName}" in pod "${parts.pod}" not found` : waitingMessage(pod, resolved.containerName));
  }
  const ac = new AbortController();
  const abort = (): void => ac.abort();
  req.on('close', abort);
  res.on('close', abort);
  try {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' });
    // With follow the API server streams on as lines arrive: send the headers now.
    if (parsed.follow) res.flushHeaders();
    if (d.backend === 'cri-files') {
      const st = await d.runtime.containerStatus(id);
      await streamCriLogFile({
        path: st.logPath,
        request: parsed,
        sink: responseSink(res, parsed, ac.signal),
        signal: ac.signal,
        clock: d.clock,
        pollMs: d.pollMs,
        stillRunning: async () => {
          const s = await d.runtime.containerStatus(id).catch(() => undefined);
          return s?.state === 'running' || s?.state === 'created';
        },
      });
    } else if (d.engineLogs !== undefined) {
      await d.engineLogs(id, parsed, res, ac.signal);
    } else if (d.runtime.readLogs !== undefined) {
      const opts = {
        follow: parsed.follow,
        timestamps: parsed.timestamps,
        ...(parsed.tailLines === undefined ? {} : { tailLines: parsed.tailLines }),
        ...(parsed.sinceMs === undefined ? {} : { sinceMs: parsed.sinceMs }),
        ...(parsed.limitBytes === undefined ? {} : { limitBytes: parsed.limitBytes }),
      };
      await d.runtime.readLogs(id, opts, res, ac.signal);
    }
  } catch (err) {
    if (!ac.signal.aborted) d.logger.warn({ err: String(err), pod: `${parts.namespace}/${parts.pod}`, container: parts.container }, 'reading container logs failed');
  } finally {
    req.off('close', abort);
    res.off('close', abort);
    if (!res.writableEnded) res.end();
  }
}
