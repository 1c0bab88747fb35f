/**
 * The shared watch over real HTTP against the fake API server: bookmarks, a server-side
 * timeout, a dropped stream and expired history, checked through the requests it made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createKubeClients,
  PodWatchHub,
  type KubeClient,
  type PodUpdate,
} from '../../src/kube/index.js';
import { startFakeKube, type FakeKube } from '../fake-kube/index.js';
import { waitFor } from '../fake-kube/helpers.js';

function plainPod(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'oomtest' } },
    spec: { containers: [{ name: 'stress', image: 'busybox:1.36.1', command: ['sleep', '3600'] }] },
  };
}

describe('PodWatchHub against the fake API server', () => {
  let fake: FakeKube;
  let kube: KubeClient;
  let dir: string;
  let hub: PodWatchHub;

  beforeEach(async () => {
    fake = await startFakeKube({ timeScale: 0.01, kubelet: { neverOom: true } });
    dir = mkdtempSync(join(tmpdir(), 'oomtest-watch-'));
    fake.writeKubeconfig(join(dir, 'kubeconfig'));
    kube = createKubeClients({ kubeconfigPath: join(dir, 'kubeconfig') }).forContext();
  });

  afterEach(async () => {
    hub.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function watchRequests() {
    return fake.requests.filter((request) => request.verb === 'watch');
  }

  it('delivers a pod created after subscribing, with bookmarks asked for', async () => {
    hub = new PodWatchHub({ labelSelector: 'app.kubernetes.io/managed-by=oomtest' });
    const updates: PodUpdate[] = [];
    await hub.subscribe({
      kube,
      namespace: 'default',
      pod: 'w1',
      onUpdate: (u) => updates.push(u),
    });

    await kube.createPod({ namespace: 'default', pod: plainPod('w1') });
    await waitFor('the pod to run', () =>
      updates.some((u) => u.type === 'MODIFIED' && u.pod.status?.phase === 'Running'),
    );

    expect(updates[0]?.type).toBe('ADDED');
    expect(watchRequests()[0]?.query).toMatchObject({
      allowWatchBookmarks: 'true',
      labelSelector: 'app.kubernetes.io/managed-by=oomtest',
      timeoutSeconds: '300',
    });
  });

  it('resumes from the last version after a drop, without listing again', async () => {
    hub = new PodWatchHub({ initialBackoffMs: 20 });
    const updates: PodUpdate[] = [];
    await hub.subscribe({
      kube,
      namespace: 'default',
      pod: 'w2',
      onUpdate: (u) => updates.push(u),
    });
    await kube.createPod({ namespace: 'default', pod: plainPod('w2') });
    await waitFor('the pod to run', () => fake.pods().find((p) => p.status.phase === 'Running'));

    fake.faults.dropWatches();
    await kube.deletePod({ namespace: 'default', name: 'w2', gracePeriodSeconds: 0 });
    await waitFor('the deletion to arrive', () => updates.some((u) => u.type === 'DELETED'));

    const [first, second] = watchRequests();
    expect(Number(second?.query.resourceVersion)).toBeGreaterThan(
      Number(first?.query.resourceVersion),
    );
    expect(hub.stats()).toMatchObject({ lists: 1, relists: 0 });
  });

  it('resumes after the server ends a watch at its timeout', async () => {
    hub = new PodWatchHub({ serverTimeoutSeconds: 1 });
    await hub.subscribe({ kube, namespace: 'default', pod: 'w3', onUpdate: () => undefined });

    await waitFor('a second watch request', () => watchRequests().length >= 2, 5_000);

    expect(hub.stats().lists).toBe(1);
  });

  it('lists again and resyncs when the history it would resume from expired (410)', async () => {
    hub = new PodWatchHub({ initialBackoffMs: 200, random: () => 1 });
    const updates: PodUpdate[] = [];
    await hub.subscribe({
      kube,
      namespace: 'default',
      pod: 'w4',
      onUpdate: (u) => updates.push(u),
    });
    await kube.createPod({ namespace: 'default', pod: plainPod('w4') });
    await waitFor('the pod to be added', () => updates.some((u) => u.type === 'ADDED'));

    fake.faults.dropWatches();
    await kube.createPod({ namespace: 'default', pod: plainPod('other') });
    fake.faults.expireWatchHistory();
    await waitFor('a resync', () => updates.some((u) => u.type === 'resync'));

    const resync = updates.find((u) => u.type === 'resync');
    expect(resync?.type === 'resync' && resync.pod?.metadata?.name).toBe('w4');
    expect(hub.stats().relists).toBe(1);
  });
});
