/**
 * `nodelet` entry point: parse flags, resolve and validate configuration (any error: one clear message, exit 1,
 * before anything starts), start the daemon, stop it on SIGTERM/SIGINT (exit 0; pods keep running).
 */
import { CommanderError } from 'commander';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolveConfig, type NodeletConfig } from '../config/index.js';
import { parseMemInfo } from '../kubelet/node/host-parse.js';
import { errorMessage, NodeletError } from '../util/errors.js';
import { createRootLogger } from './logging.js';
import { applyMemoryFlags, KUBELET_MEMORY_FLAGS, MEMORY_FLAGS, PROXY_MEMORY_FLAGS } from './memory-flags.js';
import { buildProgram, rawFlags } from './program.js';
import { applySimulation } from './simulation.js';
import { NODELET_VERSION, KUBELET_VERSION } from './version.js';

function fail(message: string): never {
  console.error(`nodelet: ${message}`);
  process.exit(1);
}

function swapBytes(): number {
  try {
    return parseMemInfo(readFileSync('/proc/meminfo', 'utf8')).swapTotalBytes;
  } catch {
    return 0;
  }
}

async function main(argv: string[]): Promise<void> {
  // `nodelet trace …`: explain the proxy's live rules for one packet (src/proxy/trace), no daemon.
  if (argv[2] === 'trace') {
    const { runTrace } = await import('../proxy/trace/cli.js');
    process.exitCode = await runTrace(argv.slice(3));
    return;
  }
  // `nodelet hollow --count=N …`: N simulated nodes (fake runtime) in this process (src/cli/hollow.ts).
  if (argv[2] === 'hollow') {
    const { runHollow } = await import('./hollow.js');
    await runHollow(argv.slice(3));
    return;
  }
  const program = buildProgram().exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    throw err;
  }
  let config: NodeletConfig;
  try {
    config = resolveConfig({ flags: rawFlags(program), hostname: hostname() });
  } catch (err) {
    fail(errorMessage(err));
  }
  // The daemon runs with nodelet's own V8 memory settings, however it was started (replaces the process once).
  if (!config.proxy.cleanup) applyMemoryFlags(config.roles.kubelet ? (config.roles.proxy ? MEMORY_FLAGS : KUBELET_MEMORY_FLAGS) : PROXY_MEMORY_FLAGS);
  const logger = createRootLogger(config.log, { node: config.nodeName });
  for (const w of config.warnings) logger.warn(w);
  config = applySimulation(config, logger);
  // The heavy parts (API client, Docker client, roles) load only now: --help, --version and config errors stay fast.
  const { startDaemon } = await import('./daemon.js');
  if (config.proxy.cleanup) {
    const { runCleanup } = await import('./wiring.js');
    process.exitCode = await runCleanup(config, logger);
    return;
  }
  // A proxy-only process loads none of the kubelet's code (runtime clients, pod lifecycle): see proxy-wiring.ts.
  const wiring = config.roles.kubelet ? (await import('./wiring.js')).wiring : (await import('./proxy-wiring.js')).proxyWiring;
  logger.info({ version: NODELET_VERSION, kubeletVersion: KUBELET_VERSION, roles: config.roles, rootDir: config.rootDir, standalone: config.kubeconfig === undefined }, 'starting nodelet');
  let daemon;
  try {
    daemon = await startDaemon(config, wiring, logger, swapBytes());
  } catch (err) {
    logger.flush();
    fail(err instanceof NodeletError ? err.message : `failed to start: ${errorMessage(err)}`);
  }
  logger.info({ startupMs: Math.round(process.uptime() * 1000), healthPort: daemon.healthPort }, 'nodelet started');
  // Every timer of the daemon is unref'd; this one keeps the process alive until shutdown.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    void daemon.shutdown(signal).then(() => {
      clearInterval(keepAlive);
      logger.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: errorMessage(err), stack: err.stack }, 'uncaught exception');
    logger.flush();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.error({ err: errorMessage(err) }, 'unhandled promise rejection');
  });
}

main(process.argv).catch((err: unknown) => fail(`internal error: ${errorMessage(err)}`));
