/**
 * A clock the test moves by hand: timers fire only inside advance(), in time order, with
 * pending promise callbacks flushed between them, so code that sleeps and retries runs
 * deterministically and fast.
 */
import type { Clock } from '../../src/kube/index.js';

interface Timer {
  id: number;
  atMs: number;
  callback: () => void;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private timers: Timer[] = [];
  private nextId = 1;
  /** Every delay ever asked for, in order (to check back-off). */
  readonly delaysMs: number[] = [];

  constructor(startIso = '2026-01-01T00:00:00Z') {
    this.nowMs = Date.parse(startIso);
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { id: this.nextId++, atMs: this.nowMs + delayMs, callback };
    this.timers.push(timer);
    this.delaysMs.push(delayMs);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers one by one. */
  async advance(ms: number): Promise<void> {
    const until = this.nowMs + ms;
    await flush();
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.atMs <= until)
        .sort((a, b) => a.atMs - b.atMs || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.nowMs = Math.max(this.nowMs, due.atMs);
      due.callback();
      await flush();
    }
    this.nowMs = until;
    await flush();
  }
}

/** Lets every pending promise callback (and their follow-ups) run. */
export async function flush(): Promise<void> {
  for (let round = 0; round < 5; round += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}
