// Socket Mode (SLACK_APP_TOKEN set): the bot opens its socket through SLACK_API_URL,
// receives commands and clicks as envelopes, acknowledges on the socket, and keeps
// /healthz and /readyz on PORT.
import { STOP_ACTION_ID } from '../../src/slack/render.js';
import { slashCommandBody, blockActionsBody } from '../support/slack-signing.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { startHarness, auditLine, listenForStops, type BotHarness } from './harness.js';

let slack: FakeSlack;
let h: BotHarness;

beforeAll(async () => {
  slack = await startFakeSlack();
  h = await startHarness({ slack, env: { SLACK_APP_TOKEN: slack.appToken } });
});

afterAll(async () => {
  await h.close();
  await slack.stop();
});

function commandPayload(text: string): Record<string, string> {
  return Object.fromEntries(
    new URLSearchParams(slashCommandBody({ text, responseUrl: slack.responseUrl() })),
  );
}

function clickPayload(drillId: string): object {
  const form = new URLSearchParams(
    blockActionsBody({
      actionId: STOP_ACTION_ID,
      value: drillId,
      responseUrl: slack.responseUrl(),
    }),
  );
  return JSON.parse(form.get('payload')!) as object;
}

test('the socket is opened with the app-level token through SLACK_API_URL', () => {
  expect(slack.socketMode.connections()).toBe(1);
  expect(slack.callsTo('apps.connections.open')).toEqual([
    expect.objectContaining({ status: 200 }),
  ]);
});

test('a command envelope is acknowledged on the socket with the ephemeral text, then queued', async () => {
  const from = h.logs.lines.length;

  const ack = await slack.socketMode.send('slash_commands', commandPayload('socket-pod 200Mi'));

  expect(ack).toMatchObject({ response_type: 'ephemeral' });
  expect(String(ack?.text)).toMatch(/^Drill `[a-z0-9-]+` queued: `default\/socket-pod` at 200Mi/);
  await h.logs.waitFor(auditLine('drill', { pod: 'socket-pod', result: 'accepted' }), from);
  expect(await h.queue.findActive({ namespace: 'default', pod: 'socket-pod' })).toBeDefined();
});

test('a Stop click envelope publishes the stop', async () => {
  const stops = await listenForStops(h.prefix);
  try {
    const from = h.logs.lines.length;
    await slack.socketMode.send('slash_commands', commandPayload('socket-stop 200Mi'));
    const queued = await h.logs.waitFor(
      auditLine('drill', { pod: 'socket-stop', result: 'accepted' }),
      from,
    );

    await slack.socketMode.send('interactive', clickPayload(String(queued.drillId)));

    await expect(stops.next()).resolves.toMatchObject({ drillId: queued.drillId });
  } finally {
    stops.close();
  }
});

test('/healthz and /readyz answer on PORT; there is no HTTP events endpoint', async () => {
  const live = await fetch(`${h.baseUrl}/healthz`);
  const ready = await fetch(`${h.baseUrl}/readyz`);
  const events = await fetch(`${h.baseUrl}/slack/events`, { method: 'POST', body: 'x' });

  expect(live.status).toBe(200);
  expect(ready.status).toBe(200);
  expect(events.status).toBe(404);
});
