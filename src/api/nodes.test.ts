import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isNotFound } from '../util/errors.js';
import { wrapApiCall } from './nodes.js';

describe('wrapApiCall', () => {
  it('passes results through and classifies client errors naming the object', async () => {
    await expect(wrapApiCall('node n1', () => Promise.resolve(42))).resolves.toBe(42);
    const body = JSON.stringify({ message: 'nodes "n1" not found' });
    const err: unknown = await wrapApiCall('node n1', () => Promise.reject(new ApiException(404, 'nf', body, {}))).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect((err as Error).message).toBe('node n1: nodes "n1" not found');
  });
});
