import { describe, expect, it } from 'vitest';
import { detectBackend, type BackendProbe, type CommandResult } from './exec.js';

/** A probe answering from fixed outputs; records every command run. */
function fakeProbe(procNet: { v4?: string; v6?: string }, outputs: Record<string, string>): BackendProbe & { runs: string[] } {
  const runs: string[] = [];
  return {
    runs,
    run: (argv): Promise<CommandResult> => {
      const cmd = argv.join(' ');
      runs.push(cmd);
      return Promise.resolve({ code: 0, stdout: outputs[cmd] ?? '', stderr: '' });
    },
    readProcNet: (file) => Promise.resolve(file === 'ip_tables_names' ? procNet.v4 : procNet.v6),
  };
}

const RULES = (n: number): string => `*filter\n:INPUT ACCEPT [0:0]\n${'-A INPUT -j ACCEPT\n'.repeat(n)}COMMIT\n`;

describe('detectBackend (no legacy table is ever instantiated)', () => {
  it('never runs iptables-legacy-save when /proc/net/ip_tables_names is missing or empty', async () => {
    for (const v4 of [undefined, '', '\n']) {
      const p = fakeProbe({ v4 }, { 'iptables-nft-save': RULES(1) });
      expect(await detectBackend({}, p)).toBe('nft');
      expect(p.runs.filter((c) => c.includes('legacy'))).toEqual([]);
    }
  });
  it('does not save the legacy mangle table unless it is listed, but still counts the listed tables', async () => {
    const p = fakeProbe({ v4: 'filter\nnat\n' }, { 'iptables-legacy-save': RULES(3), 'iptables-nft-save': RULES(1) });
    expect(await detectBackend({}, p)).toBe('legacy');
    expect(p.runs).not.toContain('iptables-legacy-save -t mangle');
    expect(p.runs).toContain('iptables-legacy-save');
    expect(p.runs).not.toContain('ip6tables-legacy-save');
  });
  it('uses the legacy mangle hint when mangle is listed', async () => {
    const p = fakeProbe({ v4: 'mangle\n' }, { 'iptables-legacy-save -t mangle': '*mangle\n:KUBE-IPTABLES-HINT - [0:0]\nCOMMIT\n' });
    expect(await detectBackend({}, p)).toBe('legacy');
    expect(p.runs).toContain('iptables-legacy-save -t mangle');
  });
  it('an nft hint wins before any legacy command runs', async () => {
    const p = fakeProbe({ v4: 'mangle\nfilter\n' }, { 'iptables-nft-save -t mangle': '*mangle\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n' });
    expect(await detectBackend({}, p)).toBe('nft');
    expect(p.runs).toEqual(['iptables-nft-save -t mangle']);
  });
  it('counts ip6tables-legacy only when ip6_tables_names lists a table; ties go to nft; commands get the netns prefix', async () => {
    const p = fakeProbe({ v6: 'filter\n' }, { 'ip netns exec nlpx-t ip6tables-legacy-save': RULES(2), 'ip netns exec nlpx-t iptables-nft-save': RULES(2) });
    expect(await detectBackend({ netns: 'nlpx-t' }, p)).toBe('nft');
    expect(p.runs).toContain('ip netns exec nlpx-t ip6tables-legacy-save');
    expect(p.runs).not.toContain('ip netns exec nlpx-t iptables-legacy-save');
    expect(p.runs.some((c) => c.includes('legacy-save -t'))).toBe(false);
  });
});
