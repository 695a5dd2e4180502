/**
 * `nodelet --cleanup --pod-network=host-gw` (the built bundle, $NODELET_ENTRY or dist/nodelet.mjs) run inside a
 * network namespace of this suite (ip6-cleanup): it removes the pod network's masquerade chains and POSTROUTING hooks
 * of both families, and leaves other rules alone. Without --pod-network they stay.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxPodNetworkHost } from '../../src/cni/hostgw/index.js';

const NS = 'ip6-cleanup';
const REPO_ROOT = join(import.meta.dirname, '../..');
const ENTRY = process.env.NODELET_ENTRY ?? join(REPO_ROOT, 'dist/nodelet.mjs');

function inNs(...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' });
}
function cleanup(extra: string[]): number | null {
  return spawnSync('ip', ['netns', 'exec', NS, process.execPath, ENTRY, '--cleanup', ...extra], { encoding: 'utf8', timeout: 30_000 }).status;
}
function delNs(): void {
  try {
    execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

describe.skipIf(process.getuid?.() !== 0)('nodelet --cleanup --pod-network=host-gw (network namespace)', () => {
  beforeAll(() => {
    delNs();
    execFileSync('ip', ['netns', 'add', NS]);
  });
  afterAll(delNs);

  it('removes both families\' masquerade chains and hooks, and nothing else', async () => {
    await new LinuxPodNetworkHost({ netns: NS }).ensureMasquerade(['10.215.0.0/16', 'fd15::/48']);
    inNs('ip6tables', '-t', 'nat', '-A', 'POSTROUTING', '-m', 'comment', '--comment', 'ip6 foreign', '-j', 'RETURN');
    inNs('iptables', '-t', 'nat', '-A', 'POSTROUTING', '-m', 'comment', '--comment', 'ip6 foreign', '-j', 'RETURN');
    expect(cleanup([])).toBe(0);
    expect(inNs('ip6tables', '-t', 'nat', '-S')).toContain('NODELET-POD-MASQ');
    expect(cleanup(['--pod-network=host-gw'])).toBe(0);
    for (const tool of ['iptables', 'ip6tables']) {
      const nat = inNs(tool, '-t', 'nat', '-S');
      expect(nat, tool).not.toContain('NODELET-POD-MASQ');
      expect(nat, tool).toContain('--comment "ip6 foreign" -j RETURN');
    }
  });
});
