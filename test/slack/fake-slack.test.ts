// The fake Slack Web API must answer the real WebClient the way Slack does; these tests
// drive it through WebClient itself so the two cannot drift apart.
import { WebClient, ErrorCode } from '@slack/web-api';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';

let slack: FakeSlack;
let client: WebClient;

beforeAll(async () => {
  slack = await startFakeSlack();
});

afterAll(async () => {
  await slack.stop();
});

beforeEach(() => {
  slack.reset();
  client = new WebClient(slack.token, {
    slackApiUrl: slack.url,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
});

test('auth.test answers with the bot identity when the token is right', async () => {
  const result = await client.auth.test();

  expect(result.ok).toBe(true);
  expect(result.user_id).toMatch(/^U/);
});

test('a wrong bearer token gets invalid_auth and no token gets not_authed', async () => {
  const wrong = new WebClient('xoxb-wrong', {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
  });
  const none = new WebClient(undefined, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });

  await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  await expect(none.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
});

test('chat.update replaces the stored message and keeps its history', async () => {
  const posted = await client.chat.postMessage({ channel: 'C1', text: 'queued' });
  await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'running' });
  await client.chat.update({
    channel: 'C1',
    ts: posted.ts!,
    text: 'done',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*done*' } }],
  });

  const stored = slack.messages.get(posted.ts!);
  expect(stored?.text).toBe('done');
  expect(stored?.blocks).toHaveLength(1);
  expect(stored?.history.map((version) => version.text)).toEqual(['queued', 'running', 'done']);
  expect(slack.channelMessages('C1')).toHaveLength(1);
});

test('thread replies are kept under their parent and an unknown parent is refused', async () => {
  const parent = await client.chat.postMessage({ channel: 'C1', text: 'parent' });
  await client.chat.postMessage({ channel: 'C1', text: 'reply', thread_ts: parent.ts! });

  expect(slack.threadReplies(parent.ts!).map((m) => m.text)).toEqual(['reply']);
  await expect(
    client.chat.postMessage({ channel: 'C1', text: 'x', thread_ts: '1.000001' }),
  ).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
});

test('blocks beyond Slack limits are refused with invalid_blocks', async () => {
  const tooLong = { type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3_001) } };
  const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));

  await expect(
    client.chat.postMessage({ channel: 'C1', text: 't', blocks: [tooLong] }),
  ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
  await expect(
    client.chat.postMessage({ channel: 'C1', text: 't', blocks: tooMany }),
  ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
});

test('failNext 429 answers with Retry-After and the next call succeeds', async () => {
  slack.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 7 });

  await expect(client.chat.postMessage({ channel: 'C1', text: 'a' })).rejects.toMatchObject({
    code: ErrorCode.RateLimitedError,
    retryAfter: 7,
  });
  await expect(client.chat.postMessage({ channel: 'C1', text: 'b' })).resolves.toMatchObject({
    ok: true,
  });
  expect(slack.callsTo('chat.postMessage').map((call) => call.status)).toEqual([429, 200]);
});

test('failNext 500 gives an HTTP error and ok:false gives the Slack error code', async () => {
  slack.failNext('chat.update', { status: 500 });
  slack.failNext('chat.postMessage', { ok: false, error: 'channel_not_found' });

  await expect(client.chat.update({ channel: 'C1', ts: '1.1', text: 'x' })).rejects.toMatchObject({
    code: ErrorCode.HTTPError,
    statusCode: 500,
  });
  await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
    data: { error: 'channel_not_found' },
  });
});

test('files.uploadV2 stores the content and shares it in the thread', async () => {
  const parent = await client.chat.postMessage({ channel: 'C1', text: 'parent' });

  await client.files.uploadV2({
    channel_id: 'C1',
    thread_ts: parent.ts!,
    filename: 'describe.txt',
    title: 'kubectl describe pod mem-nginx',
    content: 'Name: mem-nginx\n',
  });

  expect(slack.files).toEqual([
    expect.objectContaining({
      filename: 'describe.txt',
      title: 'kubectl describe pod mem-nginx',
      content: 'Name: mem-nginx\n',
      channel: 'C1',
      threadTs: parent.ts,
      completed: true,
    }),
  ]);
  expect(slack.calls.map((call) => call.method)).toEqual([
    'chat.postMessage',
    'files.getUploadURLExternal',
    'upload',
    'files.completeUploadExternal',
  ]);
});

test('response_url posts are recorded against the URL handed out', async () => {
  const url = slack.responseUrl();

  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'queue unavailable', response_type: 'ephemeral' }),
  });

  expect(answer.status).toBe(200);
  expect(slack.responsesTo(url)).toEqual([
    expect.objectContaining({ text: 'queue unavailable', responseType: 'ephemeral' }),
  ]);
  expect(slack.responsesTo(slack.responseUrl())).toEqual([]);
});

test('waitForCall resolves on a call that arrives later', async () => {
  const waiting = slack.waitForCall((call) => call.method === 'chat.postEphemeral');

  await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'hi' });

  await expect(waiting).resolves.toMatchObject({ method: 'chat.postEphemeral', status: 200 });
  expect(slack.ephemerals).toEqual([expect.objectContaining({ user: 'U1', text: 'hi' })]);
});
