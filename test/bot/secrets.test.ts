// Secrets never reach the logs, at any level: the bot token, the signing secret, Slack's
// legacy verification token and response_urls (usable by anyone for 30 minutes).
import { STOP_ACTION_ID } from '../../src/slack/render.js';
import {
  slashCommandBody,
  blockActionsBody,
  postSigned,
  TEST_SIGNING_SECRET,
} from '../support/slack-signing.js';
import { freePort } from '../support/processes.js';
import { startHarness, auditLine, type BotHarness } from './harness.js';

const harnesses: BotHarness[] = [];

afterAll(async () => {
  for (const h of harnesses) await h.close();
});

async function traffic(h: BotHarness): Promise<string[]> {
  const urls: string[] = [];
  const send = async (body: (url: string) => string, command: string, options = {}) => {
    const url = h.slack.responseUrl();
    urls.push(url);
    const from = h.logs.lines.length;
    const answer = await postSigned(h.eventsUrl, body(url), options);
    if (answer.status === 200) await h.logs.waitFor(auditLine(command), from);
  };

  await send((url) => slashCommandBody({ text: 'secret-pod 200Mi', responseUrl: url }), 'drill');
  await send((url) => slashCommandBody({ text: 'secret-pod 9Gi', responseUrl: url }), 'drill');
  await send((url) => slashCommandBody({ text: 'status', responseUrl: url }), 'status');
  await send((url) => slashCommandBody({ text: 'stop secret-pod', responseUrl: url }), 'stop');
  await send(
    (url) => blockActionsBody({ actionId: STOP_ACTION_ID, value: 'abc-123', responseUrl: url }),
    'stop',
  );
  await send((url) => slashCommandBody({ text: 'x 1Mi', responseUrl: url }), 'drill', {
    secret: 'wrong',
  });
  return urls;
}

test('no secret appears in debug-level logs of accepted, refused, failed and forged requests', async () => {
  const up = await startHarness({ logLevel: 'trace' });
  harnesses.push(up);
  const down = await startHarness({
    logLevel: 'trace',
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
  });
  harnesses.push(down);
  up.slack.failNext('chat.postMessage', { status: 500 });

  const urls = [...(await traffic(up)), ...(await traffic(down))];
  const logs = up.logs.text() + down.logs.text();

  expect(up.logs.lines.length).toBeGreaterThan(10);
  for (const secret of [up.slack.token, TEST_SIGNING_SECRET, 'legacyVerificationTok3n', ...urls]) {
    expect(logs).not.toContain(secret);
  }
  expect(logs).not.toMatch(/xox[a-z]-/);
});
