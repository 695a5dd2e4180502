import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.js';
import { dockerPodNetwork, dockerUsesCni } from './network-wiring.js';
import { silentLogger } from '../util/index.js';

describe('Docker backend network mode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nl8-wiring-'));
  afterEach(() => rmSync(join(dir, '10-x.conflist'), { force: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = (flags: Record<string, string>) => resolveConfig({ flags: { 'cni-conf-dir': dir, ...flags }, hostname: 'h' });

  it('auto: docker bridge without a config, CNI once a config file exists or a pod network is set', () => {
    expect(dockerUsesCni(cfg({}))).toBe(false);
    expect(dockerPodNetwork(cfg({}), silentLogger())).toBeUndefined();
    expect(dockerUsesCni(cfg({ 'pod-network': 'host-gw' }))).toBe(true);
    writeFileSync(join(dir, '10-x.conflist'), '{}');
    expect(dockerUsesCni(cfg({}))).toBe(true);
    expect(dockerPodNetwork(cfg({}), silentLogger())).toBeDefined();
  });

  it('an explicit --network-plugin wins', () => {
    writeFileSync(join(dir, '10-x.conflist'), '{}');
    expect(dockerUsesCni(cfg({ 'network-plugin': 'docker' }))).toBe(false);
    rmSync(join(dir, '10-x.conflist'));
    expect(dockerUsesCni(cfg({ 'network-plugin': 'cni' }))).toBe(true);
  });
});
