/**
 * A fake Slack Web API for tests, reached through SLACK_API_URL.
 *
 * It speaks the wire protocol WebClient and Bolt use: POST `<url><method>` with a bearer
 * token and a form-encoded or JSON body, HTTP 200 with `{ ok, ... }`, HTTP 429 with
 * Retry-After when rate limited. It keeps channel messages by `ts` (so a test reads the
 * final text of a message after every chat.update), records every call, stores uploaded
 * files, accepts response_url posts at URLs it hands out, and injects faults on demand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { readRaw, parseBody, jsonField, stringField, type Body } from './body.js';
import { blocksProblem, MAX_MESSAGE_TEXT } from './blocks.js';
import {
  attachSocketMode,
  connectionsOpen,
  FAKE_APP_TOKEN,
  type FakeSocketMode,
} from './socket-mode.js';

export { FAKE_APP_TOKEN, type FakeSocketMode } from './socket-mode.js';

/** The bot token the fake accepts unless told otherwise. */
export const FAKE_BOT_TOKEN = 'xoxb-fake-0000-bot-token';

export interface FakeSlackOptions {
  /** Tokens accepted as `Authorization: Bearer` (or a `token` field). Default: FAKE_BOT_TOKEN. */
  tokens?: string[];
  /** App-level tokens accepted by apps.connections.open. Default: FAKE_APP_TOKEN. */
  appTokens?: string[];
  /** Port to listen on; default 0 (a free one). */
  port?: number;
}

export interface RecordedCall {
  /** Web API method (`chat.update`), `upload` for file bytes, `response_url` for replies. */
  method: string;
  /** The decoded body; objects sent form-encoded (blocks, files) stay JSON strings here. */
  body: Body;
  /** Epoch milliseconds when the fake received it. */
  at: number;
  /** HTTP status the fake answered with. */
  status: number;
  /** The `error` of an `ok: false` answer. */
  error?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** Parent message ts when posted in a thread. */
  threadTs?: string;
  /** How many chat.update calls changed it. */
  updates: number;
  /** Every version, oldest first (the current one last). */
  history: Array<{ text: string; blocks: unknown[]; at: number }>;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks: unknown[];
  at: number;
}

export interface ResponseUrlPost {
  /** The id in the URL the fake handed out. */
  id: string;
  text: string;
  responseType: 'ephemeral' | 'in_channel';
  replaceOriginal: boolean;
  body: Body;
  at: number;
}

export interface UploadedFile {
  id: string;
  filename: string;
  title: string;
  content: string;
  channel?: string;
  threadTs?: string;
  initialComment?: string;
  completed: boolean;
}

/**
 * A fault for the next call of one method: an HTTP 429 with Retry-After, any other HTTP
 * status (500, 503), or an `ok: false` answer with a Slack error code.
 */
export type Fault =
  | { status: 429; retryAfterSeconds: number }
  | { status: number; retryAfterSeconds?: undefined }
  | { ok: false; error: string };

export interface FakeSlack {
  /** Web API base, ending in `/api/`: use as SLACK_API_URL. */
  url: string;
  /** The server's origin, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  /** A token the fake accepts. */
  token: string;
  /** An app-level token the fake accepts (Socket Mode). */
  appToken: string;
  /** Socket Mode: connections, and envelopes sent to the app. */
  socketMode: FakeSocketMode;
  calls: RecordedCall[];
  ephemerals: EphemeralMessage[];
  responses: ResponseUrlPost[];
  files: UploadedFile[];
  /** Channel and thread messages by ts. */
  messages: Map<string, StoredMessage>;
  /** Calls of one method, in order. */
  callsTo(method: string): RecordedCall[];
  /** Top-level messages in a channel, oldest first. */
  channelMessages(channel: string): StoredMessage[];
  /** Replies in the thread under `ts`, oldest first. */
  threadReplies(ts: string): StoredMessage[];
  /** A fresh response_url, as Slack puts in a slash command or interaction payload. */
  responseUrl(): string;
  /** Replies posted to one response_url, oldest first. */
  responsesTo(url: string): ResponseUrlPost[];
  /** The next `times` (default 1) calls to `method` get `fault` instead of an answer. */
  failNext(method: string, fault: Fault, times?: number): void;
  /** Resolves with the first recorded call (past or future) that `match` accepts. */
  waitForCall(match: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Forgets recorded calls and stored state (tokens and URL stay). */
  reset(): void;
  stop(): Promise<void>;
}

/** Default wait of waitForCall: generous, because it only bounds a test that already failed. */
const WAIT_TIMEOUT_MS = 20_000;
const BOT_USER_ID = 'UFAKEBOT01';
const BOT_ID = 'BFAKEBOT01';
const TEAM_ID = 'TFAKETEAM1';

/** Starts the fake on 127.0.0.1. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const state = new FakeState(
    options.tokens ?? [FAKE_BOT_TOKEN],
    options.appTokens ?? [FAKE_APP_TOKEN],
  );
  const server = createServer((req, res) => {
    state.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: String(error) });
    });
  });
  // Keep-alive sockets from fetch would hold stop() open for seconds.
  server.keepAliveTimeout = 1_000;
  await listen(server, options.port ?? 0);

  const { port } = server.address() as AddressInfo;
  state.origin = `http://127.0.0.1:${port}`;
  return state.facade(server, attachSocketMode(server));
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

type Answer = { status: number; body: Body; headers?: Record<string, string> };
type Handler = (body: Body) => Answer;

class FakeState {
  origin = '';
  readonly calls: RecordedCall[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly files: UploadedFile[] = [];
  readonly messages = new Map<string, StoredMessage>();
  private readonly faults = new Map<string, Fault[]>();
  private events = new EventEmitter();
  private tsCounter = 0;
  private idCounter = 0;
  private readonly handlers: Record<string, Handler> = {
    'api.test': (body) => ok({ args: body }),
    'auth.test': () => this.authTest(),
    'apps.connections.open': () => ({ status: 200, body: connectionsOpen(this.origin) }),
    'chat.postMessage': (body) => this.postMessage(body),
    'chat.update': (body) => this.update(body),
    'chat.postEphemeral': (body) => this.postEphemeral(body),
    'chat.delete': (body) => this.deleteMessage(body),
    'files.getUploadURLExternal': (body) => this.getUploadUrl(body),
    'files.completeUploadExternal': (body) => this.completeUpload(body),
  };

  constructor(
    private readonly tokens: string[],
    private readonly appTokens: string[],
  ) {
    this.events.setMaxListeners(0);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const body = await parseBody(await readRaw(req), req.headers['content-type']);

    if (req.method !== 'POST') return this.reply(res, 'http', body, { status: 405, body: {} });
    if (path.startsWith('/api/')) return this.apiCall(req, res, path.slice('/api/'.length), body);
    if (path.startsWith('/upload/'))
      return this.upload(req, res, path.slice('/upload/'.length), body);
    if (path.startsWith('/response/'))
      return this.responsePost(res, path.slice('/response/'.length), body);
    this.reply(res, 'http', body, { status: 404, body: { ok: false, error: 'not_found' } });
  }

  private apiCall(req: IncomingMessage, res: ServerResponse, method: string, body: Body): void {
    const fault = this.takeFault(method);
    if (fault !== undefined) return this.reply(res, method, body, faultAnswer(fault));

    const accepted = method === 'apps.connections.open' ? this.appTokens : this.tokens;
    const authError = this.authProblem(req, body, accepted);
    if (authError !== undefined) return this.reply(res, method, body, fail(authError));

    const handler = this.handlers[method];
    this.reply(res, method, body, handler === undefined ? fail('unknown_method') : handler(body));
  }

  private authProblem(
    req: IncomingMessage,
    body: Body,
    accepted = this.tokens,
  ): string | undefined {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ')
      ? header.slice('Bearer '.length)
      : stringField(body, 'token');
    if (token === undefined) return 'not_authed';
    return accepted.includes(token) ? undefined : 'invalid_auth';
  }

  private takeFault(method: string): Fault | undefined {
    const queue = this.faults.get(method);
    return queue?.shift();
  }

  private reply(res: ServerResponse, method: string, body: Body, answer: Answer): void {
    const error = answer.body.ok === false ? String(answer.body.error) : undefined;
    const call: RecordedCall = { method, body, at: Date.now(), status: answer.status, error };
    this.calls.push(call);
    sendJson(res, answer.status, answer.body, answer.headers);
    this.events.emit('call', call);
  }

  private authTest(): Answer {
    return ok({
      url: `${this.origin}/`,
      team: 'Fake Team',
      user: 'oomtest',
      team_id: TEAM_ID,
      user_id: BOT_USER_ID,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    });
  }

  private postMessage(body: Body): Answer {
    const content = messageContent(body);
    if ('error' in content) return fail(content.error);
    const channel = stringField(body, 'channel');
    if (channel === undefined) return fail('channel_not_found');
    const threadTs = stringField(body, 'thread_ts');
    if (threadTs !== undefined && !this.messages.has(threadTs)) return fail('thread_not_found');

    const ts = this.nextTs();
    const at = Date.now();
    const stored: StoredMessage = {
      channel,
      ts,
      ...content,
      threadTs,
      updates: 0,
      history: [{ ...content, at }],
    };
    this.messages.set(ts, stored);
    return ok({ channel, ts, message: slackMessage(stored) });
  }

  private update(body: Body): Answer {
    const ts = stringField(body, 'ts');
    const stored = ts === undefined ? undefined : this.messages.get(ts);
    if (stored === undefined) return fail('message_not_found');
    if (stored.channel !== stringField(body, 'channel')) return fail('channel_not_found');
    const content = messageContent(body);
    if ('error' in content) return fail(content.error);

    stored.text = content.text;
    stored.blocks = content.blocks;
    stored.updates += 1;
    stored.history.push({ ...content, at: Date.now() });
    return ok({
      channel: stored.channel,
      ts: stored.ts,
      text: stored.text,
      message: slackMessage(stored),
    });
  }

  private postEphemeral(body: Body): Answer {
    const content = messageContent(body);
    if ('error' in content) return fail(content.error);
    const channel = stringField(body, 'channel');
    const user = stringField(body, 'user');
    if (channel === undefined) return fail('channel_not_found');
    if (user === undefined) return fail('user_not_found');

    this.ephemerals.push({ channel, user, ...content, at: Date.now() });
    return ok({ message_ts: this.nextTs() });
  }

  private deleteMessage(body: Body): Answer {
    const ts = stringField(body, 'ts');
    if (ts === undefined || !this.messages.delete(ts)) return fail('message_not_found');
    return ok({ channel: stringField(body, 'channel'), ts });
  }

  private getUploadUrl(body: Body): Answer {
    const filename = stringField(body, 'filename');
    const length = Number(stringField(body, 'length'));
    if (filename === undefined) return fail('invalid_arguments');
    if (!Number.isInteger(length) || length <= 0) return fail('invalid_arguments');

    const id = `F${this.nextId()}`;
    this.files.push({ id, filename, title: filename, content: '', completed: false });
    return ok({ upload_url: `${this.origin}/upload/${id}`, file_id: id });
  }

  private upload(req: IncomingMessage, res: ServerResponse, id: string, body: Body): void {
    const file = this.files.find((candidate) => candidate.id === id);
    if (file === undefined) return this.reply(res, 'upload', body, { status: 404, body: {} });
    if (this.authProblem(req, body) !== undefined)
      return this.reply(res, 'upload', body, { status: 401, body: {} });

    // WebClient sends the bytes as the multipart field `body`.
    file.content = typeof body.body === 'string' ? body.body : '';
    this.reply(
      res,
      'upload',
      { id, filename: file.filename, bytes: file.content.length },
      { status: 200, body: {} },
    );
  }

  private completeUpload(body: Body): Answer {
    const requested = jsonField(body, 'files');
    if (!Array.isArray(requested) || requested.length === 0) return fail('invalid_arguments');

    const completed: UploadedFile[] = [];
    for (const entry of requested as Array<{ id?: string; title?: string }>) {
      const file = this.files.find((candidate) => candidate.id === entry.id);
      if (file === undefined || file.content === '') return fail('file_not_found');
      Object.assign(file, {
        title: entry.title ?? file.filename,
        channel: stringField(body, 'channel_id'),
        threadTs: stringField(body, 'thread_ts'),
        initialComment: stringField(body, 'initial_comment'),
        completed: true,
      });
      completed.push(file);
    }
    return ok({
      files: completed.map((file) => ({ id: file.id, name: file.filename, title: file.title })),
    });
  }

  private responsePost(res: ServerResponse, id: string, body: Body): void {
    const post: ResponseUrlPost = {
      id,
      text: stringField(body, 'text') ?? '',
      responseType: body.response_type === 'in_channel' ? 'in_channel' : 'ephemeral',
      replaceOriginal: body.replace_original === true || body.replace_original === 'true',
      body,
      at: Date.now(),
    };
    this.responses.push(post);
    this.reply(res, 'response_url', body, { status: 200, body: { ok: true } });
  }

  /** Slack's ts: epoch seconds, a dot, six digits; unique and increasing. */
  private nextTs(): string {
    this.tsCounter += 1;
    return `${Math.floor(Date.now() / 1_000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private nextId(): string {
    this.idCounter += 1;
    return `FAKE${String(this.idCounter).padStart(6, '0')}`;
  }

  facade(server: Server, socketMode: FakeSocketMode): FakeSlack {
    // reset() empties these in place, so the references handed out stay current.
    return {
      url: `${this.origin}/api/`,
      origin: this.origin,
      token: this.tokens[0] ?? FAKE_BOT_TOKEN,
      appToken: this.appTokens[0] ?? FAKE_APP_TOKEN,
      socketMode,
      calls: this.calls,
      ephemerals: this.ephemerals,
      responses: this.responses,
      files: this.files,
      messages: this.messages,
      callsTo: (method) => this.calls.filter((call) => call.method === method),
      channelMessages: (channel) =>
        [...this.messages.values()].filter(
          (m) => m.channel === channel && m.threadTs === undefined,
        ),
      threadReplies: (ts) => [...this.messages.values()].filter((m) => m.threadTs === ts),
      responseUrl: () => `${this.origin}/response/R${this.nextId()}`,
      responsesTo: (url) => this.responses.filter((post) => url.endsWith(`/response/${post.id}`)),
      failNext: (method, fault, times = 1) => this.addFault(method, fault, times),
      waitForCall: (match, timeoutMs) => this.waitForCall(match, timeoutMs ?? WAIT_TIMEOUT_MS),
      reset: () => this.reset(),
      stop: async () => {
        await socketMode.close();
        await closeServer(server);
      },
    };
  }

  addFault(method: string, fault: Fault, times: number): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(fault);
    this.faults.set(method, queue);
  }

  waitForCall(match: (call: RecordedCall) => boolean, timeoutMs: number): Promise<RecordedCall> {
    const seen = this.calls.find(match);
    if (seen !== undefined) return Promise.resolve(seen);

    return new Promise((resolve, reject) => {
      const onCall = (call: RecordedCall): void => {
        if (!match(call)) return;
        clearTimeout(timer);
        this.events.off('call', onCall);
        resolve(call);
      };
      const timer = setTimeout(() => {
        this.events.off('call', onCall);
        reject(new Error(`fake Slack: no matching call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.on('call', onCall);
    });
  }

  reset(): void {
    this.calls.length = 0;
    this.ephemerals.length = 0;
    this.responses.length = 0;
    this.files.length = 0;
    this.messages.clear();
    this.faults.clear();
  }
}

function messageContent(body: Body): { text: string; blocks: unknown[] } | { error: string } {
  const text = stringField(body, 'text') ?? '';
  const blocks = jsonField(body, 'blocks');
  if (text === '' && (blocks === undefined || (Array.isArray(blocks) && blocks.length === 0)))
    return { error: 'no_text' };
  if (text.length > MAX_MESSAGE_TEXT) return { error: 'msg_too_long' };
  if (blocksProblem(blocks) !== undefined) return { error: 'invalid_blocks' };
  return { text, blocks: Array.isArray(blocks) ? blocks : [] };
}

function slackMessage(stored: StoredMessage): Body {
  return {
    type: 'message',
    user: BOT_USER_ID,
    bot_id: BOT_ID,
    text: stored.text,
    blocks: stored.blocks,
    ts: stored.ts,
    ...(stored.threadTs === undefined ? {} : { thread_ts: stored.threadTs }),
  };
}

function faultAnswer(fault: Fault): Answer {
  if ('ok' in fault) return fail(fault.error);
  if (fault.status === 429) {
    const seconds = String(fault.retryAfterSeconds ?? 1);
    return {
      status: 429,
      body: { ok: false, error: 'ratelimited' },
      headers: { 'retry-after': seconds },
    };
  }
  return { status: fault.status, body: { ok: false, error: 'fatal_error' } };
}

function ok(fields: Body): Answer {
  return { status: 200, body: { ok: true, ...fields } };
}

function fail(error: string): Answer {
  return { status: 200, body: { ok: false, error } };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: Body,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
