import { describe, expect, it } from 'vitest';
import { hasCode } from '../util/errors.js';
import { runtimeKind, socketPath } from './endpoint.js';

describe('--container-runtime-endpoint', () => {
  it('takes unix:// URLs and bare absolute paths', () => {
    expect(socketPath('unix:///var/run/docker.sock')).toBe('/var/run/docker.sock');
    expect(socketPath('/run/containerd/containerd.sock')).toBe('/run/containerd/containerd.sock');
  });

  it('rejects other schemes and relative paths with a ConfigError naming the flag', () => {
    for (const bad of ['tcp://127.0.0.1:2375', 'unix://relative.sock', 'npipe:////./pipe/docker_engine']) {
      let err: unknown;
      try {
        socketPath(bad);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'CONFIG_INVALID'), bad).toBe(true);
      expect(String(err)).toContain('--container-runtime-endpoint');
    }
  });

  it('uses Docker for docker.sock and CRI for every other socket', () => {
    expect(runtimeKind('unix:///var/run/docker.sock')).toBe('docker');
    expect(runtimeKind('/tmp/private/docker.sock')).toBe('docker');
    expect(runtimeKind('unix:///run/containerd/containerd.sock')).toBe('cri');
    expect(runtimeKind('unix:///var/run/crio/crio.sock')).toBe('cri');
    expect(runtimeKind('unix:///run/cri-dockerd.sock')).toBe('cri');
  });
});
