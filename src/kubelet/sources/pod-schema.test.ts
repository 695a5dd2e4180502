import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { innerType, podSchemaFromClientNode, renderPodSchema } from './pod-schema-gen.js';
import { POD_SCHEMA } from './pod-schema.generated.js';

describe('pod-schema.generated.ts', () => {
  it('matches the model metadata of the installed @kubernetes/client-node (regenerate with pod-schema-gen.ts --write)', () => {
    const live = podSchemaFromClientNode();
    expect(POD_SCHEMA).toEqual(live);
    expect(readFileSync(new URL('./pod-schema.generated.ts', import.meta.url), 'utf8')).toBe(renderPodSchema(live));
  });

  it('covers the models a pod reaches, with their JSON key names', () => {
    expect(POD_SCHEMA.V1Pod).toMatchObject({ metadata: 'V1ObjectMeta', spec: 'V1PodSpec' });
    expect(POD_SCHEMA.V1PodSpec?.containers).toBe('Array<V1Container>');
    expect(POD_SCHEMA.V1Volume?.emptyDir).toBe('V1EmptyDirVolumeSource');
    expect(POD_SCHEMA.V1ConfigMapVolumeSource?.defaultMode).toBe('number');
    for (const model of Object.values(POD_SCHEMA)) {
      for (const t of Object.values(model)) {
        const inner = innerType(t);
        if (/^V\d|^Core/.test(inner)) expect(POD_SCHEMA[inner], inner).toBeDefined();
      }
    }
  });
});
