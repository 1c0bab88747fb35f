/**
 * Redis connections for the two sides of the queue. They want opposite things:
 *
 * - The producer (the bot) answers a person typing in Slack. When Redis is down it must say
 *   so within a second or two, never queue the command in memory and run it later.
 * - The consumer (the worker) holds drills for minutes. It must ride out a Redis restart,
 *   retrying forever, and BullMQ refuses blocking connections that give up on commands.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';

/** How long a producer command may take before the user hears "queue unavailable". */
export const PRODUCER_TIMEOUT_MS = 1_500;

const PRODUCER_OPTIONS: RedisOptions = {
  // Commands issued while disconnected fail at once instead of waiting for a reconnect.
  enableOfflineQueue: false,
  connectTimeout: 1_000,
  commandTimeout: PRODUCER_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
  // Keep reconnecting in the background so the bot recovers on its own; a cap of 2 s
  // bounds how long after Redis returns the first command still fails.
  retryStrategy: (times) => Math.min(times * 250, 2_000),
};

const CONSUMER_OPTIONS: RedisOptions = {
  // BullMQ requires null: a blocking BZPOPMIN must survive reconnects.
  maxRetriesPerRequest: null,
  connectTimeout: 5_000,
  // Back off to 5 s between attempts: frequent enough to resume drills soon after a
  // Redis restart, rare enough not to flood the log during a long outage.
  retryStrategy: (times) => Math.min(times * 500, 5_000),
};

/** A producer connection: fails fast while Redis is unreachable. */
export function producerRedis(redisUrl: string, logger: Logger): Redis {
  return watched(new Redis(redisUrl, PRODUCER_OPTIONS), logger);
}

/** A consumer connection: retries forever; suitable for BullMQ workers and subscribers. */
export function consumerRedis(redisUrl: string, logger: Logger): Redis {
  return watched(new Redis(redisUrl, CONSUMER_OPTIONS), logger);
}

/**
 * Logs connection errors once per outage instead of once per retry, and keeps ioredis
 * from printing "Unhandled error event" to stderr.
 */
function watched(redis: Redis, logger: Logger): Redis {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: { message: err.message }, code: 'queue.unavailable' }, 'Redis unreachable');
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis reachable again');
    down = false;
  });
  return redis;
}

/** Quits politely when connected, otherwise drops the socket so close never hangs. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
    return;
  }
  redis.disconnect();
}
