/**
 * `oomtest all` (what `npm start` runs): bot and worker in one process, one HTTP port.
 * Signed slash commands in, the fake Slack Web API and fake Kubernetes API out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKube, type FakeKube } from '../fake-kube/index.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { postSigned, slashCommandBody, TEST_SIGNING_SECRET } from '../support/slack-signing.js';
import {
  startOomtest,
  startPrivateRedis,
  waitFor,
  type OomtestProcess,
  type PrivateRedis,
} from '../support/processes.js';
import { podsNamed, visibleText, waitForSummary } from './support.js';

const TEST_TIMEOUT_MS = 90_000;

describe('oomtest all', () => {
  let dir: string;
  let redis: PrivateRedis;
  let slack: FakeSlack;
  let kube: FakeKube;
  let oomtest: OomtestProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oomtest-all-'));
    [redis, slack, kube] = await Promise.all([
      startPrivateRedis(),
      startFakeSlack(),
      startFakeKube({ timeScale: 0.01 }),
    ]);
    kube.writeKubeconfig(join(dir, 'kubeconfig'));
    oomtest = await startOomtest('all', {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      REDIS_URL: redis.url,
      KUBECONFIG: join(dir, 'kubeconfig'),
      OOMTEST_SHUTDOWN_GRACE: '2s',
    });
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await oomtest?.stop();
    await Promise.all([slack?.stop(), kube?.stop(), redis?.destroy()]);
    rmSync(dir, { recursive: true, force: true });
  }, TEST_TIMEOUT_MS);

  const url = (path: string): string => `http://127.0.0.1:${oomtest.port}${path}`;

  it(
    'runs a drill from command to summary in one process and deletes the pod',
    async () => {
      const ack = await postSigned(url('/slack/events'), slashCommandBody({ text: 'solo 128Mi' }));
      expect(ack.status).toBe(200);

      const summary = await waitForSummary(slack, 'solo');
      expect(visibleText(summary)).toMatch(/OOMKilled 2 times/);
      await waitFor('the drill pod to be deleted', () => podsNamed(kube, 'solo') === 0);
    },
    TEST_TIMEOUT_MS,
  );

  it('is ready only when both Redis and Kubernetes answer, and says which is not', async () => {
    expect((await fetch(url('/readyz'))).status).toBe(200);

    kube.faults.failNext(5, 500);
    const response = await fetch(url('/readyz'));

    expect(response.status).toBe(503);
    expect(await response.text()).toContain('kubernetes');
  });

  it('serves the bot and the worker metrics from one registry', async () => {
    const text = await (await fetch(url('/metrics'))).text();

    expect(text).toMatch(/oomtest_commands_total\{command="drill",result="accepted"\} 1/);
    expect(text).toMatch(/oomtest_drills_total\{status="done"\} 1/);
  });
});
