/**
 * Builds requests the way Slack sends them to an app's Request URL: slash commands and
 * block_actions interactions, form-encoded, signed with the app's signing secret.
 *
 * Signing (Slack's "verifying requests" scheme): basestring `v0:<timestamp>:<raw body>`,
 * HMAC-SHA256 with the signing secret, hex; headers `X-Slack-Request-Timestamp` (epoch
 * seconds) and `X-Slack-Signature: v0=<hex>`.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The signing secret tests give the bot. */
export const TEST_SIGNING_SECRET = 'test-signing-secret-8f14e45fceea167a5a36dedd4bea2543';

export interface SlashCommandFields {
  text: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  teamId?: string;
  responseUrl?: string;
  command?: string;
}

export interface BlockActionFields {
  actionId: string;
  value: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  messageTs?: string;
  responseUrl?: string;
}

export const DEFAULT_USER = 'U0TESTUSR1';
export const DEFAULT_CHANNEL = 'C0TESTCHN1';
const TEAM_ID = 'T0TESTTEAM';
/** Slack still sends the deprecated verification token; apps must not rely on it. */
const LEGACY_VERIFICATION_TOKEN = 'legacyVerificationTok3n';

/** The form-encoded body of a slash command, fields in the order Slack sends them. */
export function slashCommandBody(fields: SlashCommandFields): string {
  return new URLSearchParams({
    token: LEGACY_VERIFICATION_TOKEN,
    team_id: fields.teamId ?? TEAM_ID,
    team_domain: 'oomtest-tests',
    channel_id: fields.channelId ?? DEFAULT_CHANNEL,
    channel_name: fields.channelName ?? 'game-day',
    user_id: fields.userId ?? DEFAULT_USER,
    user_name: fields.userName ?? 'tester',
    command: fields.command ?? '/oomtest',
    text: fields.text,
    api_app_id: 'A0TESTAPP1',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl ?? 'https://hooks.slack.com/commands/T0TESTTEAM/1/none',
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
  }).toString();
}

/** The form-encoded body of a button click: `payload=` and the interaction as JSON. */
export function blockActionsBody(fields: BlockActionFields): string {
  const channelId = fields.channelId ?? DEFAULT_CHANNEL;
  const userId = fields.userId ?? DEFAULT_USER;
  const messageTs = fields.messageTs ?? '1700000000.000100';
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: fields.userName ?? 'tester', name: 'tester', team_id: TEAM_ID },
    api_app_id: 'A0TESTAPP1',
    token: LEGACY_VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: channelId,
      is_ephemeral: false,
    },
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    team: { id: TEAM_ID, domain: 'oomtest-tests' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'game-day' },
    message: { type: 'message', ts: messageTs, text: 'drill', bot_id: 'B0TESTBOT1' },
    response_url: fields.responseUrl ?? 'https://hooks.slack.com/actions/T0TESTTEAM/1/none',
    actions: [
      {
        action_id: fields.actionId,
        block_id: 'oomtest_controls',
        text: { type: 'plain_text', text: 'Stop drill', emoji: true },
        value: fields.value,
        style: 'danger',
        type: 'button',
        action_ts: `${Date.now() / 1_000}`,
      },
    ],
    state: { values: {} },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Signature headers for `body`; `timestampSeconds` defaults to now. */
export function signatureHeaders(
  body: string,
  options: { secret?: string; timestampSeconds?: number } = {},
): Record<string, string> {
  const timestamp = String(options.timestampSeconds ?? Math.floor(Date.now() / 1_000));
  const hmac = createHmac('sha256', options.secret ?? TEST_SIGNING_SECRET);
  hmac.update(`v0:${timestamp}:${body}`);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${hmac.digest('hex')}`,
  };
}

export interface SlackResponse {
  status: number;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: { text?: string; response_type?: string; [key: string]: unknown };
}

/** POSTs a signed `body` to `url` (the bot's /slack/events) and reads the answer. */
export async function postSigned(
  url: string,
  body: string,
  options: { secret?: string; timestampSeconds?: number; headers?: Record<string, string> } = {},
): Promise<SlackResponse> {
  const headers = { ...signatureHeaders(body, options), ...options.headers };
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, text, json: parseJson(text) };
}

function parseJson(text: string): SlackResponse['json'] {
  try {
    return JSON.parse(text) as SlackResponse['json'];
  } catch {
    return undefined;
  }
}
