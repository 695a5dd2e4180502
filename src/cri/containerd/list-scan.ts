/**
 * Lean decoders of the two CRI list responses the event tracker polls every second (ListPodSandbox and
 * ListContainers, runtime.v1): they read only id, pod sandbox id and state from the protobuf wire format and skip
 * metadata, image, labels and annotations without materialising them. Decoding the whole responses with the generic
 * loader (defaults, maps, nested objects) made ~1 kB of short-lived JS objects per container per poll: at 100 pods a
 * steady allocation rate that kept V8 from ever shrinking an idle agent's heap (issue 14).
 */
import type { ListedObject } from './events.js';

/** Thrown for a response that is not valid protobuf of the expected shape (truncated, bad wire type). */
export class ListScanError extends Error {
  readonly code = 'CRI_LIST_DECODE';
}

/** A minimal protobuf wire reader over one buffer range. */
class Reader {
  pos: number;
  readonly #buf: Buffer;
  readonly #end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.pos = start;
    this.#end = end;
  }

  more(): boolean {
    return this.pos < this.#end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.#end) throw new ListScanError('truncated varint in CRI list response');
      const b = this.#buf[this.pos++] as number;
      // Values above 2^53 (only int64 timestamps, which are skipped) lose precision: harmless here.
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new ListScanError('varint too long in CRI list response');
    }
  }

  /** Start and end of the length-delimited field at the cursor; advances past it. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.#end) throw new ListScanError('truncated field in CRI list response');
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.bytes();
    return this.#buf.toString('utf8', s, e);
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new ListScanError(`unsupported wire type ${wireType} in CRI list response`);
    if (this.pos > this.#end) throw new ListScanError('truncated field in CRI list response');
  }
}

/** Reads every element of the top-level repeated message field 1 with `onItem` (a reader over that element). */
function scanRepeated(buf: Buffer, onItem: (r: Reader) => ListedObject): ListedObject[] {
  const out: ListedObject[] = [];
  const top = new Reader(buf);
  while (top.more()) {
    const tag = top.varint();
    if (tag >>> 3 === 1 && (tag & 7) === 2) {
      const [s, e] = top.bytes();
      out.push(onItem(new Reader(buf, s, e)));
    } else top.skip(tag & 7);
  }
  return out;
}

/**
 * ListPodSandboxResponse (items = 1; PodSandbox: id = 1, state = 3 with SANDBOX_READY = 0) → listed sandboxes:
 * phase 1 when ready, 2 otherwise.
 */
export function scanSandboxList(buf: Buffer): ListedObject[] {
  return scanRepeated(buf, (r) => {
    let id = '';
    let state = 0;
    while (r.more()) {
      const tag = r.varint();
      const field = tag >>> 3;
      if (field === 1 && (tag & 7) === 2) id = r.string();
      else if (field === 3 && (tag & 7) === 0) state = r.varint();
      else r.skip(tag & 7);
    }
    return { id, podSandboxId: id, isSandbox: true, phase: state === 0 ? 1 : 2 };
  });
}

/**
 * ListContainersResponse (containers = 1; Container: id = 1, pod_sandbox_id = 2, state = 6 with CREATED = 0,
 * RUNNING = 1, EXITED = 2, UNKNOWN = 3) → listed containers: phase 0 created, 1 running, 2 otherwise.
 */
export function scanContainerList(buf: Buffer): ListedObject[] {
  return scanRepeated(buf, (r) => {
    let id = '';
    let podSandboxId = '';
    let state = 0;
    while (r.more()) {
      const tag = r.varint();
      const field = tag >>> 3;
      if (field === 1 && (tag & 7) === 2) id = r.string();
      else if (field === 2 && (tag & 7) === 2) podSandboxId = r.string();
      else if (field === 6 && (tag & 7) === 0) state = r.varint();
      else r.skip(tag & 7);
    }
    return { id, podSandboxId, isSandbox: false, phase: state === 0 ? 0 : state === 1 ? 1 : 2 };
  });
}
