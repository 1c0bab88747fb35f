/**
 * The end-to-end rig: a private Redis, the fake Slack Web API, the fake Kubernetes API
 * server, and `oomtest bot` and `oomtest worker` as separate processes between them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../../src/queue/index.js';
import { startFakeSlack, type FakeSlack, type StoredMessage } from '../fake-slack/index.js';
import {
  startFakeKube,
  type FakeKube,
  type FakeKubeOptions,
  type KubeletBehaviour,
} from '../fake-kube/index.js';
import {
  blockActionsBody,
  DEFAULT_CHANNEL,
  postSigned,
  slashCommandBody,
  TEST_SIGNING_SECRET,
  type SlackResponse,
} from '../support/slack-signing.js';
import {
  startOomtest,
  startPrivateRedis,
  waitFor,
  type OomtestProcess,
  type PrivateRedis,
} from '../support/processes.js';

/** A namespace whose Pod Security level refuses privileged pods (the tmpfs method). */
export const BASELINE_NAMESPACE = 'drills-baseline';

/**
 * Pods named `slow-*` run their kubelet timeline 20 times slower than the others (about
 * 2 s to the first OOM kill instead of 0.1 s), so a test can act between two kills.
 */
const SLOW: Partial<KubeletBehaviour> = {
  scheduleMs: 10_000,
  pullMs: 20_000,
  startMs: 10_000,
  fillMs: 60_000,
  backoffBaseMs: 200_000,
};

export interface Rig {
  redis: PrivateRedis;
  slack: FakeSlack;
  kube: FakeKube;
  bot: OomtestProcess;
  worker: OomtestProcess;
  env: Record<string, string>;
  /** Starts a (new) worker process; the rig's `worker` becomes it. */
  startWorker(): Promise<OomtestProcess>;
  /** Sends `/oomtest <text>` signed, as Slack does. */
  command(text: string, user?: string): Promise<SlackResponse>;
  /** The BullMQ job of a drill: its state and how many attempts it took. */
  job(drillId: string): Promise<{ state: string; attemptsMade: number } | undefined>;
  /** Clicks the Stop button of a drill. */
  clickStop(drillId: string, user?: string): Promise<SlackResponse>;
  stop(): Promise<void>;
}

/** What every end-to-end suite runs its oomtest processes between. */
export interface Boundaries {
  redis: PrivateRedis;
  slack: FakeSlack;
  kube: FakeKube;
  /** The environment an oomtest process needs to reach all three; add to it per suite. */
  env: Record<string, string>;
  /** Stops the three and removes the kubeconfig. Stop the oomtest processes first. */
  stop(): Promise<void>;
}

/** A private Redis, the fake Slack Web API and the fake API server, with a kubeconfig. */
export async function startBoundaries(kubeOptions: FakeKubeOptions = {}): Promise<Boundaries> {
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-e2e-'));
  const [redis, slack, kube] = await Promise.all([
    startPrivateRedis(),
    startFakeSlack(),
    startFakeKube({ timeScale: 0.01, ...kubeOptions }),
  ]);
  const kubeconfig = join(dir, 'kubeconfig');
  kube.writeKubeconfig(kubeconfig);

  return {
    redis,
    slack,
    kube,
    env: {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      REDIS_URL: redis.url,
      KUBECONFIG: kubeconfig,
      OOMTEST_SHUTDOWN_GRACE: '2s',
    },
    stop: async () => {
      await Promise.all([slack.stop(), kube.stop(), redis.destroy()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startRig(): Promise<Rig> {
  const boundaries = await startBoundaries({
    namespaces: [{ name: BASELINE_NAMESPACE, podSecurity: 'baseline' }],
    kubelet: (pod: V1Pod) => (pod.metadata?.name?.startsWith('slow') ? SLOW : {}),
  });
  const { redis, slack, kube } = boundaries;
  const env = {
    ...boundaries.env,
    OOMTEST_ALLOWED_NAMESPACES: `default,${BASELINE_NAMESPACE}`,
    LOG_LEVEL: 'info',
  };
  const [bot, worker] = await Promise.all([startOomtest('bot', env), startOomtest('worker', env)]);
  const eventsUrl = `http://127.0.0.1:${bot.port}/slack/events`;

  const rig: Rig = {
    redis,
    slack,
    kube,
    bot,
    worker,
    env,
    startWorker: async () => {
      rig.worker = await startOomtest('worker', env);
      return rig.worker;
    },
    job: async (drillId) => {
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue(QUEUE_NAME, { connection });
      try {
        const job = await queue.getJob(drillId);
        if (job === undefined || job === null) return undefined;
        return { state: await job.getState(), attemptsMade: job.attemptsMade };
      } finally {
        await queue.close();
        await connection.quit();
      }
    },
    command: (text, user) => postSigned(eventsUrl, slashCommandBody({ text, userId: user })),
    clickStop: (drillId, user) =>
      postSigned(
        eventsUrl,
        blockActionsBody({ actionId: 'oomtest_stop', value: drillId, userId: user }),
      ),
    stop: async () => {
      await Promise.all([rig.bot.stop(), rig.worker.stop()]);
      await boundaries.stop();
    },
  };
  return rig;
}

/** Everything a person sees of a message: its text and the text inside its blocks. */
export function visibleText(message: StoredMessage): string {
  return `${message.text}\n${blockTexts(message.blocks).join('\n')}`;
}

function blockTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(blockTexts);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === 'text' || key === 'elements' || key === 'fields' || key === 'blocks' || key === 'value'
      ? blockTexts(inner)
      : [],
  );
}

/** The channel message of the drill for `pod` (the one whose Stop button or text names it). */
export function drillMessage(slack: FakeSlack, pod: string): StoredMessage | undefined {
  return slack
    .channelMessages(DEFAULT_CHANNEL)
    .find((message) => message.history.some((version) => JSON.stringify(version).includes(pod)));
}

/** The drill id carried by the Stop button of a drill message's first version. */
export function drillIdOf(message: StoredMessage): string {
  const match = /"action_id":"oomtest_stop"[^}]*?"value":"([a-z0-9-]+)"/.exec(
    JSON.stringify(message.history[0]?.blocks ?? message.blocks),
  );
  const fallback = /drill ([a-z0-9]+-[a-z0-9]+)/.exec(message.history[0]?.text ?? message.text);
  const id = match?.[1] ?? fallback?.[1];
  if (id === undefined) throw new Error(`no drill id in message ${message.ts}`);
  return id;
}

/** Waits until the drill message for `pod` shows a final verdict (no Stop button). */
export async function waitForSummary(
  slack: FakeSlack,
  pod: string,
  timeoutMs = 30_000,
): Promise<StoredMessage> {
  let found: StoredMessage | undefined;
  await waitFor(
    `the summary of ${pod}`,
    () => {
      found = drillMessage(slack, pod);
      return (
        found !== undefined &&
        found.updates > 0 &&
        !JSON.stringify(found.blocks).includes('oomtest_stop')
      );
    },
    timeoutMs,
  );
  return found!;
}

/** Waits until the drill message for `pod` has text matching `pattern`. */
export async function waitForText(
  slack: FakeSlack,
  pod: string,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<StoredMessage> {
  let found: StoredMessage | undefined;
  await waitFor(
    `the message of ${pod} to match ${pattern}`,
    () => {
      found = drillMessage(slack, pod);
      return found !== undefined && pattern.test(visibleText(found));
    },
    timeoutMs,
  );
  return found!;
}

/**
 * Successful pod creations recorded since request number `since` (the API puts the name
 * in the body, so creations are told apart by when they happened, not by name).
 */
export function podCreatesSince(kube: FakeKube, since: number): number {
  return kube.requests
    .slice(since)
    .filter(
      (request) =>
        request.verb === 'create' &&
        request.resource === 'pods' &&
        request.subresource === '' &&
        request.status < 300,
    ).length;
}

/** Pods of that name left in any namespace. */
export function podsNamed(kube: FakeKube, pod: string): number {
  return kube.pods().filter((entry) => entry.metadata?.name === pod).length;
}
