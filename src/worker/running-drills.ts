/**
 * The drills one worker holds: their cancellation (stop requests), their reporters, and
 * the hand-back of whatever still runs when shutdown's grace period is over.
 */
import type { Job } from 'bullmq';
import type { DrillJobData } from '../queue/index.js';
import type { DrillReporter } from './reporter.js';

/** One drill this worker runs now: its cancellation and whether it was handed back. */
export interface RunningDrill {
  readonly signal: AbortSignal;
  /** Resolves when shutdown hands the drill back. */
  readonly released: Promise<void>;
  /** Set when shutdown handed the drill back to the queue; its result is then dropped. */
  readonly handedBack: boolean;
  stop(by: string): void;
}

interface Entry {
  job: Job<DrillJobData>;
  token?: string;
  controller: AbortController;
  reporter?: DrillReporter;
  handedBack: boolean;
  /** Resolves when the drill is handed back, so its job returns without waiting for it. */
  released: Promise<void>;
  release: () => void;
}

/**
 * A handed-back drill waits this long before another worker may take it. Not zero: BullMQ
 * takes a job that becomes waiting straight after a blocking fetch wakes up, even in a
 * worker that is closing, so a drill put back as waiting could land in the very worker
 * that is leaving. A delayed job is not taken that way, and a second is nothing to a drill.
 */
const HAND_BACK_DELAY_MS = 1_000;

/** The drills this worker holds, for stop requests and shutdown hand-back. */
export class RunningDrills {
  private readonly entries = new Map<string, Entry>();

  /** Records a job as taken by this worker (with BullMQ's lock token). */
  private emptied: Array<() => void> = [];

  track(job: Job<DrillJobData>, token: string | undefined): void {
    if (job.id === undefined) return;
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const controller = new AbortController();
    this.entries.set(job.id, { job, token, controller, handedBack: false, released, release });
  }

  untrack(jobId: string | undefined): void {
    if (jobId !== undefined) this.entries.delete(jobId);
    if (this.entries.size > 0) return;

    for (const resolve of this.emptied.splice(0)) resolve();
  }

  /** Resolves once this worker holds no drill. */
  whenEmpty(): Promise<void> {
    if (this.entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  /** The drill's cancellation handle; `reporter` is silenced if the drill is handed back. */
  start(drillId: string, reporter: DrillReporter): RunningDrill {
    const entry = this.entries.get(drillId);
    if (entry === undefined) throw new Error(`drill ${drillId} was not tracked`);
    entry.reporter = reporter;
    return {
      signal: entry.controller.signal,
      released: entry.released,
      get handedBack() {
        return entry.handedBack;
      },
      stop: (by) => entry.controller.abort(new StopReason(by)),
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Puts every held drill back in the queue, without touching its pod, and
   * silences its reporter: the worker that takes it next adopts the pod and reports.
   */
  async handBackAll(): Promise<string[]> {
    const ids: string[] = [];
    for (const [id, entry] of this.entries) {
      entry.handedBack = true;
      entry.reporter?.detach();
      await entry.job
        .moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, entry.token)
        .catch(() => undefined);
      entry.release();
      ids.push(id);
    }
    return ids;
  }
}

/** The abort reason of a stopped drill: who stopped it. */
export class StopReason {
  constructor(readonly by: string) {}
}
