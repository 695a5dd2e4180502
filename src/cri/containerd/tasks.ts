/**
 * containerd's own Tasks service (`containerd.services.tasks.v1.Tasks`, not CRI), on the same socket as CRI, as much
 * as the exec reaper needs: the exec processes of a container's task (ListPids: host PID and, from the runc shim's
 * `containerd.runc.v1.ProcessDetails`, the exec ID) and killing one exec process (Kill with `exec_id`). The CRI
 * plugin's objects live in containerd namespace `k8s.io`. The messages are tiny, so they are encoded by hand.
 */
import { GrpcStatus as grpcStatus, UnaryGrpcClient } from '../../grpc/index.js';

/** One exec process of a task. */
export interface ExecProcess {
  execId: string;
  /** Host PID. */
  pid: number;
}

/** The Tasks calls the exec reaper makes (faked in unit tests). */
export interface ContainerdTasks {
  /** Exec processes (not the init process) of `containerId`'s task; [] when the task is gone. */
  listExecs(containerId: string): Promise<ExecProcess[]>;
  /** Sends `signal` to exec process `execId` of `containerId`'s task; resolves when it is already gone. */
  killExec(containerId: string, execId: string, signal: number): Promise<void>;
  close(): void;
}

/** Error with the gRPC status code, for callers that tell "not containerd" (UNIMPLEMENTED) apart. */
export class TasksCallError extends Error {
  constructor(
    message: string,
    readonly grpcCode: number,
  ) {
    super(message);
    this.name = 'TasksCallError';
  }
}

// ---- protobuf wire format (just varints and length-delimited fields) ---------------------------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function stringField(field: number, value: string): Buffer {
  const b = Buffer.from(value, 'utf8');
  return b.length === 0 ? Buffer.alloc(0) : Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
}

function uintField(field: number, value: number): Buffer {
  return value === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field << 3), varint(value)]);
}

/** Iterates the fields of one message: varint fields as numbers, length-delimited ones as Buffers. */
export function* fields(buf: Buffer): Generator<{ field: number; value: number | Buffer }> {
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) yield { field, value: readVarint() };
    else if (wire === 2) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error('truncated field');
      yield { field, value: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** ListPidsRequest { string container_id = 1; } */
export function encodeListPidsRequest(containerId: string): Buffer {
  return stringField(1, containerId);
}

/** KillRequest { string container_id = 1; string exec_id = 2; uint32 signal = 3; bool all = 4; } */
export function encodeKillRequest(containerId: string, execId: string, signal: number): Buffer {
  return Buffer.concat([stringField(1, containerId), stringField(2, execId), uintField(3, signal)]);
}

/**
 * ListPidsResponse { repeated ProcessInfo processes = 1; }, ProcessInfo { uint32 pid = 1; Any info = 2; },
 * Any { string type_url = 1; bytes value = 2; }, ProcessDetails { string exec_id = 1; }: the processes that carry an
 * exec ID.
 */
export function decodeListPidsResponse(buf: Buffer): ExecProcess[] {
  const out: ExecProcess[] = [];
  for (const p of fields(buf)) {
    if (p.field !== 1 || !Buffer.isBuffer(p.value)) continue;
    let pid = 0;
    let execId = '';
    for (const f of fields(p.value)) {
      if (f.field === 1 && typeof f.value === 'number') pid = f.value;
      if (f.field === 2 && Buffer.isBuffer(f.value)) {
        let typeUrl = '';
        let value: Buffer = Buffer.alloc(0);
        for (const a of fields(f.value)) {
          if (a.field === 1 && Buffer.isBuffer(a.value)) typeUrl = a.value.toString('utf8');
          if (a.field === 2 && Buffer.isBuffer(a.value)) value = a.value;
        }
        if (typeUrl.endsWith('ProcessDetails')) {
          for (const d of fields(value)) if (d.field === 1 && Buffer.isBuffer(d.value)) execId = d.value.toString('utf8');
        }
      }
    }
    if (execId !== '' && pid > 0) out.push({ execId, pid });
  }
  return out;
}

const SERVICE = '/containerd.services.tasks.v1.Tasks';

/** {@link ContainerdTasks} over gRPC on containerd's socket; connects on first use. */
export class GrpcContainerdTasks implements ContainerdTasks {
  readonly #socketPath: string;
  readonly #namespace: string;
  readonly #timeoutMs: number;
  #client: UnaryGrpcClient | undefined;

  constructor(options: { socketPath: string; namespace?: string; timeoutMs?: number }) {
    this.#socketPath = options.socketPath;
    this.#namespace = options.namespace ?? 'k8s.io';
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async listExecs(containerId: string): Promise<ExecProcess[]> {
    try {
      return decodeListPidsResponse(await this.#unary('ListPids', encodeListPidsRequest(containerId)));
    } catch (err) {
      if (err instanceof TasksCallError && err.grpcCode === grpcStatus.NOT_FOUND) return [];
      throw err;
    }
  }

  async killExec(containerId: string, execId: string, signal: number): Promise<void> {
    try {
      await this.#unary('Kill', encodeKillRequest(containerId, execId, signal));
    } catch (err) {
      if (err instanceof TasksCallError && err.grpcCode === grpcStatus.NOT_FOUND) return;
      throw err;
    }
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  async #unary(method: string, req: Buffer): Promise<Buffer> {
    this.#client ??= new UnaryGrpcClient({ socketPath: this.#socketPath, maxReceiveBytes: 4 * 1024 * 1024, metadata: { 'containerd-namespace': this.#namespace } });
    try {
      return await this.#client.call(`${SERVICE}/${method}`, req, { timeoutMs: this.#timeoutMs });
    } catch (err) {
      const e = err as { code?: number; details?: string; message: string };
      throw new TasksCallError(`containerd Tasks.${method}: ${e.details || e.message}`, e.code ?? grpcStatus.UNKNOWN);
    }
  }
}
