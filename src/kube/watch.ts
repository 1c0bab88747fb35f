/**
 * One shared pod watch per (cluster context, namespace), feeding every drill there.
 *
 * A worker runs hundreds of drills at once; a watch per drill would hold hundreds of
 * long-lived connections to the API server and replay the same events to each. Instead a
 * drill subscribes to the pods it cares about by name, and the watch of its namespace
 * lives as long as anyone subscribes (plus a short linger, so back-to-back drills reuse it).
 *
 * The watch protocol: list to get a resourceVersion, then watch from it with bookmarks and
 * a server-side timeout. A stream that ends (timeout, proxy, dropped connection) is resumed
 * from the last resourceVersion seen, bookmarks included, so no event is lost. When the
 * server no longer keeps that version (410 Gone, as an ERROR event or an HTTP status) the
 * watch lists again and hands each subscriber the current object as a `resync`, because
 * events in between are lost for good. Repeated failures back off exponentially with jitter.
 */
import { silentLogger, type Logger } from '../log.js';
import { ClusterError, type OomtestError } from '../errors.js';
import type { KubeClient, PodJson, WatchEvent } from './client.js';
import { fromStatus, isExpired, toClusterError } from './errors.js';

/** Time and timers, injected so tests and benchmarks control them. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `delayMs` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();

    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a subscriber hears about its pod. */
export type PodUpdate =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; pod: PodJson }
  /** After a re-list: the pod as it is now, or undefined if it no longer exists. */
  | { type: 'resync'; pod: PodJson | undefined }
  /** The watch failed and is retrying; `error.transient` false means it may never recover. */
  | { type: 'error'; error: OomtestError };

export interface PodSubscription {
  /** The pod as last seen by the shared watch, if it exists. */
  current(): PodJson | undefined;
  /** Stops delivery; the namespace watch closes once nobody subscribes. Idempotent. */
  close(): void;
}

export interface SubscribeOptions {
  kube: KubeClient;
  namespace: string;
  /** The pod's name: updates of other pods are not delivered. */
  pod: string;
  onUpdate: (update: PodUpdate) => void;
}

export interface WatchHubOptions {
  clock?: Clock;
  logger?: Logger;
  /** Only pods matching this label selector are watched (e.g. the drills' managed-by label). */
  labelSelector?: string;
  /** How long the server keeps one watch request open, seconds. Default 300 (5 min). */
  serverTimeoutSeconds?: number;
  /** First retry delay after a failure, ms. Default 500. */
  initialBackoffMs?: number;
  /** Longest retry delay, ms. Default 30 s: a drill's own timeout is minutes. */
  maxBackoffMs?: number;
  /** Keep a namespace watch open this long after its last subscriber left, ms. Default 30 s. */
  lingerMs?: number;
  /** Random numbers in [0, 1) for jitter; injected so tests are deterministic. */
  random?: () => number;
}

/** Counters for benchmarks and /metrics. */
export interface WatchStats {
  /** Watch requests opened (first watches and every resume). */
  connectionsOpened: number;
  /** List requests made (one per namespace watch start, plus relists). */
  lists: number;
  /** Lists made because history expired (410) after the first list. */
  relists: number;
  /** Watch streams that ended or failed and were resumed. */
  resumes: number;
  /** Namespace watches running now. */
  activeWatches: number;
  /** Subscriptions open now. */
  subscribers: number;
}

type Settings = Required<Omit<WatchHubOptions, 'labelSelector'>> & { labelSelector?: string };

const DEFAULTS = {
  serverTimeoutSeconds: 300,
  initialBackoffMs: 500,
  maxBackoffMs: 30_000,
  lingerMs: 30_000,
};

/** A stream that lasted this long before ending counts as healthy (no back-off needed). */
const HEALTHY_STREAM_MS = 5_000;

/** The shared pod watches of one process. */
export class PodWatchHub {
  private readonly settings: Settings;
  private readonly watches = new Map<string, NamespaceWatch>();
  private readonly counters = { connectionsOpened: 0, lists: 0, relists: 0, resumes: 0 };

  constructor(options: WatchHubOptions = {}) {
    this.settings = {
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger(),
      labelSelector: options.labelSelector,
      serverTimeoutSeconds: options.serverTimeoutSeconds ?? DEFAULTS.serverTimeoutSeconds,
      initialBackoffMs: options.initialBackoffMs ?? DEFAULTS.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      lingerMs: options.lingerMs ?? DEFAULTS.lingerMs,
      random: options.random ?? Math.random,
    };
  }

  /**
   * Subscribes to one pod's updates. Resolves once the namespace watch has listed (so any
   * change made after this resolves is delivered); rejects with a ClusterError when that
   * first list fails (no access, no namespace, no server).
   */
  async subscribe(options: SubscribeOptions): Promise<PodSubscription> {
    const key = `${options.kube.cluster}\u0000${options.namespace}`;
    let watch = this.watches.get(key);
    if (watch === undefined || watch.stopped) {
      watch = new NamespaceWatch(
        options.kube,
        options.namespace,
        this.settings,
        this.counters,
        () => this.watches.delete(key),
      );
      this.watches.set(key, watch);
    }

    const release = watch.add(options.pod, options.onUpdate);
    try {
      await watch.ready;
    } catch (error) {
      release();
      throw error;
    }
    const current = watch;
    return { current: () => current.current(options.pod), close: release };
  }

  stats(): WatchStats {
    let subscribers = 0;
    for (const watch of this.watches.values()) subscribers += watch.subscriberCount();
    return { ...this.counters, activeWatches: this.watches.size, subscribers };
  }

  /** Stops every watch at once (process shutdown). */
  close(): void {
    for (const watch of this.watches.values()) watch.stop();
    this.watches.clear();
  }
}

type Listener = (update: PodUpdate) => void;

/** The watch of one namespace on one cluster, and who listens to which pod. */
class NamespaceWatch {
  readonly ready: Promise<void>;
  stopped = false;
  private readonly listeners = new Map<string, Set<Listener>>();
  private cache = new Map<string, PodJson>();
  private resourceVersion: string | undefined;
  private readonly life = new AbortController();
  private stream: AbortController | undefined;
  private streamError: OomtestError | undefined;
  private lingerTimer: unknown;
  private readonly logger: Logger;

  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly settings: Settings,
    private readonly counters: Omit<WatchStats, 'activeWatches' | 'subscribers'>,
    private readonly onStop: () => void,
  ) {
    this.logger = settings.logger.child({ cluster: kube.cluster, namespace });
    this.ready = this.list(true);
    this.ready.then(
      () => void this.run(),
      () => this.stop(),
    );
  }

  /** Registers a listener; returns the function that removes it (idempotent). */
  add(pod: string, listener: Listener): () => void {
    this.cancelLinger();
    const set = this.listeners.get(pod) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(pod, set);

    let released = false;
    return () => {
      if (released) return;
      released = true;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(pod);
      if (this.listeners.size === 0) this.scheduleLinger();
    };
  }

  current(pod: string): PodJson | undefined {
    return this.cache.get(pod);
  }

  subscriberCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelLinger();
    this.life.abort();
    this.stream?.abort();
    this.onStop();
  }

  /** Watch, resume, relist, back off: until stopped. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const healthy = await this.cycle();
      failures = healthy ? 0 : failures + 1;
      if (this.stopped) return;

      this.counters.resumes += 1;
      if (failures > 0)
        await sleep(this.settings.clock, this.backoffMs(failures), this.life.signal);
    }
  }

  /** One list-if-needed plus one watch request; true when it made progress. */
  private async cycle(): Promise<boolean> {
    const expiredBefore = this.resourceVersion === undefined;
    try {
      if (this.resourceVersion === undefined) await this.list(false);
      return await this.watchOnce();
    } catch (error) {
      if (this.stopped) return true;
      return this.onFailure(error, expiredBefore);
    }
  }

  /** Logs and tells subscribers; an expired version is normal once, so it is not penalised. */
  private onFailure(error: unknown, expiredBefore: boolean): boolean {
    const failure = this.asClusterError(error);
    if (isExpired(failure)) {
      this.logger.info({ code: failure.code }, 'watch history expired; listing pods again');
      this.resourceVersion = undefined;
      return !expiredBefore;
    }

    this.logger.warn({ err: failure, code: failure.code }, 'pod watch failed; retrying');
    this.broadcast({ type: 'error', error: failure });
    return false;
  }

  /**
   * Anything the API server or the network did not explain (a garbled stream line, a
   * proxy's odd answer) is a broken stream: worth retrying, never a reason to give up.
   */
  private asClusterError(error: unknown): OomtestError {
    const context = { verb: 'watch', resource: 'pods', namespace: this.namespace };
    const failure = toClusterError(error, context);
    if (failure instanceof ClusterError) return failure;

    const reason = error instanceof Error ? error.message : 'unknown error';
    return new ClusterError('kube.unreachable', `the pod watch stream broke (${reason})`, {
      cause: error,
      transient: true,
    });
  }

  private async list(first: boolean): Promise<void> {
    const list = await this.kube.listPods({
      namespace: this.namespace,
      labelSelector: this.settings.labelSelector,
    });
    this.counters.lists += 1;
    this.cache = new Map(list.items.map((pod) => [pod.metadata?.name ?? '', pod]));
    this.resourceVersion = list.resourceVersion;
    if (first) return;

    this.counters.relists += 1;
    for (const pod of this.listeners.keys()) {
      this.deliver(pod, { type: 'resync', pod: this.cache.get(pod) });
    }
  }

  private async watchOnce(): Promise<boolean> {
    const stream = new AbortController();
    this.stream = stream;
    this.streamError = undefined;
    this.counters.connectionsOpened += 1;
    const startedMs = this.settings.clock.now();
    let events = 0;

    await this.kube.watchPods({
      namespace: this.namespace,
      resourceVersion: this.resourceVersion ?? '',
      labelSelector: this.settings.labelSelector,
      timeoutSeconds: this.settings.serverTimeoutSeconds,
      signal: stream.signal,
      onEvent: (event) => {
        events += 1;
        this.onEvent(event, stream);
      },
    });
    if (this.streamError !== undefined) throw this.streamError;

    return events > 0 || this.settings.clock.now() - startedMs >= HEALTHY_STREAM_MS;
  }

  private onEvent(event: WatchEvent, stream: AbortController): void {
    if (event.type === 'ERROR') {
      this.streamError = fromStatus(event.object.code ?? 500, event.object, {
        verb: 'watch',
        resource: 'pods',
        namespace: this.namespace,
      });
      stream.abort();
      return;
    }

    const version = event.object.metadata?.resourceVersion;
    if (version !== undefined) this.resourceVersion = version;
    if (event.type === 'BOOKMARK') return;

    const name = event.object.metadata?.name ?? '';
    if (event.type === 'DELETED') this.cache.delete(name);
    else this.cache.set(name, event.object);
    this.deliver(name, { type: event.type, pod: event.object });
  }

  private deliver(pod: string, update: PodUpdate): void {
    for (const listener of this.listeners.get(pod) ?? []) {
      try {
        listener(update);
      } catch (error) {
        this.logger.error({ err: error, pod }, 'pod watch subscriber threw');
      }
    }
  }

  private broadcast(update: PodUpdate): void {
    for (const pod of this.listeners.keys()) this.deliver(pod, update);
  }

  /** Exponential from initialBackoffMs, capped, with half of it random ("equal jitter"). */
  private backoffMs(failures: number): number {
    const exponential = this.settings.initialBackoffMs * 2 ** Math.min(failures - 1, 16);
    const capped = Math.min(this.settings.maxBackoffMs, exponential);
    return capped / 2 + (this.settings.random() * capped) / 2;
  }

  private scheduleLinger(): void {
    this.cancelLinger();
    this.lingerTimer = this.settings.clock.setTimeout(() => {
      if (this.listeners.size === 0) this.stop();
    }, this.settings.lingerMs);
  }

  private cancelLinger(): void {
    if (this.lingerTimer === undefined) return;
    this.settings.clock.clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }
}
