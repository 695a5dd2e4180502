/**
 * The cleanup stack of the benchmarks that start processes, engines and cgroups themselves: undo steps run in reverse
 * order, once, on success, failure and SIGINT/SIGTERM (then the process exits 130).
 */

type Step = { what: string; fn: () => Promise<void> | void };

/** Registers an undo step, and runs the stack. */
export interface CleanupStack {
  /** Registers an undo step; once cleanup has begun (a signal during setup), runs it at once instead. */
  onCleanup(what: string, fn: () => Promise<void> | void): void;
  /** Drops the pending step named `what` (its owner undid it already). */
  forget(what: string): void;
  /** Runs every step (last registered first); the same promise for every caller. */
  cleanup(): Promise<void>;
}

/** A new stack with SIGINT/SIGTERM handlers that run it and exit 130. */
export function cleanupStack(): CleanupStack {
  const undo: Step[] = [];
  let cleaning: Promise<void> | undefined;
  const report = (what: string, err: unknown): void => console.error(`cleanup (${what}) failed: ${err instanceof Error ? err.message : String(err)}`);
  const stack: CleanupStack = {
    onCleanup(what, fn) {
      if (cleaning === undefined) undo.push({ what, fn });
      else void (async () => fn())().catch((err: unknown) => report(what, err));
    },
    forget(what) {
      const i = undo.findIndex((u) => u.what === what);
      if (i >= 0) undo.splice(i, 1);
    },
    cleanup() {
      cleaning ??= (async () => {
        for (let step = undo.pop(); step !== undefined; step = undo.pop()) {
          try {
            await step.fn();
          } catch (err) {
            report(step.what, err);
          }
        }
      })();
      return cleaning;
    },
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`${sig}: cleaning up`);
      void stack.cleanup().finally(() => process.exit(130));
    });
  }
  return stack;
}

/** Runs a benchmark's `main`, then the cleanup stack whatever happened (an error sets exit code 1). */
export async function runBench(main: () => Promise<void>, stack: Pick<CleanupStack, 'cleanup'>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await stack.cleanup();
  }
}
