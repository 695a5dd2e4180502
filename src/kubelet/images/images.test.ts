import { describe, expect, it } from 'vitest';
import { effectivePullPolicy, goDurationMs, isValidImageRef, registryHost } from './policy.js';
import { credentialsFor } from './secrets.js';

describe('image policy', () => {
  it('defaults imagePullPolicy by tag', () => {
    expect(effectivePullPolicy('busybox', undefined)).toBe('Always');
    expect(effectivePullPolicy('busybox:latest', undefined)).toBe('Always');
    expect(effectivePullPolicy('localhost:5000/x', undefined)).toBe('Always');
    expect(effectivePullPolicy('localhost:5000/x:1.0', undefined)).toBe('IfNotPresent');
    expect(effectivePullPolicy('x@sha256:' + 'a'.repeat(64), undefined)).toBe('IfNotPresent');
    expect(effectivePullPolicy('x:1', 'Never')).toBe('Never');
  });

  it('validates references and finds the registry host', () => {
    expect(isValidImageRef('localhost/nodelet/testbox:1.0')).toBe(true);
    expect(isValidImageRef('Bad Image')).toBe(false);
    expect(isValidImageRef('')).toBe(false);
    expect(registryHost('nginx:1')).toBe('docker.io');
    expect(registryHost('127.0.0.1:1/nope:1')).toBe('127.0.0.1:1');
    expect(registryHost('localhost/x')).toBe('localhost');
  });

  it('formats pull durations like Go', () => {
    expect(goDurationMs(850)).toBe('850ms');
    expect(goDurationMs(1234)).toBe('1.234s');
    expect(goDurationMs(1200)).toBe('1.2s');
    expect(goDurationMs(61_500)).toBe('1m1.5s');
  });
});

describe('pull secrets', () => {
  it('picks dockerconfigjson credentials for the image registry', () => {
    const cfg = { auths: { 'localhost:5000': { auth: Buffer.from('u:p').toString('base64') }, 'https://index.docker.io/v1/': { username: 'd', password: 'h' } } };
    const secret = { data: { '.dockerconfigjson': Buffer.from(JSON.stringify(cfg)).toString('base64') } };
    expect(credentialsFor('localhost:5000/app:1', [secret])).toEqual([expect.objectContaining({ username: 'u', password: 'p' })]);
    expect(credentialsFor('library/nginx:1', [secret])).toEqual([expect.objectContaining({ username: 'd', password: 'h' })]);
    expect(credentialsFor('127.0.0.1:1/x:1', [secret])).toEqual([]);
    expect(credentialsFor('x:1', [{ data: { '.dockerconfigjson': 'not base64 json' } }])).toEqual([]);
  });
});
