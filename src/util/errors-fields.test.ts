import { describe, expect, it } from 'vitest';
import { NodeletError, errorFields } from './errors.js';

describe('errorFields (what error logs carry)', () => {
  it('carries the stable code, field, object and the cause', () => {
    const err = new NodeletError('CREATE_CONTAINER_CONFIG', 'configmap "cm" not found', { field: 'spec.containers[0].env[1]', object: 'pod default/web', cause: new Error('404') });
    expect(errorFields(err)).toEqual({ err: 'configmap "cm" not found', code: 'CREATE_CONTAINER_CONFIG', field: 'spec.containers[0].env[1]', object: 'pod default/web', cause: '404' });
  });

  it('uses a system error code, else INTERNAL', () => {
    expect(errorFields(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toEqual({ err: 'no such file', code: 'ENOENT' });
    expect(errorFields('boom')).toEqual({ err: 'boom', code: 'INTERNAL' });
  });
});
