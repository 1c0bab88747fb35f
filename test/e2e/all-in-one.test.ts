/**
 * `oomtest all` (what `npm start` runs): bot and worker in one process, one HTTP port.
 * Signed slash commands in, the fake Slack Web API and fake Kubernetes API out.
 */
import { postSigned, slashCommandBody } from '../support/slack-signing.js';
import { startOomtest, waitFor, type OomtestProcess } from '../support/processes.js';
import {
  podsNamed,
  startBoundaries,
  visibleText,
  waitForSummary,
  type Boundaries,
} from './support.js';

const TEST_TIMEOUT_MS = 90_000;

describe('oomtest all', () => {
  let boundaries: Boundaries;
  let oomtest: OomtestProcess;

  beforeAll(async () => {
    boundaries = await startBoundaries();
    oomtest = await startOomtest('all', boundaries.env);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await oomtest?.stop();
    await boundaries?.stop();
  }, TEST_TIMEOUT_MS);

  const url = (path: string): string => `http://127.0.0.1:${oomtest.port}${path}`;

  it(
    'runs a drill from command to summary in one process and deletes the pod',
    async () => {
      const ack = await postSigned(url('/slack/events'), slashCommandBody({ text: 'solo 128Mi' }));
      expect(ack.status).toBe(200);

      const summary = await waitForSummary(boundaries.slack, 'solo');
      expect(visibleText(summary)).toMatch(/OOMKilled 2 times/);
      await waitFor('the drill pod to be deleted', () => podsNamed(boundaries.kube, 'solo') === 0);
    },
    TEST_TIMEOUT_MS,
  );

  it('is ready only when both Redis and Kubernetes answer, and says which is not', async () => {
    expect((await fetch(url('/readyz'))).status).toBe(200);

    boundaries.kube.faults.failNext(5, 500);
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
