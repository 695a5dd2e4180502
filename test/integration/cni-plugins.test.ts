/**
 * The CniPlugin contract with the real plugins (Debian's containernetworking-plugins: bridge, host-local, portmap)
 * run by ExecCniPlugin, in network namespaces of this suite (nl8c-*), on the bridge nl8cni0 with 10.214.8.128/26.
 * No route leaves the machine: the pods' only addresses are on that local bridge and nothing is sent to the outside.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { describe } from 'vitest';
import { parseConfList } from '../../src/cni/conf.js';
import { runCniPluginContract } from '../../src/cni/cni-contract.js';
import { ExecCniPlugin } from '../../src/cni/exec-plugin.js';

const ROOT = '/tmp/h8/cni-contract';
const BIN_DIRS = ['/opt/cni/bin', '/usr/lib/cni'];
const created: string[] = [];

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'ignore' });
}

function cleanupHost(): void {
  for (const n of created.splice(0)) {
    try {
      sh('ip', ['netns', 'del', n]);
    } catch {
      // already gone
    }
  }
  try {
    sh('ip', ['link', 'del', 'nl8cni0']);
  } catch {
    // not there
  }
  rmSync(ROOT, { recursive: true, force: true });
}

describe.skipIf(process.getuid?.() !== 0)('real CNI plugins', () => {
  runCniPluginContract('ExecCniPlugin (bridge + host-local + portmap)', async () => {
    cleanupHost();
    mkdirSync(`${ROOT}/ipam`, { recursive: true });
    const conf = {
      cniVersion: '1.0.0',
      name: 'nl8contract',
      plugins: [
        {
          type: 'bridge',
          bridge: 'nl8cni0',
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'host-local', dataDir: `${ROOT}/ipam`, ranges: [[{ subnet: '10.214.8.128/26' }]] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    const list = parseConfList(JSON.stringify(conf), 'contract');
    const plugin = new ExecCniPlugin({ binDirs: BIN_DIRS, cacheDir: `${ROOT}/cache` });
    return {
      plugin,
      list,
      brokenList: parseConfList(JSON.stringify({ ...conf, plugins: [{ type: 'nl8-no-such-plugin' }] }), 'broken'),
      newNetns: async (name) => {
        const ns = `nl8c-${name}`;
        sh('ip', ['netns', 'add', ns]);
        created.push(ns);
        return `/run/netns/${ns}`;
      },
      allocations: async () => {
        try {
          return readdirSync(`${ROOT}/ipam/nl8contract`).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
        } catch {
          return [];
        }
      },
      dropCache: async (id) => {
        for (const f of readdirSync(`${ROOT}/cache/results`)) if (f.includes(`-${id}-`)) rmSync(`${ROOT}/cache/results/${f}`);
      },
      cleanup: async () => cleanupHost(),
    };
  });
});
