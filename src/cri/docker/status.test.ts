import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { hasSysResource } from './capabilities.js';
import { isAlreadyExists, isNotFound, isRuntimeUnavailable, hasCode } from '../../util/index.js';
import { mapDockerError } from './errors.js';
import { LineSplitter } from './lines.js';
import { demuxBuffer } from './logs.js';
import { containerFromInspect, dockerTime, sandboxFromInspect } from './status.js';

function inspect(state: Partial<Docker.ContainerInspectInfo['State']>, labels: Record<string, string>) {
  return {
    Id: 'c1',
    Name: '/k8s_app_web_default_u1_2',
    Created: '2026-01-01T00:00:00.123456789Z',
    Image: 'sha256:abc',
    LogPath: '/var/lib/docker/containers/c1/c1-json.log',
    State: { Status: 'exited', Running: false, ExitCode: 0, OOMKilled: false, Error: '', StartedAt: '', FinishedAt: '', ...state },
    Config: { Labels: labels, Image: 'img:1', Tty: false },
    HostConfig: { Binds: ['/a:/b:ro'] },
    NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.5', GlobalIPv6Address: '' } } },
  } as unknown as Docker.ContainerInspectInfo;
}

describe('docker status mapping', () => {
  it('maps docker zero time to 0', () => {
    expect(dockerTime('0001-01-01T00:00:00Z')).toBe(0);
    expect(dockerTime('')).toBe(0);
    expect(dockerTime('2026-01-01T00:00:00.5Z')).toBe(Date.UTC(2026, 0, 1) + 500);
  });

  it('gives exit reasons OOMKilled, Completed, Error', () => {
    const labels = { 'io.kubernetes.docker.type': 'container', 'io.kubernetes.sandbox.id': 's1' };
    expect(containerFromInspect(inspect({ ExitCode: 137, OOMKilled: true }, labels)).reason).toBe('OOMKilled');
    expect(containerFromInspect(inspect({ ExitCode: 0 }, labels)).reason).toBe('Completed');
    const failed = containerFromInspect(inspect({ ExitCode: 2, Error: 'boom' }, labels));
    expect(failed).toMatchObject({ reason: 'Error', message: 'boom', podSandboxId: 's1', image: 'img:1' });
    expect(failed.metadata).toEqual({ name: 'app', attempt: 2 });
    expect(failed.mounts).toEqual([{ hostPath: '/a', containerPath: '/b', readonly: true }]);
    expect(containerFromInspect(inspect({ Status: 'running', Running: true }, labels)).reason).toBe('');
  });

  it('never reports finishing before starting', () => {
    const st = containerFromInspect(
      inspect({ StartedAt: '2026-01-01T00:00:01.010Z', FinishedAt: '2026-01-01T00:00:01.005Z' }, {}),
    );
    expect(st.finishedAt).toBe(st.startedAt);
  });

  it('reports the sandbox IP only for running pod-network sandboxes', () => {
    const running = inspect({ Status: 'running', Running: true }, { 'io.kubernetes.docker.type': 'podsandbox' });
    expect(sandboxFromInspect(running)).toMatchObject({ ip: '172.17.0.5', state: 'ready' });
    const host = inspect(
      { Status: 'running', Running: true },
      { 'io.nodelet.cri.namespaces': 'network=node,pid=container,ipc=node' },
    );
    expect(sandboxFromInspect(host)).toMatchObject({ ip: '', namespaceOptions: { network: 'node', ipc: 'node' } });
  });
});

describe('docker error mapping', () => {
  const ctx = { op: 'create', object: 'container x', createCall: true };
  const engine = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode, json: { message } });

  it('classifies engine and socket errors', () => {
    expect(isNotFound(mapDockerError(engine(404, 'No such container: x'), ctx, '/s'))).toBe(true);
    expect(hasCode(mapDockerError(engine(404, 'No such image: y:1'), ctx, '/s'), 'IMAGE_NOT_FOUND')).toBe(true);
    expect(isAlreadyExists(mapDockerError(engine(409, 'name in use'), ctx, '/s'))).toBe(true);
    expect(hasCode(mapDockerError(engine(409, 'not running'), { ...ctx, createCall: false }, '/s'), 'RUNTIME_ERROR')).toBe(true);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const err = mapDockerError(refused, ctx, '/run/x.sock');
    expect(isRuntimeUnavailable(err)).toBe(true);
    expect(err.message).toContain('unix:///run/x.sock');
    expect(err.cause).toBe(refused);
  });
});

describe('stream helpers', () => {
  it('splits chunked lines', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n\n{"c":3}')).toEqual(['{"b":2}']);
    expect(s.flush()).toEqual(['{"c":3}']);
  });

  it('demultiplexes docker log frames', () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(body.length, 4);
      return Buffer.concat([h, body]);
    };
    const parts = demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]));
    expect(parts.map(String)).toEqual(['out\n', 'err\n']);
  });

  it('reads CAP_SYS_RESOURCE from CapEff', () => {
    expect(hasSysResource('CapEff:\t000001fffeffffff\n')).toBe(false);
    expect(hasSysResource('CapEff:\t000001ffffffffff\n')).toBe(true);
  });
});
