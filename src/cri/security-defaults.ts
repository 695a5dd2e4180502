/**
 * Upstream kubelet's default masked and read-only paths (pkg/securitycontext DefaultMaskedPaths /
 * DefaultReadonlyPaths): applied unless the container is privileged or uses procMount Unmasked. One list for the
 * kubelet (which sends them) and the CRI backends (which fall back to them when a caller sends none).
 */

/** Paths masked in /proc and /sys. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths mounted read-only. */
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
