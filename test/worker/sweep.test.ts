import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createKubeClients } from '../../src/kube/client.js';
import { systemClock } from '../../src/kube/watch.js';
import { silentLogger } from '../../src/log.js';
import { DrillQueue, QUEUE_NAME, type DrillJobData } from '../../src/queue/index.js';
import { sweepOrphans } from '../../src/worker/sweep.js';
import { startFakeKube, type FakeKube } from '../fake-kube/index.js';
import { drillJob, testRedisUrl, uniquePrefix } from '../support/drill-job.js';

const NAMESPACE = 'default';

function managedPod(name: string, drillId: string, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: { 'app.kubernetes.io/managed-by': 'oomtest', 'oomtest.dev/drill-id': drillId },
      annotations,
    },
    spec: {
      activeDeadlineSeconds: 600,
      containers: [{ name: 'stress', image: 'busybox:1.36.1' }],
    },
  };
}

describe('sweepOrphans', () => {
  const prefix = uniquePrefix('sweep');
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-sweep-'));
  let kube: FakeKube;
  let redis: Redis;
  let queue: Queue<DrillJobData>;
  let producer: DrillQueue;

  beforeAll(async () => {
    kube = await startFakeKube({ kubelet: { neverOom: true } });
    kube.writeKubeconfig(join(dir, 'kubeconfig'));
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue<DrillJobData>(QUEUE_NAME, { connection: redis, prefix });
    producer = DrillQueue.create({ redisUrl: testRedisUrl(), logger: silentLogger(), prefix });
  });

  afterAll(async () => {
    await producer.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await redis.quit();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes pods of drills gone from the queue and keeps the rest', async () => {
    const live = drillJob({}, { pod: 'live-drill' });
    await producer.enqueue(live);
    kube.putPod(managedPod('orphan', 'gone-drill-1', { 'oomtest.dev/requested-by': 'U0123ABCD' }));
    kube.putPod(
      managedPod('live-drill', live.drillId, { 'oomtest.dev/requested-by': 'U0123ABCD' }),
    );
    kube.putPod(managedPod('terminal-drill', 'cli-drill-1'));
    kube.putPod({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'someone-else', namespace: NAMESPACE, labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx' }] },
    });

    const deleted = await sweepOrphans({
      kube: createKubeClients({ kubeconfigPath: join(dir, 'kubeconfig') }),
      queue,
      namespaces: [NAMESPACE],
      clusters: [],
      clock: systemClock,
      logger: silentLogger(),
    });

    expect(deleted).toBe(1);
    const left = kube
      .pods(NAMESPACE)
      .filter((pod) => pod.metadata?.deletionTimestamp === undefined)
      .map((pod) => pod.metadata?.name)
      .sort();
    expect(left).toEqual(['live-drill', 'someone-else', 'terminal-drill']);
  });
});
