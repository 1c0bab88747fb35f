/**
 * Small per-drill facts kept in Redis beside the BullMQ job, shared by every bot and
 * worker process: a stop request, the drill's outcome once known, and whether its
 * summary has been posted. They make stop, crash recovery and exactly-once reporting work
 * no matter which process runs the drill.
 */
import type { Redis } from 'ioredis';
import type { DrillOutcome } from '../drill/types.js';

/** A stop request as it travels over pub/sub. */
export interface StopRequest {
  drillId: string;
  /** Slack user id of who pressed Stop or typed `/oomtest stop`. */
  by: string;
}

/**
 * While one process posts a summary, others wait this long before assuming it died and
 * posting themselves. Longer than one Slack call with its retries (about 30 s), short
 * enough that a crash mid-post delays the summary by a minute at most.
 */
const SUMMARY_CLAIM_SECONDS = 60;

/** The Redis key names for one queue prefix. */
export class DrillKeys {
  constructor(
    private readonly prefix: string,
    private readonly queueName: string,
  ) {}

  /** The pub/sub channel stop requests travel on. */
  get stopChannel(): string {
    return `${this.base}stop`;
  }

  stop(drillId: string): string {
    return `${this.base}stop:${drillId}`;
  }

  outcome(drillId: string): string {
    return `${this.base}outcome:${drillId}`;
  }

  summary(drillId: string): string {
    return `${this.base}summary:${drillId}`;
  }

  private get base(): string {
    return `${this.prefix}:${this.queueName}:oomtest:`;
  }
}

export interface DrillStateOptions {
  redis: Redis;
  keys: DrillKeys;
  /** How long every per-drill key lives, seconds (config.jobRetentionSeconds). */
  retentionSeconds: number;
  /** How long a summary claim outlives a process that died posting, seconds (60). */
  claimSeconds?: number;
}

/** Reads and writes the per-drill facts. Every key expires after `retentionSeconds`. */
export class DrillState {
  private readonly redis: Redis;
  private readonly keys: DrillKeys;
  private readonly retentionSeconds: number;
  private readonly claimSeconds: number;

  constructor(options: DrillStateOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.retentionSeconds = options.retentionSeconds;
    this.claimSeconds = options.claimSeconds ?? SUMMARY_CLAIM_SECONDS;
  }

  /** Records a stop request (a worker that picks the drill up later still sees it). */
  async recordStop(request: StopRequest): Promise<void> {
    await this.redis.set(this.keys.stop(request.drillId), request.by, 'EX', this.retentionSeconds);
    await this.redis.publish(this.keys.stopChannel, JSON.stringify(request));
  }

  /** Who asked to stop the drill, if anyone did. */
  async stoppedBy(drillId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.stop(drillId))) ?? undefined;
  }

  /**
   * Keeps the outcome so a worker that takes over after a crash reports it, not reruns it.
   * The first outcome stored wins (two workers may finish one drill after a lost lock);
   * returns the one kept.
   */
  async saveOutcome(outcome: DrillOutcome): Promise<DrillOutcome> {
    const key = this.keys.outcome(outcome.drillId);
    const text = JSON.stringify(outcome);
    const stored = await this.redis.set(key, text, 'EX', this.retentionSeconds, 'NX');
    if (stored === 'OK') return outcome;
    return (await this.loadOutcome(outcome.drillId)) ?? outcome;
  }

  async loadOutcome(drillId: string): Promise<DrillOutcome | undefined> {
    const text = await this.redis.get(this.keys.outcome(drillId));
    return text === null ? undefined : (JSON.parse(text) as DrillOutcome);
  }

  /**
   * Claims the right to post the summary. Returns false when it was posted already or
   * another process is posting it now; a claim left by a dead process expires.
   */
  async claimSummary(drillId: string, owner: string): Promise<boolean> {
    const key = this.keys.summary(drillId);
    const set = await this.redis.set(key, `posting:${owner}`, 'EX', this.claimSeconds, 'NX');
    return set === 'OK';
  }

  /** Marks the summary as posted, for as long as the job itself is kept. */
  async markSummaryPosted(drillId: string): Promise<void> {
    await this.redis.set(this.keys.summary(drillId), 'posted', 'EX', this.retentionSeconds);
  }

  /** Gives up a claim after a failed post so the next attempt may try again. */
  async releaseSummary(drillId: string): Promise<void> {
    await this.redis.del(this.keys.summary(drillId));
  }

  async summaryPosted(drillId: string): Promise<boolean> {
    return (await this.redis.get(this.keys.summary(drillId))) === 'posted';
  }
}

/** Parses a pub/sub message; undefined for anything that is not a stop request. */
export function parseStopRequest(text: string): StopRequest | undefined {
  try {
    const value = JSON.parse(text) as Partial<StopRequest>;
    if (typeof value.drillId !== 'string' || typeof value.by !== 'string') return undefined;
    return { drillId: value.drillId, by: value.by };
  } catch {
    return undefined;
  }
}
