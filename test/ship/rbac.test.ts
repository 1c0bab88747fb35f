/**
 * The chart's drill Role against what a drill really asks of the API server: full drills run
 * through the real engine (runDrill, the real client-node based KubeClient and the shared pod
 * watch) against the fake API server, which records every request with the verb, resource and
 * subresource RBAC would check. Every request must be allowed by the rendered Role, and every
 * verb the Role grants must be used by some request: a grant nobody uses is a grant too many.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1PolicyRule, V1Role } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.js';
import { createKubeClients } from '../../src/kube/client.js';
import { PodWatchHub, systemClock } from '../../src/kube/watch.js';
import { runDrill } from '../../src/drill/run.js';
import { sweepOrphans } from '../../src/worker/sweep.js';
import { QUEUE_NAME } from '../../src/queue/drill-queue.js';
import type { DrillJobData } from '../../src/queue/index.js';
import {
  ANNOTATION_REQUESTED_BY,
  LABEL_DRILL_ID,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '../../src/stress/manifest.js';
import { startFakeKube, type FakeKube, type RecordedRequest } from '../fake-kube/index.js';
import { drillRequest, testRedisUrl, uniquePrefix } from '../support/drill-job.js';
import { byKind, render } from './helm.js';

const NAMESPACE = 'rbac-drills';

interface Permission {
  resource: string;
  verb: string;
}

/** The drill Role the chart renders for NAMESPACE. */
function drillRole(): V1Role {
  const objects = render({ set: [`drills.namespaces[0]=${NAMESPACE}`] });
  const roles = byKind(objects, 'Role') as unknown as V1Role[];
  const role = roles.find((candidate) => candidate.metadata?.namespace === NAMESPACE);
  if (role === undefined) throw new Error(`the chart rendered no Role in ${NAMESPACE}`);
  return role;
}

function resourceOf(request: RecordedRequest): string {
  return request.subresource === ''
    ? request.resource
    : `${request.resource}/${request.subresource}`;
}

/** RBAC's own matching for a namespaced request under the core API group. */
function allows(rules: V1PolicyRule[], request: RecordedRequest): boolean {
  const resource = resourceOf(request);
  return rules.some(
    (rule) =>
      (rule.apiGroups ?? []).some((group) => group === '' || group === '*') &&
      (rule.resources ?? []).some((name) => name === resource || name === '*') &&
      rule.verbs.some((verb) => verb === request.verb || verb === '*'),
  );
}

function granted(rules: V1PolicyRule[]): Permission[] {
  return rules.flatMap((rule) =>
    (rule.resources ?? []).flatMap((resource) => rule.verbs.map((verb) => ({ resource, verb }))),
  );
}

/** The requests RBAC checks: resource requests, not discovery (open to every account). */
function resourceRequests(kube: FakeKube): RecordedRequest[] {
  return kube.requests.filter((request) => request.resource !== '');
}

describe('the drill Role', () => {
  let kube: FakeKube;
  let dir: string;
  const logger = createLogger({ level: 'silent' });
  const role = drillRole();
  const rules = role.rules ?? [];

  beforeAll(async () => {
    kube = await startFakeKube({ namespaces: [{ name: NAMESPACE, podSecurity: 'privileged' }] });
    dir = mkdtempSync(join(tmpdir(), 'oomtest-rbac-'));
    kube.writeKubeconfig(join(dir, 'kubeconfig'), { namespace: NAMESPACE });
  });

  afterAll(async () => {
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hubs: PodWatchHub[] = [];

  afterEach(() => {
    hubs.splice(0).forEach((hub) => hub.close());
  });

  function deps() {
    const clients = createKubeClients({ kubeconfigPath: join(dir, 'kubeconfig') });
    // As the worker sets it up: one shared watch per namespace, of drill pods only.
    const watches = new PodWatchHub({
      logger,
      labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
      lingerMs: 0,
    });
    hubs.push(watches);
    return { kube: clients.forContext(), watches, clock: systemClock, logger };
  }

  /** The worker's periodic sweep, over a drill pod whose drill is gone from the queue. */
  async function sweepAnOrphan(): Promise<number> {
    kube.putPod({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'rbac-orphan',
        namespace: NAMESPACE,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_DRILL_ID]: 'rbac-orphan-1' },
        annotations: { [ANNOTATION_REQUESTED_BY]: 'U0123ABCD' },
      },
      spec: { containers: [{ name: 'stress', image: 'busybox:1.36.1' }] },
    });
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue<DrillJobData>(QUEUE_NAME, { connection, prefix: uniquePrefix('rbac') });
    try {
      return await sweepOrphans({
        kube: createKubeClients({ kubeconfigPath: join(dir, 'kubeconfig') }),
        queue,
        namespaces: [NAMESPACE],
        clusters: [],
        clock: systemClock,
        logger,
      });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }

  it('is namespaced and grants only core pods, pods/log and events', () => {
    expect(role.kind).toBe('Role');
    expect(new Set(rules.flatMap((rule) => rule.apiGroups ?? []))).toEqual(new Set(['']));
    expect(new Set(granted(rules).map((permission) => permission.resource))).toEqual(
      new Set(['pods', 'pods/log', 'events']),
    );
  });

  it('allows every request of a full drill, a stopped drill and a clean-up, and grants nothing unused', async () => {
    const happy = await runDrill(
      drillRequest({ pod: 'rbac-happy', namespace: NAMESPACE, kills: 2 }),
      { drillId: 'rbac-happy-1', signal: new AbortController().signal, onProgress: () => {} },
      deps(),
    );

    const stop = new AbortController();
    const stopped = await runDrill(
      drillRequest({ pod: 'rbac-stopped', namespace: NAMESPACE, kills: 5 }),
      {
        drillId: 'rbac-stopped-1',
        signal: stop.signal,
        // Stop as soon as the first kill is seen, as the Stop button would.
        onProgress: (progress) => {
          if (progress.kills.length > 0) stop.abort();
        },
      },
      deps(),
    );

    const swept = await sweepAnOrphan();

    expect({ status: happy.status, failure: happy.failure }).toEqual({ status: 'done' });
    expect({ status: stopped.status, kills: stopped.kills.length }).toEqual({
      status: 'stopped',
      kills: 1,
    });
    expect(swept).toBe(1);

    const requests = resourceRequests(kube);
    const refused = requests
      .filter((request) => request.namespace !== NAMESPACE || !allows(rules, request))
      .map((request) => `${request.verb} ${resourceOf(request)} in "${request.namespace}"`);
    const used = new Set(requests.map((request) => `${request.verb} ${resourceOf(request)}`));
    const unused = granted(rules)
      .map((permission) => `${permission.verb} ${permission.resource}`)
      .filter((permission) => !used.has(permission));

    expect(refused).toEqual([]);
    expect(unused).toEqual([]);
  });
});
