import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The podLogsDir a harness agent with `--root-dir=<root>` gets: `<root>/pod-logs`. */
export const testPodLogsDir = (rootDir: string): string => `${rootDir}/pod-logs`;

/**
 * Gives an agent run (with `--root-dir=<root>`) a podLogsDir of its own, `<root>/pod-logs`: agents remove the log
 * directories of pods they do not know, so side-by-side agents (and a host kubelet) must never share /var/log/pods.
 * podLogsDir has no flag upstream, so it goes into the config: without `--config` a file `<root>.test-config.yaml`
 * is written; a `--config` file holding one KubeletConfiguration without podLogsDir is copied to
 * `<file>.test-defaults.yaml` with the field appended. Multi-document files and files that set podLogsDir (or cannot
 * be read: tests of config errors) are passed on unchanged.
 */
export function withPrivatePodLogsDir(args: string[]): string[] {
  const root = args.find((a) => a.startsWith('--root-dir='))?.slice('--root-dir='.length);
  if (root === undefined || root === '') return args;
  const line = `podLogsDir: ${testPodLogsDir(root)}\n`;
  const at = args.findIndex((a) => a.startsWith('--config='));
  if (at < 0) {
    const file = `${root}.test-config.yaml`;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n${line}`);
    return [...args, `--config=${file}`];
  }
  const file = args[at]?.slice('--config='.length) ?? '';
  if (!existsSync(file)) return args;
  const text = readFileSync(file, 'utf8');
  if (!/^kind: KubeletConfiguration\s*$/m.test(text) || /^---/m.test(text) || /^podLogsDir:/m.test(text)) return args;
  const copy = `${file}.test-defaults.yaml`;
  writeFileSync(copy, `${text.endsWith('\n') ? text : `${text}\n`}${line}`);
  const out = [...args];
  out[at] = `--config=${copy}`;
  return out;
}
