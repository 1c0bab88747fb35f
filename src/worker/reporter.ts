/**
 * Turns one drill's progress into edits of its channel message, and its outcome into the
 * final message, thread details and (for long describe texts) a file.
 *
 * Progress is coalesced: at most one chat.update per message per `minUpdateIntervalMs`,
 * and only the latest state is ever sent, so a burst of pod updates costs one call. A
 * failed progress update is not retried on its own: the next state (or the final one)
 * replaces it. The final message is different: it is retried, through 429s and 5xx, until
 * Slack takes it or `finalBudgetMs` runs out (then finish() throws and the job retries).
 */
import type { WebClient } from '@slack/web-api';
import type { DrillOutcome, DrillProgress } from '../drill/types.js';
import { OomtestError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { systemClock, sleep, type Clock } from '../kube/watch.js';
import {
  renderOutcome,
  renderProgress,
  renderThreadDetails,
  type DrillContext,
  type SlackMessage,
} from '../slack/render.js';
import type { CallPriority, SlackPacers } from './slack-pacer.js';

export interface ReporterOptions {
  slack: WebClient;
  pacers: SlackPacers;
  ctx: DrillContext;
  channel: string;
  /** ts of the drill's message in `channel`. */
  messageTs: string;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Least time between two edits of this message, ms. Default 1,000 (Slack's guidance). */
  minUpdateIntervalMs?: number;
  /**
   * How long the final message may keep failing before finish() gives up, ms. Default
   * 120 s: four capped Retry-After pauses, yet short enough not to hold a job for long.
   */
  finalBudgetMs?: number;
}

const DEFAULT_MIN_UPDATE_INTERVAL_MS = 1_000;
/** Slack takes at most 50 blocks in a message. */
const MAX_DETAIL_BLOCKS = 50;
const DEFAULT_FINAL_BUDGET_MS = 120_000;
/** After a progress update fails for another reason than 429, wait before the next. */
const PROGRESS_ERROR_DELAY_MS = 5_000;
/** First wait after a 5xx or network failure of a final call; doubles up to 15 s. */
const FINAL_RETRY_DELAY_MS = 1_000;
const FINAL_RETRY_MAX_DELAY_MS = 15_000;

export class DrillReporter {
  private readonly clock: Clock;
  private readonly minIntervalMs: number;
  private pending: SlackMessage | undefined;
  private loop: Promise<void> | undefined;
  private lastSentAt = 0;
  private finished = false;
  /** The message the details go under: the drill's own, or a new one if it was gone. */
  private threadTs: string;
  /** Cuts short the progress loop's waits once the drill has finished. */
  private readonly finishing = new AbortController();

  constructor(private readonly options: ReporterOptions) {
    this.clock = options.clock ?? systemClock;
    this.threadTs = options.messageTs;
    this.minIntervalMs = options.minUpdateIntervalMs ?? DEFAULT_MIN_UPDATE_INTERVAL_MS;
  }

  /** Records the drill's latest state; it reaches Slack within about a second. */
  progress(progress: DrillProgress): void {
    if (this.finished) return;

    this.pending = renderProgress(this.options.ctx, progress);
    this.loop ??= this.sendProgress().finally(() => {
      this.loop = undefined;
    });
  }

  /** Sends nothing more: the drill was handed to another worker, which reports it. */
  detach(): void {
    this.finished = true;
    this.pending = undefined;
    this.finishing.abort();
  }

  /**
   * Replaces the message with the outcome, then posts the details in its thread and
   * uploads the describe text when it did not fit. When the drill's message is gone
   * (deleted, or too old to edit) the summary is posted as a new message instead. Throws
   * a slack.api OomtestError when Slack did not take the summary: transient when it might
   * later (429s or 5xx past the budget), not when it refused it (channel_not_found, ...).
   */
  async finish(outcome: DrillOutcome, opts: { stoppedBy?: string } = {}): Promise<void> {
    this.finished = true;
    this.pending = undefined;
    this.finishing.abort();
    await this.loop;

    const rendered = renderOutcome(this.options.ctx, outcome, opts);
    await this.update(rendered.message, 'final').catch(async (error: unknown) => {
      if (!MESSAGE_GONE.has(slackErrorCode(error))) throw error;
      await this.repost(rendered.message);
    });
    await this.postDetails(outcome);
    if (rendered.file !== undefined) await this.upload(rendered.file);
  }

  private async sendProgress(): Promise<void> {
    while (this.pending !== undefined && !this.finished) {
      const waitMs = this.lastSentAt + this.minIntervalMs - this.clock.now();
      if (waitMs > 0) await sleep(this.clock, waitMs, this.finishing.signal);

      const message = this.pending;
      if (message === undefined || this.finished) return;
      this.pending = undefined;
      if (!(await this.tryProgress(message))) {
        await sleep(this.clock, PROGRESS_ERROR_DELAY_MS, this.finishing.signal);
      }
    }
  }

  /** One progress edit; false when it failed for another reason than a rate limit. */
  private async tryProgress(message: SlackMessage): Promise<boolean> {
    try {
      await this.call('chat.update', 'progress', () => this.chatUpdate(message));
      return true;
    } catch (error) {
      // Keep the state for the next round unless a newer one arrived meanwhile.
      this.pending ??= message;
      this.options.logger.debug({ err: error, code: 'slack.api' }, 'progress update failed');
      return retryAfterSeconds(error) !== undefined;
    } finally {
      this.lastSentAt = this.clock.now();
    }
  }

  private async update(message: SlackMessage, priority: CallPriority): Promise<void> {
    await this.persist('chat.update', priority, () => this.chatUpdate(message));
  }

  /** Posts the summary as a new channel message, which then carries the thread. */
  private async repost(message: SlackMessage): Promise<void> {
    const { channel, slack } = this.options;
    this.options.logger.warn({ code: 'slack.api' }, 'drill message gone; posting the summary anew');
    await this.persist('chat.postMessage', 'final', async () => {
      const posted = await slack.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
      });
      if (posted.ts !== undefined) this.threadTs = posted.ts;
    });
  }

  private chatUpdate(message: SlackMessage): Promise<unknown> {
    const { channel, messageTs } = this.options;
    return this.options.slack.chat.update({
      channel,
      ts: messageTs,
      text: message.text,
      blocks: message.blocks,
    });
  }

  /**
   * The details go in one thread reply, a section per part, so a drill costs one
   * chat.postMessage however many parts there are. They are worth a retry but not a
   * failed job: the summary is already there.
   */
  private async postDetails(outcome: DrillOutcome): Promise<void> {
    const { channel, slack } = this.options;
    const messageTs = this.threadTs;
    const parts = renderThreadDetails(outcome).slice(0, MAX_DETAIL_BLOCKS);
    if (parts.length === 0) return;

    const blocks = parts.map((text) => ({
      type: 'section' as const,
      text: { type: 'mrkdwn' as const, text },
    }));
    const text = `Details of drill ${this.options.ctx.drillId}`;
    await this.persist('chat.postMessage', 'final', () =>
      slack.chat.postMessage({ channel, thread_ts: messageTs, text, blocks }),
    ).catch((error: unknown) => this.warn(error, 'could not post drill details in the thread'));
  }

  private async upload(file: { filename: string; title: string; content: string }): Promise<void> {
    const { channel, slack } = this.options;
    const messageTs = this.threadTs;
    await this.persist('files.uploadV2', 'final', () =>
      slack.files.uploadV2({
        channel_id: channel,
        thread_ts: messageTs,
        filename: file.filename,
        title: file.title,
        content: file.content,
      }),
    ).catch((error: unknown) => this.warn(error, 'could not upload the describe text'));
  }

  /** Retries a call through 429s and failures until it succeeds or the budget is spent. */
  private async persist(method: string, priority: CallPriority, send: () => Promise<unknown>) {
    const deadline = this.clock.now() + (this.options.finalBudgetMs ?? DEFAULT_FINAL_BUDGET_MS);
    let delayMs = FINAL_RETRY_DELAY_MS;

    for (;;) {
      try {
        await this.call(method, priority, send);
        return;
      } catch (error) {
        if (this.clock.now() >= deadline) throw slackError(method, error);
        if (retryAfterSeconds(error) !== undefined) continue;
        if (!isRetryable(error)) throw slackError(method, error);

        await sleep(this.clock, delayMs);
        delayMs = Math.min(delayMs * 2, FINAL_RETRY_MAX_DELAY_MS);
      }
    }
  }

  /**
   * One paced call; a 429 pauses the method's pacer before the error is rethrown. A
   * progress call still waiting for its turn when the drill finishes is dropped (returns
   * false): the final message must not queue behind it.
   */
  private async call(
    method: string,
    priority: CallPriority,
    send: () => Promise<unknown>,
  ): Promise<boolean> {
    const pacer = this.options.pacers.for(method);
    const cancel = priority === 'progress' ? this.finishing.signal : undefined;
    if (!(await pacer.acquire(priority, cancel))) return false;
    try {
      await send();
      this.options.metrics?.slackCalls.inc({ method, outcome: 'ok' });
      return true;
    } catch (error) {
      const retryAfter = retryAfterSeconds(error);
      const outcome = retryAfter === undefined ? 'error' : 'rate_limited';
      this.options.metrics?.slackCalls.inc({ method, outcome });
      if (retryAfter !== undefined) pacer.pause(retryAfter);
      throw error;
    }
  }

  private warn(error: unknown, message: string): void {
    this.options.logger.warn({ err: error, code: 'slack.api' }, message);
  }
}

/** Slack's answers when the drill's message can no longer be edited. */
const MESSAGE_GONE = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

/** The `error` of a Slack platform error (`ok: false`), or '' for anything else. */
function slackErrorCode(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  return (cause as { data?: { error?: string } })?.data?.error ?? '';
}

/** Retry-After of a rate-limited WebClient call (rejectRateLimitedCalls), in seconds. */
function retryAfterSeconds(error: unknown): number | undefined {
  const candidate = error as { code?: string; retryAfter?: unknown };
  if (candidate?.code !== 'slack_webapi_rate_limited_error') return undefined;
  return typeof candidate.retryAfter === 'number' ? candidate.retryAfter : 1;
}

/**
 * Network failures and HTTP errors may pass; a platform error (`channel_not_found`,
 * `message_not_found`, `not_in_channel`, `invalid_auth`) will not, however often it is sent.
 */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === 'slack_webapi_request_error' || code === 'slack_webapi_http_error';
}

function slackError(method: string, error: unknown): OomtestError {
  const detail = (error as { data?: { error?: string } })?.data?.error ?? 'no answer';
  return new OomtestError('slack.api', `Slack refused ${method}: ${detail}`, {
    cause: error,
    transient: isRetryable(error) || retryAfterSeconds(error) !== undefined,
  });
}
