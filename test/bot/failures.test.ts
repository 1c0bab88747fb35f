// What the user hears when Redis or Slack fails: an ephemeral reply that names the
// problem, and nothing queued or left looking queued.
import { slashCommandBody, postSigned, DEFAULT_CHANNEL } from '../support/slack-signing.js';
import { freePort, startPrivateRedis } from '../support/processes.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { startHarness, auditLine, type BotHarness } from './harness.js';

let slack: FakeSlack;

beforeAll(async () => {
  slack = await startFakeSlack();
});

afterAll(async () => {
  await slack.stop();
});

beforeEach(() => slack.reset());

async function send(h: BotHarness, text: string) {
  const responseUrl = slack.responseUrl();
  const from = h.logs.lines.length;
  const answer = await postSigned(h.eventsUrl, slashCommandBody({ text, responseUrl }));
  const command = text.split(' ')[0] === 'status' ? 'status' : 'drill';
  const line = await h.logs.waitFor(auditLine(command), from);
  return { answer, line, replies: () => slack.responsesTo(responseUrl) };
}

describe('Redis down (nothing listening on its port)', () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await startHarness({ slack, redisUrl: `redis://127.0.0.1:${await freePort()}` });
  });

  afterAll(async () => {
    await h.close();
  });

  test('a drill command hears "queue unavailable" and nothing is posted', async () => {
    const { answer, line, replies } = await send(h, 'down-pod 200Mi');

    expect(answer.status).toBe(200);
    expect(line).toMatchObject({ result: 'failed', code: 'queue.unavailable', pod: 'down-pod' });
    expect(replies()[0]?.text).toMatch(/^:warning: queue unavailable: .*Nothing was queued\.$/);
    expect(slack.callsTo('chat.postMessage')).toEqual([]);
  });

  test('status hears "queue unavailable" too', async () => {
    const { line, replies } = await send(h, 'status');

    expect(line).toMatchObject({ result: 'failed', code: 'queue.unavailable' });
    expect(replies()[0]?.text).toContain('queue unavailable');
  });

  test('/readyz answers 503 naming Redis while /healthz stays 200', async () => {
    const ready = await fetch(`${h.baseUrl}/readyz`);
    const live = await fetch(`${h.baseUrl}/healthz`);

    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('redis');
    expect(live.status).toBe(200);
  });
});

describe('Redis dies after the message is posted', () => {
  test('the channel message is turned into "not started" and the user hears why', async () => {
    const redis = await startPrivateRedis();
    const h = await startHarness({ slack, redisUrl: redis.url });
    // The real queue, with Redis stopped just before the job is added: the one moment
    // where a message already says "queued" and the job cannot be.
    const realEnqueue = h.queue.enqueue.bind(h.queue);
    h.queue.enqueue = async (data) => {
      await redis.stop();
      return realEnqueue(data);
    };
    try {
      const { line, replies } = await send(h, 'late-pod 200Mi');

      expect(line).toMatchObject({ result: 'failed', code: 'queue.unavailable' });
      expect(replies()[0]?.text).toContain('queue unavailable');
      const [message] = slack.channelMessages(DEFAULT_CHANNEL);
      expect(message?.updates).toBe(1);
      expect(message?.text).toContain('was not started: queue unavailable');
      expect(JSON.stringify(message?.blocks)).not.toContain('oomtest_stop');
    } finally {
      await h.close();
      await redis.stop();
    }
  });
});

describe('Slack refuses the channel message', () => {
  let h: BotHarness;

  beforeAll(async () => {
    h = await startHarness({ slack });
  });

  afterAll(async () => {
    await h.close();
  });

  test('channel_not_found: the user is told to invite the app and nothing is queued', async () => {
    slack.failNext('chat.postMessage', { ok: false, error: 'channel_not_found' });

    const { line, replies } = await send(h, 'lonely-pod 200Mi');

    expect(line).toMatchObject({ result: 'failed', code: 'slack.api' });
    expect(replies()[0]?.text).toContain(
      'I cannot post in this channel (channel_not_found): invite the app',
    );
    expect(await h.queue.findActive({ namespace: 'default', pod: 'lonely-pod' })).toBeUndefined();
  });

  test('a short 429 on the message is waited out and the drill is queued', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 1 });

    const { line, replies } = await send(h, 'patient-pod 200Mi');

    expect(line).toMatchObject({ result: 'accepted' });
    expect(replies()).toEqual([]);
    expect(slack.callsTo('chat.postMessage').map((call) => call.status)).toEqual([429, 200]);
    expect(await h.queue.findActive({ namespace: 'default', pod: 'patient-pod' })).toBeDefined();
  });

  test('a long 429 on the message: the user hears when to try again and nothing is queued', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 600 });

    const { line, replies } = await send(h, 'limited-pod 200Mi');

    expect(line).toMatchObject({ result: 'failed', code: 'slack.api' });
    expect(replies()[0]?.text).toContain('try again in 600 s');
    expect(await h.queue.findActive({ namespace: 'default', pod: 'limited-pod' })).toBeUndefined();
  });
});
