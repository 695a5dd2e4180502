/** Image reference helpers: default pull policy, registry host, Go-style durations for pull events. Pure. */

/** Image pull policies. */
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

const REF = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** True when `image` is a syntactically valid image reference. */
export function isValidImageRef(image: string): boolean {
  return image !== '' && REF.test(image);
}

/** The tag of a reference ('' when none; digests count as a tag-less pin). */
export function imageTag(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const i = last.indexOf(':');
  return i < 0 ? '' : last.slice(i + 1);
}

/** The policy to use: the given one, else Always for `:latest` or no tag (without digest), IfNotPresent otherwise. */
export function effectivePullPolicy(image: string, given: string | undefined): PullPolicy {
  if (given === 'Always' || given === 'IfNotPresent' || given === 'Never') return given;
  const tag = imageTag(image);
  if (image.includes('@')) return 'IfNotPresent';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Registry host of a reference (`docker.io` when the first component is not a host). */
export function registryHost(image: string): string {
  const i = image.indexOf('/');
  if (i < 0) return 'docker.io';
  const first = image.slice(0, i);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/** Go's Duration.String() for a duration truncated to milliseconds: `850ms`, `1.2s`, `1m1.5s`. */
export function goDurationMs(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t < 1000) return `${t}ms`;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const s = (t % 60_000) / 1000;
  const sec = `${Number(s.toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}
