/**
 * The HTTP side of the fake API server: routing of /api/v1 paths, REST verbs, watch streams,
 * Table output, pod logs, fault injection and the request record.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  applyPodDefaults,
  enforceMemoryQuota,
  enforcePodSecurity,
  resolveName,
  validatePod,
} from './admission.js';
import {
  AGGREGATED_DISCOVERY_TYPE,
  aggregatedCoreDiscovery,
  aggregatedGroupsDiscovery,
  apiGroupList,
  apiVersions,
  coreResourceList,
  openApiV3CoreV1,
  openApiV3Index,
  resourceScope,
  versionInfo,
  wantsAggregatedDiscovery,
} from './discovery.js';
import { EventRecorder } from './events.js';
import { nodeObject } from './node.js';
import { Kubelet } from './kubelet.js';
import { logContainerId, pickContainer, renderLog, type LogLine, type LogQuery } from './logs.js';
import {
  applyPatch,
  asObject,
  checkPreconditions,
  decodeContinue,
  deleteOptions,
  encodeContinue,
  includeOf,
  KINDS,
  mergePod,
  notFoundPath,
  readBody,
  statusSuccess,
  withKind,
  type Route,
} from './rest.js';
import { parseFieldSelector, parseLabelSelector, type Matcher } from './selectors.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  invalid,
  injectedFailure,
  notFound,
  statusBody,
} from './status.js';
import { Store, type Change } from './store.js';
import { toTable, wantsTable } from './table.js';
import type {
  FakeKubeOptions,
  KubeObject,
  NamespaceOptions,
  PodJson,
  PodSecurityLevel,
  RecordedRequest,
} from './types.js';
import { clone, formatBytes, newUid, parseQuantity, rfc3339 } from './util.js';

const QUOTA_NAME = 'memory-quota';
// A kind-style node address; only ever displayed.
const HOST_IP = '172.18.0.2';
// The apiserver's default page when a client sends no limit is unbounded; kubectl sends 500.
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  query: Record<string, string>;
  record: RecordedRequest;
}

export class FakeApiServer {
  readonly store: Store;
  readonly requests: RecordedRequest[] = [];
  private readonly events: EventRecorder;
  private readonly kubelet: Kubelet;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<() => void>();
  private readonly timeScale: number;
  private failures: { count: number; status: number } = { count: 0, status: 500 };
  private address = '127.0.0.1:0';

  constructor(options: FakeKubeOptions) {
    const nodeName = options.nodeName ?? 'node-1';
    this.timeScale = options.timeScale ?? 0.01;
    this.store = new Store(options.watchHistorySize ?? 5_000);
    this.events = new EventRecorder(this.store, nodeName);
    this.kubelet = new Kubelet({
      store: this.store,
      events: this.events,
      nodeName,
      hostIp: HOST_IP,
      timeScale: this.timeScale,
      ...(options.kubelet ? { behaviour: options.kubelet } : {}),
    });
    this.store.create('nodes', nodeObject(nodeName, HOST_IP));
    const namespaces = options.namespaces ?? [];
    if (!namespaces.some((ns) => ns.name === 'default')) this.addNamespace({ name: 'default' });
    for (const namespace of namespaces) this.addNamespace(namespace);

    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    this.address = `127.0.0.1:${port}`;
    return `http://${this.address}`;
  }

  async stop(): Promise<void> {
    this.kubelet.stop();
    this.dropWatches();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  dropWatches(): void {
    for (const cut of [...this.watches]) cut();
  }

  failNext(count: number, status = 500): void {
    this.failures = { count, status };
  }

  /** Stores a pod as-is (defaults and a kubelet, but no validation or admission). */
  putPod(input: object): PodJson {
    const pod = clone(input) as PodJson;
    pod.metadata ??= {};
    pod.metadata.namespace ??= 'default';
    return this.storePod(pod);
  }

  // ---- namespaces --------------------------------------------------------------------------------

  private addNamespace(options: NamespaceOptions): void {
    const labels: Record<string, string> = { 'kubernetes.io/metadata.name': options.name };
    if (options.podSecurity) labels['pod-security.kubernetes.io/enforce'] = options.podSecurity;
    this.store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: options.name,
        uid: newUid(),
        creationTimestamp: rfc3339(Date.now()),
        labels,
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    if (options.memoryQuotaBytes === undefined) return;

    const hard = formatBytes(options.memoryQuotaBytes);
    this.store.create('resourcequotas', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: {
        name: QUOTA_NAME,
        namespace: options.name,
        uid: newUid(),
        creationTimestamp: rfc3339(Date.now()),
      },
      spec: { hard: { 'limits.memory': hard, 'requests.memory': hard } },
      status: {
        hard: { 'limits.memory': hard, 'requests.memory': hard },
        used: { 'limits.memory': '0', 'requests.memory': '0' },
      },
    });
  }

  private podSecurityLevel(namespace: string): PodSecurityLevel {
    const labels = this.store.get('namespaces', undefined, namespace)?.metadata.labels ?? {};
    const level = labels['pod-security.kubernetes.io/enforce'];
    return level === 'baseline' || level === 'restricted' ? level : 'privileged';
  }

  // ---- request entry -----------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const route = this.route(url.pathname);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      verb: this.verbOf(req.method ?? 'GET', route, query),
      resource: route?.resource ?? '',
      subresource: route?.subresource ?? '',
      namespace: route?.namespace ?? '',
      name: route?.name ?? '',
      status: 0,
      userAgent: req.headers['user-agent'] ?? '',
    };
    this.requests.push(record);
    res.on('finish', () => {
      if (record.status === 0) record.status = res.statusCode;
    });
    const context: RequestContext = { req, res, url, query, record };

    try {
      await this.dispatch(context, route);
    } catch (error) {
      const status =
        error instanceof ApiError
          ? error.status
          : statusBody({
              code: 500,
              reason: 'InternalError',
              message: `Internal error occurred: ${String(error)}`,
            });
      if (!res.headersSent) this.sendJson(context, status.code, status);
      else res.destroy();
    }
  }

  private async dispatch(context: RequestContext, route: Route | undefined): Promise<void> {
    const path = context.url.pathname.replace(/\/+$/, '') || '/';
    if (
      (path === '/api' || path === '/apis') &&
      wantsAggregatedDiscovery(context.req.headers.accept)
    ) {
      const body = path === '/api' ? aggregatedCoreDiscovery() : aggregatedGroupsDiscovery();
      this.sendJson(context, 200, body, AGGREGATED_DISCOVERY_TYPE);
      return;
    }
    const discovery = this.discovery(path);
    if (discovery !== undefined) {
      this.sendJson(context, 200, discovery);
      return;
    }
    if (!route) throw notFoundPath();

    if (this.failures.count > 0) {
      this.failures.count -= 1;
      const failure = injectedFailure(this.failures.status);
      if (this.failures.status === 429 || this.failures.status === 503)
        context.res.setHeader('Retry-After', '1');
      this.sendJson(context, failure.code, failure);
      return;
    }
    const body = await readBody(context.req);
    await this.resourceRequest(context, route, body);
  }

  private discovery(path: string): object | undefined {
    if (path === '/version') return versionInfo();
    if (path === '/api') return apiVersions(this.address);
    if (path === '/apis') return apiGroupList();
    if (path === '/api/v1') return coreResourceList();
    if (path === '/openapi/v3') return openApiV3Index();
    if (path === '/openapi/v3/api/v1') return openApiV3CoreV1();
    return undefined;
  }

  private route(pathname: string): Route | undefined {
    const match = /^\/api\/v1\/(.+?)\/?$/.exec(pathname);
    if (!match?.[1]) return undefined;
    const parts = match[1].split('/').map(decodeURIComponent);

    let route: Route;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      route = {
        namespace: parts[1],
        resource: parts[2] ?? '',
        name: parts[3],
        subresource: parts[4] ?? '',
      };
    } else {
      route = {
        namespace: undefined,
        resource: parts[0] ?? '',
        name: parts[1],
        subresource: parts[2] ?? '',
      };
    }
    const namespaced = resourceScope(route.resource);
    if (namespaced === undefined) return undefined;
    if (route.subresource && resourceScope(`${route.resource}/${route.subresource}`) === undefined)
      return undefined;
    if (!namespaced && route.namespace !== undefined) return undefined;
    return route;
  }

  /** The verb RBAC would check for this request. */
  private verbOf(method: string, route: Route | undefined, query: Record<string, string>): string {
    const watching = query.watch === 'true' || query.watch === '1';
    switch (method) {
      case 'GET':
        if (watching) return 'watch';
        return route?.name ? 'get' : route ? 'list' : 'get';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return route?.name ? 'delete' : 'deletecollection';
      default:
        return method.toLowerCase();
    }
  }

  private async resourceRequest(
    context: RequestContext,
    route: Route,
    body: unknown,
  ): Promise<void> {
    const { record } = context;
    if (route.subresource === 'log') {
      this.podLog(context, route);
      return;
    }
    switch (record.verb) {
      case 'list':
        this.list(context, route);
        return;
      case 'watch':
        this.watch(context, route);
        return;
      case 'get':
        this.get(context, route);
        return;
      case 'create':
        this.create(context, route, body);
        return;
      case 'update':
      case 'patch':
        this.modify(context, route, body);
        return;
      case 'delete':
        this.delete(context, route, body);
        return;
      case 'deletecollection':
        this.deleteCollection(context, route, body);
        return;
      default:
        throw new ApiError(
          statusBody({
            code: 405,
            reason: 'MethodNotAllowed',
            message: `the server does not allow this method on the requested resource`,
          }),
        );
    }
  }

  // ---- reads -------------------------------------------------------------------------------------

  private matcher(route: Route, query: Record<string, string>): Matcher {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(route.resource, query.fieldSelector);
    return (object) =>
      (route.namespace === undefined || object.metadata.namespace === route.namespace) &&
      (route.name === undefined || object.metadata.name === route.name) &&
      labels(object) &&
      fields(object);
  }

  private list(context: RequestContext, route: Route): void {
    const { query } = context;
    this.checkListVersion(query);
    const matches = this.matcher(route, query);
    const all = this.store.peekList(route.resource, route.namespace).filter(matches);
    const rv = String(this.store.currentRv);

    const start = query.continue ? decodeContinue(query.continue) : 0;
    const limit = query.limit ? Number(query.limit) : NO_LIMIT;
    const page = all.slice(start, start + limit);
    const more = start + limit < all.length;
    const metadata = {
      resourceVersion: rv,
      ...(more
        ? {
            continue: encodeContinue(start + limit, rv),
            remainingItemCount: all.length - start - limit,
          }
        : {}),
    };

    if (wantsTable(context.req.headers.accept)) {
      this.sendJson(
        context,
        200,
        toTable({ resource: route.resource, objects: page, include: includeOf(query), metadata }),
      );
      return;
    }
    this.sendJson(context, 200, {
      kind: `${KINDS[route.resource]}List`,
      apiVersion: 'v1',
      metadata,
      items: page.map(withKind(route.resource)),
    });
  }

  private get(context: RequestContext, route: Route): void {
    const object = this.find(route);
    if (wantsTable(context.req.headers.accept)) {
      const metadata = { resourceVersion: object.metadata.resourceVersion ?? '' };
      this.sendJson(
        context,
        200,
        toTable({
          resource: route.resource,
          objects: [object],
          include: includeOf(context.query),
          metadata,
        }),
      );
      return;
    }
    this.sendJson(context, 200, object);
  }

  private find<T extends KubeObject = KubeObject>(route: Route): T {
    const object = this.store.get<T>(route.resource, route.namespace, route.name ?? '');
    if (!object) throw notFound(route.resource, route.name ?? '');
    return withKind(route.resource)(object) as T;
  }

  /**
   * A list pinned to an exact resourceVersion the history no longer covers is 410 Expired.
   * Known gap: any other list resourceVersion (NotOlderThan, "0") is served from the current
   * state, as the watch cache does; an exact list of a retained older version is also served
   * from the current state instead of the past one.
   */
  private checkListVersion(query: Record<string, string>): void {
    const rv = Number(query.resourceVersion ?? '');
    if (query.resourceVersionMatch !== 'Exact' || !Number.isInteger(rv)) return;
    if (rv < this.store.oldestResumableRv)
      throw new ApiError(expired(rv, this.store.oldestResumableRv));
  }

  // ---- watch -------------------------------------------------------------------------------------

  private watch(context: RequestContext, route: Route): void {
    const { req, res, query } = context;
    const matches = this.matcher(route, query);
    const rvText = query.resourceVersion ?? '';
    // Known gap: a resourceVersion newer than the store's starts the watch at once; the real
    // watch cache waits up to 3 s for it and then fails with 504 "Too large resource version".
    const fromRv = rvText === '' || rvText === '0' ? undefined : Number(rvText);
    if (fromRv !== undefined && !Number.isInteger(fromRv))
      throw badRequest(
        `resourceVersion: Invalid value: "${rvText}": strconv.ParseUint: parsing "${rvText}": invalid syntax`,
      );

    if (query.sendInitialEvents === 'true' && query.resourceVersionMatch !== 'NotOlderThan') {
      throw invalid('ListOptions', '', [
        {
          field: 'resourceVersionMatch',
          reason: 'FieldValueForbidden',
          message:
            'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        },
      ]);
    }
    const table = wantsTable(req.headers.accept);
    const include = includeOf(query);
    let first = true;
    const send = (type: string, object: unknown): void => {
      let payload = object;
      if (table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
        payload = toTable({
          resource: route.resource,
          objects: [object as KubeObject],
          include,
          withColumns: first,
        });
        first = false;
      }
      res.write(`${JSON.stringify({ type, object: payload })}\n`);
    };

    context.record.status = 200;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();

    const deliver = (change: Change): void => {
      const now = matches(change.object);
      const before = change.previous ? matches(change.previous) : false;
      const object = withKind(route.resource)(change.object);
      if (change.type === 'DELETED') {
        if (now || before) send('DELETED', object);
      } else if (now && (change.type === 'ADDED' || !before)) send('ADDED', object);
      else if (now) send('MODIFIED', object);
      else if (before) send('DELETED', object);
    };

    const initialEvents = query.sendInitialEvents === 'true';
    if (fromRv === undefined || initialEvents) {
      for (const object of this.store.peekList(route.resource, route.namespace).filter(matches))
        send('ADDED', withKind(route.resource)(object));
    } else {
      const changes = this.store.changesSince(route.resource, fromRv);
      if (!changes) {
        send('ERROR', expired(fromRv, this.store.oldestResumableRv));
        res.end();
        return;
      }
      for (const change of changes) deliver(change);
    }
    if (initialEvents) {
      // The watch-list protocol: a bookmark marks the end of the initial state.
      const annotations = { 'k8s.io/initial-events-end': 'true' };
      const metadata = { resourceVersion: String(this.store.currentRv), annotations };
      send('BOOKMARK', { kind: KINDS[route.resource], apiVersion: 'v1', metadata });
    }
    this.holdWatch(context, route, deliver);
  }

  private holdWatch(
    context: RequestContext,
    route: Route,
    deliver: (change: Change) => void,
  ): void {
    const { req, res, query } = context;
    const unlisten = this.store.listen({ resource: route.resource, onChange: deliver });
    const timers: NodeJS.Timeout[] = [];
    const kind = KINDS[route.resource];

    const close = (abrupt: boolean): void => {
      unlisten();
      for (const timer of timers) clearTimeout(timer);
      this.watches.delete(cut);
      if (abrupt) req.socket.destroy();
      else res.end();
    };
    const cut = (): void => close(true);
    this.watches.add(cut);
    req.on('close', () => close(false));

    if (query.allowWatchBookmarks === 'true' || query.allowWatchBookmarks === '1') {
      // The watch cache sends a bookmark about once a minute; scaled so tests see them.
      const bookmark = (): void => {
        res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { kind, apiVersion: 'v1', metadata: { resourceVersion: String(this.store.currentRv) } } })}\n`,
        );
      };
      timers.push(setInterval(bookmark, Math.max(50, 60_000 * this.timeScale)));
    }
    const timeoutSeconds = Number(query.timeoutSeconds ?? '0');
    if (timeoutSeconds > 0) timers.push(setTimeout(() => close(false), timeoutSeconds * 1000));
  }

  // ---- writes ------------------------------------------------------------------------------------

  private create(context: RequestContext, route: Route, body: unknown): void {
    const object = asObject(body);
    if (route.name !== undefined)
      throw new ApiError(
        statusBody({
          code: 405,
          reason: 'MethodNotAllowed',
          message: 'the server does not allow this method on the requested resource',
        }),
      );
    if (route.namespace !== undefined && !this.store.get('namespaces', undefined, route.namespace))
      throw notFound('namespaces', route.namespace);
    if (
      route.namespace !== undefined &&
      object.metadata.namespace &&
      object.metadata.namespace !== route.namespace
    ) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (route.namespace !== undefined) object.metadata.namespace = route.namespace;
    const dryRun = context.query.dryRun === 'All';

    const created =
      route.resource === 'pods'
        ? this.createPod(object as PodJson, dryRun)
        : this.createOther(route, object, dryRun);
    this.sendJson(context, 201, created);
  }

  private createPod(pod: PodJson, dryRun: boolean): PodJson {
    resolveName(pod);
    validatePod(pod);
    enforcePodSecurity(pod, this.podSecurityLevel(pod.metadata.namespace ?? 'default'));
    const quota = this.store.get<KubeObject>('resourcequotas', pod.metadata.namespace, QUOTA_NAME);
    if (quota) {
      const hard = parseQuantity(
        (quota.spec as { hard: Record<string, string> }).hard['limits.memory'] ?? '0',
      );
      enforceMemoryQuota(
        pod,
        { name: QUOTA_NAME, hardBytes: hard },
        this.store.list<PodJson>('pods', pod.metadata.namespace),
      );
    }
    if (this.store.get('pods', pod.metadata.namespace, pod.metadata.name ?? ''))
      throw alreadyExists('pods', pod.metadata.name ?? '');
    if (dryRun) {
      applyPodDefaults(pod);
      return pod;
    }
    return this.storePod(pod);
  }

  private storePod(pod: PodJson): PodJson {
    resolveName(pod);
    pod.apiVersion = 'v1';
    pod.kind = 'Pod';
    pod.metadata = {
      ...pod.metadata,
      uid: newUid(),
      creationTimestamp: rfc3339(Date.now()),
    };
    delete pod.metadata.resourceVersion;
    applyPodDefaults(pod);
    const stored = this.store.create('pods', pod);
    this.kubelet.admit(stored);
    return stored;
  }

  private createOther(route: Route, object: KubeObject, dryRun: boolean): KubeObject {
    if (!object.metadata.name && object.metadata.generateName)
      object.metadata.name = `${object.metadata.generateName}${newUid().slice(0, 5)}`;
    const name = object.metadata.name ?? '';
    if (!name) throw badRequest('name or generateName is required');
    if (this.store.get(route.resource, route.namespace, name))
      throw alreadyExists(route.resource, name);

    object.apiVersion = 'v1';
    object.kind = KINDS[route.resource] ?? 'Unknown';
    object.metadata.uid = newUid();
    object.metadata.creationTimestamp = rfc3339(Date.now());
    delete object.metadata.resourceVersion;
    if (route.resource === 'namespaces') {
      object.metadata.labels = {
        ...(object.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': name,
      };
      object.spec = { finalizers: ['kubernetes'] };
      object.status = { phase: 'Active' };
    }
    return dryRun ? object : this.store.create(route.resource, object);
  }

  /**
   * PUT and PATCH. Metadata (labels, annotations) and, for status PUTs, the status change;
   * everything the apiserver treats as immutable on a pod is kept.
   * Known gap: strategic merge patch is applied as a JSON merge patch (lists are replaced, not
   * merged by key), so a strategic patch to a container list behaves differently from a cluster.
   */
  private modify(context: RequestContext, route: Route, body: unknown): void {
    const current = this.find(route);
    const contentType = context.req.headers['content-type'] ?? '';
    const next =
      context.record.verb === 'update' ? asObject(body) : applyPatch(current, body, contentType);

    const expectedRv = next.metadata.resourceVersion;
    if (
      context.record.verb === 'update' &&
      expectedRv &&
      expectedRv !== current.metadata.resourceVersion
    ) {
      throw conflict(
        route.resource,
        route.name ?? '',
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    if (next.metadata.uid && next.metadata.uid !== current.metadata.uid) {
      throw conflict(
        route.resource,
        route.name ?? '',
        `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }

    const merged: KubeObject =
      route.resource === 'pods'
        ? mergePod(current as PodJson, next as PodJson, route.subresource)
        : { ...next, metadata: { ...next.metadata } };
    merged.metadata = {
      ...merged.metadata,
      name: current.metadata.name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      ...(current.metadata.deletionTimestamp
        ? { deletionTimestamp: current.metadata.deletionTimestamp }
        : {}),
    };
    if (context.query.dryRun === 'All') {
      this.sendJson(context, 200, merged);
      return;
    }
    const stored = this.store.update(route.resource, merged);
    if (route.resource === 'pods') this.kubelet.updated(stored as PodJson);
    this.sendJson(context, 200, withKind(route.resource)(stored));
  }

  private delete(context: RequestContext, route: Route, body: unknown): void {
    const current = this.find(route);
    const options = deleteOptions(body, context.query);
    checkPreconditions(route, current, options);
    if (options.dryRun) {
      this.sendJson(context, 200, current);
      return;
    }

    if (route.resource !== 'pods') {
      this.store.remove(route.resource, route.namespace, route.name ?? '');
      if (route.resource === 'namespaces') this.removeNamespaceContents(route.name ?? '');
      this.sendJson(
        context,
        200,
        route.resource === 'namespaces' ? current : statusSuccess(route, current),
      );
      return;
    }
    this.sendJson(context, 200, this.deletePod(current as PodJson, options.gracePeriodSeconds));
  }

  /** Graceful deletion as the pod registry does it: immediate when unscheduled or finished. */
  private deletePod(pod: PodJson, requestedGrace: number | undefined): PodJson {
    const namespace = pod.metadata.namespace;
    const name = pod.metadata.name ?? '';
    const finished = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
    let grace = requestedGrace ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    if (!pod.spec.nodeName || finished) grace = 0;
    if (pod.metadata.deletionTimestamp && grace > 0) return withKind('pods')(pod) as PodJson;

    if (grace === 0) {
      this.kubelet.forget(pod);
      return withKind('pods')(
        this.store.remove<PodJson>('pods', namespace, name) ?? pod,
      ) as PodJson;
    }
    pod.metadata.deletionTimestamp = rfc3339(Date.now() + grace * 1000);
    pod.metadata.deletionGracePeriodSeconds = grace;
    const updated = this.store.update('pods', pod);
    this.kubelet.terminate(updated, grace);
    return withKind('pods')(updated) as PodJson;
  }

  private deleteCollection(context: RequestContext, route: Route, body: unknown): void {
    const options = deleteOptions(body, context.query);
    const matches = this.matcher(route, context.query);
    const removed = this.store
      .list(route.resource, route.namespace)
      .filter(matches)
      .map((object) =>
        route.resource === 'pods'
          ? this.deletePod(object as PodJson, options.gracePeriodSeconds)
          : this.store.remove(route.resource, route.namespace, object.metadata.name ?? ''),
      );
    this.sendJson(context, 200, {
      kind: `${KINDS[route.resource]}List`,
      apiVersion: 'v1',
      metadata: { resourceVersion: String(this.store.currentRv) },
      items: removed,
    });
  }

  private removeNamespaceContents(namespace: string): void {
    for (const pod of this.store.list<PodJson>('pods', namespace)) {
      this.kubelet.forget(pod);
      this.store.remove('pods', namespace, pod.metadata.name ?? '');
    }
    for (const resource of ['events', 'resourcequotas']) {
      for (const object of this.store.list(resource, namespace))
        this.store.remove(resource, namespace, object.metadata.name ?? '');
    }
  }

  // ---- logs --------------------------------------------------------------------------------------

  private podLog(context: RequestContext, route: Route): void {
    const pod = this.find<PodJson>({ ...route, subresource: '' });
    const { query } = context;
    const container = pickContainer(pod, query.container);
    if (!pod.spec.nodeName)
      throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);

    const logQuery: LogQuery = {
      previous: query.previous === 'true',
      timestamps: query.timestamps === 'true',
      ...(query.tailLines !== undefined ? { tailLines: Number(query.tailLines) } : {}),
      ...(query.limitBytes !== undefined ? { limitBytes: Number(query.limitBytes) } : {}),
      ...(query.sinceSeconds !== undefined ? { sinceSeconds: Number(query.sinceSeconds) } : {}),
    };
    const containerId = logContainerId(pod, container, logQuery.previous);
    const log = this.kubelet.instanceLog(pod, container, containerId);
    context.record.status = 200;
    context.res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    const startMs = Date.now();
    const text = renderLog(log?.lines ?? [], logQuery, startMs);
    if (query.follow !== 'true' || !log) {
      context.res.end(text);
      return;
    }
    context.res.write(text);
    const streamed: LogQuery = { previous: false, timestamps: logQuery.timestamps };
    this.followLog(context, { query: streamed, startMs }, () => {
      const now = this.kubelet.instanceLog(pod, container, containerId);
      return now ?? { lines: [], finished: true };
    });
  }

  /** follow=true: streams lines as the instance writes them, ending when it exits. */
  private followLog(
    context: RequestContext,
    options: { query: LogQuery; startMs: number },
    read: () => { lines: LogLine[]; finished: boolean },
  ): void {
    const { query } = options;
    let sentUntilMs = options.startMs;
    // Polling is enough here: lines are planned ahead with their timestamps.
    const timer = setInterval(() => {
      const { lines, finished } = read();
      const nowMs = Date.now();
      const fresh = lines.filter((line) => line.atMs > sentUntilMs && line.atMs <= nowMs);
      sentUntilMs = nowMs;
      if (fresh.length > 0) context.res.write(renderLog(fresh, query, nowMs));
      if (finished && !lines.some((line) => line.atMs > nowMs)) stop();
    }, 20);
    const stop = (): void => {
      clearInterval(timer);
      this.watches.delete(cut);
      context.res.end();
    };
    const cut = (): void => {
      clearInterval(timer);
      this.watches.delete(cut);
      context.req.socket.destroy();
    };
    this.watches.add(cut);
    context.req.on('close', () => {
      clearInterval(timer);
      this.watches.delete(cut);
    });
  }

  // ---- output ------------------------------------------------------------------------------------

  private sendJson(
    context: RequestContext,
    code: number,
    body: unknown,
    contentType?: string,
  ): void {
    context.record.status = code;
    const text = JSON.stringify(body);
    const table = (body as { kind?: unknown } | undefined)?.kind === 'Table';
    context.res.writeHead(code, {
      // The apiserver names the negotiated form, e.g. a Table, in the media type parameters.
      'Content-Type':
        contentType ??
        (table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json'),
      'Cache-Control': 'no-cache, private',
      'Audit-Id': newUid(),
      'Content-Length': Buffer.byteLength(text),
    });
    context.res.end(text);
  }
}
