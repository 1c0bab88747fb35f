import { createSlackClient } from '../../src/slack/client.js';
import { silentLogger } from '../../src/log.js';
import type { DrillProgress } from '../../src/drill/types.js';
import { DrillReporter } from '../../src/worker/reporter.js';
import { SlackPacer, SlackPacers } from '../../src/worker/slack-pacer.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { ctx, describeText, kill, outcome } from '../slack/fixtures.js';

const CHANNEL = 'C0REPORTER';

function progress(n: number): DrillProgress {
  return {
    drillId: ctx.drillId,
    phase: 'running',
    message: `filling memory, step ${n}`,
    at: new Date(1_700_000_000_000 + n).toISOString(),
    kills: [],
    restartCount: 0,
  };
}

describe('DrillReporter against the fake Slack Web API', () => {
  let slack: FakeSlack;

  beforeAll(async () => {
    slack = await startFakeSlack();
  });

  afterAll(async () => {
    await slack.stop();
  });

  beforeEach(() => slack.reset());

  /** Posts the drill's message as the bot does and returns a reporter for it. */
  async function reporterFor(pacers = new SlackPacers({ maxPauseMs: 50, callsPerMinute: 6_000 })) {
    const client = createSlackClient({
      token: slack.token,
      apiUrl: slack.url,
      logger: silentLogger(),
    });
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'queued' });
    const reporter = new DrillReporter({
      slack: client,
      pacers,
      ctx,
      channel: CHANNEL,
      messageTs: posted.ts!,
      logger: silentLogger(),
      minUpdateIntervalMs: 20,
    });
    return { reporter, ts: posted.ts! };
  }

  function message(ts: string) {
    const stored = slack.messages.get(ts);
    if (stored === undefined) throw new Error(`no message ${ts}`);
    return stored;
  }

  it('coalesces a burst of progress into few updates and always ends on the final state', async () => {
    const { reporter, ts } = await reporterFor();

    for (let n = 1; n <= 50; n += 1) reporter.progress(progress(n));
    await reporter.finish(outcome());

    expect(slack.callsTo('chat.update').length).toBeLessThanOrEqual(3);
    expect(message(ts).text).toContain(outcome().verdict);
  });

  it('sends the latest state, not the first, when progress keeps arriving', async () => {
    const { reporter, ts } = await reporterFor();

    reporter.progress(progress(1));
    for (let n = 2; n <= 10; n += 1) reporter.progress(progress(n));
    await slack.waitForCall((call) => call.method === 'chat.update' && call.status === 200);
    await slack.waitForCall(
      (call) => call.method === 'chat.update' && String(call.body.blocks).includes('step 10'),
    );

    const texts = message(ts).history.map((version) => JSON.stringify(version.blocks));
    expect(texts.some((text) => text.includes('step 5'))).toBe(false);
    await reporter.finish(outcome());
  });

  it('posts the details in the thread and uploads a describe text too long for a message', async () => {
    const { reporter, ts } = await reporterFor();
    const long = outcome({
      describe: describeText(60),
      kills: [kill(1), kill(2)],
      logTail: 'oomtest: start',
    });

    await reporter.finish(long);

    // One thread reply carries every detail part: the message's own post plus one.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
    expect(slack.threadReplies(ts).length).toBeGreaterThan(0);
    expect(slack.files).toHaveLength(1);
    expect(slack.files[0]).toMatchObject({ channel: CHANNEL, threadTs: ts, completed: true });
    expect(slack.files[0]!.content).toBe(long.describe);
  });

  it('still delivers the summary when chat.update answers 429 with Retry-After', async () => {
    const { reporter, ts } = await reporterFor();
    slack.failNext('chat.update', { status: 429, retryAfterSeconds: 1 }, 3);

    reporter.progress(progress(1));
    await reporter.finish(outcome());

    const updates = slack.callsTo('chat.update');
    expect(updates.filter((call) => call.status === 429)).toHaveLength(3);
    expect(updates.at(-1)?.status).toBe(200);
    expect(message(ts).text).toContain(outcome().verdict);
  });

  it('still delivers the summary when chat.update answers 500', async () => {
    const { reporter, ts } = await reporterFor();
    // More than the WebClient's own retries, so the reporter's retry is what saves it.
    slack.failNext('chat.update', { status: 500 }, 4);

    await reporter.finish(outcome());

    expect(slack.callsTo('chat.update').filter((call) => call.status === 500)).toHaveLength(4);
    expect(message(ts).text).toContain(outcome().verdict);
  });

  it('gives up with a permanent slack.api error when Slack refuses the summary for good', async () => {
    const { reporter } = await reporterFor();
    slack.failNext('chat.update', { ok: false, error: 'channel_not_found' });

    await expect(reporter.finish(outcome())).rejects.toMatchObject({
      code: 'slack.api',
      message: expect.stringContaining('channel_not_found'),
      transient: false,
    });
  });

  it('posts the summary as a new message, with its thread, when the drill message is gone', async () => {
    const { reporter, ts } = await reporterFor();
    slack.failNext('chat.update', { ok: false, error: 'message_not_found' });

    await reporter.finish(outcome({ kills: [kill(1), kill(2)] }));

    const summary = slack
      .channelMessages(CHANNEL)
      .find((message) => message.ts !== ts && message.text.includes(outcome().verdict));
    expect(summary).toBeDefined();
    expect(slack.threadReplies(summary!.ts)).toHaveLength(1);
  });
});

describe('SlackPacer', () => {
  it('serves final calls before progress calls waiting for the same tokens', async () => {
    const pacer = new SlackPacer({ burst: 1, callsPerMinute: 6_000 });
    await pacer.acquire('progress');
    const order: string[] = [];

    const waits = [
      pacer.acquire('progress').then(() => order.push('progress')),
      pacer.acquire('final').then(() => order.push('final')),
    ];
    await Promise.all(waits);

    expect(order).toEqual(['final', 'progress']);
  });

  it('drops a cancelled wait without spending a token on it', async () => {
    const pacer = new SlackPacer({ burst: 1, callsPerMinute: 6_000 });
    await pacer.acquire('progress');
    const cancel = new AbortController();

    const progress = pacer.acquire('progress', cancel.signal);
    cancel.abort();

    expect(await progress).toBe(false);
    expect(pacer.queued).toBe(0);
    expect(await pacer.acquire('final')).toBe(true);
  });

  it('caps a long Retry-After at maxPauseMs', () => {
    const pacer = new SlackPacer({ maxPauseMs: 30_000 });
    expect(pacer.pause(1_800)).toBe(30_000);
    expect(pacer.pause(2)).toBe(2_000);
  });
});
