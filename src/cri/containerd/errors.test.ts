import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hasCode, isAlreadyExists, isNotFound, isRuntimeUnavailable, isTimeout } from '../../util/index.js';
import { mapCriError } from './errors.js';

const err = (code: number, details: string): Error & { code: number; details: string } => Object.assign(new Error(details), { code, details });
const ctx = { op: 'start', object: 'container abc' };

describe('mapCriError', () => {
  it('classifies by gRPC status code and keeps the cause', () => {
    const unavailable = mapCriError(err(status.UNAVAILABLE, 'No connection established'), ctx, 'unix:///x.sock');
    expect(isRuntimeUnavailable(unavailable)).toBe(true);
    expect(unavailable.message).toContain('unix:///x.sock');
    expect(unavailable.cause).toBeInstanceOf(Error);
    expect(isNotFound(mapCriError(err(status.NOT_FOUND, 'an error occurred when try to find container "abc": not found'), ctx, 'e'))).toBe(true);
    expect(isAlreadyExists(mapCriError(err(status.ALREADY_EXISTS, 'exists'), ctx, 'e'))).toBe(true);
    expect(isTimeout(mapCriError(err(status.DEADLINE_EXCEEDED, 'timeout 1s exceeded'), ctx, 'e'))).toBe(true);
    expect(hasCode(mapCriError(err(status.CANCELLED, 'x'), ctx, 'e'), 'CANCELLED')).toBe(true);
    expect(hasCode(mapCriError(err(status.UNKNOWN, 'boom'), ctx, 'e'), 'RUNTIME_ERROR')).toBe(true);
    expect(hasCode(mapCriError(new Error('plain'), ctx, 'e'), 'RUNTIME_ERROR')).toBe(true);
  });

  it("recognises containerd 1.6's reserved-name failure (UNKNOWN) as AlreadyExists", () => {
    const e = err(status.UNKNOWN, 'failed to reserve sandbox name "a_b_c_0": name "a_b_c_0" is reserved for "0123"');
    expect(isAlreadyExists(mapCriError(e, ctx, 'e'))).toBe(true);
  });
});
