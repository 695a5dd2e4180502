/**
 * e2e (issue 3): scripts/install.sh stages a working installation into a temp prefix (pinned Node binary, bundle,
 * runtime modules, units, environment file, example config), --dry-run changes nothing, existing configuration is
 * kept, and the units pass `systemd-analyze verify` (which is shown to catch a broken unit).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/index.js';
import { tempDir } from './node-helpers.js';

const dir = tempDir('nl3-install-');
const prefix = join(dir.path, 'root');
afterAll(() => dir.remove());

function sh(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function verify(...units: string[]): { code: number | null; out: string } {
  return sh('systemd-analyze', ['verify', `--root=${prefix}`, ...units.map((u) => join(prefix, 'etc/systemd/system', u))]);
}

describe('install.sh', () => {
  it('--dry-run prints the steps and creates nothing', () => {
    const target = join(dir.path, 'dry');
    const r = sh('bash', ['scripts/install.sh', `--prefix=${target}`, '--dry-run', '--no-build']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`[dry-run] install -m 0755 ${join(REPO_ROOT, 'node_modules/node/bin/node')} ${target}/opt/nodelet/bin/node`);
    expect(existsSync(target)).toBe(false);
  });

  it('installs into a prefix; the installed nodelet runs without the repository', () => {
    const r = sh('bash', ['scripts/install.sh', `--prefix=${prefix}`, '--no-build']);
    expect(r.code, r.out).toBe(0);
    const node = join(prefix, 'opt/nodelet/bin/node');
    expect(lstatSync(node).isFile()).toBe(true); // the resolved binary, not the node_modules symlink
    for (const f of ['opt/nodelet/dist/nodelet.mjs', 'etc/default/nodelet', 'etc/nodelet/config.yaml', 'etc/systemd/system/nodelet.service', 'etc/systemd/system/nodelet-kubelet.service', 'etc/systemd/system/nodelet-proxy.service']) {
      expect(existsSync(join(prefix, f)), f).toBe(true);
    }
    expect(existsSync(join(prefix, 'var/lib/nodelet'))).toBe(true);
    const v = spawnSync(node, [join(prefix, 'opt/nodelet/dist/nodelet.mjs'), '--version'], { cwd: dir.path, encoding: 'utf8' });
    expect(v.stdout).toMatch(/^nodelet \d/);
    // The example config is valid: the installed binary accepts it (and fails only later, on the missing kubeconfig).
    const c = spawnSync(node, [join(prefix, 'opt/nodelet/dist/nodelet.mjs'), `--config=${join(prefix, 'etc/nodelet/config.yaml')}`, `--kubeconfig=${join(dir.path, 'none')}`], { cwd: dir.path, encoding: 'utf8' });
    expect(c.stderr).toContain('flag --kubeconfig: cannot load');
  });

  it('keeps an edited config on a second run', () => {
    writeFileSync(join(prefix, 'etc/nodelet/config.yaml'), '# edited\n');
    const r = sh('bash', ['scripts/install.sh', `--prefix=${prefix}`, '--no-build']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`keeping existing ${prefix}/etc/nodelet/config.yaml`);
    expect(readFileSync(join(prefix, 'etc/nodelet/config.yaml'), 'utf8')).toBe('# edited\n');
  });

  it('units say what upstream-style node agents need and pass systemd-analyze verify', () => {
    const unit = readFileSync(join(REPO_ROOT, 'systemd/nodelet.service'), 'utf8');
    for (const line of ['KillMode=process', 'Delegate=yes', 'Restart=always', 'EnvironmentFile=-/etc/default/nodelet', 'ExecStart=/opt/nodelet/bin/node /opt/nodelet/dist/nodelet.mjs $NODELET_ARGS', 'After=network-online.target docker.service containerd.service']) {
      expect(unit).toContain(line);
    }
    // verify needs the distribution's units (sysinit.target, …) inside the root.
    mkdirSync(join(prefix, 'usr/lib/systemd'), { recursive: true });
    cpSync('/usr/lib/systemd/system', join(prefix, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    const ok = verify('nodelet.service', 'nodelet-kubelet.service', 'nodelet-proxy.service');
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);
    writeFileSync(join(prefix, 'etc/systemd/system/nl3-broken.service'), unit.replace('/opt/nodelet/bin/node', '/opt/nodelet/bin/missing').replace('KillMode=process', 'KillMode=bogus'));
    const bad = verify('nl3-broken.service');
    expect(bad.out).toContain('Failed to parse kill mode');
    expect(bad.out).toContain('/opt/nodelet/bin/missing is not executable');
  });
});
