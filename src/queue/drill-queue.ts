/**
 * The producer side of the drill queue: what the bot calls. Every call either answers
 * within about PRODUCER_TIMEOUT_MS or throws QueueUnavailableError, so a Slack user is
 * never left waiting on a dead Redis.
 */
import { Queue, type Job, type JobsOptions, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { OomtestError, QueueUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { closeRedis, producerRedis, PRODUCER_TIMEOUT_MS } from './connection.js';
import { DrillKeys, DrillState } from './drill-state.js';
import { validateDrillJob, type DrillJobData } from './schema.js';

export const QUEUE_NAME = 'oomtest-drills';

/** BullMQ's own default key prefix; tests pass a unique one. */
export const DEFAULT_PREFIX = 'bull';

/** Default for how long finished jobs (and their per-drill facts) stay: one day. */
const DEFAULT_RETENTION_SECONDS = 86_400;

/**
 * Tries per drill for transient failures (API server unreachable, Redis blip): the first
 * run and three retries, 5 s, 10 s and 20 s apart, so a minute-long outage of the API
 * server is ridden out but a dead cluster fails the drill within a minute.
 */
const ATTEMPTS = 4;
const BACKOFF_BASE_MS = 5_000;

/** The largest list `/oomtest status` shows; more than this is not a game day. */
const LIST_LIMIT = 200;

const ACTIVE_STATES: JobType[] = ['active', 'waiting', 'prioritized', 'delayed'];

export type EnqueueResult = { accepted: true } | { accepted: false; activeDrillId: string };

export interface DrillQueueOptions {
  redisUrl: string;
  logger: Logger;
  /** How long finished jobs stay in Redis, seconds (config.jobRetentionSeconds; 1 day). */
  retentionSeconds?: number;
  /** Redis key prefix (BullMQ's `prefix`); default `bull`. */
  prefix?: string;
}

/**
 * The key that allows one active drill per cluster, namespace and pod.
 *
 * Known shortcoming: a drill without --cluster (the current context) and one naming the
 * current context by name get different keys, so both are queued; the second then fails
 * at the cluster with "a drill pod of that name is running" instead of being refused here.
 */
export function drillLockId(key: { cluster?: string; namespace: string; pod: string }): string {
  // '|' cannot occur in a context name, a namespace or a pod name.
  return `${key.cluster ?? ''}|${key.namespace}|${key.pod}`;
}

/** BullMQ job options for a drill: retries, backoff, retention and the one-per-pod lock. */
export function drillJobOptions(data: DrillJobData, retentionSeconds: number): JobsOptions {
  return {
    jobId: data.drillId,
    // No ttl: the key lives until the job completes or finally fails, and BullMQ drops
    // a key whose job has vanished (recoverStaleDeduplicationKey), so a crash cannot
    // leave a pod locked forever.
    deduplication: { id: drillLockId(data.request) },
    attempts: ATTEMPTS,
    backoff: { type: 'exponential', delay: BACKOFF_BASE_MS },
    removeOnComplete: { age: retentionSeconds },
    removeOnFail: { age: retentionSeconds },
  };
}

export class DrillQueue {
  private firstConnection: Promise<void> | undefined;

  private constructor(
    private readonly queue: Queue<DrillJobData>,
    private readonly redis: Redis,
    private readonly state: DrillState,
    private readonly retentionSeconds: number,
  ) {}

  /** Connects lazily: creating a queue never waits for Redis. */
  static create(options: DrillQueueOptions): DrillQueue {
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    const redis = producerRedis(options.redisUrl, options.logger);
    const queue = new Queue<DrillJobData>(QUEUE_NAME, { connection: redis, prefix });
    queue.on('error', () => {
      // Already logged once per outage by the connection; each failed call is reported
      // to its caller as QueueUnavailableError.
    });

    const keys = new DrillKeys(prefix, QUEUE_NAME);
    const state = new DrillState({ redis, keys, retentionSeconds });
    return new DrillQueue(queue, redis, state, retentionSeconds);
  }

  /**
   * Queues a drill unless one is active (waiting, running or retrying) for the same
   * cluster, namespace and pod. The check and the add are one Redis script, so two
   * concurrent requests cannot both be accepted. Throws InvalidRequestError for bad data.
   */
  async enqueue(data: DrillJobData): Promise<EnqueueResult> {
    const checked = validateDrillJob(data);

    const job = await this.call(() =>
      this.queue.add('drill', checked, drillJobOptions(checked, this.retentionSeconds)),
    );
    if (job.id === undefined || job.id === checked.drillId) return { accepted: true };
    return { accepted: false, activeDrillId: job.id };
  }

  /** The drill queued or running for this pod, if any. */
  async findActive(key: {
    cluster?: string;
    namespace: string;
    pod: string;
  }): Promise<DrillJobData | undefined> {
    return this.call(async () => {
      const jobId = await this.queue.getDeduplicationJobId(drillLockId(key));
      if (jobId === null) return undefined;

      const job = await this.queue.getJob(jobId);
      if (job === undefined || job === null) return undefined;
      return ACTIVE_STATES.includes((await job.getState()) as JobType) ? job.data : undefined;
    });
  }

  /** Drills queued, running or waiting for a retry, oldest first, at most 200. */
  async listActive(): Promise<Array<DrillJobData & { state: string }>> {
    return this.call(async () => {
      const lists = await Promise.all(
        ACTIVE_STATES.map(async (state) =>
          (await this.queue.getJobs(state, 0, LIST_LIMIT - 1, true)).map((job) =>
            tagged(job, state),
          ),
        ),
      );
      return lists
        .flat()
        .filter((entry): entry is DrillJobData & { state: string } => entry !== undefined)
        .sort((a, b) => a.enqueuedAt.localeCompare(b.enqueuedAt))
        .slice(0, LIST_LIMIT);
    });
  }

  /**
   * Asks whichever worker owns the drill to stop it. The request is also kept in Redis,
   * so a drill still waiting (or between retries) stops as soon as a worker takes it;
   * a drill waiting for a retry is taken at once instead of after its backoff.
   */
  async requestStop(options: { drillId: string; by: string }): Promise<void> {
    await this.call(async () => {
      await this.state.recordStop(options);

      const job = await this.queue.getJob(options.drillId);
      if (job !== undefined && job !== null && (await job.isDelayed())) await job.promote();
    });
  }

  /** True when Redis answers a PING within PRODUCER_TIMEOUT_MS. */
  async isReady(): Promise<boolean> {
    try {
      return (await this.call(() => this.redis.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    await closeRedis(this.redis);
  }

  /**
   * Runs a Redis operation against a deadline. Nothing is sent until the connection is
   * up: BullMQ would otherwise wait for a reconnect and add the job later, after the user
   * had been told it failed.
   */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        reject(new QueueUnavailableError('queue unavailable: Redis did not answer in time'));
      }, PRODUCER_TIMEOUT_MS);
    });
    const run = async (): Promise<T> => {
      await this.whenReady();
      // The caller has been told it failed: doing it now would surprise them.
      if (expired) throw new QueueUnavailableError('queue unavailable: Redis came back too late');
      return operation();
    };

    try {
      return await Promise.race([run(), deadline]);
    } catch (error) {
      if (error instanceof OomtestError) throw error;
      throw new QueueUnavailableError('queue unavailable: Redis refused the call', {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once connected. While Redis is known to be down (a connection attempt has
   * already failed) it rejects at once; only the very first connection is waited for.
   */
  private whenReady(): Promise<void> {
    const status = this.redis.status;
    if (status === 'ready') return Promise.resolve();
    if (status !== 'wait' && status !== 'connecting' && status !== 'connect') {
      return Promise.reject(new QueueUnavailableError(`queue unavailable: Redis is ${status}`));
    }

    this.firstConnection ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        this.redis.off('ready', onReady);
        this.redis.off('error', settle);
        if (error === undefined) resolve();
        else
          reject(
            new QueueUnavailableError('queue unavailable: cannot reach Redis', { cause: error }),
          );
      };
      const onReady = (): void => settle();
      this.redis.on('ready', onReady);
      this.redis.on('error', settle);
    });
    return this.firstConnection;
  }
}

function tagged(
  job: Job<DrillJobData>,
  state: string,
): (DrillJobData & { state: string }) | undefined {
  if (job === undefined || job === null) return undefined;
  return { ...job.data, state };
}
