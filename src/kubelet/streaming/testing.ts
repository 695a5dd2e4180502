/**
 * Test-only helpers for the streaming endpoints: a SPDY/3.1 client shaped like moby/spdystream (header blocks
 * compressed by a persistent zlib deflater with the SPDY dictionary and sync flushes, as Go's framer writes them),
 * a fake upgrade request, and a stub pod lookup.
 */
import type { IncomingMessage } from 'node:http';
import { duplexPair, type Duplex } from 'node:stream';
import { constants, createDeflate } from 'node:zlib';
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeletPodLookup, ResolvedContainer, StreamRoute } from '../server/api/types.js';
import { encodeData, encodeSynStream, FrameReader, type SpdyFrame } from '../../spdy/frames.js';
import { encodeNameValueBlock, HeaderDecompressor, SPDY_DICTIONARY } from '../../spdy/headers.js';

/** A fake upgrade request with the given headers (repeated names allowed). */
export function upgradeRequest(headers: [string, string][]): IncomingMessage {
  const obj: Record<string, string> = {};
  for (const [k, v] of headers) obj[k.toLowerCase()] = obj[k.toLowerCase()] === undefined ? v : `${obj[k.toLowerCase()]}, ${v}`;
  return { headers: obj, rawHeaders: headers.flat() } as unknown as IncomingMessage;
}

/** A route as the API server parses it. */
export function route(kind: StreamRoute['kind'], query: string, container = 'main', pod = 'web'): StreamRoute {
  return { kind, namespace: 'ns', pod, uid: undefined, container: kind === 'portForward' ? '' : container, query: new URLSearchParams(query) };
}

/** A lookup knowing one pod `ns/web` (uid u1) with containers `main` → `containerId`, sandbox `sandboxId`. */
export function stubLookup(containerId: string, sandboxId: string): KubeletPodLookup {
  const pod: V1Pod = { metadata: { namespace: 'ns', name: 'web', uid: 'u1' }, spec: { containers: [{ name: 'main' }] } };
  return {
    pods: () => [pod],
    findPod: (ns, name) => (ns === 'ns' && name === 'web' ? pod : undefined),
    resolveContainer: async (ns, name, container): Promise<ResolvedContainer | undefined> => {
      if (ns !== 'ns' || name !== 'web' || (container !== 'main' && container !== '')) return undefined;
      return { pod, containerName: 'main', containerId, previousContainerId: undefined, sandboxId };
    },
  };
}

/** What the server sent on one stream. */
export interface ClientStream {
  id: number;
  data: Buffer;
  fin: boolean;
  replied: boolean;
  reset: boolean;
}

/** The client end of a SPDY connection to the handler, over an in-memory socket pair. */
export class SpdyTestClient {
  /** The server's end, to hand to handleUpgrade. */
  readonly serverSide: Duplex;
  readonly #sock: Duplex;
  readonly #deflate = createDeflate({ dictionary: SPDY_DICTIONARY });
  readonly #inflate = new HeaderDecompressor();
  readonly #reader = new FrameReader();
  #http = '';
  #upgraded = false;
  #nextId = 1;
  readonly streams = new Map<number, ClientStream>();
  goaway = false;
  closed = false;
  readonly #waiters: (() => void)[] = [];

  constructor() {
    const [a, b] = duplexPair();
    this.serverSide = a;
    this.#sock = b;
    b.on('data', (chunk: Buffer) => this.#onData(chunk));
    b.on('end', () => this.#close());
    b.on('close', () => this.#close());
    b.on('error', () => this.#close());
  }

  /** The HTTP response head (status line and headers) written before the upgrade, or the whole error response. */
  get httpResponse(): string {
    return this.#http;
  }

  /** Opens a stream with the given headers; resolves with its id. */
  async open(headers: Record<string, string>, fin = false): Promise<number> {
    const id = this.#nextId;
    this.#nextId += 2;
    this.streams.set(id, { id, data: Buffer.alloc(0), fin: false, replied: false, reset: false });
    this.#deflate.write(encodeNameValueBlock(headers));
    const block = await new Promise<Buffer>((resolve) =>
      this.#deflate.flush(constants.Z_SYNC_FLUSH, () => {
        const parts: Buffer[] = [];
        for (let c = this.#deflate.read() as Buffer | null; c !== null; c = this.#deflate.read() as Buffer | null) parts.push(c);
        resolve(Buffer.concat(parts));
      }),
    );
    this.#sock.write(encodeSynStream(id, block, fin));
    return id;
  }

  send(id: number, data: Buffer | string, fin = false): void {
    this.#sock.write(encodeData(id, Buffer.from(data), fin));
  }

  /** Drops the connection without a word (a client that goes away mid-stream). */
  destroy(): void {
    this.#sock.destroy();
  }

  /** Resolves once `pred` holds (checked after every frame), rejects when the connection closed without it. */
  until(pred: () => boolean, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) resolve();
        else if (this.closed) reject(new Error(`connection closed before ${what}`));
        else this.#waiters.push(check);
      };
      check();
    });
  }

  text(id: number): string {
    return this.streams.get(id)?.data.toString() ?? '';
  }

  #close(): void {
    this.closed = true;
    this.#inflate.close();
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #onData(chunk: Buffer): void {
    if (!this.#upgraded) {
      this.#http += chunk.toString('latin1');
      const end = this.#http.indexOf('\r\n\r\n');
      if (end < 0 || !this.#http.startsWith('HTTP/1.1 101')) {
        this.#wake();
        return;
      }
      this.#upgraded = true;
      const rest = Buffer.from(this.#http.slice(end + 4), 'latin1');
      this.#http = this.#http.slice(0, end + 4);
      if (rest.length === 0) return;
      chunk = rest;
    }
    for (const f of this.#reader.push(chunk)) this.#onFrame(f).catch(() => this.#close());
  }

  async #onFrame(f: SpdyFrame): Promise<void> {
    const s = 'streamId' in f ? this.streams.get(f.streamId) : undefined;
    if (f.type === 'synReply') {
      await this.#inflate.decompress(f.headerBlock);
      if (s) s.replied = true;
    } else if (f.type === 'data' && s) {
      s.data = Buffer.concat([s.data, f.data]);
      if (f.fin) s.fin = true;
    } else if (f.type === 'rstStream' && s) s.reset = true;
    else if (f.type === 'goaway') this.goaway = true;
    this.#wake();
  }
}
