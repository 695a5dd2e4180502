import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRI_V1_DESCRIPTOR } from './descriptor.js';
import { descriptorFromProto } from './parse.js';
import { loadCriServices } from './services.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('CRI v1 descriptor', () => {
  it('is generated from api.proto (run `npm exec -- tsx src/cri/proto/generate.ts` after changing it)', () => {
    const fromProto = descriptorFromProto(readFileSync(join(here, 'api.proto'), 'utf8'));
    expect(JSON.parse(JSON.stringify(CRI_V1_DESCRIPTOR))).toEqual(fromProto);
  });

  it('keeps the upstream licence header', () => {
    expect(readFileSync(join(here, 'api.proto'), 'utf8')).toMatch(/^\/\*\nCopyright 2020 The Kubernetes Authors\.\n\nLicensed under the Apache License/);
  });

  it('loads both services with the methods the runtime uses', () => {
    const { RuntimeService, ImageService } = loadCriServices();
    for (const m of ['Version', 'Status', 'RunPodSandbox', 'ListContainers', 'ExecSync', 'ContainerStatus']) {
      expect(RuntimeService.service[m]?.path).toBe(`/runtime.v1.RuntimeService/${m}`);
    }
    for (const m of ['ImageStatus', 'PullImage', 'ListImages', 'RemoveImage']) {
      expect(ImageService.service[m]?.path).toBe(`/runtime.v1.ImageService/${m}`);
    }
  });

  it('encodes int64 as strings, enums as names and maps as objects', () => {
    const { RuntimeService } = loadCriServices();
    const listRes = RuntimeService.service['ListContainers'];
    const buf = listRes?.responseSerialize({
      containers: [{ id: 'a', createdAt: '1700000000000000000', state: 'CONTAINER_EXITED', labels: { k: 'v' } }],
    });
    const back = listRes?.responseDeserialize(buf as Buffer) as { containers: { createdAt: string; state: string; labels: Record<string, string> }[] };
    expect(back.containers[0]).toMatchObject({ createdAt: '1700000000000000000', state: 'CONTAINER_EXITED', labels: { k: 'v' } });
  });
});
