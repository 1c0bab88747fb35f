// GET /healthz, /readyz and /metrics on the bot's own port, beside POST /slack/events.
import { slashCommandBody, postSigned } from '../support/slack-signing.js';
import { startHarness, auditLine, type BotHarness } from './harness.js';

let h: BotHarness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

test('/healthz and /readyz answer 200 while Redis is reachable', async () => {
  const live = await fetch(`${h.baseUrl}/healthz`);
  const ready = await fetch(`${h.baseUrl}/readyz`);

  expect(live.status).toBe(200);
  expect(ready.status).toBe(200);
});

test('/metrics counts commands by result and records the ack time', async () => {
  const from = h.logs.lines.length;
  await postSigned(
    h.eventsUrl,
    slashCommandBody({ text: 'help', responseUrl: h.slack.responseUrl() }),
  );
  await h.logs.waitFor(auditLine('help'), from);

  const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();

  expect(metrics).toMatch(/oomtest_commands_total\{command="help",result="accepted"\} 1/);
  expect(metrics).toMatch(/oomtest_ack_seconds_count 1/);
});

test('other paths and methods are not served', async () => {
  const unknown = await fetch(`${h.baseUrl}/admin`);
  const getEvents = await fetch(h.eventsUrl);

  expect(unknown.status).toBe(404);
  expect(getEvents.status).toBe(404);
});
