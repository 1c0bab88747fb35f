import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { createKubeClients } from '../../src/kube/client.js';
import { silentLogger } from '../../src/log.js';
import {
  DrillKeys,
  DrillQueue,
  DrillState,
  QUEUE_NAME,
  type DrillJobData,
} from '../../src/queue/index.js';
import { createSlackClient } from '../../src/slack/client.js';
import { startWorker, type RunningWorker } from '../../src/worker/index.js';
import { startFakeKube, type FakeKube } from '../fake-kube/index.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { drillJob, testRedisUrl, uniquePrefix } from '../support/drill-job.js';
import { waitFor } from '../support/processes.js';

const CHANNEL = 'C0WORKER01';

describe('startWorker against real Redis, the fake Slack and the fake API server', () => {
  const prefix = uniquePrefix('worker');
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-worker-'));
  let kube: FakeKube;
  let slack: FakeSlack;
  let queue: DrillQueue;
  let redis: Redis;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    kube = await startFakeKube({ timeScale: 0.01 });
    slack = await startFakeSlack();
    kube.writeKubeconfig(join(dir, 'kubeconfig'));
    queue = DrillQueue.create({ redisUrl: testRedisUrl(), logger: silentLogger(), prefix });
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    await worker?.close();
    await queue.close();
    const raw = new Queue(QUEUE_NAME, { connection: redis, prefix });
    await raw.obliterate({ force: true });
    await raw.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await Promise.all([kube.stop(), slack.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<RunningWorker> {
    const config = loadConfig('worker', {
      SLACK_BOT_TOKEN: slack.token,
      REDIS_URL: testRedisUrl(),
      KUBECONFIG: join(dir, 'kubeconfig'),
    });
    worker = await startWorker({
      config,
      logger: silentLogger(),
      slack: createSlackClient({ token: slack.token, apiUrl: slack.url, logger: silentLogger() }),
      kube: createKubeClients({ kubeconfigPath: join(dir, 'kubeconfig') }),
      prefix,
      // A fast pace: these tests are about what is sent, not Slack's rate tiers.
      tuning: { minUpdateIntervalMs: 10, slackCallsPerMinute: 60_000 },
    });
    return worker;
  }

  /** A job whose channel message exists in the fake Slack, as the bot leaves it. */
  async function queuedJob(pod: string): Promise<DrillJobData> {
    const client = createSlackClient({
      token: slack.token,
      apiUrl: slack.url,
      logger: silentLogger(),
    });
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: `queued ${pod}` });
    return drillJob({ channel: CHANNEL, messageTs: posted.ts! }, { pod });
  }

  /** The per-drill state as another process sees it; its summary claims last `claimSeconds`. */
  function stateFor(claimSeconds?: number): DrillState {
    const keys = new DrillKeys(prefix, QUEUE_NAME);
    return new DrillState({ redis, keys, retentionSeconds: 600, claimSeconds });
  }

  function finalText(ts: string): string {
    return JSON.stringify(slack.messages.get(ts)?.blocks ?? []);
  }

  it('stops a drill asked to stop before any worker took it, and creates no pod', async () => {
    const job = await queuedJob('stopped-early');
    await queue.enqueue(job);
    await queue.requestStop({ drillId: job.drillId, by: 'U0STOPPER1' });

    await start();
    await waitFor('the stopped summary', () => finalText(job.messageTs).includes('U0STOPPER1'));

    expect(kube.pods().filter((pod) => pod.metadata?.name === 'stopped-early')).toHaveLength(0);
    expect(finalText(job.messageTs)).not.toContain('oomtest_stop');
  });

  it('does not run or report again a drill whose summary was already posted', async () => {
    const job = await queuedJob('reported-before');
    const state = stateFor();
    await state.markSummaryPosted(job.drillId);
    const updatesBefore = slack.callsTo('chat.update').length;

    await queue.enqueue(job);
    await waitFor('the job to complete', async () => {
      const raw = new Queue(QUEUE_NAME, { connection: redis, prefix });
      const state = await (await raw.getJob(job.drillId))?.getState();
      await raw.close();
      return state === 'completed';
    });

    expect(kube.pods().filter((pod) => pod.metadata?.name === 'reported-before')).toHaveLength(0);
    expect(
      slack
        .callsTo('chat.update')
        .slice(updatesBefore)
        .filter((call) => call.body.ts === job.messageTs),
    ).toHaveLength(0);
  });

  it('waits for another worker that is posting the summary instead of posting it twice', async () => {
    const job = await queuedJob('claimed-elsewhere');
    const state = stateFor();
    expect(await state.claimSummary(job.drillId, 'another-worker')).toBe(true);

    await queue.enqueue(job);
    await waitFor(
      'the outcome to be kept',
      async () => (await state.loadOutcome(job.drillId)) !== undefined,
    );
    await state.markSummaryPosted(job.drillId);
    await waitFor('the job to complete', async () => {
      const raw = new Queue(QUEUE_NAME, { connection: redis, prefix });
      const current = await (await raw.getJob(job.drillId))?.getState();
      await raw.close();
      return current === 'completed';
    });

    // Still a progress version (with its Stop button): this worker never posted the summary.
    expect(finalText(job.messageTs)).toContain('oomtest_stop');
    expect(slack.threadReplies(job.messageTs)).toHaveLength(0);
  });

  it('posts the summary itself once a claim left by a process that died has expired', async () => {
    const job = await queuedJob('claim-expired');
    // A claim as a worker that died mid-post leaves it: never marked posted.
    expect(await stateFor(1).claimSummary(job.drillId, 'dead-worker')).toBe(true);

    await queue.enqueue(job);

    await waitFor(
      'the summary',
      () =>
        /OOMKilled/.test(finalText(job.messageTs)) &&
        !finalText(job.messageTs).includes('oomtest_stop'),
    );
    await waitFor('the thread reply', () => slack.threadReplies(job.messageTs).length > 0);
    expect(slack.threadReplies(job.messageTs)).toHaveLength(1);
  });

  it('runs a drill and reports it with progress edits, the summary and one thread reply', async () => {
    const job = await queuedJob('in-process');
    await queue.enqueue(job);

    await waitFor('the summary', () => /OOMKilled/.test(finalText(job.messageTs)));

    const edits = slack.callsTo('chat.update').filter((call) => call.body.ts === job.messageTs);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    await waitFor('the thread reply', () => slack.threadReplies(job.messageTs).length > 0);
    expect(slack.threadReplies(job.messageTs)).toHaveLength(1);
    await waitFor('the pod to be deleted', () =>
      kube.pods().every((pod) => pod.metadata?.name !== 'in-process'),
    );
  });
});
