/**
 * The drill's --timeout as a budget that only runs while the drill is waiting on something
 * other than the kubelet's restart back-off. Back-off waits are known in advance (10 s,
 * 20 s, 40 s ... up to 5 min) and are part of the drill, so they are shown, never charged.
 */
import type { Clock } from '../kube/index.js';

export class TimeoutBudget {
  private usedMs = 0;
  private since: number | undefined;
  private timer: unknown;
  private done = false;

  /** `onExpire` runs once, when `totalMs` of running time has been used. */
  constructor(
    private readonly clock: Clock,
    private readonly totalMs: number,
    private readonly onExpire: () => void,
  ) {}

  /** Starts or continues charging time. */
  resume(): void {
    if (this.done || this.since !== undefined) return;

    this.since = this.clock.now();
    const remainingMs = Math.max(this.totalMs - this.usedMs, 0);
    this.timer = this.clock.setTimeout(() => this.expire(), remainingMs);
  }

  /** Stops charging time (the kubelet is in back-off). */
  pause(): void {
    if (this.since === undefined) return;

    this.usedMs += this.clock.now() - this.since;
    this.since = undefined;
    this.clock.clearTimeout(this.timer);
  }

  /** Charged time so far, ms. */
  elapsedMs(): number {
    return this.usedMs + (this.since === undefined ? 0 : this.clock.now() - this.since);
  }

  cancel(): void {
    this.pause();
    this.done = true;
  }

  private expire(): void {
    this.since = undefined;
    this.done = true;
    this.onExpire();
  }
}
