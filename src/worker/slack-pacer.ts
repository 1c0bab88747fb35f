/**
 * One pace per Slack method for every call a worker makes, whatever drill it is for.
 *
 * Slack limits an app per workspace and per method (chat.update is Tier 3: about 50 calls
 * a minute, with short bursts allowed). A worker running hundreds of drills must share
 * that budget, not spend it per drill, so calls wait for a token from their method's
 * bucket. A 429 pauses that bucket for its Retry-After, because the limit it reports is
 * the app's, not the drill's. Final summaries jump the line ahead of progress updates: a
 * late progress line costs nothing, a late verdict is what users wait for.
 */
import { systemClock, type Clock } from '../kube/watch.js';

export interface SlackPacerOptions {
  /** Sustained calls per minute. Default 50, Slack's Tier 3 rate for chat.update. */
  callsPerMinute?: number;
  /** Calls allowed back to back after a quiet spell. Default 10. */
  burst?: number;
  /**
   * The longest a 429's Retry-After may pause the pacer, ms. Default 30 s: Slack may ask
   * for minutes, but a drill's job must not sit idle that long; the call is retried after
   * the cap and, if refused again, paused again.
   */
  maxPauseMs?: number;
  clock?: Clock;
}

/**
 * Sustained calls per minute by method, from Slack's published tiers: chat.update is
 * Tier 3 (50+), chat.postMessage allows about one per second per channel (60), the
 * external upload methods behind files.uploadV2 are Tier 4 (100+; uploadV2 makes two).
 */
export const METHOD_CALLS_PER_MINUTE: Record<string, number> = {
  'chat.update': 50,
  'chat.postMessage': 60,
  'files.uploadV2': 50,
};

/** The pacers of one worker, one per Slack method. */
export class SlackPacers {
  private readonly pacers = new Map<string, SlackPacer>();

  /** `options.callsPerMinute`, when set, replaces every method's rate (benchmarks, tests). */
  constructor(private readonly options: SlackPacerOptions = {}) {}

  for(method: string): SlackPacer {
    let pacer = this.pacers.get(method);
    if (pacer === undefined) {
      const callsPerMinute = this.options.callsPerMinute ?? METHOD_CALLS_PER_MINUTE[method];
      pacer = new SlackPacer({ ...this.options, callsPerMinute });
      this.pacers.set(method, pacer);
    }
    return pacer;
  }
}

export type CallPriority = 'final' | 'progress';

interface Waiter {
  priority: CallPriority;
  resolve: (granted: boolean) => void;
}

const DEFAULTS = { callsPerMinute: 50, burst: 10, maxPauseMs: 30_000 };

export class SlackPacer {
  private readonly intervalMs: number;
  private readonly burst: number;
  private readonly maxPauseMs: number;
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private readonly waiters: Waiter[] = [];
  private timer: unknown;

  constructor(options: SlackPacerOptions = {}) {
    this.intervalMs = 60_000 / (options.callsPerMinute ?? DEFAULTS.callsPerMinute);
    this.burst = options.burst ?? DEFAULTS.burst;
    this.maxPauseMs = options.maxPauseMs ?? DEFAULTS.maxPauseMs;
    this.clock = options.clock ?? systemClock;
    this.tokens = this.burst;
    this.refilledAt = this.clock.now();
  }

  /**
   * Resolves true when this call may go out (final calls are served before progress
   * calls), or false, without using a token, if `signal` aborts first.
   */
  acquire(priority: CallPriority, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);

    return new Promise((resolve) => {
      const waiter: Waiter = { priority, resolve };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve(false);
      };
      waiter.resolve = (granted) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.drain();
    });
  }

  /** Stops all calls for Slack's Retry-After (seconds), capped at maxPauseMs. */
  pause(retryAfterSeconds: number): number {
    const pauseMs = Math.min(Math.max(retryAfterSeconds, 1) * 1_000, this.maxPauseMs);
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + pauseMs);
    this.tokens = 0;
    if (this.waiters.length > 0) this.schedule(pauseMs);
    return pauseMs;
  }

  /** Calls waiting for a token now. */
  get queued(): number {
    return this.waiters.length;
  }

  private drain(): void {
    this.refill();
    while (this.waiters.length > 0 && this.tokens >= 1 && this.clock.now() >= this.pausedUntil) {
      this.tokens -= 1;
      this.next().resolve(true);
    }
    if (this.waiters.length === 0) return;

    const untilToken = this.tokens >= 1 ? 0 : (1 - this.tokens) * this.intervalMs;
    this.schedule(Math.max(untilToken, this.pausedUntil - this.clock.now()));
  }

  private next(): Waiter {
    const index = this.waiters.findIndex((waiter) => waiter.priority === 'final');
    return this.waiters.splice(index < 0 ? 0 : index, 1)[0]!;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) / this.intervalMs);
    this.refilledAt = now;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.drain();
      },
      Math.max(Math.ceil(delayMs), 1),
    );
  }
}
