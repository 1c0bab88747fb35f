/**
 * The one logger. Every line is JSON (pino) and uses one vocabulary of field names, so a
 * drill can be followed across bot, worker and Kubernetes with a single query:
 *
 * | field     | meaning                                              |
 * |-----------|------------------------------------------------------|
 * | drillId   | the drill's id (also the BullMQ job id)              |
 * | pod       | the drill pod's name                                 |
 * | namespace | its namespace                                        |
 * | cluster   | the kubeconfig context                               |
 * | user      | Slack user id who asked                              |
 * | channel   | Slack channel id                                     |
 * | command   | the subcommand: drill, help, status, stop            |
 * | result    | accepted, refused, done, failed, timedout, stopped   |
 * | code      | an ErrorCode from errors.ts                          |
 * | kill      | the OOM kill's ordinal within the drill              |
 * | durationMs| how long the thing took                              |
 * | err       | an error object (pino serialises it)                 |
 *
 * Secrets never reach a line: the paths below are redacted wherever they appear, and
 * request bodies are logged only at debug level by the code that owns them.
 */
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

const REDACTED_PATHS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'authorization',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-slack-signature"]',
  'config.slack',
];

export interface LogOptions {
  /** pino level name; default `info`. */
  level?: string;
  /** Process role shown on every line: bot, worker, cli. */
  role?: string;
  /** Where lines go; default standard output (standard error for the CLI). */
  destination?: DestinationStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.role === undefined ? {} : { role: options.role },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };

  return options.destination === undefined
    ? pino(pinoOptions)
    : pino(pinoOptions, options.destination);
}

/** A logger that drops everything: for pure code under test and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
