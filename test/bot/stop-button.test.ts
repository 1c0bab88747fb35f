// The Stop button on a drill's channel message: a signed block_actions request, as Slack
// sends it when someone clicks, reaching the real receiver.
import { STOP_ACTION_ID } from '../../src/slack/render.js';
import { blockActionsBody, slashCommandBody, postSigned } from '../support/slack-signing.js';
import { Redis } from 'ioredis';
import { DrillKeys, QUEUE_NAME } from '../../src/queue/index.js';
import { startHarness, auditLine, listenForStops, REDIS_URL, type BotHarness } from './harness.js';

let h: BotHarness;

beforeAll(async () => {
  h = await startHarness({ env: { OOMTEST_ALLOWED_USERS: 'U0TESTUSR1,U0STOPPER1' } });
});

afterAll(async () => {
  await h.close();
});

async function startDrill(pod: string): Promise<string> {
  const from = h.logs.lines.length;
  const answer = await postSigned(
    h.eventsUrl,
    slashCommandBody({ text: `${pod} 128Mi`, responseUrl: h.slack.responseUrl() }),
  );
  const drillId = /Drill `([a-z0-9-]+)`/.exec(answer.json?.text ?? '')![1]!;
  await h.logs.waitFor(auditLine('drill', { drillId, result: 'accepted' }), from);
  return drillId;
}

async function click(drillId: string, userId: string) {
  const responseUrl = h.slack.responseUrl();
  const from = h.logs.lines.length;
  const answer = await postSigned(
    h.eventsUrl,
    blockActionsBody({ actionId: STOP_ACTION_ID, value: drillId, userId, responseUrl }),
  );
  const line = await h.logs.waitFor(auditLine('stop', { user: userId }), from);
  return { answer, line, replies: () => h.slack.responsesTo(responseUrl) };
}

/** The stop request kept in Redis for a drill, or null. */
async function storedStop(drillId: string): Promise<string | null> {
  const redis = new Redis(REDIS_URL);
  try {
    return await redis.get(new DrillKeys(h.prefix, QUEUE_NAME).stop(drillId));
  } finally {
    redis.disconnect();
  }
}

test('clicking Stop acknowledges at once and publishes the stop with who clicked', async () => {
  const stops = await listenForStops(h.prefix);
  try {
    const drillId = await startDrill('button-pod');

    const { answer, line, replies } = await click(drillId, 'U0STOPPER1');

    expect(answer.status).toBe(200);
    await expect(stops.next()).resolves.toEqual({ drillId, by: 'U0STOPPER1' });
    expect(line).toMatchObject({ result: 'accepted', drillId });
    expect(await storedStop(drillId)).toBe('U0STOPPER1');
    expect(replies()[0]).toMatchObject({ responseType: 'ephemeral', replaceOriginal: false });
    expect(replies()[0]?.text).toContain(`Stop requested for drill \`${drillId}\``);
  } finally {
    stops.close();
  }
});

test('a user outside OOMTEST_ALLOWED_USERS cannot stop a drill', async () => {
  const drillId = await startDrill('guarded-pod');

  const { answer, line, replies } = await click(drillId, 'U0INTRUDER');

  expect(answer.status).toBe(200);
  expect(line).toMatchObject({ result: 'refused', code: 'auth.denied', drillId });
  expect(replies()[0]?.text).toContain('U0INTRUDER is not in OOMTEST_ALLOWED_USERS');
  expect(await h.queue.findActive({ namespace: 'default', pod: 'guarded-pod' })).toMatchObject({
    drillId,
  });
  expect(await storedStop(drillId)).toBeNull();
});

test('a click with a forged button value is refused without touching Redis', async () => {
  const { line, replies } = await click('../../etc/passwd', 'U0TESTUSR1');

  expect(line).toMatchObject({ result: 'refused', code: 'request.invalid' });
  expect(replies()[0]?.text).toContain('the Stop button carried no valid drill id');
});
