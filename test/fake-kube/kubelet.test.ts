/**
 * The simulated kubelet's status shapes, followed through a watch as a client sees them:
 * the OOM kill, the restart back-off, crashes, pull errors, deadlines, eviction.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { startFakeKube } from './index.js';
import { drillPod, http, rawWatch, waitFor, type RawWatch } from './helpers.js';
import type { ContainerStatusJson, FakeKube, FakeKubeOptions, PodJson } from './types.js';

let kube: FakeKube | undefined;
let watch: RawWatch | undefined;

afterEach(async () => {
  watch?.close();
  await kube?.stop();
  kube = undefined;
});

/** Starts a fake, creates one drill pod and records every state of it from a watch. */
async function follow(
  options: FakeKubeOptions,
  pod: PodJson = drillPod({ name: 'drill' }),
): Promise<{ fake: FakeKube; states: () => PodJson[]; uid: string }> {
  const fake = await startFakeKube(options);
  kube = fake;
  const url = `${fake.url}/api/v1/namespaces/default/pods`;
  watch = rawWatch(`${url}?watch=1&fieldSelector=metadata.name%3D${pod.metadata.name}`);
  await waitFor('the watch', () => fake.requests.some((r) => r.verb === 'watch'));
  const created = await http(url, { method: 'POST', body: pod });
  expect(created.status).toBe(201);
  const events = watch.events;
  return {
    fake,
    uid: (created.json as PodJson).metadata.uid ?? '',
    states: () => events.map((event) => event.object as unknown as PodJson),
  };
}

function container(pod: PodJson | undefined): ContainerStatusJson | undefined {
  return pod?.status.containerStatuses?.[0];
}

describe('an OOM drill', () => {
  test('goes Pending → ContainerCreating → Running → OOMKilled → Running (restart 1) → CrashLoopBackOff → Running (restart 2)', async () => {
    const { states, uid } = await follow({ timeScale: 0.01 });
    await waitFor('restart 2', () =>
      states().some((pod) => container(pod)?.restartCount === 2 && container(pod)?.state.running),
    );

    const all = states();
    expect(all[0]?.status.phase).toBe('Pending');
    expect(all.some((pod) => container(pod)?.state.waiting?.reason === 'ContainerCreating')).toBe(
      true,
    );

    const firstKill = all.find((pod) => container(pod)?.state.terminated?.reason === 'OOMKilled');
    expect(container(firstKill)).toMatchObject({
      restartCount: 0,
      ready: false,
      state: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
    });
    expect(container(firstKill)?.state.terminated?.containerID).toMatch(
      /^containerd:\/\/[0-9a-f]{64}$/,
    );
    expect(container(firstKill)?.imageID).toMatch(
      /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/,
    );
    expect(firstKill?.status.phase).toBe('Running');
    expect(firstKill?.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [stress]',
    });

    const backoff = all.find((pod) => container(pod)?.state.waiting?.reason === 'CrashLoopBackOff');
    expect(container(backoff)?.restartCount).toBe(1);
    expect(container(backoff)?.state.waiting?.message).toBe(
      `back-off 10s restarting failed container=stress pod=drill_default(${uid})`,
    );
    expect(container(backoff)?.lastState.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });

    const restarted = all.find(
      (pod) => container(pod)?.restartCount === 2 && container(pod)?.state.running,
    );
    expect(container(restarted)?.lastState.terminated?.reason).toBe('OOMKilled');
    expect(restarted?.status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'Ready=True',
      'ContainersReady=True',
      'PodScheduled=True',
    ]);
    expect(restarted?.status).toMatchObject({
      hostIP: '172.18.0.2',
      qosClass: 'Guaranteed',
      podIPs: [{ ip: restarted?.status.podIP }],
    });
  });

  test('doubles the back-off from 10s and caps it at 5m0s', async () => {
    const { states } = await follow({ timeScale: 0.000_1 });
    await waitFor(
      'the cap',
      () =>
        states().some((pod) => container(pod)?.state.waiting?.message?.startsWith('back-off 5m0s')),
      30_000,
    );

    const messages = states()
      .map((pod) => container(pod)?.state.waiting?.message?.split(' ')[1])
      .filter((text, index, all) => text !== undefined && text !== all[index - 1]);
    expect(messages).toEqual(['10s', '20s', '40s', '1m20s', '2m40s', '5m0s']);
  });

  test('waits before the first restart too when immediateFirstRestart is off', async () => {
    const { states } = await follow({ timeScale: 0.01, kubelet: { immediateFirstRestart: false } });
    await waitFor('a back-off', () =>
      states().some((pod) => container(pod)?.state.waiting?.reason === 'CrashLoopBackOff'),
    );

    const backoff = states().find(
      (pod) => container(pod)?.state.waiting?.reason === 'CrashLoopBackOff',
    );
    expect(container(backoff)?.restartCount).toBe(0);
    expect(container(backoff)?.state.waiting?.message).toMatch(/^back-off 10s /);
  });

  test('reports OOMKilled with exit code 0 when only a child was killed', async () => {
    const { states } = await follow({ timeScale: 0.01, kubelet: { oomExitCode: 0 } });
    await waitFor('a kill', () => states().some((pod) => container(pod)?.state.terminated));

    const killed = states().find((pod) => container(pod)?.state.terminated);
    expect(container(killed)?.state.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 0 });
  });

  test('stops after the kill under restartPolicy Never: phase Failed, no restart', async () => {
    const pod = drillPod({ name: 'once' });
    pod.spec.restartPolicy = 'Never';
    const { states } = await follow({ timeScale: 0.01 }, pod);
    await waitFor('Failed', () => states().some((p) => p.status.phase === 'Failed'));

    const failed = states().find((p) => p.status.phase === 'Failed');
    expect(container(failed)).toMatchObject({
      restartCount: 0,
      state: { terminated: { reason: 'OOMKilled' } },
    });
  });

  test('evicts the pod after evictAfterKills kills', async () => {
    const { states, fake } = await follow({ timeScale: 0.01, kubelet: { evictAfterKills: 2 } });
    await waitFor('eviction', () => states().some((pod) => pod.status.reason === 'Evicted'));

    const evicted = states().find((pod) => pod.status.reason === 'Evicted');
    expect(evicted?.status.phase).toBe('Failed');
    expect(evicted?.status.message).toMatch(/^The node was low on resource: memory\./);
    expect(
      fake.events().some((event) => event.reason === 'Evicted' && event.type === 'Warning'),
    ).toBe(true);
  });
});

describe('other endings', () => {
  test("an unprivileged tmpfs drill cannot mount: Error, exit 32, the script's error line in its log, then CrashLoopBackOff", async () => {
    const { states, fake } = await follow(
      { timeScale: 0.01 },
      drillPod({ name: 'nomount', privileged: false }),
    );
    await waitFor('a back-off', () =>
      states().some((pod) => container(pod)?.state.waiting?.reason === 'CrashLoopBackOff'),
    );

    const crashed = states().find((pod) => container(pod)?.state.terminated);
    expect(container(crashed)?.state.terminated).toMatchObject({ reason: 'Error', exitCode: 32 });
    const log = await http(
      `${fake.url}/api/v1/namespaces/default/pods/nomount/log?container=stress&previous=true`,
    );
    expect(log.body).toContain(
      'oomtest: error reason=mount-denied detail="mount: permission denied (are you root?)"\n',
    );
  });

  test('a pod asking for more memory than the node has stays Pending, Unschedulable', async () => {
    const { states } = await follow({ timeScale: 0.01 }, drillPod({ name: 'huge', limit: '64Gi' }));
    await waitFor('PodScheduled False', () =>
      states().some((pod) =>
        pod.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'),
      ),
    );

    const pending = states().at(-1);
    expect(pending?.status.phase).toBe('Pending');
    expect(pending?.spec.nodeName).toBeUndefined();
    expect(pending?.status.conditions).toEqual([
      expect.objectContaining({
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: expect.stringMatching(
          /^0\/1 nodes are available: 1 Insufficient memory\. preemption: /,
        ),
      }),
    ]);
  });

  test('crashWith exits with that code and log', async () => {
    const { states, fake } = await follow({
      timeScale: 0.01,
      kubelet: { crashWith: { exitCode: 3, log: 'boom\n' } },
    });
    await waitFor('a crash', () => states().some((pod) => container(pod)?.state.terminated));

    expect(
      container(states().find((pod) => container(pod)?.state.terminated))?.state.terminated,
    ).toMatchObject({ reason: 'Error', exitCode: 3 });
    const log = await http(`${fake.url}/api/v1/namespaces/default/pods/drill/log`);
    expect(log.body).toBe('boom\n');
  });

  test('neverOom fills everything, prints full and stays Running', async () => {
    const { fake } = await follow({ timeScale: 0.01, kubelet: { neverOom: true } });
    const url = `${fake.url}/api/v1/namespaces/default/pods/drill/log`;
    await waitFor('running', () => container(fake.pods()[0])?.state.running);
    let text = '';
    while (!text.includes('oomtest: full ')) text = (await http(url)).body;

    expect(text).toMatch(/oomtest: full bytes=419430400 elapsed_ms=3000\n$/);
    expect(container(fake.pods()[0])?.state.running).toBeDefined();
  });

  test("an image that cannot be pulled goes ErrImagePull → ImagePullBackOff with the runtime's message", async () => {
    const { states } = await follow(
      { timeScale: 0.01, kubelet: { imagePullError: 'ErrImagePull' } },
      drillPod({ name: 'pull', image: 'busybox:nope' }),
    );
    await waitFor('the back-off', () =>
      states().some((pod) => container(pod)?.state.waiting?.reason === 'ImagePullBackOff'),
    );

    const failed = states().find((pod) => container(pod)?.state.waiting?.reason === 'ErrImagePull');
    expect(failed?.status.phase).toBe('Pending');
    expect(container(failed)?.state.waiting?.message).toBe(
      'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:nope": failed to resolve reference "docker.io/library/busybox:nope": docker.io/library/busybox:nope: not found',
    );
    const backoff = states().find(
      (pod) => container(pod)?.state.waiting?.reason === 'ImagePullBackOff',
    );
    expect(container(backoff)?.state.waiting?.message).toBe(
      'Back-off pulling image "busybox:nope"',
    );
  });

  test('activeDeadlineSeconds fails the pod with DeadlineExceeded', async () => {
    const { states, fake } = await follow(
      { timeScale: 0.001, kubelet: { neverOom: true } },
      drillPod({ name: 'deadline', activeDeadlineSeconds: 60 }),
    );
    await waitFor('the deadline', () =>
      states().some((pod) => pod.status.reason === 'DeadlineExceeded'),
    );

    const failed = states().find((pod) => pod.status.reason === 'DeadlineExceeded');
    expect(failed?.status).toMatchObject({
      phase: 'Failed',
      message: 'Pod was active on the node longer than the specified deadline',
    });
    expect(container(failed)?.state.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(fake.events().some((event) => event.reason === 'DeadlineExceeded')).toBe(true);
  });

  test("a shortened activeDeadlineSeconds is honoured from the pod's start time", async () => {
    const { states, fake } = await follow(
      { timeScale: 0.01, kubelet: { neverOom: true } },
      drillPod({ name: 'deadline', activeDeadlineSeconds: 36_000 }),
    );
    await waitFor('running', () => states().some((pod) => container(pod)?.state.running));

    const patch = await http(`${fake.url}/api/v1/namespaces/default/pods/deadline`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
      body: { spec: { activeDeadlineSeconds: 1 } },
    });

    expect(patch.status).toBe(200);
    await waitFor('the deadline', () =>
      states().some((pod) => pod.status.reason === 'DeadlineExceeded'),
    );
  });

  test('a graceful delete records Killing and ends with DELETED', async () => {
    const { states, fake } = await follow({ timeScale: 0.01, kubelet: { neverOom: true } });
    await waitFor('running', () => states().some((pod) => container(pod)?.state.running));

    await http(`${fake.url}/api/v1/namespaces/default/pods/drill`, { method: 'DELETE' });
    await waitFor('DELETED', () => watch?.events.some((event) => event.type === 'DELETED'));

    const deleted = watch?.events.find((event) => event.type === 'DELETED')
      ?.object as unknown as PodJson;
    expect(deleted.metadata.deletionTimestamp).toBeDefined();
    expect(fake.pods()).toEqual([]);
    expect(
      fake.events().find((event) => event.reason === 'Killing')?.involvedObject.fieldPath,
    ).toBe('spec.containers{stress}');
  });

  test('deleting a pod in back-off ends it Failed with ContainerStatusUnknown, never back in CrashLoopBackOff', async () => {
    const { states, fake } = await follow({ timeScale: 0.01, kubelet: { backoffBaseMs: 100_000 } });
    await waitFor('a back-off', () =>
      states().some((pod) => container(pod)?.state.waiting?.reason === 'CrashLoopBackOff'),
    );

    await http(`${fake.url}/api/v1/namespaces/default/pods/drill`, { method: 'DELETE' });
    await waitFor('DELETED', () => watch?.events.some((event) => event.type === 'DELETED'));

    const afterDelete = states().filter((pod) => pod.metadata.deletionTimestamp);
    expect(
      afterDelete.some((pod) => container(pod)?.state.waiting && pod.status.phase !== 'Running'),
    ).toBe(false);
    const last = afterDelete.at(-1);
    expect(last?.status.phase).toBe('Failed');
    expect(container(last)?.state.terminated).toEqual({
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the pod was terminated',
    });
    expect(container(last)?.lastState.terminated?.reason).toBe('OOMKilled');
  });

  test('stop() cancels every kubelet timer, whatever state the pods are in', async () => {
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const fake = await startFakeKube({ timeScale: 0.01, kubelet: { backoffBaseMs: 100_000 } });
    const url = `${fake.url}/api/v1/namespaces/default/pods`;
    for (const name of ['t-a', 't-b', 't-c'])
      await http(url, { method: 'POST', body: drillPod({ name }) });
    await waitFor('a back-off', () =>
      fake.pods().some((pod) => container(pod)?.state.waiting?.reason === 'CrashLoopBackOff'),
    );
    expect(timers()).toBeGreaterThan(before);

    await fake.stop();

    expect(timers()).toBe(before);
  });
});
