/**
 * Small pure helpers shared by the runtime backends: image reference normalization, label selection, and the
 * Kubernetes command/args → entrypoint/cmd rule.
 */

/**
 * Normalizes an image reference the way Docker displays repo tags: adds `:latest` when neither a tag nor a digest is
 * given (`busybox` → `busybox:latest`, `localhost:5000/x` → `localhost:5000/x:latest`). IDs (`sha256:…`) pass through.
 */
export function normalizeImageRef(ref: string): string {
  if (ref.startsWith('sha256:') || ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  const lastPart = ref.slice(lastSlash + 1);
  return lastPart.includes(':') ? ref : `${ref}:latest`;
}

/** True when every key/value of `selector` is present in `labels` (an empty or missing selector matches all). */
export function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  if (selector === undefined) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Entrypoint and cmd a container runs with, following Kubernetes `command`/`args` semantics. */
export interface ResolvedArgv {
  /** undefined = keep the image's entrypoint. */
  entrypoint: string[] | undefined;
  /** undefined = keep the image's cmd; [] = no cmd at all. */
  cmd: string[] | undefined;
}

/**
 * Kubernetes semantics: `command` replaces the image entrypoint and (when `args` is empty) also drops the image cmd;
 * `args` alone keeps the image entrypoint and replaces its cmd; neither keeps both image defaults.
 */
export function resolveArgv(command: string[], args: string[]): ResolvedArgv {
  if (command.length > 0) return { entrypoint: command, cmd: args };
  if (args.length > 0) return { entrypoint: undefined, cmd: args };
  return { entrypoint: undefined, cmd: undefined };
}

/** The full argv given image defaults (what the container's PID 1 runs). */
export function effectiveArgv(
  command: string[],
  args: string[],
  image: { entrypoint: string[]; cmd: string[] },
): string[] {
  const r = resolveArgv(command, args);
  return [...(r.entrypoint ?? image.entrypoint), ...(r.cmd ?? image.cmd)];
}
