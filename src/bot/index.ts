/**
 * `oomtest bot`: the Slack receiver. Over HTTP (the default) it serves POST /slack/events
 * with Bolt's signature check, and GET /healthz, /readyz and /metrics on the same port.
 * With SLACK_APP_TOKEN it uses Socket Mode instead and serves the health routes from a
 * small server of its own on PORT.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, SocketModeReceiver, type Authorize } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { healthRoutes, startHealthServer, type ReadinessCheck } from '../health.js';
import { DrillQueue } from '../queue/index.js';
import { createSlackClient, slackLogger } from '../slack/client.js';
import { receiverLogger } from './audit.js';
import { registerHandlers, type HandlerDeps } from './handlers.js';
import type { QueueApi } from './follow-up.js';

export interface BotDeps {
  config: Config;
  logger: Logger;
  /** The drill queue; default one on config.redisUrl, closed with the bot. */
  queue?: QueueApi & Pick<DrillQueue, 'isReady' | 'close'>;
  /** Web API client for the channel messages; default createSlackClient(config). */
  slack?: WebClient;
  metrics?: Metrics;
  /** Readiness checks besides Redis (`oomtest all` adds the worker's). */
  checks?: ReadinessCheck[];
  /** The clock; default `new Date()`. */
  now?: () => Date;
}

export interface RunningBot {
  /** The port the HTTP routes listen on. */
  port?: number;
  close(): Promise<void>;
}

/** The path Slack posts slash commands and interactions to. */
export const EVENTS_PATH = '/slack/events';

/** Starts the bot; resolves once it is listening (HTTP) or connected (Socket Mode). */
export async function startBot(deps: BotDeps): Promise<RunningBot> {
  const { config, logger } = deps;
  const botToken = config.slack.botToken;
  if (botToken === undefined) throw new ConfigError('SLACK_BOT_TOKEN is required for the bot');
  await checkToken({ token: botToken, apiUrl: config.slack.apiUrl, logger });

  const queue = deps.queue ?? DrillQueue.create(queueOptions(config, logger));
  // A queue the bot opened is the bot's to close, also when start-up fails half-way.
  const closeQueue = deps.queue === undefined ? () => queue.close() : async () => undefined;
  try {
    const running = await startMode({ deps, botToken, queue });
    return {
      port: running.port,
      close: async () => {
        await running.close();
        await closeQueue();
      },
    };
  } catch (error) {
    await closeQueue();
    throw error;
  }
}

function queueOptions(config: Config, logger: Logger) {
  return { redisUrl: config.redisUrl, logger, retentionSeconds: config.jobRetentionSeconds };
}

async function startMode(options: {
  deps: BotDeps;
  botToken: string;
  queue: NonNullable<BotDeps['queue']>;
}): Promise<RunningBot> {
  const { deps, botToken, queue } = options;
  const { config, logger } = deps;
  const slack =
    deps.slack ?? createSlackClient({ token: botToken, apiUrl: config.slack.apiUrl, logger });
  const metrics = deps.metrics ?? createMetrics();
  const handlerDeps: HandlerDeps = { config, queue, slack, logger, metrics, now: deps.now };
  const checks = [{ name: 'redis', check: () => queue.isReady() }, ...(deps.checks ?? [])];
  const start = { config, botToken, handlerDeps, health: { checks, metrics } };

  const socketMode = config.slack.appToken !== undefined;
  const running = socketMode ? await startSocketMode(start) : await startHttp(start);
  logger.info({ port: running.port }, `bot listening (${socketMode ? 'Socket Mode' : 'HTTP'})`);
  return running;
}

interface StartOptions {
  config: Config;
  botToken: string;
  handlerDeps: HandlerDeps;
  health: Parameters<typeof healthRoutes>[0];
}

async function startHttp(options: StartOptions): Promise<RunningBot> {
  const { config, handlerDeps } = options;
  const routes = healthRoutes(options.health);
  const receiver = new HTTPReceiver({
    signingSecret: requireSecret(config),
    endpoints: EVENTS_PATH,
    logger: receiverLogger(handlerDeps),
    customRoutes: Object.entries(routes).map(([path, handler]) => ({
      path,
      method: ['GET'],
      handler,
    })),
  });
  const app = new App({ receiver, ...appOptions(options) });
  registerHandlers(app, handlerDeps);

  const server = (await app.start(config.port)) as Server;
  return { port: (server.address() as AddressInfo).port, close: () => app.stop() as Promise<void> };
}

async function startSocketMode(options: StartOptions): Promise<RunningBot> {
  const { config, handlerDeps } = options;
  const receiver = new SocketModeReceiver({
    appToken: config.slack.appToken!,
    logger: slackLogger(handlerDeps.logger),
    // The only way into the socket client's own WebClient (apps.connections.open), so the
    // socket is opened through SLACK_API_URL like every other call.
    installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
  });
  const app = new App({ receiver, socketMode: true, ...appOptions(options) });
  registerHandlers(app, handlerDeps);

  const healthServer = await startHealthServer({
    ...options.health,
    port: config.port,
    logger: handlerDeps.logger,
  });
  await app.start();
  return {
    port: healthServer.port,
    close: async () => {
      await app.stop();
      await healthServer.close();
    },
  };
}

/**
 * Bolt options shared by both modes. The authorisation hands Bolt the bot token without
 * calling auth.test: Bolt's default calls it once at start and caches even a failure for
 * the life of the process, or (lazily) before every single acknowledgement.
 */
function appOptions(options: StartOptions) {
  const authorize: Authorize<boolean> = async () => ({ botToken: options.botToken });
  return {
    authorize,
    logger: slackLogger(options.handlerDeps.logger),
    clientOptions: { slackApiUrl: options.config.slack.apiUrl },
  };
}

function requireSecret(config: Config): string {
  const secret = config.slack.signingSecret;
  if (secret === undefined) throw new ConfigError('SLACK_SIGNING_SECRET is required in HTTP mode');
  return secret;
}

/**
 * Asks Slack who the token belongs to, once at start. A refused token stops the process
 * (every command would fail); Slack being unreachable does not: the bot starts, and
 * commands work once Slack answers. One quick attempt, so an outage does not hold the
 * health routes back long enough for a liveness probe to restart the pod.
 */
async function checkToken(options: {
  token: string;
  apiUrl?: string;
  logger: Logger;
}): Promise<void> {
  const { logger } = options;
  const client = createSlackClient({ ...options, retries: 0, timeoutMs: TOKEN_CHECK_TIMEOUT_MS });
  try {
    await client.auth.test();
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code !== undefined && REFUSED_TOKEN_ERRORS.has(code)) {
      throw new ConfigError(`SLACK_BOT_TOKEN was refused by Slack (${code})`);
    }
    logger.warn(
      { code: 'slack.api', err: { message: (error as Error).message } },
      'could not reach Slack to check the bot token; starting anyway',
    );
  }
}

/** Slack's answers that mean the token itself is bad, not that Slack is unwell. */
const REFUSED_TOKEN_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
]);
/** Slack answers auth.test in well under a second; five means it is not answering. */
const TOKEN_CHECK_TIMEOUT_MS = 5_000;
