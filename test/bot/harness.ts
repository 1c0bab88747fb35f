// Starts the real bot (Bolt's HTTP receiver on a free port) against real Redis and the
// fake Slack Web API, with every log line captured so tests can wait on audit lines and
// check that no secret was written.
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { DrillQueue, DrillKeys, QUEUE_NAME } from '../../src/queue/index.js';
import { startBot, EVENTS_PATH, type RunningBot } from '../../src/bot/index.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { TEST_SIGNING_SECRET } from '../support/slack-signing.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface LogCapture {
  lines: Array<Record<string, unknown>>;
  text(): string;
  /** Resolves with the first line from index `from` on (past or future) that `match` accepts. */
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    from?: number,
  ): Promise<Record<string, unknown>>;
}

export interface BotHarness {
  bot: RunningBot;
  slack: FakeSlack;
  queue: DrillQueue;
  config: Config;
  logs: LogCapture;
  /** Redis key prefix unique to this harness. */
  prefix: string;
  eventsUrl: string;
  baseUrl: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra environment for loadConfig (allowlists, max memory). */
  env?: Record<string, string>;
  /** Redis for the queue; default REDIS_URL. */
  redisUrl?: string;
  /** Reuse a running fake Slack. */
  slack?: FakeSlack;
  logLevel?: string;
}

export function captureLogs(): { capture: LogCapture; destination: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const waiters: Array<{
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      for (const text of chunk.toString().split('\n').filter(Boolean)) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (!waiter.match(line)) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  const capture: LogCapture = {
    lines,
    text: () => raw,
    waitFor: (match, from = 0) => {
      const seen = lines.slice(from).find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
  return { capture, destination };
}

export async function startHarness(options: HarnessOptions = {}): Promise<BotHarness> {
  const slack = options.slack ?? (await startFakeSlack());
  const { capture, destination } = captureLogs();
  const logger = createLogger({ level: options.logLevel ?? 'debug', role: 'bot', destination });
  const config = loadConfig('bot', {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    REDIS_URL: options.redisUrl ?? REDIS_URL,
    OOMTEST_MAX_MEMORY: '1Gi',
    ...options.env,
  });
  const prefix = `oomtest-bot-test-${randomBytes(4).toString('hex')}`;
  const queue = DrillQueue.create({
    redisUrl: config.redisUrl,
    logger,
    prefix,
    retentionSeconds: 300,
  });
  const bot = await startBot({ config, logger, queue });
  const baseUrl = `http://127.0.0.1:${bot.port}`;

  return {
    bot,
    slack,
    queue,
    config,
    logs: capture,
    prefix,
    baseUrl,
    eventsUrl: `${baseUrl}${EVENTS_PATH}`,
    close: async () => {
      await bot.close();
      await queue.close();
      if (options.slack === undefined) await slack.stop();
      if (options.redisUrl === undefined) await deleteKeys(prefix);
    },
  };
}

/** Removes every Redis key under `prefix` (a test's or benchmark's private queue prefix). */
export async function deleteKeys(prefix: string, redisUrl = REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Subscribes to the stop channel of `prefix`; resolves with each message's JSON. */
export async function listenForStops(prefix: string): Promise<{
  next(): Promise<{ drillId: string; by: string }>;
  close(): void;
}> {
  const subscriber = new Redis(REDIS_URL);
  const channel = new DrillKeys(prefix, QUEUE_NAME).stopChannel;
  const received: Array<{ drillId: string; by: string }> = [];
  const waiting: Array<(stop: { drillId: string; by: string }) => void> = [];
  subscriber.on('message', (_channel: string, message: string) => {
    const stop = JSON.parse(message) as { drillId: string; by: string };
    const waiter = waiting.shift();
    if (waiter === undefined) received.push(stop);
    else waiter(stop);
  });
  await subscriber.subscribe(channel);

  return {
    next: () => {
      const stop = received.shift();
      return stop === undefined
        ? new Promise((resolve) => waiting.push(resolve))
        : Promise.resolve(stop);
    },
    close: () => subscriber.disconnect(),
  };
}

/** An audit line for `command` with `result`. */
export function auditLine(command: string, extra: Record<string, unknown> = {}) {
  return (line: Record<string, unknown>): boolean =>
    line.command === command &&
    typeof line.result === 'string' &&
    Object.entries(extra).every(([key, value]) => line[key] === value);
}
