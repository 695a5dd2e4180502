import { duplexPair } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SpdyConnection } from './connection.js';
import { encodeData, encodeSynReply, FrameReader } from './frames.js';
import { HeaderCompressor } from './headers.js';

const logger = pino({ level: 'silent' });

function collect(s: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return new Promise((resolve) => s.once('close', () => resolve(text)));
}

describe('SpdyConnection (client side)', () => {
  it('hands a stream the DATA and FIN that arrived with the peer’s last bytes before the socket ended', async () => {
    const [ours, peer] = duplexPair();
    const conn = new SpdyConnection(ours, { logger, onStream: (s) => s.reset() });
    const out = conn.openStream({ streamtype: 'stdout' });
    out.end();
    const text = collect(out);
    // One chunk: SYN_REPLY (its header block inflates asynchronously), DATA, FIN; then the peer ends the socket.
    const deflater = new HeaderCompressor();
    peer.write(Buffer.concat([encodeSynReply(1, deflater.compress({}), false), encodeData(1, Buffer.from('tail of the output\n'), false), encodeData(1, Buffer.alloc(0), true)]));
    peer.end();
    expect(await text).toBe('tail of the output\n');
    await new Promise((r) => setImmediate(r));
    expect(conn.closed).toBe(true);
  });

  it('keeps DATA buffered for a paused reader after both sides sent FIN', async () => {
    const [ours, peer] = duplexPair();
    const conn = new SpdyConnection(ours, { logger, onStream: (s) => s.reset() });
    const out = conn.openStream({ streamtype: 'stdout' });
    out.end();
    peer.write(Buffer.concat([encodeSynReply(1, new HeaderCompressor().compress({}), false), encodeData(1, Buffer.from('late reader'), true)]));
    await new Promise((r) => setTimeout(r, 20));
    expect(out.destroyed).toBe(false);
    expect(await collect(out)).toBe('late reader');
    expect(conn.streamCount).toBe(0);
    conn.close();
  });
});

describe('SpdyStream.writeBorrowed', () => {
  it('sends DATA in order before a later FIN and releases each buffer only once the socket took it', async () => {
    const [ours, peer] = duplexPair();
    const conn = new SpdyConnection(ours, { logger, onStream: (s) => s.reset() });
    const s = conn.openStream({ streamtype: 'data' });
    const released: string[] = [];
    ours.cork(); // the socket holds the writes: nothing may be released yet
    s.writeBorrowed(Buffer.from('one'), () => released.push('one'));
    s.writeBorrowed(Buffer.from('two'), () => released.push('two'));
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual([]);
    ours.uncork();
    s.end();
    const frames = new FrameReader();
    const got: string[] = [];
    peer.on('data', (d: Buffer) => {
      for (const f of frames.push(d)) if (f.type === 'data') got.push(f.fin ? 'FIN' : f.data.toString());
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toEqual(['one', 'two']);
    expect(got).toEqual(['one', 'two', 'FIN']);
    conn.close();
    s.writeBorrowed(Buffer.from('late'), () => released.push('late'));
    expect(released).toEqual(['one', 'two', 'late']); // a closed connection releases at once
  });
});
