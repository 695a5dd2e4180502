/**
 * Canary monitor (upstream iptables.Monitor): every interval, checks that KUBE-PROXY-CANARY still exists in mangle,
 * nat and filter and that nat PREROUTING still jumps to KUBE-SERVICES; if not, something flushed or deleted our
 * rules (firewall reload, `iptables -t nat -F`), and the proxier is told to do a full resync.
 */
import type { Clock, Logger, TimerHandle } from '../util/index.js';
import { errorMessage } from '../util/index.js';
import type { Iptables } from './iptables.js';
import { CANARY_CHAIN, JUMP_RULES } from './render-top.js';

/** Options of {@link CanaryMonitor}. */
export interface CanaryMonitorOptions {
  iptables: Iptables;
  clock: Clock;
  intervalMs: number;
  logger: Logger;
  onLost: () => void;
}

/** See the file comment. `check()` is the step; `start()` only runs it on a timer. */
export class CanaryMonitor {
  readonly #o: CanaryMonitorOptions;
  #timer: TimerHandle | undefined;
  #stopped = true;

  constructor(options: CanaryMonitorOptions) {
    this.#o = options;
  }

  /** One check. Resolves true when everything is in place; calls onLost otherwise. */
  async check(): Promise<boolean> {
    const ipt = this.#o.iptables;
    try {
      for (const table of ['mangle', 'nat', 'filter'] as const) {
        if (!(await ipt.chainExists(table, CANARY_CHAIN))) return this.#lost(`canary missing in ${table}`);
      }
      const pre = JUMP_RULES.find((j) => j.table === 'nat' && j.from === 'PREROUTING');
      if (pre !== undefined && !(await ipt.ruleExists('nat', pre.from, [...pre.args, '-j', pre.to]))) {
        return this.#lost('nat PREROUTING no longer jumps to KUBE-SERVICES');
      }
      return true;
    } catch (err) {
      this.#o.logger.warn({ err: errorMessage(err) }, 'Canary check failed');
      return true;
    }
  }

  #lost(reason: string): false {
    this.#o.logger.info({ reason }, 'iptables rules flushed externally; forcing a full resync');
    this.#o.onLost();
    return false;
  }

  start(): void {
    this.#stopped = false;
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.check().finally(() => this.#arm());
    }, this.#o.intervalMs);
  }
}
