import { Writable } from 'node:stream';
import { ErrorCode } from '@slack/web-api';
import { createSlackClient, scrubSecrets } from '../../src/slack/client.js';
import { createLogger } from '../../src/log.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';

let slack: FakeSlack;

beforeAll(async () => {
  slack = await startFakeSlack();
});

afterAll(async () => {
  await slack.stop();
});

beforeEach(() => slack.reset());

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines: () => chunks.join('') };
}

test('calls go to the configured API URL with the bot token', async () => {
  const { logger } = capturedLogger();
  const client = createSlackClient({ token: slack.token, apiUrl: slack.url, logger });

  const result = await client.auth.test();

  expect(result.ok).toBe(true);
  expect(slack.callsTo('auth.test')).toHaveLength(1);
});

test('a 429 is rejected at once with its Retry-After instead of being waited out', async () => {
  const { logger } = capturedLogger();
  const client = createSlackClient({ token: slack.token, apiUrl: slack.url, logger });
  // An hour: a client that waited it out would hang this test until jest gives up.
  slack.failNext('chat.update', { status: 429, retryAfterSeconds: 3_600 });

  await expect(client.chat.update({ channel: 'C1', ts: '1.1', text: 'x' })).rejects.toMatchObject({
    code: ErrorCode.RateLimitedError,
    retryAfter: 3_600,
  });
  expect(slack.callsTo('chat.update')).toHaveLength(1);
});

test('a 500 is retried and the call then succeeds', async () => {
  const { logger } = capturedLogger();
  const client = createSlackClient({ token: slack.token, apiUrl: slack.url, logger });
  slack.failNext('chat.postMessage', { status: 500 });

  const posted = await client.chat.postMessage({ channel: 'C1', text: 'hello' });

  expect(posted.ok).toBe(true);
  expect(slack.callsTo('chat.postMessage').map((call) => call.status)).toEqual([500, 200]);
});

test('persistent 5xx gives up after the configured retries', async () => {
  const { logger } = capturedLogger();
  const client = createSlackClient({ token: slack.token, apiUrl: slack.url, logger, retries: 1 });
  slack.failNext('chat.postMessage', { status: 503 }, 5);

  await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
    code: ErrorCode.HTTPError,
  });
  expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
});

test('the token never reaches the logs, even at debug level', async () => {
  const { logger, lines } = capturedLogger();
  const client = createSlackClient({ token: slack.token, apiUrl: slack.url, logger });
  slack.failNext('chat.postMessage', { status: 500 });

  await client.chat.postMessage({ channel: 'C1', text: 'hello', token: slack.token });

  expect(lines()).toContain('slack: ');
  expect(lines()).not.toContain(slack.token);
});

test('scrubSecrets removes Slack tokens and bearer credentials from free text', () => {
  const text = 'token xoxb-1-2-abc and xapp-1-A1-xyz, header Bearer xoxp-9 "Bearer abc.def"';

  expect(scrubSecrets(text)).toBe(
    'token [redacted] and [redacted], header [redacted] "[redacted]"',
  );
});
