/**
 * Benchmark 1, acknowledgement latency: how long Slack waits for `/oomtest` to be
 * acknowledged (it gives up after 3 s). The bot runs in this process on Bolt's real HTTP
 * receiver, with real Redis (REDIS_URL, as `npm run bench` sets it) and the fake Slack
 * Web API; a separate client process sends signed slash commands, as Slack would:
 *
 * 1. one command at a time (the latency of a single command, nothing competing);
 * 2. a burst of BENCH_COMMANDS (200) concurrent commands, each a valid drill for its own
 *    pod, so every one is acknowledged, then posted to the channel and queued;
 * 3. the baseline, measured in the same run: the same number of concurrent GET /healthz on
 *    the same receiver (the HTTP stack alone: no signature check, no handler).
 *
 * Settings (environment): BENCH_COMMANDS (200), BENCH_SEQUENTIAL (50).
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deleteKeys } from '../test/bot/harness.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { DrillQueue } from '../src/queue/index.js';
import { startBot, EVENTS_PATH } from '../src/bot/index.js';
import { startFakeSlack } from '../test/fake-slack/index.js';
import {
  postSigned,
  slashCommandBody,
  TEST_SIGNING_SECRET,
} from '../test/support/slack-signing.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 200);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 50);
/** Unmeasured commands first, so JIT warm-up and first connections do not count. */
const WARM_UP = 10;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'ack-latency.md');

interface ClientReport {
  sequentialMs: number[];
  burstMs: number[];
  burstStatuses: Record<string, number>;
  burstWallMs: number;
  baselineMs: number[];
}

async function main(): Promise<void> {
  if (process.argv.includes('--client')) return runClient();

  const slack = await startFakeSlack();
  const prefix = `oomtest-bench-ack-${process.pid}`;
  const audit = countingDestination();
  // Info level, JSON to a sink: the audit lines cost what they cost in production.
  const logger = createLogger({ level: 'info', role: 'bot', destination: audit.stream });
  const config = loadConfig('bot', {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    REDIS_URL,
    PORT: '0',
  });
  const queue = DrillQueue.create({ redisUrl: REDIS_URL, logger, prefix, retentionSeconds: 600 });
  const bot = await startBot({ config, logger, queue });

  try {
    const report = await spawnClient(`http://127.0.0.1:${bot.port}`, slack.origin);
    const expected = WARM_UP + SEQUENTIAL + COMMANDS;
    const queuedAtMs = performance.now();
    await audit.waitForAccepted(expected);
    const followUpMs = performance.now() - queuedAtMs;

    const table = renderTable(report, {
      accepted: audit.accepted(),
      posted: slack.callsTo('chat.postMessage').length,
      followUpMs,
    });
    console.log(table);
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${table}\n`);
  } finally {
    await bot.close();
    await queue.close();
    await slack.stop();
    await deleteKeys(prefix, REDIS_URL);
  }
}

/** Runs this file again as the client, so load generation does not share the bot's loop. */
function spawnClient(baseUrl: string, slackOrigin: string): Promise<ClientReport> {
  const file = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, file, '--client'], {
    env: { ...process.env, BENCH_BASE_URL: baseUrl, BENCH_SLACK_ORIGIN: slackOrigin },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));

  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench client exited with ${code}`));
      resolve(JSON.parse(output) as ClientReport);
    });
  });
}

async function runClient(): Promise<void> {
  const baseUrl = process.env.BENCH_BASE_URL!;
  const responseUrl = (i: number) => `${process.env.BENCH_SLACK_ORIGIN}/response/Rbench${i}`;
  const send = (i: number) =>
    timed(() =>
      postSigned(
        `${baseUrl}${EVENTS_PATH}`,
        slashCommandBody({ text: `ack-bench-${i} 64Mi`, responseUrl: responseUrl(i) }),
      ),
    );

  for (let i = 0; i < WARM_UP; i += 1) await send(i);
  const sequentialMs: number[] = [];
  for (let i = WARM_UP; i < WARM_UP + SEQUENTIAL; i += 1) sequentialMs.push((await send(i)).ms);

  const baseline = await Promise.all(
    Array.from({ length: COMMANDS }, () =>
      timed(() => fetch(`${baseUrl}/healthz`).then((r) => r.text())),
    ),
  );

  const burstStart = performance.now();
  const first = WARM_UP + SEQUENTIAL;
  const burst = await Promise.all(Array.from({ length: COMMANDS }, (_, i) => send(first + i)));
  const burstWallMs = performance.now() - burstStart;

  const burstStatuses: Record<string, number> = {};
  for (const { value } of burst) {
    const key =
      value.status === 200 && value.json?.text?.includes('queued')
        ? '200 queued'
        : `${value.status} ${value.text.slice(0, 40)}`;
    burstStatuses[key] = (burstStatuses[key] ?? 0) + 1;
  }
  const report: ClientReport = {
    sequentialMs,
    burstMs: burst.map((result) => result.ms),
    burstStatuses,
    burstWallMs,
    baselineMs: baseline.map((result) => result.ms),
  };
  process.stdout.write(JSON.stringify(report));
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

/** A log sink that counts the accepted-drill audit lines. */
function countingDestination() {
  let accepted = 0;
  let failed = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const parsed = JSON.parse(line) as { command?: string; result?: string };
        if (parsed.command !== 'drill') continue;
        if (parsed.result === 'accepted') accepted += 1;
        else failed += 1;
      }
      for (const waiter of waiters.filter((w) => accepted + failed >= w.count)) waiter.resolve();
      done();
    },
  });
  return {
    stream,
    accepted: () => accepted,
    waitForAccepted: (count: number) =>
      accepted + failed >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

function row(name: string, values: number[]): string {
  const ms = (value: number) => value.toFixed(1);
  return `| ${name} | ${values.length} | ${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} | ${ms(Math.max(...values))} |`;
}

function renderTable(
  report: ClientReport,
  after: { accepted: number; posted: number; followUpMs: number },
): string {
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
  const memory = `${Math.round(totalmem() / 1024 ** 3)} GiB`;
  return [
    '# Acknowledgement latency of /oomtest',
    '',
    `Run ${new Date().toISOString()} on ${cpu}, ${memory}, Node ${process.version}. Bot (Bolt HTTP receiver, real Redis, fake Slack Web API) in one process, the client in another; loopback HTTP.`,
    '',
    '| what | requests | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|',
    row('one command at a time', report.sequentialMs),
    row(`burst of ${report.burstMs.length} concurrent commands`, report.burstMs),
    row(
      `baseline: burst of ${report.baselineMs.length} concurrent GET /healthz`,
      report.baselineMs,
    ),
    '',
    `Burst: ${Object.entries(report.burstStatuses)
      .map(([status, n]) => `${n} × ${status}`)
      .join(
        ', ',
      )}; all answered within ${report.burstWallMs.toFixed(0)} ms of the first send (Slack allows 3,000 ms per command).`,
    `After the acknowledgements: ${after.accepted} drills posted to the channel and queued (${after.posted} chat.postMessage calls), the last ${after.followUpMs.toFixed(0)} ms after the client finished.`,
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
