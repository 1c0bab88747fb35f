/**
 * The fake's wire protocol with a bare HTTP client: watch resume, 410 Expired, bookmarks,
 * timeouts, selectors, Table watches, Status errors, fault injection and the request record.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startFakeKube } from './index.js';
import { drillPod, findPod, http, rawWatch, waitFor, type WatchEventJson } from './helpers.js';
import type { FakeKube, PodJson, ResourcesJson, StatusJson } from './types.js';

let kube: FakeKube;
let pods: string;

beforeAll(async () => {
  kube = await startFakeKube({
    timeScale: 0.01,
    namespaces: [{ name: 'proto-baseline', podSecurity: 'baseline' }],
    kubelet: { neverOom: true },
  });
  pods = `${kube.url}/api/v1/namespaces/default/pods`;
});

afterAll(async () => {
  await kube.stop();
});

async function create(name: string, extra: Partial<PodJson['metadata']> = {}): Promise<PodJson> {
  const pod = drillPod({ name });
  pod.metadata = { ...pod.metadata, ...extra };
  const result = await http(pods, { method: 'POST', body: pod });
  expect(result.status).toBe(201);
  return result.json as PodJson;
}

function names(events: WatchEventJson[], type: string): string[] {
  return events
    .filter((event) => event.type === type)
    .map((event) => event.object.metadata?.name ?? '');
}

describe('watch', () => {
  test('resumes after dropWatches from the last resourceVersion seen, missing nothing', async () => {
    const list = await http(`${pods}?labelSelector=case%3Dresume`);
    const listRv = (list.json as { metadata: { resourceVersion: string } }).metadata
      .resourceVersion;
    const first = rawWatch(`${pods}?watch=1&labelSelector=case%3Dresume&resourceVersion=${listRv}`);
    await create('resume-a', { labels: { case: 'resume' } });
    await waitFor('resume-a ADDED', () => names(first.events, 'ADDED').includes('resume-a'));

    kube.faults.dropWatches();
    expect(await first.ended).toBe('error');
    const lastRv = first.events.at(-1)?.object.metadata?.resourceVersion ?? '';
    await create('resume-b', { labels: { case: 'resume' } });
    const second = rawWatch(
      `${pods}?watch=1&labelSelector=case%3Dresume&resourceVersion=${lastRv}`,
    );
    await waitFor('resume-b ADDED', () => names(second.events, 'ADDED').includes('resume-b'));
    second.close();

    expect(names(second.events, 'ADDED')).toEqual(['resume-b']);
    const rvs = [...first.events, ...second.events].map((event) =>
      Number(event.object.metadata?.resourceVersion),
    );
    expect(new Set(rvs).size).toBe(rvs.length);
  });

  test('a resume from before expireWatchHistory gets one ERROR event with a 410 Expired Status', async () => {
    const list = await http(pods);
    const oldRv = (list.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    await create('expire-a');
    kube.faults.expireWatchHistory();

    const watch = rawWatch(`${pods}?watch=true&resourceVersion=${oldRv}`);
    expect(await watch.ended).toBe('end');

    expect(watch.events).toHaveLength(1);
    expect(watch.events[0]?.type).toBe('ERROR');
    expect(watch.events[0]?.object).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Expired',
      code: 410,
    });
    expect(watch.events[0]?.object.message).toMatch(
      new RegExp(`^too old resource version: ${oldRv} \\(\\d+\\)$`),
    );
  });

  test('a list pinned to an expired exact resourceVersion is 410 too', async () => {
    await create('expire-list');
    kube.faults.expireWatchHistory();

    const result = await http(`${pods}?resourceVersion=1&resourceVersionMatch=Exact`);

    expect(result.status).toBe(410);
    expect(result.json).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
  });

  test('without a resourceVersion, existing objects arrive as ADDED first', async () => {
    await create('initial-a', { labels: { case: 'initial' } });

    const watch = rawWatch(`${pods}?watch=1&labelSelector=case%3Dinitial`);
    await waitFor('initial ADDED', () => watch.events.length > 0);
    watch.close();

    expect(watch.events[0]).toMatchObject({
      type: 'ADDED',
      object: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'initial-a' } },
    });
  });

  test('sendInitialEvents streams the current state, then a bookmark marking its end', async () => {
    await create('initial-list', { labels: { case: 'watch-list' } });

    const watch = rawWatch(
      `${pods}?watch=1&labelSelector=case%3Dwatch-list&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
    );
    await waitFor('the end bookmark', () =>
      watch.events.some((event) => event.type === 'BOOKMARK'),
    );
    watch.close();

    expect(watch.events.slice(0, 2).map((event) => event.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(watch.events[1]?.object.metadata).toMatchObject({
      annotations: { 'k8s.io/initial-events-end': 'true' },
    });
  });

  test('timeoutSeconds ends the stream cleanly', async () => {
    const watch = rawWatch(`${pods}?watch=1&timeoutSeconds=1&resourceVersion=0`);

    expect(await watch.ended).toBe('end');
  });

  test('bookmarks carry the current resourceVersion when allowed', async () => {
    const watch = rawWatch(`${pods}?watch=1&allowWatchBookmarks=true&labelSelector=case%3Dnone`);
    await waitFor('a bookmark', () => watch.events.some((event) => event.type === 'BOOKMARK'));
    watch.close();

    const bookmark = watch.events.find((event) => event.type === 'BOOKMARK');
    expect(bookmark?.object.kind).toBe('Pod');
    expect(Number(bookmark?.object.metadata?.resourceVersion)).toBeGreaterThan(0);
  });

  test('a pod relabelled out of a label selector is DELETED for that watch', async () => {
    const pod = await create('relabel', { labels: { case: 'relabel' } });
    const watch = rawWatch(
      `${pods}?watch=1&labelSelector=case%3Drelabel&resourceVersion=${pod.metadata.resourceVersion}`,
    );

    const patch = await http(`${pods}/relabel`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { metadata: { labels: { case: 'other' } } },
    });
    expect(patch.status).toBe(200);
    await waitFor('DELETED', () => watch.events.some((event) => event.type === 'DELETED'));
    watch.close();

    expect(names(watch.events, 'DELETED')).toEqual(['relabel']);
  });

  test('as a Table, the first event carries column definitions and later ones do not', async () => {
    const watch = rawWatch(`${pods}?watch=1&fieldSelector=metadata.name%3Dtable-watch`, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    await create('table-watch');
    await waitFor('two events', () => watch.events.length >= 2);
    watch.close();

    const [first, second] = watch.events.map(
      (event) =>
        event.object as unknown as {
          kind: string;
          columnDefinitions: unknown[] | null;
          rows: Array<{ cells: unknown[] }>;
        },
    );
    expect(first?.kind).toBe('Table');
    expect(first?.columnDefinitions?.length).toBe(9);
    expect(second?.columnDefinitions).toBeNull();
    expect(second?.rows[0]?.cells[0]).toBe('table-watch');
  });
});

describe('REST', () => {
  test('discovery lists pods with verbs, short names and the log subresource', async () => {
    const result = await http(`${kube.url}/api/v1`);
    const resources = (
      result.json as { resources: Array<{ name: string; verbs: string[]; shortNames?: string[] }> }
    ).resources;

    expect(resources.find((r) => r.name === 'pods')).toMatchObject({
      shortNames: ['po'],
      verbs: expect.arrayContaining(['watch', 'create', 'delete']),
    });
    expect(resources.find((r) => r.name === 'pods/log')?.verbs).toEqual(['get']);
  });

  test('aggregated discovery is served to clients that ask for it', async () => {
    const accept =
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

    const result = await http(`${kube.url}/api`, { headers: { Accept: accept } });
    const legacy = await http(`${kube.url}/api`);

    expect(result.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const list = result.json as {
      items: Array<{
        versions: Array<{
          version: string;
          resources: Array<{
            resource: string;
            scope: string;
            subresources: Array<{ subresource: string }>;
          }>;
        }>;
      }>;
    };
    const podsEntry = list.items[0]?.versions[0]?.resources.find((r) => r.resource === 'pods');
    expect(podsEntry?.scope).toBe('Namespaced');
    expect(podsEntry?.subresources.map((sub) => sub.subresource)).toEqual(['log', 'status']);
    expect(legacy.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
  });

  test('unknown paths and /openapi/v2 are 404 Status objects', async () => {
    for (const path of ['/openapi/v2', '/apis/apps/v1', '/api/v1/widgets']) {
      const result = await http(`${kube.url}${path}`);
      expect(result.status).toBe(404);
      expect(result.json).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
      });
    }
  });

  test('a missing pod is a NotFound Status naming it', async () => {
    const result = await http(`${pods}/nobody`);

    expect(result.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nobody" not found',
      reason: 'NotFound',
      details: { name: 'nobody', kind: 'pods' },
      code: 404,
    } satisfies StatusJson);
  });

  test('delete with a stale uid precondition is a 409 Conflict and the pod stays', async () => {
    await create('precondition');

    const result = await http(`${pods}/precondition`, {
      method: 'DELETE',
      body: { preconditions: { uid: 'not-the-uid' } },
    });

    expect(result.status).toBe(409);
    expect((result.json as StatusJson).reason).toBe('Conflict');
    expect((result.json as StatusJson).message).toMatch(
      /^Operation cannot be fulfilled on pods "precondition": Precondition failed: UID in precondition: not-the-uid, UID in object meta: [0-9a-f-]{36}$/,
    );
    expect(findPod(kube, 'precondition')).toBeDefined();
  });

  test('delete with gracePeriodSeconds=0 removes the pod at once', async () => {
    const pod = await create('grace-zero');
    await waitFor('scheduled', () => findPod(kube, 'grace-zero')?.spec.nodeName);

    const result = await http(`${pods}/grace-zero?gracePeriodSeconds=0`, {
      method: 'DELETE',
      body: { preconditions: { uid: pod.metadata.uid } },
    });

    expect(result.status).toBe(200);
    expect(findPod(kube, 'grace-zero')).toBeUndefined();
  });

  test('a graceful delete sets deletionTimestamp, and STATUS reads Terminating until removal', async () => {
    await create('graceful');
    await waitFor('running', () => findPod(kube, 'graceful')?.status.phase === 'Running');

    const result = await http(`${pods}/graceful`, {
      method: 'DELETE',
      body: { gracePeriodSeconds: 30 },
    });
    const table = await http(`${pods}/graceful`, {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    });

    expect((result.json as PodJson).metadata.deletionGracePeriodSeconds).toBe(30);
    expect((table.json as { rows: Array<{ cells: unknown[] }> }).rows[0]?.cells[2]).toBe(
      'Terminating',
    );
    await waitFor('removal', () => !findPod(kube, 'graceful'));
  });

  test('pods get qosClass Guaranteed, Burstable or BestEffort from their resources', async () => {
    const variants: Array<[string, ResourcesJson, string]> = [
      ['qos-limits-only', { limits: { cpu: '1', memory: '1Gi' } }, 'Guaranteed'],
      ['qos-requests-only', { requests: { memory: '1Gi' } }, 'Burstable'],
      ['qos-none', {}, 'BestEffort'],
    ];
    for (const [name, resources, expected] of variants) {
      const pod = drillPod({ name });
      const container = pod.spec.containers[0];
      if (container) container.resources = resources;
      const result = await http(pods, { method: 'POST', body: pod });
      expect((result.json as PodJson).status.qosClass).toBe(expected);
    }
  });

  test('list filters by labelSelector and fieldSelector, and pages with limit/continue', async () => {
    for (const name of ['page-a', 'page-b', 'page-c'])
      await create(name, { labels: { case: 'page' } });

    const first = await http(`${pods}?labelSelector=case%3Dpage&limit=2`);
    const page1 = first.json as { items: PodJson[]; metadata: { continue?: string } };
    const second = await http(
      `${pods}?labelSelector=case%3Dpage&limit=2&continue=${page1.metadata.continue}`,
    );
    const byName = await http(`${pods}?fieldSelector=metadata.name%3Dpage-b`);
    const badField = await http(`${pods}?fieldSelector=spec.bogus%3D1`);

    expect(page1.items.map((p) => p.metadata.name)).toEqual(['page-a', 'page-b']);
    expect((second.json as { items: PodJson[] }).items.map((p) => p.metadata.name)).toEqual([
      'page-c',
    ]);
    expect((byName.json as { items: PodJson[] }).items.map((p) => p.metadata.name)).toEqual([
      'page-b',
    ]);
    expect(badField.status).toBe(400);
    expect((badField.json as StatusJson).message).toBe('field label not supported: spec.bogus');
  });

  test('a pod spec is immutable but for activeDeadlineSeconds, and a stale update is a Conflict', async () => {
    const pod = await create('immutable');
    const merge = { 'Content-Type': 'application/merge-patch+json' };

    const policy = await http(`${pods}/immutable`, {
      method: 'PATCH',
      headers: merge,
      body: { spec: { restartPolicy: 'Never' } },
    });
    const deadline = await http(`${pods}/immutable`, {
      method: 'PATCH',
      headers: merge,
      body: { spec: { activeDeadlineSeconds: 600 } },
    });
    const stale = await http(`${pods}/immutable`, { method: 'PUT', body: pod });

    expect(policy.status).toBe(422);
    expect((policy.json as StatusJson).message).toMatch(
      /^Pod "immutable" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );
    expect(deadline.status).toBe(200);
    expect((deadline.json as PodJson).spec.activeDeadlineSeconds).toBe(600);
    expect(stale.status).toBe(409);
    expect((stale.json as StatusJson).message).toBe(
      'Operation cannot be fulfilled on pods "immutable": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  test('deletecollection deletes the pods a label selector picks, recorded as deletecollection', async () => {
    for (const name of ['sweep-a', 'sweep-b']) await create(name, { labels: { case: 'sweep' } });
    await create('sweep-keep', { labels: { case: 'keep' } });

    const result = await http(`${pods}?labelSelector=case%3Dsweep&gracePeriodSeconds=0`, {
      method: 'DELETE',
    });

    expect(result.status).toBe(200);
    expect(
      (result.json as { kind: string; items: PodJson[] }).items.map((p) => p.metadata.name),
    ).toEqual(['sweep-a', 'sweep-b']);
    expect(kube.pods().map((p) => p.metadata.name)).toContain('sweep-keep');
    expect(kube.pods().map((p) => p.metadata.name)).not.toContain('sweep-a');
    expect(kube.requests.at(-1)).toMatchObject({
      verb: 'deletecollection',
      resource: 'pods',
      namespace: 'default',
    });
  });

  test('putPod bypasses admission but the kubelet still runs the pod', async () => {
    kube.putPod(drillPod({ name: 'unmanaged', namespace: 'proto-baseline' }));

    await waitFor(
      'running',
      () => findPod(kube, 'unmanaged', 'proto-baseline')?.status.phase === 'Running',
    );
  });
});

describe('events', () => {
  test('repeated kubelet events aggregate into count and lastTimestamp, keeping firstTimestamp', async () => {
    const churn = await startFakeKube({ timeScale: 0.001 });
    try {
      const created = await http(`${churn.url}/api/v1/namespaces/default/pods`, {
        method: 'POST',
        body: drillPod({ name: 'churn' }),
      });
      const uid = (created.json as PodJson).metadata.uid ?? '';
      await waitFor('three starts', () => restartCountOf(churn) >= 2);

      const selector = encodeURIComponent(
        `involvedObject.name=churn,involvedObject.namespace=default,involvedObject.uid=${uid}`,
      );
      const result = await http(
        `${churn.url}/api/v1/namespaces/default/events?fieldSelector=${selector}`,
      );
      const events = (
        result.json as {
          items: Array<{
            reason: string;
            count: number;
            firstTimestamp: string;
            lastTimestamp: string;
            source: { component?: string };
          }>;
        }
      ).items;

      const started = events.filter((event) => event.reason === 'Started');
      expect(started).toHaveLength(1);
      expect(started[0]?.count).toBeGreaterThanOrEqual(3);
      expect(started[0]?.source.component).toBe('kubelet');
      expect(Date.parse(started[0]?.lastTimestamp ?? '')).toBeGreaterThanOrEqual(
        Date.parse(started[0]?.firstTimestamp ?? ''),
      );
    } finally {
      await churn.stop();
    }
  });
});

function restartCountOf(fake: FakeKube): number {
  return fake.pods()[0]?.status.containerStatuses?.[0]?.restartCount ?? 0;
}

describe('faults and the request record', () => {
  test('failNext fails exactly that many resource requests with a Status, then serves again', async () => {
    kube.faults.failNext(2, 503);

    const first = await http(pods);
    const second = await http(pods);
    const third = await http(pods);

    expect([first.status, second.status, third.status]).toEqual([503, 503, 200]);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.json).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
  });

  test('requests are recorded with the verb RBAC checks', async () => {
    const before = kube.requests.length;
    await http(`${pods}/nobody/log`);
    const watch = rawWatch(`${pods}?watch=1&timeoutSeconds=1`);
    await watch.ended;
    await http(`${kube.url}/api/v1/namespaces/default/events`);

    const recorded = kube.requests
      .slice(before)
      .map((r) => [r.verb, r.resource, r.subresource, r.namespace, r.status]);
    expect(recorded).toEqual([
      ['get', 'pods', 'log', 'default', 404],
      ['watch', 'pods', '', 'default', 200],
      ['list', 'events', '', 'default', 200],
    ]);
  });

  test('stop() ends open watches', async () => {
    const fake = await startFakeKube();
    const watch = rawWatch(`${fake.url}/api/v1/pods?watch=1`);
    await waitFor('the stream to open', () => fake.requests.some((r) => r.verb === 'watch'));

    await fake.stop();

    expect(await watch.ended).toBe('error');
  });
});
