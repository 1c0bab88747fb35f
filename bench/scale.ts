/**
 * Benchmark 3, scale: 200 concurrent drills on one worker, against the fake Kubernetes
 * API server and the fake Slack Web API, with real Redis (REDIS_URL, as `npm run bench`
 * sets it). Reports the watch connections held, Kubernetes API requests per drill, Slack
 * calls per drill, 429s, worker RSS per drill and whether every summary arrived.
 *
 * Settings (environment): BENCH_DRILLS (200), BENCH_TIME_SCALE (0.01: kubelet timings
 * scaled as in the tests), BENCH_SLACK_CALLS_PER_MINUTE (6000: the fake has no limit;
 * set 50 to see Slack's Tier 3 pacing), BENCH_429S (20: chat.update answers this many
 * 429s with Retry-After 1 s, to exercise the pause).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createKubeClients } from '../src/kube/client.js';
import { silentLogger } from '../src/log.js';
import { DrillQueue, QUEUE_NAME, newDrillId, type DrillJobData } from '../src/queue/index.js';
import { createSlackClient } from '../src/slack/client.js';
import { startWorker } from '../src/worker/index.js';
import { startFakeSlack, type FakeSlack } from '../test/fake-slack/index.js';
import { kubeconfigText, startFakeKube } from '../test/fake-kube/index.js';
import { writeFakeKubeconfig } from '../test/support/processes.js';
import { drillRequest } from '../test/support/drill-job.js';

const DRILLS = Number(process.env.BENCH_DRILLS ?? 200);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 0.01);
const SLACK_RATE = Number(process.env.BENCH_SLACK_CALLS_PER_MINUTE ?? 6_000);
const INJECTED_429S = Number(process.env.BENCH_429S ?? 20);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHANNEL = 'C0BENCHSCALE';
/** The whole run gives up after this long: 200 drills take well under a minute here. */
const RUN_TIMEOUT_MS = 15 * 60_000;
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'scale.md');

interface Drill {
  data: DrillJobData;
  enqueuedAtMs: number;
  summaryAtMs?: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-bench-scale-'));
  const prefix = `oomtest-bench-${process.pid}`;
  const slack = await startFakeSlack();
  const kube = await startFakeKube({ timeScale: TIME_SCALE });
  const kubeconfig = join(dir, 'kubeconfig');
  writeFakeKubeconfig(kubeconfigText(kube.url), kubeconfig);

  const drills = await postDrillMessages(slack);
  const config = loadConfig('worker', {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.url,
    REDIS_URL,
    KUBECONFIG: kubeconfig,
    OOMTEST_WORKER_CONCURRENCY: String(DRILLS),
  });
  const slackCallsBefore = slack.calls.length;
  const kubeRequestsBefore = kube.requests.length;
  if (INJECTED_429S > 0) {
    slack.failNext('chat.update', { status: 429, retryAfterSeconds: 1 }, INJECTED_429S);
  }

  global.gc?.();
  const rssBaseline = process.memoryUsage().rss;
  const worker = await startWorker({
    config,
    logger: silentLogger(),
    slack: createSlackClient({ token: slack.token, apiUrl: slack.url, logger: silentLogger() }),
    kube: createKubeClients({ kubeconfigPath: kubeconfig }),
    prefix,
    tuning: { slackCallsPerMinute: SLACK_RATE },
  });
  const queue = DrillQueue.create({ redisUrl: REDIS_URL, logger: silentLogger(), prefix });

  let rssPeak = rssBaseline;
  let watchesPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    watchesPeak = Math.max(watchesPeak, worker.watchStats().activeWatches);
  }, 100);

  const startedMs = Date.now();
  await Promise.all(
    drills.map(async (drill) => {
      drill.enqueuedAtMs = Date.now();
      const result = await queue.enqueue(drill.data);
      if (!result.accepted) throw new Error(`drill ${drill.data.drillId} was refused`);
    }),
  );
  await waitForSummaries(slack, drills, startedMs);
  const elapsedMs = Date.now() - startedMs;
  clearInterval(sampler);

  const stats = worker.watchStats();
  const slackCalls = slack.calls.slice(slackCallsBefore);
  const kubeRequests = kube.requests.slice(kubeRequestsBefore);
  await worker.close();
  await queue.close();
  await cleanUp(prefix);
  await Promise.all([slack.stop(), kube.stop()]);
  rmSync(dir, { recursive: true, force: true });

  report({ drills, elapsedMs, stats, slackCalls, kubeRequests, rssBaseline, rssPeak, watchesPeak });
}

/** Posts each drill's channel message as the bot would, and builds its job data. */
async function postDrillMessages(slack: FakeSlack): Promise<Drill[]> {
  const client = createSlackClient({
    token: slack.token,
    apiUrl: slack.url,
    logger: silentLogger(),
  });
  const drills: Drill[] = [];
  for (let index = 0; index < DRILLS; index += 1) {
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'queued' });
    const data: DrillJobData = {
      v: 1,
      drillId: newDrillId(),
      request: drillRequest({ pod: `scale-${String(index).padStart(3, '0')}` }),
      requestedBy: 'U0BENCH001',
      channel: CHANNEL,
      messageTs: posted.ts!,
      enqueuedAt: new Date().toISOString(),
    };
    drills.push({ data, enqueuedAtMs: 0 });
  }
  return drills;
}

/** Polls the fake Slack until every drill message has lost its Stop button (final). */
async function waitForSummaries(slack: FakeSlack, drills: Drill[], startedMs: number) {
  for (;;) {
    let waiting = 0;
    for (const drill of drills) {
      if (drill.summaryAtMs !== undefined) continue;
      const message = slack.messages.get(drill.data.messageTs);
      const final = message?.history.find(
        (version) =>
          version.at > 0 &&
          /OOMKilled|OOM kill/.test(JSON.stringify(version.blocks)) &&
          !JSON.stringify(version.blocks).includes('oomtest_stop'),
      );
      if (final === undefined) waiting += 1;
      else drill.summaryAtMs = final.at;
    }
    if (waiting === 0) return;
    if (Date.now() - startedMs > RUN_TIMEOUT_MS) {
      throw new Error(`${waiting} of ${drills.length} summaries missing after the run timeout`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function cleanUp(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function report(run: {
  drills: Drill[];
  elapsedMs: number;
  stats: { connectionsOpened: number; lists: number; activeWatches: number };
  slackCalls: Array<{ method: string; status: number }>;
  kubeRequests: Array<{ verb: string; resource: string; subresource: string }>;
  rssBaseline: number;
  rssPeak: number;
  watchesPeak: number;
}): void {
  const n = run.drills.length;
  const delivered = run.drills.filter((drill) => drill.summaryAtMs !== undefined).length;
  const latencies = run.drills.map((drill) => (drill.summaryAtMs ?? NaN) - drill.enqueuedAtMs);
  const byMethod = countBy(run.slackCalls.map((call) => call.method));
  const byVerb = countBy(
    run.kubeRequests.map(
      (r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`,
    ),
  );
  const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(1);

  const rows: Array<[string, string]> = [
    ['drills', String(n)],
    ['summaries delivered', `${delivered} / ${n}`],
    ['wall time, enqueue → last summary', `${(run.elapsedMs / 1_000).toFixed(1)} s`],
    [
      'enqueue → summary p50 / p99',
      `${percentile(latencies, 50)} ms / ${percentile(latencies, 99)} ms`,
    ],
    ['watch connections held (peak)', String(run.watchesPeak)],
    ['watch requests opened (incl. resumes)', String(run.stats.connectionsOpened)],
    ['Kubernetes API requests per drill', (run.kubeRequests.length / n).toFixed(2)],
    ['Slack calls per drill', (run.slackCalls.length / n).toFixed(2)],
    ['Slack 429s answered', String(run.slackCalls.filter((call) => call.status === 429).length)],
    ['worker RSS: baseline → peak', `${mb(run.rssBaseline)} MB → ${mb(run.rssPeak)} MB`],
    ['worker RSS per drill', `${((run.rssPeak - run.rssBaseline) / n / 1_024).toFixed(0)} KiB`],
  ];
  const lines = [
    `# Scale: ${n} concurrent drills on one worker`,
    '',
    `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ` +
      `${(totalmem() / 1_073_741_824).toFixed(1)} GiB, Node ${process.version}. Fake kubelet ` +
      `time scale ${TIME_SCALE}; Slack pace ${SLACK_RATE} calls/min per method; ` +
      `${INJECTED_429S} injected chat.update 429s.`,
    '',
    '| measure | value |',
    '|---|---|',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
    '| Slack method | calls | per drill |',
    '|---|---|---|',
    ...Object.entries(byMethod).map(([m, c]) => `| ${m} | ${c} | ${(c / n).toFixed(2)} |`),
    '',
    '| Kubernetes request | count | per drill |',
    '|---|---|---|',
    ...Object.entries(byVerb).map(([v, c]) => `| ${v} | ${c} | ${(c / n).toFixed(2)} |`),
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, text);
}

function countBy(items: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench scale failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
