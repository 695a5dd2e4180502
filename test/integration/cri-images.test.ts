/**
 * The local images and host scripts: build.sh is idempotent, the pause program stops promptly and reaps zombies,
 * the testbox image has its tools and users, its wget works across containers (and -T does not crash), and
 * ensure-dockerd.sh starts (once) a private engine.
 * Containers carry io.nodelet.test=cri-images; the private engine is stopped by its PID.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerConfig, sandboxConfig, waitFor } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime, PAUSE_IMAGE, TESTBOX_IMAGE } from '../../src/cri/index.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const LABEL = { 'io.nodelet.test': 'cri-images' };
const docker = dockerClient();
const rt = new DockerRuntime({ socketPath: DOCKER_SOCKET });

afterAll(async () => {
  await rt.close();
  await removeLabelled(docker, 'io.nodelet.test', LABEL['io.nodelet.test']);
});

const imageId = async (ref: string): Promise<string> => (await docker.getImage(ref).inspect()).Id;

describe('local images', () => {
  it('build.sh skips images whose content hash matches', async () => {
    const before = [await imageId(PAUSE_IMAGE), await imageId(TESTBOX_IMAGE)];
    // The skip is proven by the script's own words and unchanged image IDs (no wall-clock bound).
    const out = execFileSync('bash', ['scripts/images/build.sh'], { encoding: 'utf8' });
    expect(out).toContain(`${PAUSE_IMAGE} is up to date`);
    expect(out).toContain(`${TESTBOX_IMAGE} is up to date`);
    expect([await imageId(PAUSE_IMAGE), await imageId(TESTBOX_IMAGE)]).toEqual(before);
  });

  it('pause exits 0 promptly on SIGTERM and reaps orphaned zombies in a shared PID namespace', async () => {
    const sb = sandboxConfig('img-pause', LABEL, { namespaceOptions: { network: 'pod', pid: 'pod', ipc: 'pod' } });
    const sbId = await rt.runPodSandbox(sb);
    const cfg = containerConfig('app', sb, LABEL);
    cfg.linux.securityContext.namespaceOptions = sb.linux.namespaceOptions;
    const id = await rt.createContainer(sbId, cfg, sb);
    await rt.startContainer(id);
    // The shell exits at once; its background sleep is orphaned to PID 1 (pause), which must reap it.
    await rt.execSync(id, ['sh', '-c', 'sleep 0.2 & exit 0'], 5);
    await waitFor('no zombies', async () => {
      const r = await rt.execSync(id, ['ps', '-o', 'stat,args'], 5);
      return /^\s*Z/m.test(r.stdout) ? undefined : true;
    }, 5_000);
    // Exit code 0 proves pause ended on the SIGTERM itself: after the 10 s grace Docker's SIGKILL gives 137.
    await docker.getContainer(sbId).stop({ t: 10 });
    expect((await docker.getContainer(sbId).inspect()).State.ExitCode).toBe(0);
  });

  it('testbox has busybox tools, users root/app/nobody, a sticky /tmp and sh as default command', async () => {
    const run = (user: string, script: string): string => {
      const args = ['run', '--rm', '--network', 'none', '--label', 'io.nodelet.test=cri-images', '-u', user];
      return execFileSync('docker', [...args, TESTBOX_IMAGE, 'sh', '-c', script], { encoding: 'utf8' }).trim();
    };
    expect(run('app', 'id')).toBe('uid=1000(app) gid=1000(app) groups=1000(app)');
    expect(run('nobody', 'id -u')).toBe('65534');
    const tools = 'sh httpd nc wget sleep cat ls echo touch rm mkdir dd head id env hostname ip ps kill seq true false test grep sed tail date mount df';
    expect(run('0', `for t in ${tools}; do command -v $t >/dev/null || echo missing $t; done; stat -c %a /tmp`)).toBe('1777');
    const cfg = (await docker.getImage(TESTBOX_IMAGE).inspect()).Config;
    expect(cfg.Cmd).toEqual(['sh']);
    expect(cfg.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});

describe('testbox wget', () => {
  // Debian's busybox-static is built without FEATURE_WGET_TIMEOUT but still parses -T into a NULL pointer (SIGSEGV,
  // exit 139); the image's /bin/wget wrapper (images/testbox/wget) implements -T. Traffic stays on docker0.
  const name = `nlci-httpd-${process.pid}`;
  const run = (args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } =>
    spawnSync('docker', ['run', '--rm', '--label', 'io.nodelet.test=cri-images', TESTBOX_IMAGE, ...args], { encoding: 'utf8', timeout: 20_000 });
  afterAll(() => {
    spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore' });
  });

  it('fetches a file from httpd in another container, times out with -T, fails without a signal on a closed port', async () => {
    const serve = 'printf served-by-httpd > /var/www/f.txt && httpd -p 8080 -h /var/www && sleep 120 | nc -l -p 8081';
    execFileSync('docker', ['run', '-d', '--name', name, '--label', 'io.nodelet.test=cri-images', TESTBOX_IMAGE, 'sh', '-c', serve]);
    const ip = execFileSync('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name], { encoding: 'utf8' }).trim();
    expect(ip).toMatch(/^172\.17\.\d+\.\d+$/); // the local Docker bridge, never anything else
    const body = await waitFor('httpd answers', () => {
      const r = run(['wget', '-T', '5', '-qO-', `http://${ip}:8080/f.txt`]);
      expect(r.status).not.toBe(139);
      return r.status === 0 ? r.stdout : undefined;
    }, 10_000);
    expect(body).toBe('served-by-httpd');
    for (const args of [['-qO-'], ['-T', '2', '-qO-'], ['-qT2', '-O-']]) {
      const closed = run(['wget', ...args, 'http://127.0.0.1:1/']);
      expect({ status: closed.status, signal: closed.signal }).toEqual({ status: 1, signal: null });
      expect(closed.stderr).toContain('Connection refused');
    }
    // Port 8081 accepts and never answers: -T 1 must end the request with wget's own error, not hang.
    // wget's own timeout message and exit 1 (not the 20 s spawn timeout's signal) prove -T ended it; no wall-clock bound.
    const slow = run(['wget', '-T', '1', '-qO-', `http://${ip}:8081/`]);
    expect({ status: slow.status, signal: slow.signal }).toEqual({ status: 1, signal: null });
    expect(slow.stderr).toContain('download timed out');
  });
});

describe('ensure-dockerd.sh', () => {
  // A private engine with its own socket, roots, pidfile and bridge (never `--bridge none`: that deletes docker0).
  const BRIDGE = 'nlcri-br0';
  const dir = mkdtempSync(join(tmpdir(), 'nlcri-dockerd-'));
  const env = {
    ...process.env,
    NODELET_DOCKER_SOCK: join(dir, 'd.sock'),
    NODELET_DOCKERD_PIDFILE: join(dir, 'd.pid'),
    NODELET_DOCKERD_LOG: join(dir, 'd.log'),
    NODELET_DOCKERD_ARGS: `--data-root ${dir}/data --exec-root ${dir}/exec --bridge ${BRIDGE} --iptables=false --ip-masq=false`,
  };

  beforeAll(() => {
    spawnSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    execFileSync('ip', ['addr', 'add', '10.254.77.1/24', 'dev', BRIDGE]);
  });

  afterAll(async () => {
    const pidFile = env.NODELET_DOCKERD_PIDFILE;
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid > 0) {
        process.kill(pid, 'SIGTERM');
        await waitFor('private dockerd to stop', () => (existsSync(`/proc/${pid}`) ? undefined : true), 20_000);
      }
    }
    spawnSync('umount', ['-R', `${dir}/exec`], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a private engine without its own bridge (dockerd would delete or take over docker0)', () => {
    const r = spawnSync('bash', ['scripts/ensure-dockerd.sh'], {
      env: { ...env, NODELET_DOCKERD_ARGS: `--data-root ${dir}/data --bridge none` },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('needs its own existing bridge');
    expect(existsSync(env.NODELET_DOCKERD_PIDFILE)).toBe(false);
  });

  it('starts a private engine once and leaves a running one alone', () => {
    const first = execFileSync('bash', ['scripts/ensure-dockerd.sh'], { env, encoding: 'utf8' });
    expect(first).toContain('starting dockerd');
    expect(existsSync(env.NODELET_DOCKER_SOCK)).toBe(true);
    const pid = readFileSync(env.NODELET_DOCKERD_PIDFILE, 'utf8');
    const second = execFileSync('bash', ['scripts/ensure-dockerd.sh'], { env, encoding: 'utf8' });
    expect(second).not.toContain('starting dockerd');
    expect(readFileSync(env.NODELET_DOCKERD_PIDFILE, 'utf8')).toBe(pid);
    expect(spawnSync('ip', ['link', 'show', 'docker0']).status, 'the shared docker0 must survive').toBe(0);
  });
});
