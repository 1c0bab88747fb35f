/**
 * The Slack Web API client every process uses, set up so that a busy or failing Slack never
 * holds a drill's job: rate-limited calls fail at once with their Retry-After (the caller
 * decides when to try again), other failures are retried a couple of times within seconds,
 * not WebClient's default of ten retries over half an hour.
 */
import { WebClient, LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger } from '../log.js';

export interface SlackClientOptions {
  /** Bot token (xoxb-). */
  token: string;
  /** Web API base (SLACK_API_URL); default Slack's own, https://slack.com/api/. */
  apiUrl?: string;
  logger: Logger;
  /** Retries after a network error or HTTP 5xx; default 2. Never applies to HTTP 429. */
  retries?: number;
  /** Per-request timeout in milliseconds; default 10,000. */
  timeoutMs?: number;
}

/**
 * Slack answers in well under a second; 10 s means the network or Slack is in trouble, and
 * waiting longer would only delay the worker's own retry and the user's news.
 */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Two retries, 0.5 s then 1 s apart: rides out a blip without holding a job for long. */
const DEFAULT_RETRIES = 2;
const RETRY_MIN_TIMEOUT_MS = 500;
const RETRY_MAX_TIMEOUT_MS = 2_000;

/** A WebClient for `token`, talking to `apiUrl`, logging through `logger` without secrets. */
export function createSlackClient(opts: SlackClientOptions): WebClient {
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    logger: slackLogger(opts.logger),
    rejectRateLimitedCalls: true,
    retryConfig: {
      retries: opts.retries ?? DEFAULT_RETRIES,
      factor: 2,
      minTimeout: RETRY_MIN_TIMEOUT_MS,
      maxTimeout: RETRY_MAX_TIMEOUT_MS,
    },
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
}

/** Slack tokens (xoxb-, xoxp-, xapp-, ...) and bearer credentials, wherever they appear. */
const SECRET_PATTERN = /\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+|Bearer\s+[^\s"',]+/g;

/** Replaces anything that looks like a Slack token or bearer credential in `text`. */
export function scrubSecrets(text: string): string {
  return text.replace(SECRET_PATTERN, '[redacted]');
}

/**
 * Adapts pino to the logger interface of @slack/web-api and @slack/bolt. Their messages are
 * free text (sometimes with request bodies at debug), so every argument is flattened to a
 * string and scrubbed of tokens before it reaches a line.
 */
export function slackLogger(logger: Logger): SlackLogger {
  let level: LogLevel = LogLevel.INFO;
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) => {
      logger[method](`slack: ${scrubSecrets(parts.map(describePart).join(' '))}`);
    };

  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    // pino's own level decides what is written; Slack's is only remembered for getLevel().
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function describePart(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return `${part.name}: ${part.message}`;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}
