import { Queue, Worker, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { createServer } from 'node:net';
import {
  DrillQueue,
  QUEUE_NAME,
  drillJobOptions,
  validateDrillJob,
  newDrillId,
  type DrillJobData,
} from '../../src/queue/index.js';
import { silentLogger } from '../../src/log.js';
import { drillJob, testRedisUrl, uniquePrefix } from '../support/drill-job.js';

const redisUrl = testRedisUrl();

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function obliterate(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  const extra = await redis.keys(`${prefix}:*`);
  if (extra.length > 0) await redis.del(...extra);
  await redis.quit();
}

describe('validateDrillJob', () => {
  it('returns valid job data unchanged', () => {
    const job = drillJob({ responseUrl: 'https://hooks.slack.com/commands/T1/2/x' });
    expect(validateDrillJob(job)).toEqual(job);
  });

  it('refuses an unknown schema version, naming it', () => {
    expect(() => validateDrillJob({ ...drillJob(), v: 2 })).toThrow(/schema version 2/);
  });

  it('refuses a job without a version', () => {
    const unversioned: Partial<DrillJobData> = drillJob();
    delete unversioned.v;
    expect(() => validateDrillJob(unversioned)).toThrow(/schema version undefined/);
  });

  it.each([
    ['drillId', { drillId: 'Not An Id' }, /drillId/],
    ['channel', { channel: '' }, /channel/],
    ['messageTs', { messageTs: 'soon' }, /messageTs/],
    ['enqueuedAt', { enqueuedAt: 'yesterday' }, /enqueuedAt/],
    ['responseUrl', { responseUrl: 'ftp://x' }, /responseUrl/],
  ])('refuses a bad %s', (_field, overrides, message) => {
    expect(() => validateDrillJob({ ...drillJob(), ...overrides })).toThrow(message);
  });

  it.each([
    ['pod', { pod: 'Mem_Nginx' }, /request.pod/],
    ['namespace', { namespace: '' }, /request.namespace/],
    ['kills', { kills: 11 }, /request.kills/],
    ['method', { method: 'fork-bomb' }, /request.method/],
    ['memoryLimitBytes', { memoryLimitBytes: -1 }, /request.memoryLimitBytes/],
    ['keep', { keep: 'yes' }, /request.keep/],
  ])('refuses a bad request.%s', (_field, overrides, message) => {
    const job = drillJob();
    expect(() => validateDrillJob({ ...job, request: { ...job.request, ...overrides } })).toThrow(
      message,
    );
  });

  it('refuses data that is not an object', () => {
    expect(() => validateDrillJob('drill')).toThrow(/job data must be an object/);
  });
});

describe('newDrillId', () => {
  it('makes distinct ids that are valid label values', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => newDrillId()));
    expect(ids.size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][-a-z0-9]{0,61}[a-z0-9]$/);
  });
});

describe('DrillQueue against a real Redis', () => {
  const prefix = uniquePrefix('queue');
  let queue: DrillQueue;

  beforeAll(() => {
    queue = DrillQueue.create({ redisUrl, logger: silentLogger(), prefix, retentionSeconds: 600 });
  });

  afterAll(async () => {
    await queue.close();
    await obliterate(prefix);
  });

  it('accepts exactly one of many concurrent drills for the same pod', async () => {
    const jobs = Array.from({ length: 20 }, () => drillJob({}, { pod: 'race-pod' }));

    const results = await Promise.all(jobs.map((job) => queue.enqueue(job)));

    const accepted = results.filter((result) => result.accepted);
    expect(accepted).toHaveLength(1);
    const winner = jobs[results.findIndex((result) => result.accepted)]!;
    for (const result of results.filter((r) => !r.accepted)) {
      expect(result).toEqual({ accepted: false, activeDrillId: winner.drillId });
    }
  });

  it('accepts drills for the same pod name in other namespaces or clusters', async () => {
    const results = await Promise.all([
      queue.enqueue(drillJob({}, { pod: 'shared', namespace: 'team-a' })),
      queue.enqueue(drillJob({}, { pod: 'shared', namespace: 'team-b' })),
      queue.enqueue(drillJob({}, { pod: 'shared', namespace: 'team-a', cluster: 'staging' })),
    ]);

    expect(results.map((result) => result.accepted)).toEqual([true, true, true]);
  });

  it('finds the active drill of a pod, and nothing for an idle pod', async () => {
    const job = drillJob({}, { pod: 'findable' });
    await queue.enqueue(job);

    expect(await queue.findActive({ namespace: 'default', pod: 'findable' })).toEqual(job);
    expect(await queue.findActive({ namespace: 'default', pod: 'idle' })).toBeUndefined();
  });

  it('lists waiting drills with their state', async () => {
    const job = drillJob({}, { pod: 'listed' });
    await queue.enqueue(job);

    const listed = await queue.listActive();
    expect(listed).toContainEqual({ ...job, state: 'waiting' });
  });

  it('refuses invalid job data and queues nothing', async () => {
    const job = drillJob({}, { pod: 'invalid-one' });

    await expect(queue.enqueue({ ...job, v: 3 } as unknown as DrillJobData)).rejects.toThrow(
      /schema version 3/,
    );
    expect(await queue.findActive({ namespace: 'default', pod: 'invalid-one' })).toBeUndefined();
  });

  it('stores jobs with retention by age, attempts and exponential backoff', async () => {
    const job = drillJob({}, { pod: 'options' });
    await queue.enqueue(job);

    const redis = new Redis(redisUrl);
    const raw = new Queue(QUEUE_NAME, { connection: redis, prefix });
    const stored = await raw.getJob(job.drillId);
    await raw.close();
    await redis.quit();

    expect(stored?.opts.removeOnComplete).toEqual({ age: 600 });
    expect(stored?.opts.removeOnFail).toEqual({ age: 600 });
    expect(stored?.opts.attempts).toBeGreaterThan(1);
    expect(stored?.opts.backoff).toMatchObject({ type: 'exponential' });
  });

  it('answers ready while Redis answers', async () => {
    expect(await queue.isReady()).toBe(true);
  });
});

describe('DrillQueue when Redis is down', () => {
  it('fails fast with "queue unavailable" and reports not ready', async () => {
    const port = await closedPort();
    const queue = DrillQueue.create({
      redisUrl: `redis://127.0.0.1:${port}`,
      logger: silentLogger(),
      prefix: uniquePrefix('down'),
    });

    await expect(queue.enqueue(drillJob())).rejects.toMatchObject({
      name: 'QueueUnavailableError',
      code: 'queue.unavailable',
      message: expect.stringMatching(/queue unavailable/),
    });
    await expect(queue.findActive({ namespace: 'default', pod: 'x' })).rejects.toMatchObject({
      code: 'queue.unavailable',
    });
    expect(await queue.isReady()).toBe(false);
    await queue.close();
  });
});

describe('retries', () => {
  const prefix = uniquePrefix('retry');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });

  afterAll(async () => {
    await obliterate(prefix);
    await redis.quit();
  });

  /** Runs one job through a worker whose processor throws `error` every time. */
  async function attemptsFor(error: Error): Promise<number> {
    const queue = new Queue<DrillJobData>(QUEUE_NAME, { connection: redis, prefix });
    const data = drillJob();
    // Zero backoff keeps the suite fast; the attempt count is what is under test.
    await queue.add('drill', data, {
      ...drillJobOptions(data, 60),
      backoff: { type: 'fixed', delay: 1 },
    });

    let attempts = 0;
    const failed = new Promise<number>((resolve) => {
      const worker = new Worker<DrillJobData>(
        QUEUE_NAME,
        async () => {
          attempts += 1;
          throw error;
        },
        { connection: redis, prefix },
      );
      worker.on('failed', (job) => {
        if (job === undefined || job.finishedOn === undefined) return;
        void worker.close().then(() => resolve(attempts));
      });
    });
    const result = await failed;
    await queue.close();
    return result;
  }

  it('retries a transient failure up to the attempt limit', async () => {
    const data = drillJob();
    expect(await attemptsFor(new Error('kube unreachable'))).toBe(
      drillJobOptions(data, 60).attempts,
    );
  });

  it('does not retry an unrecoverable failure', async () => {
    expect(await attemptsFor(new UnrecoverableError('PodSecurity'))).toBe(1);
  });
});
