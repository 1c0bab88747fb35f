/**
 * Stop requests reach the worker that owns a drill over Redis pub/sub: every worker
 * listens on one channel and acts only on the drills it runs. A request that arrives
 * while no worker runs the drill is not lost: it is also kept in Redis (DrillState),
 * and checked when a worker takes the drill.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { parseStopRequest, type DrillKeys, type StopRequest } from '../queue/index.js';

export class StopListener {
  private readonly owned = new Map<string, (request: StopRequest) => void>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
  ) {}

  /**
   * Subscribes on `subscriber`, a connection of its own (a subscribed connection cannot
   * run other commands). ioredis subscribes again by itself after a reconnect.
   */
  static async start(options: {
    subscriber: Redis;
    keys: DrillKeys;
    logger: Logger;
  }): Promise<StopListener> {
    const listener = new StopListener(options.subscriber, options.logger);
    options.subscriber.on('message', (channel: string, text: string) => {
      if (channel === options.keys.stopChannel) listener.deliver(text);
    });
    await options.subscriber.subscribe(options.keys.stopChannel);
    return listener;
  }

  /** The subscribed connection, for the owner to close. */
  get connection(): Redis {
    return this.subscriber;
  }

  /** Calls `onStop` when a stop for `drillId` arrives, until the returned function runs. */
  own(drillId: string, onStop: (request: StopRequest) => void): () => void {
    this.owned.set(drillId, onStop);
    return () => {
      if (this.owned.get(drillId) === onStop) this.owned.delete(drillId);
    };
  }

  async close(): Promise<void> {
    this.owned.clear();
    await this.subscriber.unsubscribe().catch(() => undefined);
  }

  private deliver(text: string): void {
    const request = parseStopRequest(text);
    if (request === undefined) return;

    const onStop = this.owned.get(request.drillId);
    if (onStop === undefined) return;
    this.logger.info(
      { drillId: request.drillId, user: request.by, command: 'stop' },
      'stop requested',
    );
    onStop(request);
  }
}
