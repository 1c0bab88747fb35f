/**
 * `oomtest worker`: takes drills from the queue, runs them against the cluster with one
 * shared pod watch per namespace, and reports to Slack.
 *
 * Crash safety, in layers:
 * - BullMQ's job lock (LOCK_DURATION_MS, renewed at half that) marks a drill as owned.
 *   After a kill -9 the lock expires and the stalled-job check (STALLED_INTERVAL_MS)
 *   puts the job back, so another worker takes it within about 20 s.
 * - That worker adopts the drill's pod by its drill-id label and counts from its status.
 * - The outcome is kept in Redis before it is posted, and posting is claimed per drill,
 *   so the summary appears once however many workers touch the drill.
 * - A periodic sweep deletes drill pods whose drill is gone.
 *
 * Known shortcomings:
 * - A worker cut off from Redis for longer than LOCK_DURATION_MS keeps running its drills
 *   while another worker takes them over. Both watch the same pod and one summary is
 *   posted, but the one that finishes first deletes the pod, so the other may end its job
 *   as failed (drill.deleted) in BullMQ's records even though the channel saw the result.
 * - A drill that loses its worker more than MAX_STALLED_COUNT times is failed by BullMQ
 *   without any worker running it: its channel message keeps its last progress state and
 *   only the sweep cleans up the pod. The user has to look at the logs to learn why.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { startHealthServer, type ReadinessCheck } from '../health.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createKubeClients, type KubeClientSet } from '../kube/client.js';
import { PodWatchHub, systemClock, type Clock } from '../kube/watch.js';
import { createSlackClient } from '../slack/client.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../stress/index.js';
import {
  DEFAULT_PREFIX,
  DrillKeys,
  DrillState,
  QUEUE_NAME,
  closeRedis,
  consumerRedis,
  type DrillJobData,
} from '../queue/index.js';
import { processDrill, type DrillJobResult } from './process-drill.js';
import { RunningDrills } from './running-drills.js';
import { SlackPacers } from './slack-pacer.js';
import { StopListener } from './stop-listener.js';
import { sweepOrphans } from './sweep.js';

/**
 * How long a worker's claim on a drill lasts without renewal, ms. BullMQ renews it every
 * half of this, so only a process frozen or cut off from Redis for 15 s loses a drill; and
 * a dead worker's drills come back within this plus one stalled check (about 20 s), well
 * inside the 10 s + 20 s of kubelet back-off a two-kill drill spends anyway.
 */
const LOCK_DURATION_MS = 15_000;
/** How often to look for drills whose worker died, ms. One cheap script per check. */
const STALLED_INTERVAL_MS = 5_000;
/**
 * How often a drill may come back from a dead worker before it fails for good: enough for
 * a crash plus a Redis restart, few enough that a drill that crashes its worker every time
 * does not crash them all.
 */
const MAX_STALLED_COUNT = 3;
/** How often to look for orphaned drill pods, ms. A minute bounds how long one lingers. */
const SWEEP_INTERVAL_MS = 60_000;

/** Knobs for tests and benchmarks; production uses the defaults above. */
export interface WorkerTuning {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  sweepIntervalMs?: number;
  /** Slack calls per minute shared by every drill (default 50: Tier 3). */
  slackCallsPerMinute?: number;
  /** Longest pause a 429's Retry-After may impose, ms (default 30 s). */
  slackMaxPauseMs?: number;
  /** Least time between two edits of one message, ms (default 1,000). */
  minUpdateIntervalMs?: number;
}

export interface WorkerDeps {
  config: Config;
  logger: Logger;
  /** Slack client; default one built from config.slack. */
  slack?: WebClient;
  /** Kubernetes clients per context; default from config.kubeconfigPath. */
  kube?: KubeClientSet;
  /** Serve /healthz, /readyz and /metrics on config.port. */
  serveHttp?: boolean;
  metrics?: Metrics;
  clock?: Clock;
  /** Redis key prefix (must match the bot's); default BullMQ's `bull`. */
  prefix?: string;
  tuning?: WorkerTuning;
}

export interface RunningWorker {
  /** The health server's port when serveHttp. */
  port?: number;
  /** Counters of the shared watches, for benchmarks. */
  watchStats(): ReturnType<PodWatchHub['stats']>;
  /**
   * What /readyz checks for this worker (Redis, Kubernetes); `oomtest all` hands them to the bot.
   */
  readinessChecks: ReadinessCheck[];
  /**
   * Stops taking drills, waits up to config.shutdownGraceSeconds for running ones, then
   * hands the rest back to the queue (their pods stay and are adopted by another worker).
   */
  close(): Promise<void>;
}

/** Starts a worker; resolves once it listens for stop requests and takes jobs. */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, logger } = deps;
  const tuning = deps.tuning ?? {};
  const prefix = deps.prefix ?? DEFAULT_PREFIX;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? (deps.serveHttp ? createMetrics() : undefined);
  const kube = deps.kube ?? createKubeClients({ kubeconfigPath: config.kubeconfigPath });
  const slack = deps.slack ?? defaultSlack(config, logger);

  const redis = consumerRedis(config.redisUrl, logger);
  const keys = new DrillKeys(prefix, QUEUE_NAME);
  const stops = await StopListener.start({
    subscriber: consumerRedis(config.redisUrl, logger),
    keys,
    logger,
  });
  const watches = new PodWatchHub({
    clock,
    logger,
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
  });
  const running = new RunningDrills();
  const processDeps = {
    kube,
    watches,
    clock,
    logger,
    slack,
    metrics,
    stops,
    state: new DrillState({ redis, keys, retentionSeconds: config.jobRetentionSeconds }),
    pacers: new SlackPacers({
      callsPerMinute: tuning.slackCallsPerMinute,
      maxPauseMs: tuning.slackMaxPauseMs,
      clock,
    }),
    workerId: randomUUID(),
    minUpdateIntervalMs: tuning.minUpdateIntervalMs,
  };

  const worker = new Worker<DrillJobData, DrillJobResult>(
    QUEUE_NAME,
    // Two parameters on purpose: BullMQ then does not abort drills on close, which
    // would delete pods that shutdown means to hand back.
    async (job: Job<DrillJobData>, token?: string) => {
      running.track(job, token);
      try {
        return await processDrill(job, processDeps, running);
      } finally {
        running.untrack(job.id);
      }
    },
    {
      connection: redis,
      prefix,
      concurrency: config.workerConcurrency,
      lockDuration: tuning.lockDurationMs ?? LOCK_DURATION_MS,
      stalledInterval: tuning.stalledIntervalMs ?? STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      removeOnComplete: { age: config.jobRetentionSeconds },
      removeOnFail: { age: config.jobRetentionSeconds },
    },
  );
  watchWorker(worker, logger);

  const queue = new Queue<DrillJobData>(QUEUE_NAME, { connection: redis, prefix });
  const sweeper = startSweeper({ config, kube, queue, clock, logger, tuning });
  const readinessChecks = workerChecks({ config, redis, kube });
  const health = deps.serveHttp
    ? await startHealthServer({ port: config.port, logger, metrics, checks: readinessChecks })
    : undefined;
  await worker.waitUntilReady();
  logger.info({ durationMs: 0 }, 'worker ready');

  return {
    port: health?.port,
    watchStats: () => watches.stats(),
    readinessChecks,
    close: async () => {
      sweeper.stop();
      const handedBack = await drainOrHandBack({ worker, running, config, logger });
      await stops.close();
      // Closing the watches would end handed-back drills here, and the engine cleans up a
      // drill that ends by deleting its pod; the process exits right after instead.
      if (handedBack === 0) watches.close();
      await queue.close().catch(() => undefined);
      await health?.close();
      await closeRedis(redis);
      await closeRedis(stops.connection);
    },
  };
}

function defaultSlack(config: Config, logger: Logger): WebClient {
  if (config.slack.botToken === undefined) {
    throw new Error('SLACK_BOT_TOKEN is required for the worker');
  }
  return createSlackClient({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, logger });
}

function watchWorker(worker: Worker<DrillJobData, DrillJobResult>, logger: Logger): void {
  let lastError = '';
  worker.on('error', (error) => {
    // A Redis outage repeats the same error every retry; one line per distinct error.
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: { message: error.message }, code: 'queue.unavailable' }, 'worker error');
  });
  worker.on('stalled', (jobId) =>
    logger.warn({ drillId: jobId }, 'drill lost its worker; requeued'),
  );
}

/** Runs the orphan sweep on an interval, never two at once. */
function startSweeper(options: {
  config: Config;
  kube: KubeClientSet;
  queue: Queue<DrillJobData>;
  clock: Clock;
  logger: Logger;
  tuning: WorkerTuning;
}): { stop(): void } {
  let sweeping = false;
  const sweep = async (): Promise<void> => {
    if (sweeping) return;
    sweeping = true;
    await sweepOrphans({
      kube: options.kube,
      queue: options.queue,
      namespaces: options.config.allowedNamespaces,
      clusters: options.config.allowedClusters,
      clock: options.clock,
      logger: options.logger,
    }).catch((error: unknown) => options.logger.warn({ err: error }, 'sweep failed'));
    sweeping = false;
  };

  const timer = setInterval(
    () => void sweep(),
    options.tuning.sweepIntervalMs ?? SWEEP_INTERVAL_MS,
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function workerChecks(options: {
  config: Config;
  redis: ReturnType<typeof consumerRedis>;
  kube: KubeClientSet;
}): ReadinessCheck[] {
  const namespace = options.config.allowedNamespaces[0] ?? 'default';
  return [
    { name: 'redis', check: async () => (await options.redis.ping()) === 'PONG' },
    {
      name: 'kubernetes',
      // Any answer, even "no such pod", proves the API server is reachable and we may ask.
      check: async () => {
        await options.kube.forContext().readPod({ namespace, name: 'oomtest-readiness-probe' });
        return true;
      },
    },
  ];
}

/**
 * Closes the worker: no new drills, running ones get the grace period to finish, and any
 * still running after it go back to the queue for another worker to adopt. Returns how
 * many were handed back.
 */
async function drainOrHandBack(options: {
  worker: Worker<DrillJobData, DrillJobResult>;
  running: RunningDrills;
  config: Config;
  logger: Logger;
}): Promise<number> {
  const { worker, running, config, logger } = options;
  const graceMs = config.shutdownGraceSeconds * 1_000;
  await worker.pause(true);

  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const drained = await Promise.race([running.whenEmpty().then(() => true), graceOver]);
  clearTimeout(timer);

  if (drained) {
    await worker.close();
    return 0;
  }

  const handedBack = await running.handBackAll();
  logger.warn(
    { durationMs: graceMs },
    `handed ${handedBack.length} running drill(s) back to the queue`,
  );
  await worker.close();
  return handedBack.length;
}
