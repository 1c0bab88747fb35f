/**
 * End to end: signed slash commands to a real `oomtest bot` process, a real `oomtest
 * worker` process, real Redis between them, the fake Slack Web API and the fake
 * Kubernetes API server at the network boundary. Needs dist/ (`npm test` builds it).
 */
import { DEFAULT_CHANNEL, DEFAULT_USER } from '../support/slack-signing.js';
import { waitFor } from '../support/processes.js';
import {
  BASELINE_NAMESPACE,
  drillIdOf,
  drillMessage,
  podCreatesSince,
  podsNamed,
  startRig,
  visibleText,
  waitForSummary,
  waitForText,
  type Rig,
} from './support.js';

// Process start-ups, a worker crash and its recovery through BullMQ's stalled check.
const TEST_TIMEOUT_MS = 120_000;

describe('oomtest bot and worker as separate processes', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig();
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await rig?.stop();
  }, TEST_TIMEOUT_MS);

  it(
    'runs a two-kill drill to one channel message with the verdict and describe, then deletes the pod',
    async () => {
      const since = rig.kube.requests.length;

      const ack = await rig.command('mem-nginx 200Mi');
      expect(ack.status).toBe(200);

      const summary = await waitForSummary(rig.slack, 'mem-nginx');
      const text = visibleText(summary) + rig.slack.files.map((file) => file.content).join('\n');
      expect(text).toMatch(/Reason:\s+OOMKilled/);
      expect(text).toMatch(/Restart Count:\s+2/);
      expect(text).toContain('200Mi');
      expect(text).toMatch(/QoS Class:\s+Guaranteed/);
      expect(text).toContain('Events:');
      const messages = rig.slack
        .channelMessages(DEFAULT_CHANNEL)
        .filter((message) => JSON.stringify(message.history).includes('mem-nginx'));
      expect(messages).toHaveLength(1);
      expect(podCreatesSince(rig.kube, since)).toBe(1);
      await waitFor('the drill pod to be deleted', () => podsNamed(rig.kube, 'mem-nginx') === 0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'reports a PodSecurity rejection in plain words and leaves nothing behind',
    async () => {
      await rig.command(`psa-drill 200Mi --namespace ${BASELINE_NAMESPACE}`);

      const summary = await waitForSummary(rig.slack, 'psa-drill');
      expect(visibleText(summary)).toMatch(/PodSecurity|Pod Security/);
      expect(rig.kube.pods(BASELINE_NAMESPACE)).toHaveLength(0);

      // A permanent failure: the job failed after one attempt and was not retried.
      const job = await rig.job(drillIdOf(summary));
      expect(job).toMatchObject({ state: 'failed', attemptsMade: 1 });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'retries a drill after the API server answers 503, and completes it',
    async () => {
      rig.kube.faults.failNext(1, 503);
      await rig.command('flaky-api 200Mi');

      const summary = await waitForSummary(rig.slack, 'flaky-api', 60_000);
      expect(visibleText(summary)).toMatch(/OOMKilled/);
      expect(rig.worker.output()).toMatch(/drill attempt failed; retrying/);
      const job = await rig.job(drillIdOf(summary));
      expect(job?.state).toBe('completed');
      expect(job?.attemptsMade).toBeGreaterThanOrEqual(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stops a drill from its Stop button, deletes the pod and names who stopped it',
    async () => {
      await rig.command('slow-button 200Mi --kills 5');
      const running = await waitForText(rig.slack, 'slow-button', /running|OOM kill|scheduled/i);

      const click = await rig.clickStop(drillIdOf(running));
      expect(click.status).toBe(200);

      const summary = await waitForSummary(rig.slack, 'slow-button');
      expect(visibleText(summary)).toContain(`<@${DEFAULT_USER}>`);
      expect(visibleText(summary)).toMatch(/stopped/i);
      await waitFor(
        'the stopped pod to be deleted',
        () => podsNamed(rig.kube, 'slow-button') === 0,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stops a drill with /oomtest stop',
    async () => {
      await rig.command('slow-command 200Mi --kills 5');
      await waitForText(rig.slack, 'slow-command', /running|OOM kill|scheduled/i);

      await rig.command('stop slow-command');

      const summary = await waitForSummary(rig.slack, 'slow-command');
      expect(visibleText(summary)).toMatch(/stopped/i);
      await waitFor(
        'the stopped pod to be deleted',
        () => podsNamed(rig.kube, 'slow-command') === 0,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'still delivers the summary when Slack answers 429 to postMessage and update',
    async () => {
      rig.slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 1 });
      rig.slack.failNext('chat.update', { status: 429, retryAfterSeconds: 1 }, 3);

      await rig.command('rate-limited 200Mi');

      const summary = await waitForSummary(rig.slack, 'rate-limited', 60_000);
      expect(visibleText(summary)).toMatch(/OOM/);
      expect(rig.slack.calls.filter((call) => call.status === 429).length).toBeGreaterThanOrEqual(
        2,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives exactly one summary and no second pod when the worker is killed after the first OOM kill',
    async () => {
      const since = rig.kube.requests.length;
      // The fake scales activeDeadlineSeconds by its time scale too: a long --timeout keeps
      // the pod's deadline beyond the ~20 s it takes BullMQ to hand the drill on.
      await rig.command('slow-crash 200Mi --timeout 1h');
      const killed = await waitForText(rig.slack, 'slow-crash', /OOM kill 1/);

      const crashed = rig.worker;
      await crashed.kill();
      const successor = await rig.startWorker();

      const summary = await waitForSummary(rig.slack, 'slow-crash', 60_000);
      expect(visibleText(summary)).toMatch(/OOMKilled/);
      expect(podCreatesSince(rig.kube, since)).toBe(1);
      await waitFor('the pod to be deleted', () => podsNamed(rig.kube, 'slow-crash') === 0);

      // Exactly one summary: the final version appears once, and no thread is posted twice.
      const message = drillMessage(rig.slack, 'slow-crash')!;
      const finals = message.history.filter(
        (version) => !JSON.stringify(version.blocks).includes('oomtest_stop'),
      );
      expect(finals).toHaveLength(1);
      expect(drillIdOf(killed)).toBe(drillIdOf(message));

      // The crashed worker never finished the drill; its successor adopted the pod.
      const drillId = drillIdOf(message);
      const finishedBy = (proc: typeof crashed) =>
        proc.logs().filter((line) => line.drillId === drillId && line.msg === 'drill finished');
      expect(finishedBy(crashed)).toHaveLength(0);
      await waitFor('the audit line', () => finishedBy(successor).length > 0);
      expect(finishedBy(successor)).toHaveLength(1);
      expect(successor.output()).toMatch(/adopting the drill pod/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'hands a running drill back on SIGTERM, and the next worker finishes it with one summary',
    async () => {
      const since = rig.kube.requests.length;
      await rig.command('slow-handback 200Mi --kills 3 --timeout 1h');
      await waitForText(rig.slack, 'slow-handback', /OOM kill 1/);

      const leaving = rig.worker;
      await leaving.stop();
      expect(leaving.output()).toMatch(/handed 1 running drill\(s\) back to the queue/);
      expect(leaving.child.exitCode).toBe(0);
      expect(podsNamed(rig.kube, 'slow-handback')).toBe(1);

      const next = await rig.startWorker();
      const summary = await waitForSummary(rig.slack, 'slow-handback', 60_000);
      expect(visibleText(summary)).toMatch(/OOMKilled/);
      expect(next.output()).toMatch(/adopting the drill pod/);
      expect(podCreatesSince(rig.kube, since)).toBe(1);
      await waitFor('the pod to be deleted', () => podsNamed(rig.kube, 'slow-handback') === 0);
    },
    TEST_TIMEOUT_MS,
  );

  it('completes a drill across a Redis restart', async () => {
    await rig.command('slow-redis 200Mi');
    await waitForText(rig.slack, 'slow-redis', /running|OOM kill|scheduled/i);

    await rig.redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await rig.redis.start();

    const summary = await waitForSummary(rig.slack, 'slow-redis', 60_000);
    expect(rig.worker.output()).toContain('Redis unreachable');
    expect(visibleText(summary)).toMatch(/OOMKilled/);
    await waitFor('the pod to be deleted', () => podsNamed(rig.kube, 'slow-redis') === 0);
  });
});
