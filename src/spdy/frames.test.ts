import { constants, createDeflate, createInflate } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeData, encodeGoaway, encodePing, encodeRstStream, encodeSynReply, encodeSynStream, FrameReader, SpdyProtocolError } from './frames.js';
import { decodeNameValueBlock, encodeNameValueBlock, HeaderCompressor, HeaderDecompressor, SPDY_DICTIONARY } from './headers.js';

describe('SPDY/3.1 frames', () => {
  it('reads large DATA frames split across many chunks, and hands out views of a chunk holding a whole frame', () => {
    const big = Buffer.alloc(200_000, 7);
    big.write('head', 0);
    big.write('tail', big.length - 4);
    const wire = Buffer.concat([encodeData(1, big.subarray(0, 65_536), false), encodeData(1, big.subarray(65_536), true), encodePing(3)]);
    const r = new FrameReader();
    const frames = [];
    for (let off = 0; off < wire.length; off += 16_384) frames.push(...r.push(wire.subarray(off, off + 16_384)));
    expect(frames.map((f) => f.type)).toEqual(['data', 'data', 'ping']);
    const data = frames.filter((f) => f.type === 'data').map((f) => (f.type === 'data' ? f.data : Buffer.alloc(0)));
    expect(Buffer.concat(data).equals(big)).toBe(true);
    expect(r.buffered).toBe(0);
    const one = encodeData(5, Buffer.from('in one chunk'), false);
    const [f] = new FrameReader().push(one);
    expect(f?.type === 'data' && f.data.buffer === one.buffer).toBe(true);
  });

  it('round-trips every frame kind, also when bytes arrive one at a time', () => {
    const wire = Buffer.concat([
      encodeSynStream(1, Buffer.from('hdr'), true),
      encodeSynReply(1, Buffer.from('rep'), false),
      encodeData(3, Buffer.from('payload'), true),
      encodeData(5, Buffer.alloc(0), false),
      encodeRstStream(7, 5),
      encodePing(9),
      encodeGoaway(11, 0),
    ]);
    const r = new FrameReader();
    const frames = [...wire].flatMap((b) => r.push(Buffer.from([b])));
    expect(frames).toEqual([
      { type: 'synStream', streamId: 1, associatedId: 0, priority: 0, fin: true, unidirectional: false, headerBlock: Buffer.from('hdr') },
      { type: 'synReply', streamId: 1, fin: false, headerBlock: Buffer.from('rep') },
      { type: 'data', streamId: 3, fin: true, data: Buffer.from('payload') },
      { type: 'data', streamId: 5, fin: false, data: Buffer.alloc(0) },
      { type: 'rstStream', streamId: 7, status: 5 },
      { type: 'ping', id: 9 },
      { type: 'goaway', lastGoodStreamId: 11, status: 0 },
    ]);
    expect(r.buffered).toBe(0);
  });

  it('rejects another SPDY version and frames over the limit', () => {
    const v2 = encodePing(1);
    v2.writeUInt16BE(0x8002, 0);
    expect(() => new FrameReader().push(v2)).toThrow(SpdyProtocolError);
    expect(() => new FrameReader(4).push(encodeData(1, Buffer.alloc(5), false))).toThrow(/exceeds the limit/);
  });
});

describe('SPDY header blocks', () => {
  it('name/value blocks round-trip with names lowercased', () => {
    expect(decodeNameValueBlock(encodeNameValueBlock({ StreamType: 'error', port: '80' }))).toEqual({ streamtype: 'error', port: '80' });
    expect(() => decodeNameValueBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9]))).toThrow(SpdyProtocolError);
  });

  it('our compressed blocks inflate with a persistent zlib stream and the SPDY dictionary, each ending in a sync marker', async () => {
    const c = new HeaderCompressor();
    const inflate = createInflate({ dictionary: SPDY_DICTIONARY });
    for (const h of [{}, { a: 'b' }, {}] as Record<string, string>[]) {
      const block = c.compress(h);
      expect(block.subarray(-5)).toEqual(Buffer.from([0, 0, 0, 0xff, 0xff]));
      inflate.write(block);
      const out = await new Promise<Buffer>((resolve) =>
        inflate.flush(constants.Z_SYNC_FLUSH, () => resolve((inflate.read() as Buffer | null) ?? Buffer.alloc(0))),
      );
      expect(decodeNameValueBlock(out)).toEqual(h);
    }
  });

  it('inflates a peer stream block by block, in order', async () => {
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const results = await Promise.all([d.decompress(c.compress({ x: '1' })), d.decompress(c.compress({ y: '2' }))]);
    expect(results).toEqual([{ x: '1' }, { y: '2' }]);
    d.close();
    await expect(d.decompress(c.compress({}))).rejects.toThrow(SpdyProtocolError);
  });

  it('inflates synchronously while the history is small, then hands over to the async inflater without losing state', async () => {
    // A real compressing peer (like Go's): one deflate stream with the SPDY dictionary, sync-flushed per block.
    const deflate = createDeflate({ dictionary: SPDY_DICTIONARY });
    const block = (h: Record<string, string>): Promise<Buffer> =>
      new Promise((resolve) => {
        deflate.write(encodeNameValueBlock(h));
        deflate.flush(constants.Z_SYNC_FLUSH, () => resolve((deflate.read() as Buffer | null) ?? Buffer.alloc(0)));
      });
    const d = new HeaderDecompressor(200);
    const first = d.decompress(await block({ streamtype: 'error', port: '80' }));
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toEqual({ streamtype: 'error', port: '80' });
    const got: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const r = d.decompress(await block({ streamtype: 'data', requestid: String(i), filler: 'x'.repeat(i * 7) }));
      if (i === 29) expect(r).toBeInstanceOf(Promise); // past the 200-byte history: async
      got.push(await r);
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => ({ streamtype: 'data', requestid: String(i), filler: 'x'.repeat(i * 7) })));
    d.close();
  });

  it('a corrupt block fails synchronously with SpdyProtocolError', () => {
    expect(() => new HeaderDecompressor().decompress(Buffer.from('not a zlib stream'))).toThrow(SpdyProtocolError);
  });
});
