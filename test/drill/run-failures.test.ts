/**
 * Drills that must not succeed, against the fake API server: each ends with the right code
 * and a message that names the cause, and leaves nothing behind (or, with --keep, exactly
 * the drill's pod). Also adoption, stop, and one watch connection for many drills.
 */
import { buildPod, LABEL_DRILL_ID, LABEL_MANAGED_BY, MANAGED_BY } from '../../src/stress/index.js';
import { drillRequest } from '../support/drill-job.js';
import { waitFor } from '../fake-kube/helpers.js';
import { podsNamed, startBench, uniqueName, type DrillBench } from './fake-drill.js';

describe('runDrill failures against the fake API server', () => {
  let bench: DrillBench;

  beforeAll(async () => {
    bench = await startBench({
      namespaces: [
        { name: 'baseline', podSecurity: 'baseline' },
        { name: 'quota', memoryQuotaBytes: 100 * 2 ** 20 },
      ],
    });
  });

  afterAll(async () => {
    await bench.close();
  });

  it('fails with kube.pod-security and creates nothing when a baseline namespace refuses tmpfs', async () => {
    const pod = uniqueName('psa');

    const { outcome } = await bench.drill({ pod, namespace: 'baseline', method: 'tmpfs' });

    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe('kube.pod-security');
    expect(outcome.verdict).toContain('"baseline:latest"');
    expect(outcome.verdict).toContain('--method emptydir');
    expect(outcome.deleted).toBe(false);
    expect(outcome.describe).toBe('');
    expect(podsNamed(bench, pod, 'baseline')).toEqual([]);
  });

  it('passes the same baseline namespace with --method anon', async () => {
    const pod = uniqueName('psa-anon');

    const { outcome } = await bench.drill({ pod, namespace: 'baseline', method: 'anon', kills: 1 });

    expect(outcome.status).toBe('done');
    expect(podsNamed(bench, pod, 'baseline')).toEqual([]);
  });

  it('fails with kube.quota when the namespace quota has no room', async () => {
    const pod = uniqueName('quota');

    const { outcome } = await bench.drill({ pod, namespace: 'quota' });

    expect(outcome.failure?.code).toBe('kube.quota');
    expect(outcome.verdict).toContain('exceeded quota');
  });

  it('refuses an existing pod oomtest does not manage, and never touches it', async () => {
    const pod = uniqueName('unmanaged');
    bench.fake.putPod({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod, namespace: 'default', labels: { app: 'nginx' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    });
    const before = podsNamed(bench, pod)[0]?.metadata;

    const { outcome } = await bench.drill({ pod });

    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe('drill.unmanaged-pod');
    expect(outcome.verdict).toContain(`a pod named "${pod}" already exists`);
    expect(outcome.verdict).toContain('left untouched');
    expect(outcome.deleted).toBe(false);
    const touched = bench.fake.requests.filter(
      (request) => request.name === pod && !['get', 'list', 'watch'].includes(request.verb),
    );
    expect(touched).toEqual([]);
    const after = podsNamed(bench, pod)[0]?.metadata;
    expect(after?.uid).toBe(before?.uid);
    expect(after?.labels).toEqual({ app: 'nginx' });
    expect(after?.deletionTimestamp).toBeUndefined();
  });

  it('refuses a pod that belongs to another drill, naming it, and leaves it alone', async () => {
    const pod = uniqueName('busy');
    const other = await bench.drill({ pod, kills: 1, keep: true });

    const { outcome } = await bench.drill({ pod });

    expect(outcome.failure?.code).toBe('drill.busy');
    expect(outcome.verdict).toContain(other.outcome.drillId);
    expect(podsNamed(bench, pod)).toHaveLength(1);
    await bench.kube.deletePod({ namespace: 'default', name: pod, gracePeriodSeconds: 0 });
  });

  it('adopts its own pod after a worker crash and counts the kills that happened unwatched', async () => {
    const pod = uniqueName('adopt');
    const drillId = uniqueName('crashed');
    await bench.kube.createPod({
      namespace: 'default',
      pod: buildPod(drillRequest({ pod, kills: 3 }), { drillId }),
    });
    await waitFor('two kills while nobody watches', () => {
      const status = podsNamed(bench, pod)[0]?.status.containerStatuses?.[0];
      return (status?.restartCount ?? 0) >= 2 && status?.state?.running !== undefined;
    });

    const requestsBefore = bench.fake.requests.length;

    const drilled = await bench.drill({ pod, kills: 3 }, { drillId, adopt: true });

    expect(drilled.outcome.status).toBe('done');
    expect(drilled.outcome.kills.length).toBeGreaterThanOrEqual(3);
    expect(drilled.outcome.kills.length).toBe(drilled.outcome.restartCount);
    expect(drilled.outcome.kills.map((kill) => kill.instance)).toEqual(
      drilled.outcome.kills.map((_, index) => index),
    );
    expect(drilled.progress[0]?.phase).not.toBe('applied');
    const creates = bench.fake.requests
      .slice(requestsBefore)
      .filter((request) => request.verb === 'create' && request.resource === 'pods');
    expect(creates).toEqual([]);
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('times out without an OOM kill, saying the script filled everything, and cleans up', async () => {
    const pod = uniqueName('neveroom');
    bench.behaviours.set(pod, { neverOom: true });

    const { outcome } = await bench.drill({ pod, timeoutSeconds: 1 });

    expect(outcome.status).toBe('timedout');
    expect(outcome.failure?.code).toBe('drill.timeout');
    expect(outcome.verdict).toBe(
      'Timed out: no OOM kill at all within --timeout 1s; the script filled 400Mi without being ' +
        'killed (is the 200Mi limit enforced on this node?)',
    );
    expect(outcome.deleted).toBe(true);
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('reports mount-denied from the stress log and suggests the unprivileged methods', async () => {
    const pod = uniqueName('mount');
    bench.behaviours.set(pod, {
      crashWith: {
        exitCode: 32,
        log:
          'oomtest: start method=tmpfs fill_bytes=419430400\n' +
          'oomtest: error reason=mount-denied detail="mount: permission denied"\n',
      },
    });

    const { outcome } = await bench.drill({ pod });

    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe('drill.mount-denied');
    expect(outcome.verdict).toContain('mount: permission denied');
    expect(outcome.verdict).toContain('--method emptydir or --method anon');
    expect(outcome.logTail).toContain('reason=mount-denied');
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('reports an image pull failure with the kubelet message', async () => {
    const pod = uniqueName('pull');
    bench.behaviours.set(pod, { imagePullError: 'ErrImagePull' });

    const { outcome } = await bench.drill({ pod, image: 'registry.example/none:1' });

    expect(outcome.failure?.code).toBe('drill.image-pull');
    expect(outcome.verdict).toContain('image "registry.example/none:1" could not be pulled');
    expect(outcome.describe).toContain('ErrImagePull');
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('reports a pod deleted by someone else as drill.deleted', async () => {
    const pod = uniqueName('deleted');

    const { outcome } = await bench.drill(
      { pod, kills: 3 },
      {
        onProgress: (update) => {
          if (update.phase === 'started') {
            void bench.kube.deletePod({ namespace: 'default', name: pod, gracePeriodSeconds: 0 });
          }
        },
      },
    );

    expect(outcome.failure?.code).toBe('drill.deleted');
    expect(outcome.verdict).toContain('deleted by someone else');
  });

  it('leaves the pod in place with --keep', async () => {
    const pod = uniqueName('keep');

    const { outcome } = await bench.drill({ pod, kills: 1, keep: true });

    expect(outcome.status).toBe('done');
    expect(outcome.deleted).toBe(false);
    const kept = podsNamed(bench, pod);
    expect(kept).toHaveLength(1);
    expect(kept[0]?.metadata.labels?.[LABEL_MANAGED_BY]).toBe(MANAGED_BY);
    expect(kept[0]?.metadata.labels?.[LABEL_DRILL_ID]).toBe(outcome.drillId);
    await bench.kube.deletePod({ namespace: 'default', name: pod, gracePeriodSeconds: 0 });
  });

  it('stops on abort, reports stopped and deletes the pod', async () => {
    const pod = uniqueName('abort');
    const controller = new AbortController();

    const { outcome } = await bench.drill(
      { pod, kills: 5 },
      {
        signal: controller.signal,
        onProgress: (update) => {
          if (update.phase === 'killed') controller.abort();
        },
      },
    );

    expect(outcome.status).toBe('stopped');
    expect(outcome.failure?.code).toBe('drill.stopped');
    expect(outcome.verdict).toMatch(/^Stopped: stopped on request after \d of 5 OOM kills$/);
    expect(outcome.deleted).toBe(true);
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('creates nothing when aborted before it starts', async () => {
    const pod = uniqueName('preabort');
    const controller = new AbortController();
    controller.abort();

    const { outcome } = await bench.drill({ pod }, { signal: controller.signal });

    expect(outcome.status).toBe('stopped');
    expect(bench.fake.requests.filter((r) => r.verb === 'create' && r.name === pod)).toEqual([]);
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('deletes the pod an earlier attempt left when stopped before it starts again', async () => {
    const pod = uniqueName('stop-between');
    const drillId = uniqueName('retried');
    await bench.kube.createPod({
      namespace: 'default',
      pod: buildPod(drillRequest({ pod }), { drillId }),
    });
    const controller = new AbortController();
    controller.abort();

    const { outcome } = await bench.drill(
      { pod },
      { drillId, adopt: true, signal: controller.signal },
    );

    expect(outcome.status).toBe('stopped');
    expect(outcome.deleted).toBe(true);
    await waitFor("the earlier attempt's pod to be gone", () => podsNamed(bench, pod).length === 0);
  });

  it('shares one watch connection among many concurrent drills in a namespace', async () => {
    const hub = bench.hub();
    const before = bench.fake.requests.length;
    const pods = Array.from({ length: 20 }, () => uniqueName('many'));

    const results = await Promise.all(pods.map((pod) => bench.drill({ pod, kills: 1 }, { hub })));

    expect(results.map((result) => result.outcome.status)).toEqual(pods.map(() => 'done'));
    const watches = bench.fake.requests.slice(before).filter((r) => r.verb === 'watch');
    expect(watches).toHaveLength(1);
    expect(hub.stats()).toMatchObject({ connectionsOpened: 1, lists: 1 });
    for (const pod of pods) expect(podsNamed(bench, pod)).toEqual([]);
  });
});

describe('runDrill --timeout and kubelet back-off', () => {
  let bench: DrillBench;

  beforeAll(async () => {
    // 0.02: the pod's scaled activeDeadlineSeconds (171 s → 3.4 s) stays far above the drill.
    bench = await startBench({ timeScale: 0.02 });
  });

  afterAll(async () => {
    await bench.close();
  });

  it('does not charge the back-off to --timeout: a 1.2 s back-off fits a 1 s timeout', async () => {
    const pod = uniqueName('backoff');
    // 60 s scaled by 0.02: the kubelet waits 1.2 s before the restart after the second kill.
    bench.behaviours.set(pod, { backoffBaseMs: 60_000 });

    const drilled = await bench.drill({ pod, kills: 2, timeoutSeconds: 1 });

    expect(drilled.outcome.status).toBe('done');
    expect(drilled.progress.find((update) => update.phase === 'backoff')?.backoffSeconds).toBe(60);
  });
});
