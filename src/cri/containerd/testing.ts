/**
 * Test-only helpers: a private containerd (scripts/ensure-containerd.sh) started and stopped by PID, and a tiny
 * locally built image for removal tests. Never imported by the agent.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/ensure-containerd.sh');

/** Why containerd tests cannot run on this machine, or undefined when they can. */
export function containerdMissing(): string | undefined {
  for (const bin of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (scripts/setup.sh installs the containerd package)`;
  }
  if (process.getuid?.() !== 0) return 'containerd tests need root';
  return undefined;
}

/** A running private containerd. */
export interface PrivateContainerd {
  dir: string;
  socketPath: string;
  /** Stops it by PID and removes its tasks, mounts, bridge and directory (idempotent). */
  stop(): Promise<void>;
}

/** Options for {@link startPrivateContainerd}. */
export interface PrivateContainerdOptions {
  /** CNI bridge name (≤ 15 chars), e.g. nlctr0. */
  bridge: string;
  /** Pod subnet, e.g. 10.213.140.0/24. */
  subnet: string;
}

/** Starts a private containerd under a fresh temp dir (stopped again if starting fails). */
export async function startPrivateContainerd(o: PrivateContainerdOptions): Promise<PrivateContainerd> {
  const dir = mkdtempSync(join(tmpdir(), 'nlctr-'));
  const env = { ...process.env, NODELET_CONTAINERD_BRIDGE: o.bridge, NODELET_CONTAINERD_SUBNET: o.subnet };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= run('bash', [SCRIPT, '--stop', dir], { env }).then(
      () => undefined,
      (err: unknown) => {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      },
    ));
  try {
    const { stdout } = await run('bash', [SCRIPT, dir], { env, timeout: 120_000 });
    const socketPath = stdout.trim().split('\n').pop() ?? '';
    return { dir, socketPath, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Runs `ctr` against the instance in the k8s.io namespace (the CRI plugin's). */
export async function ctr(socketPath: string, args: string[]): Promise<string> {
  return (await run('ctr', ['--address', socketPath, '--namespace', 'k8s.io', ...args])).stdout;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/**
 * Imports a minimal one-layer OCI image named `ref` (unique config, so its own image ID: removing it never touches
 * the shared test images) and returns `ref`.
 */
export async function importTinyImage(socketPath: string, ref: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nlctr-img-'));
  try {
    const blobs = join(dir, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const put = (b: Buffer | string): { digest: string; size: number } => {
      const hex = sha(b);
      writeFileSync(join(blobs, hex), b);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(b) };
    };
    const layer = put(Buffer.alloc(10240)); // an empty tar archive
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const config = put(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Labels: { 'io.nodelet.test': `tiny-${ref}-${Date.now()}` } },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    );
    const manifest = put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            platform: { architecture: arch, os: 'linux' },
            annotations: { 'io.containerd.image.name': ref },
          },
        ],
      }),
    );
    await run('tar', ['-C', dir, '-cf', join(dir, 'image.tar'), 'oci-layout', 'index.json', 'blobs']);
    await ctr(socketPath, ['images', 'import', join(dir, 'image.tar')]);
    return ref;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
