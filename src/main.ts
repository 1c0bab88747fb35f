#!/usr/bin/env node
/**
 * The `oomtest` binary: dispatches the subcommand and owns the process (signals, exit
 * codes). Each subcommand's module is imported only when asked for, so `oomtest run` does
 * not load Bolt or BullMQ.
 */
import { loadConfig, describeConfig, type Config, type ProcessRole } from './config.js';
import { createLogger, type Logger } from './log.js';
import { isOomtestError } from './errors.js';
import { createMetrics } from './metrics.js';

const USAGE = `usage: oomtest <command>

  bot                      the Slack receiver: parses and authorises /oomtest, queues drills
  worker                   the BullMQ worker: runs drills against the cluster, reports to Slack
  all                      bot and worker in one process (what npm start runs)
  run <pod> <limit> [...]  one drill from a terminal, no Slack or Redis (oomtest run --help)

Settings come from the environment; see README.md.`;

/** Exit status for a configuration problem (sysexits.h EX_CONFIG). */
const EXIT_CONFIG = 78;

interface RunningProcess {
  close(): Promise<void>;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;

  switch (command) {
    case 'run': {
      const { runCommand } = await import('./cli/run.js');
      return runCommand(rest, { stdout: process.stdout, stderr: process.stderr });
    }
    case 'bot':
    case 'worker':
    case 'all':
      return serve(command);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`oomtest: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

/** Starts a long-running process and keeps it until SIGTERM or SIGINT. */
async function serve(role: ProcessRole): Promise<number> {
  const config = loadConfig(role);
  const logger = createLogger({ level: config.logLevel, role });
  logger.info({ config: describeConfig(config) }, 'starting');

  const running = await startRole(role, config, logger);
  const signal = await waitForSignal();
  logger.info({ signal }, 'shutting down');

  // Past the grace period a drill is handed back to the queue (its pod stays and is re-adopted).
  const deadlineMs = (config.shutdownGraceSeconds + 5) * 1_000;
  const forced = setTimeout(() => {
    logger.error({ durationMs: deadlineMs }, 'shutdown did not finish in time; exiting');
    process.exit(1);
  }, deadlineMs);
  forced.unref();

  await Promise.all(running.map((part) => part.close()));
  logger.info('stopped');
  return 0;
}

async function startRole(
  role: ProcessRole,
  config: Config,
  logger: Logger,
): Promise<RunningProcess[]> {
  if (role === 'worker') {
    const { startWorker } = await import('./worker/index.js');
    return [await startWorker({ config, logger, serveHttp: true })];
  }
  const { startBot } = await import('./bot/index.js');
  if (role === 'bot') return [await startBot({ config, logger })];

  // `all`: one registry and one HTTP port for both; the bot's /readyz also asks whether
  // the worker reaches Kubernetes (it checks Redis itself).
  const { startWorker } = await import('./worker/index.js');
  const metrics = createMetrics();
  const worker = await startWorker({ config, logger, metrics, serveHttp: false });
  const checks = worker.readinessChecks.filter((check) => check.name !== 'redis');
  return [worker, await startBot({ config, logger, metrics, checks })];
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  // Exit explicitly: a client that keeps reconnecting (Redis, a watch) must not keep a
  // finished process alive. Writes to pipes and files are synchronous on Linux.
  (code) => process.exit(code),
  (error: unknown) => {
    if (isOomtestError(error) && error.code === 'config.invalid') {
      process.stderr.write(`oomtest: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(
      `oomtest: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
