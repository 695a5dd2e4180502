import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeObjectSource } from '../../api/objects-fake.js';
import type { EventRecorder } from '../../api/types.js';
import { FakeClock } from '../../util/clock.js';
import { hasCode } from '../../util/errors.js';
import { expandCommandAndArgs, expandSubPathExpr } from './command.js';
import { makeEnvironment, type EnvDeps } from './make-env.js';

const allocatable = { cpuMilli: 4000, memoryBytes: 8 * 2 ** 30, ephemeralStorageBytes: 100 * 2 ** 30 };

function pod(c: V1Container, extra: Partial<V1Pod['spec']> = {}, annotations?: Record<string, string>): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'app', uid: 'uid-1', labels: { tier: 'front', app: 'web' }, annotations },
    spec: { nodeName: 'node-1', serviceAccountName: 'builder', containers: [c], ...extra },
  };
}

class Events implements EventRecorder {
  readonly list: string[] = [];
  event(_ref: unknown, type: string, reason: string, message: string): void {
    this.list.push(`${type} ${reason} ${message}`);
  }
}

describe('makeEnvironment', () => {
  let objects: FakeObjectSource;
  let events: Events;
  let deps: EnvDeps;
  const fctx = { podIPs: ['10.1.0.5', 'fd00::5'], hostIPs: ['192.168.1.10'] };

  beforeEach(() => {
    objects = new FakeObjectSource(new FakeClock());
    events = new Events();
    deps = { objects, recorder: events, allocatable };
    objects.setConfigMap({ metadata: { namespace: 'app', name: 'cfg' }, data: { MODE: 'prod', 'bad key': 'x', '1NUM': 'y', level: 'debug' } });
    objects.setSecret('app', 'creds', { PASSWORD: 's3cr3t', 'with space': 'z' });
    objects.services.push({ metadata: { namespace: 'default', name: 'kubernetes' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] } });
    objects.services.push({ metadata: { namespace: 'app', name: 'db' }, spec: { clusterIP: '10.96.0.2', ports: [{ port: 5432 }] } });
  });

  const env = async (c: V1Container, extra?: Partial<V1Pod['spec']>) =>
    new Map((await makeEnvironment(pod(c, extra), c, fctx, deps)).map((e) => [e.name, e.value]));

  it('expands $(VAR) against earlier variables and service variables, escapes $$, keeps unknown refs', async () => {
    const e = await env({
      name: 'c',
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-$(DB_SERVICE_HOST)-$$(A)-$(NOPE)-$(C)' },
        { name: 'C', value: 'c' },
      ],
    });
    expect(e.get('B')).toBe('a-10.96.0.2-$(A)-$(NOPE)-$(C)');
  });

  it('envFrom with prefix skips invalid names with the upstream event; env overrides envFrom', async () => {
    const e = await env({
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
      env: [{ name: 'CFG_MODE', value: 'override' }],
    });
    expect(e.get('CFG_MODE')).toBe('override');
    expect(e.get('CFG_level')).toBe('debug');
    expect(e.get('CFG_1NUM')).toBe('y');
    expect(e.get('PASSWORD')).toBe('s3cr3t');
    expect(e.has('CFG_bad key')).toBe(false);
    expect(events.list).toEqual([
      'Warning InvalidEnvironmentVariableNames Keys [CFG_bad key] from the EnvFrom configMap app/cfg were skipped since they are considered invalid environment variable names.',
      'Warning InvalidEnvironmentVariableNames Keys [with space] from the EnvFrom secret app/creds were skipped since they are considered invalid environment variable names.',
    ]);
  });

  it('an envFrom key starting with a digit and no prefix is skipped', async () => {
    const e = await env({ name: 'c', envFrom: [{ configMapRef: { name: 'cfg' } }] });
    expect(e.has('1NUM')).toBe(false);
    expect(events.list[0]).toContain('Keys [1NUM, bad key]');
  });

  it('configMapKeyRef / secretKeyRef resolve, optional ones are skipped', async () => {
    const e = await env({
      name: 'c',
      env: [
        { name: 'M', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
        { name: 'P', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
        { name: 'O1', valueFrom: { configMapKeyRef: { name: 'missing', key: 'x', optional: true } } },
        { name: 'O2', valueFrom: { secretKeyRef: { name: 'creds', key: 'nokey', optional: true } } },
      ],
    });
    expect(e.get('M')).toBe('prod');
    expect(e.get('P')).toBe('s3cr3t');
    expect(e.has('O1')).toBe(false);
    expect(e.has('O2')).toBe(false);
  });

  it.each([
    [{ configMapKeyRef: { name: 'x', key: 'k' } }, 'configmap "x" not found'],
    [{ configMapKeyRef: { name: 'cfg', key: 'k' } }, "couldn't find key k in ConfigMap app/cfg"],
    [{ secretKeyRef: { name: 'nope', key: 'k' } }, 'secret "nope" not found'],
    [{ secretKeyRef: { name: 'creds', key: 'k' } }, "couldn't find key k in Secret app/creds"],
  ])('missing %j → CREATE_CONTAINER_CONFIG %s', async (valueFrom, message) => {
    const err = await env({ name: 'c', env: [{ name: 'X', valueFrom }] }).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe(message);
  });

  it('a missing envFrom configMap fails unless optional', async () => {
    const err = await env({ name: 'c', envFrom: [{ configMapRef: { name: 'x' } }] }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('configmap "x" not found');
    await expect(env({ name: 'c', envFrom: [{ configMapRef: { name: 'x', optional: true } }] })).resolves.toBeDefined();
  });

  it('fieldRef covers metadata, spec and status fields', async () => {
    const fields = [
      'metadata.name',
      'metadata.namespace',
      'metadata.uid',
      "metadata.labels['tier']",
      "metadata.annotations['missing']",
      'metadata.labels',
      'spec.nodeName',
      'spec.serviceAccountName',
      'status.podIP',
      'status.podIPs',
      'status.hostIP',
      'status.hostIPs',
    ];
    const e = await env({ name: 'c', env: fields.map((f, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath: f } } })) });
    expect(fields.map((_, i) => e.get(`F${i}`))).toEqual([
      'web',
      'app',
      'uid-1',
      'front',
      '',
      'app="web"\ntier="front"',
      'node-1',
      'builder',
      '10.1.0.5',
      '10.1.0.5,fd00::5',
      '192.168.1.10',
      '192.168.1.10',
    ]);
  });

  it('an unsupported fieldPath is a CREATE_CONTAINER_CONFIG error', async () => {
    const err = await env({ name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] }).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toBe('unsupported fieldPath: spec.nope');
  });

  it('resourceFieldRef with divisors, limits defaulting to node allocatable', async () => {
    const c: V1Container = {
      name: 'c',
      resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } },
      env: [
        { name: 'LCPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'LCPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        { name: 'RCPU', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        { name: 'RCPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'LMEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        { name: 'LMEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'RMEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
        { name: 'LEPH_GI', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage', divisor: '1Gi' } } },
      ],
    };
    const e = await env(c);
    expect(e.get('LCPU')).toBe('4');
    expect(e.get('LCPU_M')).toBe('4000');
    expect(e.get('RCPU')).toBe('1');
    expect(e.get('RCPU_M')).toBe('250');
    expect(e.get('LMEM')).toBe(String(64 * 2 ** 20));
    expect(e.get('LMEM_MI')).toBe('64');
    expect(e.get('RMEM')).toBe('64');
    expect(e.get('LEPH_GI')).toBe('100');
  });

  it('service variables come after declared ones and do not override them', async () => {
    const list = await makeEnvironment(pod({ name: 'c', env: [{ name: 'DB_SERVICE_HOST', value: 'mine' }] }), { name: 'c', env: [{ name: 'DB_SERVICE_HOST', value: 'mine' }] }, fctx, deps);
    expect(list[0]).toEqual({ name: 'DB_SERVICE_HOST', value: 'mine' });
    expect(list.filter((e) => e.name === 'DB_SERVICE_HOST')).toHaveLength(1);
    expect(list.some((e) => e.name === 'KUBERNETES_SERVICE_HOST' && e.value === '10.96.0.1')).toBe(true);
  });

  it('enableServiceLinks=false keeps only KUBERNETES_*', async () => {
    const e = await env({ name: 'c' }, { enableServiceLinks: false });
    expect(e.has('DB_SERVICE_HOST')).toBe(false);
    expect(e.get('KUBERNETES_SERVICE_PORT')).toBe('443');
  });

  it('static pods may not reference configMaps or secrets', async () => {
    const c: V1Container = { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } }] };
    const err = await makeEnvironment(pod(c, {}, { 'kubernetes.io/config.source': 'file' }), c, fctx, deps).catch((e: unknown) => e);
    expect(hasCode(err, 'CREATE_CONTAINER_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/static pod "web_app\(uid-1\)" \(source file\) may not reference configmap "cfg"/);
  });

  it('standalone (no API) reports that no client is defined', async () => {
    const c: V1Container = { name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] };
    const err = await makeEnvironment(pod(c), c, fctx, { allocatable }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("couldn't get secret app/s, no kubeClient defined");
  });
});

describe('command/args and subPathExpr expansion', () => {
  const envs = [
    { name: 'GREETING', value: 'hello' },
    { name: 'POD', value: 'web-0' },
    { name: 'EMPTY', value: '' },
  ];

  it('expands command and args; unresolved stay verbatim', () => {
    const out = expandCommandAndArgs({ name: 'c', command: ['sh', '-c', 'echo $(GREETING) $$(GREETING) $(NOPE)'], args: ['$(POD)'] }, envs);
    expect(out).toEqual({ command: ['sh', '-c', 'echo hello $(GREETING) $(NOPE)'], args: ['web-0'] });
  });

  it('subPathExpr expands, and a missing or empty variable is an error', () => {
    expect(expandSubPathExpr({ name: 'v', mountPath: '/m', subPathExpr: 'logs/$(POD)' }, envs)).toBe('logs/web-0');
    expect(() => expandSubPathExpr({ name: 'v', mountPath: '/m', subPathExpr: '$(EMPTY)/$(NOPE)' }, envs)).toThrow(
      'missing value for EMPTY, NOPE',
    );
  });
});
