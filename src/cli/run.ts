/**
 * `oomtest run <pod> <limit> [flags]`: one drill from a terminal, with no Slack and no
 * Redis. Progress goes to standard error, the verdict and the describe-style summary to
 * standard output, so `oomtest run ... > drill.txt` keeps the report and shows the progress.
 *
 * Authorisation here is the caller's own kubeconfig and RBAC: the Slack allowlists do not
 * apply, but the memory cap (OOMTEST_MAX_MEMORY) does.
 */
import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { isOomtestError, toOomtestError } from '../errors.js';
import { helpText, parseTokens } from '../request/index.js';
import type { DrillRequest } from '../request/types.js';
import { createKubeClients, PodWatchHub, systemClock, type KubeClientSet } from '../kube/index.js';
import { runDrill } from '../drill/run.js';
import { newDrillId } from '../queue/schema.js';
import type { DrillOutcome, DrillProgress, DrillStatus } from '../drill/types.js';

/** Exit statuses, documented in README.md. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  timedOut: 3,
  config: 78,
  interrupted: 130,
} as const;

const STATUS_EXIT: Record<DrillStatus, number> = {
  done: EXIT.ok,
  failed: EXIT.failed,
  timedout: EXIT.timedOut,
  stopped: EXIT.interrupted,
};

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

export interface CliDeps {
  /** The environment to read settings from; default: the process environment, read by config.ts. */
  env?: Record<string, string | undefined>;
  /** Cluster access; default: the kubeconfig from the settings. */
  kube?: KubeClientSet;
  /** Aborts the drill like Ctrl-C; default: SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/** Runs the subcommand and resolves with the process exit status. */
export async function runCommand(args: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${helpText({ target: 'terminal' })}\n`);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }

  let config: Config;
  try {
    config = loadConfig('run', deps.env);
  } catch (error) {
    io.stderr.write(`oomtest: ${toOomtestError(error).message}\n`);
    return EXIT.config;
  }

  const request = parseRequest(args, config, io);
  if (request === undefined) return EXIT.usage;

  return drill(request, { config, io, deps });
}

function parseRequest(args: string[], config: Config, io: CliIo): DrillRequest | undefined {
  try {
    const parsed = parseTokens(args, config.defaults);
    if (parsed.kind === 'drill') return parsed.request;
    io.stderr.write(
      `oomtest: "${parsed.kind}" is a Slack command; oomtest run takes <pod> <limit>\n`,
    );
  } catch (error) {
    if (!isOomtestError(error)) throw error;
    io.stderr.write(`oomtest: ${error.message}\n(oomtest run --help shows the usage)\n`);
  }
  return undefined;
}

interface DrillContext {
  config: Config;
  io: CliIo;
  deps: CliDeps;
}

async function drill(request: DrillRequest, { config, io, deps }: DrillContext): Promise<number> {
  // Log lines are JSON on stderr; at the default level only problems show between the
  // progress lines. LOG_LEVEL=debug shows every API call.
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const logger = createLogger({ level, role: 'cli', destination: io.stderr });
  const drillId = newDrillId();
  const interrupt = deps.signal === undefined ? onInterrupt(io) : undefined;
  const signal = deps.signal ?? interrupt?.signal;
  const watches = new PodWatchHub({ logger, clock: systemClock });

  try {
    const kube = (
      deps.kube ?? createKubeClients({ kubeconfigPath: config.kubeconfigPath })
    ).forContext(request.cluster);
    const printer = progressPrinter(io.stderr, Date.now());
    const outcome = await runDrill(
      request,
      { drillId, signal, onProgress: printer, requestedBy: `cli:${userInfo().username}` },
      { kube, watches, clock: systemClock, logger },
    );
    writeOutcome(io, outcome);
    return STATUS_EXIT[outcome.status];
  } catch (error) {
    return reportError(error, { io, logger, drillId });
  } finally {
    watches.close();
    interrupt?.dispose();
  }
}

function reportError(
  error: unknown,
  { io, logger, drillId }: { io: CliIo; logger: Logger; drillId: string },
): number {
  const failure = toOomtestError(error);
  logger.error({ drillId, code: failure.code, err: error }, 'drill could not run');
  io.stderr.write(`oomtest: ${failure.message}\n`);
  return EXIT.failed;
}

function writeOutcome(io: CliIo, outcome: DrillOutcome): void {
  io.stdout.write(`${outcome.verdict}\n`);
  if (outcome.describe !== '') io.stdout.write(`\n${outcome.describe.replace(/\n?$/, '\n')}`);
  if (outcome.logTail !== undefined && outcome.logTail !== '' && outcome.status !== 'done') {
    io.stdout.write(
      `\nLast log lines of the stress container:\n${outcome.logTail.replace(/\n?$/, '\n')}`,
    );
  }
}

/** One line per progress event: seconds since start, phase, the engine's message. */
function progressPrinter(out: Writable, startedMs: number): (progress: DrillProgress) => void {
  return (progress) => {
    const seconds = ((Date.parse(progress.at) - startedMs) / 1_000).toFixed(1);
    out.write(`+${seconds.padStart(6)}s  ${progress.phase.padEnd(9)}  ${progress.message}\n`);
  };
}

/**
 * Ctrl-C stops the drill and lets it delete its pod. A second Ctrl-C exits at once; the
 * pod's containers are stopped by its activeDeadlineSeconds, and the message says how to
 * delete the pod itself.
 */
function onInterrupt(io: CliIo): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (): void => {
    if (!controller.signal.aborted) {
      io.stderr.write(
        '\nstopping the drill and deleting its pod (Ctrl-C again to leave at once)\n',
      );
      controller.abort();
      return;
    }
    io.stderr.write(
      'left without clean-up: the pod stops at its activeDeadlineSeconds; ' +
        'delete it with kubectl delete pod -l app.kubernetes.io/managed-by=oomtest\n',
    );
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);

  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
