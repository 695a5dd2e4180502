import { describe, expect, it } from 'vitest';
import { parseCommandOptions, ResizeDecoder } from './command.js';
import { exitCodeStatus, httpErrorStatus, internalErrorStatus, statusText, successStatus } from './status.js';
import { negotiate } from './upgrade.js';
import { decodeChannelMessage, encodeChannelMessage, parseWsPorts } from './ws-channels.js';
import { parsePort } from './spdy-portforward.js';

describe('exec/attach options', () => {
  it('reads the API server names (input/output/error) and the direct ones; a TTY has no stderr', () => {
    const p = parseCommandOptions('exec', new URLSearchParams('command=ls&command=-l&input=1&output=1&error=1&tty=1'));
    expect(p).toEqual({ ok: true, options: { stdin: true, stdout: true, stderr: false, tty: true, command: ['ls', '-l'] } });
    const d = parseCommandOptions('attach', new URLSearchParams('stdout=true&stderr=true'));
    expect(d).toEqual({ ok: true, options: { stdin: false, stdout: true, stderr: true, tty: false, command: [] } });
  });
  it('refuses no streams and exec without a command', () => {
    expect(parseCommandOptions('exec', new URLSearchParams('command=ls'))).toEqual({ ok: false, message: 'you must specify at least 1 of stdin, stdout, stderr' });
    expect(parseCommandOptions('exec', new URLSearchParams('output=1'))).toMatchObject({ ok: false });
  });
});

describe('resize decoder', () => {
  it('decodes concatenated and split JSON objects, skipping garbage', () => {
    const d = new ResizeDecoder();
    expect(d.push('{"Width":80,"Height":24}\n{"Width":1')).toEqual([{ width: 80, height: 24 }]);
    expect(d.push('20,"Height":40}{"Width":-1,"Height":2}{bad}')).toEqual([{ width: 120, height: 40 }]);
    expect(d.push('{"Width":"7","Height":8}')).toEqual([{ width: 7, height: 8 }]);
  });
});

describe('Status objects', () => {
  it('match upstream field for field', () => {
    expect(successStatus()).toEqual({ metadata: {}, status: 'Success' });
    expect(exitCodeStatus(['sh', '-c', 'exit 3'], 3)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(internalErrorStatus('boom')).toEqual({
      metadata: {}, status: 'Failure', message: 'Internal error occurred: boom', reason: 'InternalError', details: { causes: [{ message: 'boom' }] }, code: 500,
    });
    expect(statusText(successStatus())).toBe('');
    expect(httpErrorStatus(404, 'pod does not exist')).toMatchObject({ kind: 'Status', apiVersion: 'v1', reason: 'NotFound', code: 404 });
  });
});

describe('negotiation and channels', () => {
  it('picks the first client protocol the server has; none sent means legacy', () => {
    expect(negotiate(['v9', 'v2.channel.k8s.io', 'v4.channel.k8s.io'], ['v4.channel.k8s.io', 'v2.channel.k8s.io'])).toEqual({ ok: true, protocol: 'v2.channel.k8s.io' });
    expect(negotiate([], ['x'])).toEqual({ ok: true, protocol: '' });
    expect(negotiate(['y'], ['x'])).toMatchObject({ ok: false });
  });
  it('encodes binary and base64 channel messages', () => {
    expect(encodeChannelMessage('v5.channel.k8s.io', 1, Buffer.from('hi'))).toEqual(Buffer.from([1, 104, 105]));
    expect(encodeChannelMessage('v4.base64.channel.k8s.io', 3, Buffer.from('hi'))).toBe('3aGk=');
    expect(decodeChannelMessage('base64.channel.k8s.io', Buffer.from('0aGk='), false)).toEqual({ channel: 0, payload: Buffer.from('hi') });
    expect(decodeChannelMessage('v5.channel.k8s.io', Buffer.from([255, 0]), true)).toEqual({ channel: 255, payload: Buffer.from([0]) });
    expect(decodeChannelMessage('v5.channel.k8s.io', Buffer.alloc(0), true)).toBeUndefined();
  });
  it('parses ports as upstream', () => {
    expect(parseWsPorts(new URLSearchParams('port=80,443&port=8080'))).toEqual({ ok: true, ports: [80, 443, 8080] });
    expect(parseWsPorts(new URLSearchParams(''))).toMatchObject({ ok: false });
    expect(parseWsPorts(new URLSearchParams('port=0'))).toMatchObject({ ok: false });
    expect(parsePort('65535')).toBe(65535);
    expect(parsePort('65536')).toBeUndefined();
    expect(parsePort('8x')).toBeUndefined();
  });
});
