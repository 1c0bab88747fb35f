/**
 * The narrow Kubernetes client a drill needs, one per kubeconfig context, and the cached
 * set of them.
 *
 * Everything a KubeClient returns is in the API's JSON wire form (timestamps are RFC 3339
 * strings), the same form a watch stream delivers, so the drill engine compares objects
 * from a list, a read and a watch without caring where each came from. Every request has a
 * timeout; every failure is a ClusterError (see ./errors.ts).
 */
import http from 'node:http';
import https from 'node:https';
import {
  CoreV1Api,
  type CoreV1Event,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Pod,
} from '@kubernetes/client-node';
import { ClusterError } from '../errors.js';
import {
  contextNames,
  loadKubeconfig,
  selectContext,
  type KubeconfigOptions,
} from './kubeconfig.js';
import { toClusterError, type CallContext } from './errors.js';

/** An API object as it travels as JSON: Dates are RFC 3339 strings. */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type PodJson = Wire<V1Pod>;
export type EventJson = Wire<CoreV1Event>;

export interface PodList {
  items: PodJson[];
  /** The list's resourceVersion: a watch started from it misses nothing. */
  resourceVersion: string;
}

/** One line of a watch stream. ERROR carries a Status (410 Gone when history expired). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: PodJson & { code?: number; message?: string; reason?: string };
}

export interface WatchPodsOptions {
  namespace: string;
  /** Start after this version; events up to it are not replayed. */
  resourceVersion: string;
  labelSelector?: string;
  /** Ask the server to end the stream after this many seconds (it then resumes). */
  timeoutSeconds: number;
  /** Ends the stream from our side; the promise then resolves. */
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
}

/** The calls a drill makes, bound to one kubeconfig context. */
export interface KubeClient {
  /** The kubeconfig context name (logs' `cluster` field; part of the watch key). */
  readonly cluster: string;
  createPod(options: { namespace: string; pod: V1Pod }): Promise<PodJson>;
  /** The pod, or undefined when there is none of that name. */
  readPod(options: { namespace: string; name: string }): Promise<PodJson | undefined>;
  listPods(options: { namespace: string; labelSelector?: string }): Promise<PodList>;
  /**
   * Deletes a pod, only if its uid still matches (so a namesake created meanwhile by
   * someone else is never touched). 'gone' when it did not exist.
   */
  deletePod(options: {
    namespace: string;
    name: string;
    uid?: string;
    gracePeriodSeconds?: number;
  }): Promise<'deleted' | 'gone'>;
  /** The pod's events, selected as `kubectl describe` does. */
  listPodEvents(options: { namespace: string; name: string; uid?: string }): Promise<EventJson[]>;
  /** A container's log; `previous` reads the instance before the current one. */
  readLog(options: {
    namespace: string;
    name: string;
    container: string;
    previous?: boolean;
    tailLines?: number;
  }): Promise<string>;
  /**
   * Streams pod events until the server ends the stream (resolves), our signal aborts it
   * (resolves) or it fails (rejects with a ClusterError; isExpired() tells a 410).
   */
  watchPods(options: WatchPodsOptions): Promise<void>;
}

/** The cached clients, one per context. */
export interface KubeClientSet {
  /** The client for a context; undefined means the kubeconfig's current context. */
  forContext(name?: string): KubeClient;
  /** Every context the kubeconfig defines. */
  contexts(): string[];
}

export interface KubeClientOptions {
  /** Per-request timeout, ms. Default 30 s: the longest an admission webhook may take. */
  requestTimeoutMs?: number;
  /**
   * A watch whose socket stays silent this long is dropped and resumed, ms, on top of the
   * server timeout the watch asks for. Default 30 s (bookmarks arrive about every minute
   * on a real server, and a server-side timeout closes the stream anyway).
   */
  watchIdleGraceMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_WATCH_IDLE_GRACE_MS = 30_000;
/** The biggest error body read from a failed watch: a Status is a few hundred bytes. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Loads the kubeconfig (see kubeconfig.ts for the precedence) and returns a client set
 * that builds one client per context on first use and keeps it.
 */
export function createKubeClients(
  options: KubeconfigOptions & KubeClientOptions = {},
): KubeClientSet {
  const { config } = loadKubeconfig(options);
  const cache = new Map<string, KubeClient>();

  return {
    contexts: () => contextNames(config),
    forContext(name?: string): KubeClient {
      const key = name ?? '';
      const cached = cache.get(key);
      if (cached !== undefined) return cached;

      const client = createKubeClient(selectContext(config, name), options);
      cache.set(key, client);
      return client;
    },
  };
}

/** A client for the current context of `config` (already narrowed by selectContext). */
export function createKubeClient(config: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  return new ApiKubeClient(config, options);
}

class ApiKubeClient implements KubeClient {
  readonly cluster: string;
  private readonly core: CoreV1Api;
  private readonly server: string;
  private readonly requestTimeoutMs: number;
  private readonly watchIdleGraceMs: number;

  constructor(
    private readonly config: KubeConfig,
    options: KubeClientOptions,
  ) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) {
      throw new ClusterError('kube.config', 'the kubeconfig context names no cluster');
    }
    this.cluster = config.getCurrentContext();
    this.server = cluster.server.replace(/\/+$/, '');
    if (this.server.startsWith('http:') && !cluster.skipTLSVerify) {
      // client-node would throw this on every request, in words that name no context.
      throw new ClusterError(
        'kube.config',
        `context "${this.cluster}" points at a plain-http server (${this.server}); ` +
          'client-node only allows that with insecure-skip-tls-verify: true on the cluster',
      );
    }
    this.core = config.makeApiClient(CoreV1Api);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.watchIdleGraceMs = options.watchIdleGraceMs ?? DEFAULT_WATCH_IDLE_GRACE_MS;
  }

  async createPod({ namespace, pod }: { namespace: string; pod: V1Pod }): Promise<PodJson> {
    const context = this.context('create', 'pods', namespace, pod.metadata?.name);
    return this.call(context, async (options) =>
      toWire(await this.core.createNamespacedPod({ namespace, body: pod }, options)),
    );
  }

  async readPod({ namespace, name }: { namespace: string; name: string }) {
    const context = this.context('get', 'pods', namespace, name);
    try {
      return await this.call(context, async (options) =>
        toWire(await this.core.readNamespacedPod({ namespace, name }, options)),
      );
    } catch (error) {
      if (isCode(error, 'kube.not-found') && !isNamespaceMissing(error)) return undefined;
      throw error;
    }
  }

  async listPods({ namespace, labelSelector }: { namespace: string; labelSelector?: string }) {
    const context = this.context('list', 'pods', namespace);
    const list = await this.call(context, (options) =>
      this.core.listNamespacedPod({ namespace, labelSelector }, options),
    );
    return { items: list.items.map(toWire), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async deletePod(request: {
    namespace: string;
    name: string;
    uid?: string;
    gracePeriodSeconds?: number;
  }): Promise<'deleted' | 'gone'> {
    const { namespace, name, uid, gracePeriodSeconds } = request;
    const context = this.context('delete', 'pods', namespace, name);
    const body = {
      gracePeriodSeconds,
      preconditions: uid === undefined ? undefined : { uid },
      // The pod has no dependents; Background returns at once instead of waiting for them.
      propagationPolicy: 'Background',
    };
    try {
      await this.call(context, (options) =>
        this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds, body }, options),
      );
      return 'deleted';
    } catch (error) {
      if (isCode(error, 'kube.not-found')) return 'gone';
      throw error;
    }
  }

  async listPodEvents({ namespace, name, uid }: { namespace: string; name: string; uid?: string }) {
    const context = this.context('list', 'events', namespace);
    const selectors = [`involvedObject.name=${name}`, `involvedObject.namespace=${namespace}`];
    if (uid !== undefined) selectors.push(`involvedObject.uid=${uid}`);
    const list = await this.call(context, (options) =>
      this.core.listNamespacedEvent({ namespace, fieldSelector: selectors.join(',') }, options),
    );
    return list.items.map(toWire);
  }

  async readLog(request: {
    namespace: string;
    name: string;
    container: string;
    previous?: boolean;
    tailLines?: number;
  }): Promise<string> {
    const { namespace, name, container, previous, tailLines } = request;
    const context = this.context('get', 'pods/log', namespace, name);
    return this.call(context, (options) =>
      this.core.readNamespacedPodLog({ namespace, name, container, previous, tailLines }, options),
    );
  }

  async watchPods(options: WatchPodsOptions): Promise<void> {
    const context = this.context('watch', 'pods', options.namespace);
    const request = await this.watchRequest(options);
    try {
      await streamWatch(request, options, this.watchIdleMs(options));
    } catch (error) {
      if (options.signal.aborted) return;
      throw toClusterError(error, context);
    }
  }

  private watchIdleMs(options: WatchPodsOptions): number {
    return options.timeoutSeconds * 1_000 + this.watchIdleGraceMs;
  }

  /** URL and TLS/auth options of a watch, from the same kubeconfig the API calls use. */
  private async watchRequest(options: WatchPodsOptions): Promise<WatchHttpRequest> {
    const query = new URLSearchParams({
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(options.timeoutSeconds),
    });
    if (options.labelSelector !== undefined) query.set('labelSelector', options.labelSelector);
    const url = new URL(
      `${this.server}/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods?${query}`,
    );

    const httpsOptions: https.RequestOptions = {};
    try {
      await this.config.applyToHTTPSOptions(httpsOptions);
    } catch (error) {
      throw new ClusterError('kube.config', 'cannot apply the kubeconfig credentials', {
        cause: error,
      });
    }
    return { url, httpsOptions };
  }

  private context(verb: string, resource: string, namespace: string, name?: string): CallContext {
    return { verb, resource, namespace, name, server: this.server };
  }

  /** Runs one generated call with a timeout, mapping its failure to a ClusterError. */
  private async call<T>(
    context: CallContext,
    send: (options: ConfigurationOptions) => Promise<T>,
  ): Promise<T> {
    try {
      return await send(timeoutOptions(this.requestTimeoutMs));
    } catch (error) {
      throw toClusterError(error, context);
    }
  }
}

interface WatchHttpRequest {
  url: URL;
  httpsOptions: https.RequestOptions;
}

/** Per-call options that abort the request after `timeoutMs`. */
function timeoutOptions(timeoutMs: number): ConfigurationOptions {
  // The object-parameter API takes client-node's own Observable-style middleware.
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * One watch request: newline-delimited JSON events until the server ends the stream. Our
 * own HTTP request rather than client-node's Watch, because Watch can be neither timed out
 * before the server answers nor asked why it refused (it drops the error body).
 */
function streamWatch(
  request: WatchHttpRequest,
  options: WatchPodsOptions,
  idleMs: number,
): Promise<void> {
  const { url, httpsOptions } = request;
  const transport = url.protocol === 'http:' ? http : https;

  return new Promise<void>((resolve, reject) => {
    const req = transport.request(url, {
      method: 'GET',
      agent: httpsOptions.agent,
      auth: httpsOptions.auth,
      headers: { ...httpsOptions.headers, Accept: 'application/json' },
      signal: options.signal,
    });
    req.setTimeout(idleMs, () => req.destroy(timeoutError(idleMs)));
    req.on('error', (error) => (options.signal.aborted ? resolve() : reject(error)));
    req.on('response', (response) => {
      if (response.statusCode !== 200) {
        readErrorBody(response).then(
          (body) => reject(httpError(response.statusCode, body)),
          reject,
        );
        return;
      }
      readEvents(response, options.onEvent, resolve, reject);
    });
    req.end();
  });
}

function readEvents(
  response: http.IncomingMessage,
  onEvent: (event: WatchEvent) => void,
  resolve: () => void,
  reject: (error: unknown) => void,
): void {
  let buffered = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = parseEvent(line);
      if (event === undefined) {
        response.destroy(new Error('the watch stream sent a line that is not a JSON event'));
        return;
      }
      onEvent(event);
    }
  });
  response.on('end', resolve);
  response.on('error', reject);
  // 'aborted' without 'error' happens when the server resets the connection mid-stream.
  response.on('aborted', () =>
    reject(Object.assign(new Error('watch stream aborted'), { code: 'ECONNRESET' })),
  );
}

function parseEvent(line: string): WatchEvent | undefined {
  try {
    const value = JSON.parse(line) as Partial<WatchEvent>;
    if (typeof value.type !== 'string' || typeof value.object !== 'object') return undefined;
    return value as WatchEvent;
  } catch {
    return undefined;
  }
}

async function readErrorBody(response: http.IncomingMessage): Promise<string> {
  let body = '';
  response.setEncoding('utf8');
  for await (const chunk of response) {
    if (body.length < MAX_ERROR_BODY_BYTES) body += chunk as string;
  }
  return body;
}

function httpError(statusCode: number | undefined, body: string): Error {
  return Object.assign(new Error(`HTTP ${statusCode}`), { statusCode: statusCode ?? 0, body });
}

function timeoutError(idleMs: number): Error {
  return Object.assign(new Error(`watch silent for ${idleMs} ms`), { code: 'ETIMEDOUT' });
}

/**
 * Converts a client-node model (Dates) to the wire form (RFC 3339 strings) so that objects
 * from a read compare equal to the same objects from a watch. Kubernetes writes seconds
 * precision without a fraction, so `.000` is dropped.
 */
export function toWire<T>(value: T): Wire<T> {
  return convert(value) as Wire<T>;
}

function convert(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (Array.isArray(value)) return value.map(convert);
  if (typeof value !== 'object' || value === null) return value;

  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = convert(item);
  }
  return out;
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof ClusterError && error.code === code;
}

function isNamespaceMissing(error: unknown): boolean {
  return error instanceof ClusterError && /^namespace "/.test(error.message);
}
