/**
 * Benchmark 3, scale: many concurrent drills on one worker process (`node dist/main.js
 * worker`, production settings: Slack paced at its published tiers), against the fake
 * Kubernetes API server and the fake Slack Web API in this process, with a private
 * redis-server of its own (the worker uses the default queue prefix, which a shared Redis
 * may be using).
 *
 * Reports: watch connections, Kubernetes API requests per drill, Slack calls per drill,
 * 429s, worker RSS per drill, summaries delivered, and enqueue-to-summary times. Before
 * the burst, one drill alone gives the time from its second OOM kill in the fake to its
 * summary in the fake Slack.
 *
 * Settings (environment): BENCH_DRILLS (200), BENCH_TIME_SCALE (0.01: kubelet timings
 * scaled as in the tests), BENCH_429S (20: chat.update answers this many 429s with
 * Retry-After 1 s during the burst).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/log.js';
import type { DrillRequest } from '../src/request/types.js';
import { DrillQueue, newDrillId, type DrillJobData } from '../src/queue/index.js';
import { createSlackClient } from '../src/slack/client.js';
import { startFakeSlack, type FakeSlack } from '../test/fake-slack/index.js';
import {
  DEFAULT_BEHAVIOUR,
  startFakeKube,
  type FakeKube,
  type KubeletBehaviour,
} from '../test/fake-kube/index.js';
import { startOomtest, startPrivateRedis } from '../test/support/processes.js';
import { drillRequest } from '../test/support/drill-job.js';

const DRILLS = Number(process.env.BENCH_DRILLS ?? 200);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 0.01);
const INJECTED_429S = Number(process.env.BENCH_429S ?? 20);
const CHANNEL = 'C0BENCHSCALE';
/**
 * The burst gives up after this long. At Slack's Tier 3 pace (50 chat.update a minute for
 * the whole app) 200 final summaries alone take four minutes.
 */
const RUN_TIMEOUT_MS = 20 * 60_000;
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'scale.md');

interface Drill {
  data: DrillJobData;
  enqueuedAtMs: number;
  summaryAtMs?: number;
}

interface Sample {
  rssBaseline: number;
  rssPeak: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-bench-scale-'));
  const slack = await startFakeSlack();
  const kube = await startFakeKube({
    timeScale: TIME_SCALE,
    // Pods named real-* run the kubelet's default timeline unscaled (pull 2 s, fill 3 s,
    // back-off 10 s): one drill as a user would see it, beside the scaled burst.
    kubelet: (pod) => (pod.metadata?.name?.startsWith('real') ? realTime() : {}),
  });
  const kubeconfig = join(dir, 'kubeconfig');
  kube.writeKubeconfig(kubeconfig);
  const redis = await startPrivateRedis();

  const worker = await startOomtest('worker', {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.url,
    REDIS_URL: redis.url,
    KUBECONFIG: kubeconfig,
    OOMTEST_WORKER_CONCURRENCY: String(DRILLS),
    LOG_LEVEL: 'warn',
  });
  const queue = DrillQueue.create({ redisUrl: redis.url, logger: silentLogger() });
  const pid = worker.child.pid!;

  const real = await singleDrill({ slack, kube, queue, name: 'real' });
  const single = await singleDrill({ slack, kube, queue, name: 'single' });
  const drills = await postDrillMessages(slack, DRILLS, 'scale');
  const slackBefore = slack.calls.length;
  const kubeBefore = kube.requests.length;
  if (INJECTED_429S > 0) {
    slack.failNext('chat.update', { status: 429, retryAfterSeconds: 1 }, INJECTED_429S);
  }

  const sample: Sample = { rssBaseline: rssOf(pid), rssPeak: 0 };
  const sampler = setInterval(() => (sample.rssPeak = Math.max(sample.rssPeak, rssOf(pid))), 100);
  const startedMs = Date.now();
  await Promise.all(drills.map((drill) => enqueue(queue, drill)));
  await waitForSummaries(slack, drills, startedMs);
  const elapsedMs = Date.now() - startedMs;
  clearInterval(sampler);

  const slackCalls = slack.calls.slice(slackBefore);
  const kubeRequests = kube.requests.slice(kubeBefore);
  // The namespace watch opened for the single drill lingers and serves the whole burst.
  const watchesOpened = kube.requests.filter((request) => request.verb === 'watch').length;
  await worker.stop();
  await queue.close();
  await Promise.all([slack.stop(), kube.stop(), redis.destroy()]);
  rmSync(dir, { recursive: true, force: true });

  report({ drills, elapsedMs, slackCalls, kubeRequests, sample, single, real, watchesOpened });
}

interface SingleRun {
  /** ms from the second OOM kill appearing in the fake's pod status to the summary. */
  killToSummaryMs: number;
  /** ms from enqueue to the summary. */
  enqueueToSummaryMs: number;
  /** Slack calls the worker made for this drill's message (edits and thread reply). */
  slackCalls: number;
}

/** One drill alone, timed from its second OOM kill to its summary. */
async function singleDrill(options: {
  slack: FakeSlack;
  kube: FakeKube;
  queue: DrillQueue;
  name: string;
}): Promise<SingleRun> {
  const { slack, kube, queue, name } = options;
  const [drill] = await postDrillMessages(slack, 1, name, { timeoutSeconds: 3_600 });
  let secondKillMs: number | undefined;
  const watcher = setInterval(() => {
    const pod = kube.pods().find((entry) => entry.metadata?.name === drill!.data.request.pod);
    const status = pod?.status?.containerStatuses?.[0];
    const terminations = (status?.restartCount ?? 0) + (status?.state?.terminated ? 1 : 0);
    if (secondKillMs === undefined && terminations >= 2) secondKillMs = Date.now();
  }, 2);
  const callsBefore = slack.calls.length;

  await enqueue(queue, drill!);
  await waitForSummaries(slack, [drill!], Date.now());
  clearInterval(watcher);
  // The thread reply follows the summary; give it a moment to land before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const ts = drill!.data.messageTs;
  const calls = slack.calls
    .slice(callsBefore)
    .filter((call) => call.body.ts === ts || call.body.thread_ts === ts);
  return {
    killToSummaryMs: (drill!.summaryAtMs ?? NaN) - (secondKillMs ?? NaN),
    enqueueToSummaryMs: (drill!.summaryAtMs ?? NaN) - drill!.enqueuedAtMs,
    slackCalls: calls.length,
  };
}

/** The kubelet's default timeline, undoing the fake's time scale. */
function realTime(): Partial<KubeletBehaviour> {
  const scale = 1 / TIME_SCALE;
  return {
    scheduleMs: DEFAULT_BEHAVIOUR.scheduleMs * scale,
    pullMs: DEFAULT_BEHAVIOUR.pullMs * scale,
    startMs: DEFAULT_BEHAVIOUR.startMs * scale,
    fillMs: DEFAULT_BEHAVIOUR.fillMs * scale,
    backoffBaseMs: DEFAULT_BEHAVIOUR.backoffBaseMs * scale,
  };
}

async function enqueue(queue: DrillQueue, drill: Drill): Promise<void> {
  drill.enqueuedAtMs = Date.now();
  const result = await queue.enqueue(drill.data);
  if (!result.accepted) throw new Error(`drill ${drill.data.drillId} was refused`);
}

/** Posts each drill's channel message as the bot would, and builds its job data. */
async function postDrillMessages(
  slack: FakeSlack,
  count: number,
  name: string,
  request: Partial<DrillRequest> = {},
): Promise<Drill[]> {
  const client = createSlackClient({
    token: slack.token,
    apiUrl: slack.url,
    logger: silentLogger(),
  });
  const drills: Drill[] = [];
  for (let index = 0; index < count; index += 1) {
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'queued' });
    const data: DrillJobData = {
      v: 1,
      drillId: newDrillId(),
      request: drillRequest({ pod: `${name}-${String(index).padStart(3, '0')}`, ...request }),
      requestedBy: 'U0BENCH001',
      channel: CHANNEL,
      messageTs: posted.ts!,
      enqueuedAt: new Date().toISOString(),
    };
    drills.push({ data, enqueuedAtMs: 0 });
  }
  return drills;
}

/** Polls the fake Slack until every drill message shows a final summary. */
async function waitForSummaries(slack: FakeSlack, drills: Drill[], startedMs: number) {
  for (;;) {
    let waiting = 0;
    for (const drill of drills) {
      if (drill.summaryAtMs !== undefined) continue;
      const versions = slack.messages.get(drill.data.messageTs)?.history ?? [];
      const final = versions.find((version) => {
        const text = JSON.stringify(version.blocks);
        return text.includes('OOMKilled') && !text.includes('oomtest_stop');
      });
      if (final === undefined) waiting += 1;
      else drill.summaryAtMs = final.at;
    }
    if (waiting === 0) return;
    if (Date.now() - startedMs > RUN_TIMEOUT_MS) {
      throw new Error(`${waiting} of ${drills.length} summaries missing after the run timeout`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resident set size of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1_024;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function report(run: {
  drills: Drill[];
  elapsedMs: number;
  slackCalls: Array<{ method: string; status: number }>;
  kubeRequests: Array<{ verb: string; resource: string; subresource: string }>;
  sample: Sample;
  single: SingleRun;
  real: SingleRun;
  watchesOpened: number;
}): void {
  const n = run.drills.length;
  const delivered = run.drills.filter((drill) => drill.summaryAtMs !== undefined).length;
  const latencies = run.drills.map((drill) => (drill.summaryAtMs ?? NaN) - drill.enqueuedAtMs);
  const kubeKey = (r: { verb: string; resource: string; subresource: string }): string =>
    `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
  const byMethod = countBy(run.slackCalls.map((call) => call.method));
  const byRequest = countBy(run.kubeRequests.map(kubeKey));
  const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(1);
  const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

  const rows: Array<[string, string]> = [
    [
      'one drill, real kubelet timings: second OOM kill → summary',
      `${seconds(run.real.killToSummaryMs)} (of which 10 s is the kubelet's back-off before the restart that ends the drill)`,
    ],
    ['one drill, real kubelet timings: enqueue → summary', seconds(run.real.enqueueToSummaryMs)],
    ['one drill, real kubelet timings: worker Slack calls', String(run.real.slackCalls)],
    [
      `one drill, kubelet × ${TIME_SCALE}: second OOM kill → summary`,
      `${run.single.killToSummaryMs} ms (back-off scaled to ${10_000 * TIME_SCALE} ms)`,
    ],
    ['drills in the burst', String(n)],
    ['summaries delivered', `${delivered} / ${n}`],
    ['enqueue → last summary', seconds(run.elapsedMs)],
    [
      'enqueue → summary p50 / p99',
      `${seconds(percentile(latencies, 50))} / ${seconds(percentile(latencies, 99))}`,
    ],
    ['watch requests opened (whole run, all drills)', String(run.watchesOpened)],
    ['Kubernetes API requests per drill', (run.kubeRequests.length / n).toFixed(2)],
    ['Slack calls per drill', (run.slackCalls.length / n).toFixed(2)],
    ['Slack 429s answered', String(run.slackCalls.filter((call) => call.status === 429).length)],
    ['worker RSS: idle → peak', `${mb(run.sample.rssBaseline)} MB → ${mb(run.sample.rssPeak)} MB`],
    [
      'worker RSS per drill',
      `${((run.sample.rssPeak - run.sample.rssBaseline) / n / 1_024).toFixed(0)} KiB`,
    ],
  ];
  const lines = [
    `# Scale: ${n} concurrent drills on one worker process`,
    '',
    `Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ` +
      `${(totalmem() / 1_073_741_824).toFixed(1)} GiB, Node ${process.version}. Fake kubelet ` +
      `time scale ${TIME_SCALE}; the worker paces Slack at its production rates (chat.update ` +
      `50/min, chat.postMessage 60/min); ${INJECTED_429S} chat.update calls answered 429.`,
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
    ...Object.entries(byRequest).map(([v, c]) => `| ${v} | ${c} | ${(c / n).toFixed(2)} |`),
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
