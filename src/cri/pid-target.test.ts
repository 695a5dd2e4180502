import { describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig } from './contract-fixtures.js';
import { toCriContainerConfig } from './containerd/convert.js';
import { containerCreateOptions } from './docker/specs.js';

describe('NamespaceOptions.pidTargetId (ephemeral containers with a target)', () => {
  const sb = sandboxConfig('web', {});
  const withTarget = containerConfig('dbg', sb, {}, {});
  withTarget.linux.securityContext.namespaceOptions = { ...sb.linux.namespaceOptions, pidTargetId: 'target123' };
  const plain = containerConfig('app', sb, {});

  it('Docker joins the target container PID namespace', () => {
    const spec = { logMaxSize: '10m', logMaxFiles: 5 };
    expect(containerCreateOptions('sb1', withTarget, sb, '/l', spec).HostConfig?.PidMode).toBe('container:target123');
    expect(containerCreateOptions('sb1', plain, sb, '/l', spec).HostConfig?.PidMode).toBe('');
  });

  it('CRI gets NamespaceMode TARGET with the target id', () => {
    expect(toCriContainerConfig(withTarget, sb, 'dbg/0.log', []).linux.securityContext.namespaceOptions).toMatchObject({ pid: 'TARGET', targetId: 'target123' });
    expect(toCriContainerConfig(plain, sb, 'app/0.log', []).linux.securityContext.namespaceOptions.pid).toBe('CONTAINER');
  });
});
