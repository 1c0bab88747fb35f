/**
 * The slow half of a slash command, after the acknowledgement: ask Redis, post the drill's
 * channel message, queue the job, and tell the user through response_url when something
 * went wrong. Every path ends in exactly one audit line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebClient } from '@slack/web-api';
import { OomtestError, toOomtestError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { DrillQueue, DrillJobData } from '../queue/index.js';
import { renderQueued, renderNotQueued, renderStatus, type DrillContext } from '../slack/render.js';
import { escapeMrkdwn, inlineCode } from '../slack/mrkdwn.js';
import { audit, type AuditEntry } from './audit.js';
import type { CommandInput, Plan } from './plan.js';

export type QueueApi = Pick<DrillQueue, 'enqueue' | 'findActive' | 'listActive' | 'requestStop'>;

export interface FollowUpDeps {
  queue: QueueApi;
  slack: WebClient;
  logger: Logger;
  metrics?: Metrics;
  /** The clock; default `new Date()`. */
  now?: () => Date;
  /** Waits `ms` milliseconds; default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Sends an ephemeral reply to the person who typed the command (via response_url). */
export type Reply = (text: string) => Promise<void>;

export interface FollowUpInput extends CommandInput {
  responseUrl?: string;
}

/** Finishes what the acknowledgement started. Never throws: failures become replies. */
export async function followUp(
  command: { plan: Plan; input: FollowUpInput; reply: Reply },
  deps: FollowUpDeps,
): Promise<void> {
  const { plan, input, reply } = command;
  const who = { user: input.user, channel: input.channel };

  switch (plan.kind) {
    case 'refused':
      return audit(deps, {
        ...who,
        command: plan.command,
        result: 'refused',
        code: plan.error.code,
      });
    case 'help':
      return audit(deps, { ...who, command: 'help', result: 'accepted' });
    case 'status':
      return showStatus(who, deps, reply);
    case 'stop':
      return stopByName(plan, who, deps, reply);
    case 'drill':
      return startDrill(plan, input, deps, reply);
  }
}

type Who = Pick<AuditEntry, 'user' | 'channel'>;
type AuditBase = Omit<AuditEntry, 'result'>;

async function showStatus(who: Who, deps: FollowUpDeps, reply: Reply): Promise<void> {
  try {
    const drills = await deps.queue.listActive();
    await reply(renderStatus(drills));
    audit(deps, { ...who, command: 'status', result: 'accepted' });
  } catch (error) {
    await failed({ ...who, command: 'status' }, error, { deps, reply });
  }
}

async function stopByName(
  plan: Extract<Plan, { kind: 'stop' }>,
  who: Who,
  deps: FollowUpDeps,
  reply: Reply,
): Promise<void> {
  const entry = {
    ...who,
    command: 'stop' as const,
    pod: plan.pod,
    namespace: plan.namespace,
    cluster: plan.cluster,
  };
  try {
    const active = await deps.queue.findActive(plan);
    if (active === undefined) {
      await reply(
        `No drill is running or queued for ${inlineCode(`${plan.namespace}/${plan.pod}`)}.`,
      );
      return audit(deps, { ...entry, result: 'refused' });
    }

    await deps.queue.requestStop({ drillId: active.drillId, by: who.user });
    await reply(stopRequestedText(active.drillId));
    audit(deps, { ...entry, result: 'accepted', drillId: active.drillId });
  } catch (error) {
    await failed(entry, error, { deps, reply });
  }
}

/** What the user hears once a stop is on its way to the worker. */
export function stopRequestedText(drillId: string): string {
  return (
    `Stop requested for drill ${inlineCode(drillId)}: ` +
    "its worker deletes the pod and reports in the drill's message."
  );
}

async function startDrill(
  plan: Extract<Plan, { kind: 'drill' }>,
  input: FollowUpInput,
  deps: FollowUpDeps,
  reply: Reply,
): Promise<void> {
  const { drillId, request } = plan;
  const entry = {
    user: input.user,
    channel: input.channel,
    command: 'drill' as const,
    drillId,
    pod: request.pod,
    namespace: request.namespace,
    cluster: request.cluster,
  };
  const ctx: DrillContext = { drillId, request, requestedBy: input.user };

  try {
    const active = await deps.queue.findActive(request);
    if (active !== undefined)
      return await refuseBusy({ ctx, entry, activeDrillId: active.drillId }, deps, reply);

    const messageTs = await postQueued(ctx, input.channel, deps);
    await enqueue({ ctx, input, messageTs, entry }, deps, reply);
  } catch (error) {
    await failed(entry, error, { deps, reply });
  }
}

async function enqueue(
  step: { ctx: DrillContext; input: FollowUpInput; messageTs: string; entry: AuditBase },
  deps: FollowUpDeps,
  reply: Reply,
): Promise<void> {
  const { ctx, input, messageTs, entry } = step;
  const data: DrillJobData = {
    v: 1,
    drillId: ctx.drillId,
    request: ctx.request,
    requestedBy: input.user,
    channel: input.channel,
    messageTs,
    responseUrl: input.responseUrl,
    enqueuedAt: (deps.now?.() ?? new Date()).toISOString(),
  };

  try {
    const result = await deps.queue.enqueue(data);
    if (result.accepted) return audit(deps, { ...entry, result: 'accepted' });

    await markNotQueued(
      { ctx, channel: input.channel, messageTs },
      busyText(ctx, result.activeDrillId),
      deps,
    );
    await refuseBusy({ ctx, entry, activeDrillId: result.activeDrillId }, deps, reply);
  } catch (error) {
    await markNotQueued(
      { ctx, channel: input.channel, messageTs },
      toOomtestError(error).message,
      deps,
    );
    throw error;
  }
}

async function refuseBusy(
  busy: { ctx: DrillContext; entry: AuditBase; activeDrillId: string },
  deps: FollowUpDeps,
  reply: Reply,
): Promise<void> {
  await reply(`:no_entry: ${busyText(busy.ctx, busy.activeDrillId)}. Nothing was queued.`);
  audit(deps, { ...busy.entry, result: 'refused', code: 'drill.busy' });
}

function busyText(ctx: DrillContext, activeDrillId: string): string {
  const { namespace, pod } = ctx.request;
  return (
    `a drill for ${inlineCode(`${namespace}/${pod}`)} is already running: ` +
    `${inlineCode(activeDrillId)}`
  );
}

/**
 * The longest the bot waits out Slack's rate limit before posting a drill's message. The
 * user already has the acknowledgement and nothing is held meanwhile, so half a minute
 * beats "try again"; a longer Retry-After means Slack is in trouble and the user should hear.
 */
const MAX_RATE_LIMIT_WAIT_SECONDS = 30;

/** Posts the drill's channel message, waiting out short rate limits; returns its ts. */
async function postQueued(ctx: DrillContext, channel: string, deps: FollowUpDeps): Promise<string> {
  let waitedSeconds = 0;

  for (;;) {
    try {
      const posted = await deps.slack.chat.postMessage({ channel, ...renderQueued(ctx) });
      if (posted.ts === undefined) throw new Error('chat.postMessage answered without a ts');
      return posted.ts;
    } catch (error) {
      const retryAfter = retryAfterSeconds(error);
      if (retryAfter === undefined || waitedSeconds + retryAfter > MAX_RATE_LIMIT_WAIT_SECONDS)
        throw slackPostError(error);

      waitedSeconds += retryAfter;
      await (deps.sleep ?? sleep)(retryAfter * 1_000);
    }
  }
}

function retryAfterSeconds(error: unknown): number | undefined {
  const retryAfter = (error as { retryAfter?: unknown } | undefined)?.retryAfter;
  return typeof retryAfter === 'number' ? retryAfter : undefined;
}

/** Slack's refusal in words the user can act on. */
function slackPostError(error: unknown): OomtestError {
  const data = (error as { data?: { error?: string }; retryAfter?: number }) ?? {};
  const code = data.data?.error;
  if (typeof data.retryAfter === 'number') {
    return new OomtestError(
      'slack.api',
      `Slack is rate limiting this app: try again in ${data.retryAfter} s`,
      { cause: error, transient: true },
    );
  }
  if (code === 'not_in_channel' || code === 'channel_not_found') {
    return new OomtestError(
      'slack.api',
      `I cannot post in this channel (${code}): invite the app to it, then try again`,
      { cause: error },
    );
  }
  return new OomtestError(
    'slack.api',
    `Slack refused the drill's message (${code ?? 'no answer'})`,
    { cause: error },
  );
}

/** Turns the already-posted channel message into a "not started" note; best effort. */
async function markNotQueued(
  where: { ctx: DrillContext; channel: string; messageTs: string },
  reason: string,
  deps: FollowUpDeps,
): Promise<void> {
  try {
    await deps.slack.chat.update({
      channel: where.channel,
      ts: where.messageTs,
      ...renderNotQueued(where.ctx, reason),
    });
  } catch (error) {
    // The user still hears it through response_url; the stale message says "queued".
    deps.logger.warn(
      { drillId: where.ctx.drillId, channel: where.channel, code: 'slack.api', err: error },
      'could not mark the drill message as not started',
    );
  }
}

async function failed(
  entry: AuditBase,
  error: unknown,
  ctx: { deps: FollowUpDeps; reply: Reply },
): Promise<void> {
  const known = toOomtestError(error);
  const message = known.code === 'internal' ? 'something went wrong on our side' : known.message;
  const nothing = entry.command === 'drill' ? ' Nothing was queued.' : '';

  await ctx.reply(`:warning: ${escapeMrkdwn(message)}.${nothing}`);
  audit(ctx.deps, { ...entry, result: 'failed', code: known.code, err: error });
}
