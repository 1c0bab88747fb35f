// The real Bolt receiver on a real port, real Redis, the fake Slack Web API; requests are
// signed exactly as Slack signs them.
import { parseCommand } from '../../src/request/parse.js';
import {
  slashCommandBody,
  postSigned,
  DEFAULT_CHANNEL,
  DEFAULT_USER,
  TEST_SIGNING_SECRET,
} from '../support/slack-signing.js';
import { startHarness, auditLine, listenForStops, type BotHarness } from './harness.js';

let h: BotHarness;

beforeAll(async () => {
  h = await startHarness({
    env: {
      OOMTEST_ALLOWED_NAMESPACES: 'default,game-day',
      OOMTEST_ALLOWED_CLUSTERS: 'staging',
    },
  });
});

afterAll(async () => {
  await h.close();
});

/**
 * Sends `/oomtest <text>`; returns the acknowledgement, the response_url used, and a way to
 * wait for the command's own audit line (lines logged before it was sent are ignored).
 */
async function command(text: string, fields: { userId?: string; channelId?: string } = {}) {
  const responseUrl = h.slack.responseUrl();
  const from = h.logs.lines.length;
  const answer = await postSigned(h.eventsUrl, slashCommandBody({ text, responseUrl, ...fields }));
  const audited = (name: string, extra: Record<string, unknown> = {}) =>
    h.logs.waitFor(auditLine(name, extra), from);
  return { ...answer, responseUrl, audited };
}

describe('a valid drill command', () => {
  test('is acknowledged with the ephemeral "queued" text, posted to the channel and queued', async () => {
    const answer = await command('mem-nginx 200Mi');

    expect(answer.status).toBe(200);
    expect(answer.json?.response_type).toBe('ephemeral');
    expect(answer.json?.text).toMatch(
      /^Drill `[a-z0-9-]+` queued: `default\/mem-nginx` at 200Mi, 2 OOM kills/,
    );
    const drillId = /Drill `([a-z0-9-]+)`/.exec(answer.json?.text ?? '')![1]!;

    const line = await answer.audited('drill', { drillId });
    expect(line).toMatchObject({
      result: 'accepted',
      user: DEFAULT_USER,
      channel: DEFAULT_CHANNEL,
      pod: 'mem-nginx',
      namespace: 'default',
    });

    const active = await h.queue.findActive({ namespace: 'default', pod: 'mem-nginx' });
    const [posted] = h.slack.channelMessages(DEFAULT_CHANNEL);
    expect(active).toMatchObject({
      v: 1,
      drillId,
      requestedBy: DEFAULT_USER,
      channel: DEFAULT_CHANNEL,
      messageTs: posted!.ts,
      responseUrl: answer.responseUrl,
    });
    expect(active?.request).toMatchObject({
      memoryLimit: '200Mi',
      memoryLimitBytes: 209_715_200,
      kills: 2,
    });
    expect(posted!.text).toContain('default/mem-nginx');
    expect(JSON.stringify(posted!.blocks)).toContain(`"value":"${drillId}"`);
  });

  test('a second drill for the same pod is refused, naming the running one', async () => {
    const first = await command('busy-pod 100Mi');
    const firstId = /Drill `([a-z0-9-]+)`/.exec(first.json?.text ?? '')![1]!;
    await first.audited('drill', { drillId: firstId, result: 'accepted' });

    const second = await command('busy-pod 300Mi --kills 3');
    const secondId = /Drill `([a-z0-9-]+)`/.exec(second.json?.text ?? '')![1]!;
    await second.audited('drill', { drillId: secondId, code: 'drill.busy' });

    const [reply] = h.slack.responsesTo(second.responseUrl);
    expect(reply?.text).toContain(
      `a drill for \`default/busy-pod\` is already running: \`${firstId}\``,
    );
    expect(reply?.responseType).toBe('ephemeral');
    const posted = h.slack
      .channelMessages(DEFAULT_CHANNEL)
      .filter((m) => m.text.includes('busy-pod'));
    expect(posted).toHaveLength(1);
  });
});

describe('signature checks', () => {
  test('a bad signature is rejected with 401 and nothing is posted', async () => {
    const before = h.slack.calls.length;
    const body = slashCommandBody({ text: 'sig-pod 200Mi' });

    const from = h.logs.lines.length;
    const answer = await postSigned(h.eventsUrl, body, { secret: 'not-the-signing-secret' });

    expect(answer.status).toBe(401);
    expect(h.slack.calls.length).toBe(before);
    const line = await h.logs.waitFor(auditLine('request', { result: 'refused' }), from);
    expect(line).toMatchObject({ code: 'auth.denied' });
    expect(JSON.stringify(line)).not.toContain('sig-pod');
  });

  test('a body changed after signing is rejected with 401', async () => {
    const body = slashCommandBody({ text: 'sig-pod 200Mi' });
    const headers = (await import('../support/slack-signing.js')).signatureHeaders(body);

    const response = await fetch(h.eventsUrl, {
      method: 'POST',
      headers,
      body: body.replace('200Mi', '900Mi'),
    });

    expect(response.status).toBe(401);
  });

  test('a timestamp more than 5 minutes old is rejected even with a valid signature', async () => {
    const sixMinutesAgo = Math.floor(Date.now() / 1_000) - 6 * 60;

    const answer = await postSigned(h.eventsUrl, slashCommandBody({ text: 'old-pod 200Mi' }), {
      secret: TEST_SIGNING_SECRET,
      timestampSeconds: sixMinutesAgo,
    });

    expect(answer.status).toBe(401);
  });
});

describe('bad input', () => {
  const table: Array<[string, string, RegExp]> = [
    ['bare number as the limit', 'bad-pod 200', /unit|200/i],
    ['zero limit', 'bad-pod 0Mi', /zero|above/i],
    ['negative limit', 'bad-pod -5Mi', /negative|-5Mi/i],
    ['invalid pod name', 'Mem_Nginx 200Mi', /pod name/i],
    ['unknown flag', 'bad-pod 200Mi --frobnicate', /frobnicate/],
    ['too many kills', 'bad-pod 200Mi --kills 11', /kills/],
    ['unknown method', 'bad-pod 200Mi --method swap', /method|swap/],
    ['missing limit', 'bad-pod', /limit/i],
    ['above OOMTEST_MAX_MEMORY', 'bad-pod 2Gi', /1Gi|max/i],
    ['status with arguments', 'status now', /status/],
  ];

  test.each(table)(
    '%s: the ack names the problem and nothing is queued or posted',
    async (_name, text, pattern) => {
      const expected = errorOf(() => parseCommand(text, h.config.defaults));
      const name = text.startsWith('status') ? 'status' : 'drill';
      const postsBefore = h.slack.callsTo('chat.postMessage').length;

      const answer = await command(text);
      await answer.audited(name, { result: 'refused', code: expected.code });

      expect(answer.status).toBe(200);
      expect(answer.json?.response_type).toBe('ephemeral');
      expect(answer.json?.text).toContain(expected.message);
      expect(answer.json?.text).toMatch(pattern);
      expect(answer.json?.text).toContain('Nothing was queued');
      expect(h.slack.callsTo('chat.postMessage').length).toBe(postsBefore);
      expect(await h.queue.findActive({ namespace: 'default', pod: 'bad-pod' })).toBeUndefined();
    },
  );
});

function errorOf(run: () => unknown): { message: string; code: string } {
  try {
    run();
  } catch (error) {
    return error as { message: string; code: string };
  }
  throw new Error('expected the parser to refuse this input');
}

describe('authorisation', () => {
  test('a namespace outside OOMTEST_ALLOWED_NAMESPACES is refused by name', async () => {
    const answer = await command('ns-pod 200Mi --namespace kube-system');

    expect(answer.json?.text).toContain(
      'namespace "kube-system" is not allowed: use one of "default", "game-day"',
    );
    await answer.audited('drill', { result: 'refused', code: 'auth.denied' });
    expect(await h.queue.findActive({ namespace: 'kube-system', pod: 'ns-pod' })).toBeUndefined();
  });

  test('a cluster outside OOMTEST_ALLOWED_CLUSTERS is refused and a listed one accepted', async () => {
    const refused = await command('cl-pod 200Mi --cluster prod');
    const accepted = await command('cl-pod 200Mi --cluster staging');

    expect(refused.json?.text).toContain('cluster "prod" is not allowed: use "staging"');
    expect(accepted.json?.text).toContain('queued');
  });

  test('a user or channel outside the allowlists is refused', async () => {
    const strict = await startHarness({
      slack: h.slack,
      env: { OOMTEST_ALLOWED_USERS: 'U0ALLOWED1', OOMTEST_ALLOWED_CHANNELS: 'C0ALLOWED1' },
    });
    try {
      const send = (fields: { userId: string; channelId: string }) =>
        postSigned(
          strict.eventsUrl,
          slashCommandBody({
            text: 'auth-pod 200Mi',
            responseUrl: h.slack.responseUrl(),
            ...fields,
          }),
        );

      const user = await send({ userId: 'U0INTRUDER', channelId: 'C0ALLOWED1' });
      const channel = await send({ userId: 'U0ALLOWED1', channelId: 'C0ELSEWHER' });
      const both = await send({ userId: 'U0ALLOWED1', channelId: 'C0ALLOWED1' });

      expect(user.json?.text).toContain(
        'your Slack user id U0INTRUDER is not in OOMTEST_ALLOWED_USERS',
      );
      expect(channel.json?.text).toContain('not allowed in this channel (C0ELSEWHER');
      expect(both.json?.text).toContain('queued');
      await strict.logs.waitFor(auditLine('drill', { user: 'U0ALLOWED1', result: 'accepted' }));
      expect(strict.logs.lines.filter(auditLine('drill', { code: 'auth.denied' }))).toHaveLength(2);
    } finally {
      await strict.close();
    }
  });
});

describe('help, status and stop', () => {
  test('help (and an empty command) answers with the usage', async () => {
    const help = await command('help');
    const empty = await command('');

    expect(help.json?.text).toContain('/oomtest');
    expect(help.json?.text).toContain('mem-nginx 200Mi');
    expect(empty.json?.text).toBe(help.json?.text);
  });

  test('status lists the active drills through response_url', async () => {
    const started = await command('status-pod 128Mi');
    const drillId = /Drill `([a-z0-9-]+)`/.exec(started.json?.text ?? '')![1]!;
    await started.audited('drill', { drillId, result: 'accepted' });

    const status = await command('status');
    await status.audited('status', { result: 'accepted' });

    const [reply] = h.slack.responsesTo(status.responseUrl);
    expect(status.text).toBe('');
    expect(reply?.text).toContain('`default/status-pod` at 128Mi');
    expect(reply?.text).toContain(drillId);
  });

  test('`/oomtest stop <pod>` publishes a stop for the running drill', async () => {
    const stops = await listenForStops(h.prefix);
    try {
      const started = await command('stop-pod 128Mi');
      const drillId = /Drill `([a-z0-9-]+)`/.exec(started.json?.text ?? '')![1]!;
      await started.audited('drill', { drillId, result: 'accepted' });

      const stop = await command('stop stop-pod', { userId: 'U0STOPPER1' });

      await expect(stops.next()).resolves.toEqual({ drillId, by: 'U0STOPPER1' });
      await stop.audited('stop', { drillId, result: 'accepted' });
      expect(h.slack.responsesTo(stop.responseUrl)[0]?.text).toContain(
        `Stop requested for drill \`${drillId}\``,
      );
    } finally {
      stops.close();
    }
  });

  test('`/oomtest stop` for a pod with no drill says so and publishes nothing', async () => {
    const stop = await command('stop idle-pod');

    await stop.audited('stop', { pod: 'idle-pod', result: 'refused' });
    expect(h.slack.responsesTo(stop.responseUrl)[0]?.text).toContain(
      'No drill is running or queued for `default/idle-pod`',
    );
  });
});
