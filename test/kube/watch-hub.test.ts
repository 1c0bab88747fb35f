/**
 * The shared watch's protocol logic (resume, relist on 410, back-off, reference counting)
 * against a scripted client and a hand-moved clock, so every branch runs in milliseconds.
 * The same behaviour against the fake API server over HTTP is in watch-fake-kube.test.ts.
 */
import { ClusterError } from '../../src/errors.js';
import {
  PodWatchHub,
  type KubeClient,
  type PodJson,
  type PodUpdate,
  type WatchEvent,
  type WatchPodsOptions,
} from '../../src/kube/index.js';
import { ManualClock, flush } from '../drill/manual-clock.js';

interface OpenStream {
  options: WatchPodsOptions;
  send(event: WatchEvent): void;
  end(): void;
  fail(error: unknown): void;
}

/** A KubeClient whose list answers and watch streams the test controls. */
class ScriptedKube {
  readonly cluster = 'scripted';
  pods: PodJson[] = [];
  resourceVersion = '100';
  listCalls = 0;
  listFailure: unknown;
  streams: OpenStream[] = [];

  client(): KubeClient {
    const unused = (): never => {
      throw new Error('not used by the watch');
    };
    return {
      cluster: this.cluster,
      createPod: unused,
      readPod: unused,
      deletePod: unused,
      listPodEvents: unused,
      readLog: unused,
      listPods: async () => {
        this.listCalls += 1;
        if (this.listFailure !== undefined) throw this.listFailure;
        return { items: [...this.pods], resourceVersion: this.resourceVersion };
      },
      watchPods: (options) =>
        new Promise<void>((resolve, reject) => {
          const stream: OpenStream = {
            options,
            send: (event) => options.onEvent(event),
            end: resolve,
            fail: reject,
          };
          options.signal.addEventListener('abort', () => resolve(), { once: true });
          this.streams.push(stream);
        }),
    };
  }

  get last(): OpenStream {
    const stream = this.streams.at(-1);
    if (stream === undefined) throw new Error('no watch stream was opened');
    return stream;
  }
}

function pod(name: string, resourceVersion: string, phase = 'Running'): PodJson {
  return { metadata: { name, uid: `uid-${name}`, resourceVersion }, status: { phase } };
}

function recorder(): { updates: PodUpdate[]; onUpdate: (update: PodUpdate) => void } {
  const updates: PodUpdate[] = [];
  return { updates, onUpdate: (update) => updates.push(update) };
}

describe('PodWatchHub', () => {
  let clock: ManualClock;
  let scripted: ScriptedKube;
  let hub: PodWatchHub;

  beforeEach(() => {
    clock = new ManualClock();
    scripted = new ScriptedKube();
    hub = new PodWatchHub({ clock, random: () => 1, lingerMs: 1_000, labelSelector: 'a=b' });
  });

  afterEach(() => {
    hub.close();
  });

  it('shares one list and one watch among drills in a namespace and routes updates by pod name', async () => {
    const kube = scripted.client();
    const first = recorder();
    const second = recorder();

    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: first.onUpdate });
    await hub.subscribe({ kube, namespace: 'drills', pod: 'two', onUpdate: second.onUpdate });
    await flush();
    scripted.last.send({ type: 'ADDED', object: pod('one', '101') });
    scripted.last.send({ type: 'ADDED', object: pod('two', '102') });
    scripted.last.send({ type: 'MODIFIED', object: pod('one', '103') });

    expect(scripted.listCalls).toBe(1);
    expect(scripted.streams).toHaveLength(1);
    expect(scripted.last.options.resourceVersion).toBe('100');
    expect(scripted.last.options.labelSelector).toBe('a=b');
    expect(first.updates.map((update) => update.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(second.updates.map((update) => update.type)).toEqual(['ADDED']);
    expect(hub.stats()).toMatchObject({
      connectionsOpened: 1,
      lists: 1,
      activeWatches: 1,
      subscribers: 2,
    });
  });

  it('keeps separate watches for separate namespaces', async () => {
    const kube = scripted.client();

    await hub.subscribe({ kube, namespace: 'a', pod: 'p', onUpdate: () => undefined });
    await hub.subscribe({ kube, namespace: 'b', pod: 'p', onUpdate: () => undefined });
    await flush();

    expect(scripted.streams.map((stream) => stream.options.namespace)).toEqual(['a', 'b']);
  });

  it('resumes from the last resourceVersion, bookmarks included, when a stream ends', async () => {
    const kube = scripted.client();
    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: () => undefined });
    await flush();

    scripted.last.send({ type: 'MODIFIED', object: pod('one', '150') });
    scripted.last.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '170' } } });
    scripted.last.end();
    await flush();

    expect(scripted.streams).toHaveLength(2);
    expect(scripted.last.options.resourceVersion).toBe('170');
    expect(scripted.listCalls).toBe(1);
  });

  it('lists again and resyncs each subscriber when a watch event says 410 Gone', async () => {
    const kube = scripted.client();
    const one = recorder();
    const gone = recorder();
    scripted.pods = [pod('one', '90'), pod('gone', '91')];
    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: one.onUpdate });
    await hub.subscribe({ kube, namespace: 'drills', pod: 'gone', onUpdate: gone.onUpdate });
    await flush();

    scripted.pods = [pod('one', '300', 'Failed')];
    scripted.resourceVersion = '300';
    scripted.last.send({
      type: 'ERROR',
      object: {
        kind: 'Status',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      } as never,
    });
    await flush();

    expect(scripted.listCalls).toBe(2);
    expect(one.updates).toEqual([{ type: 'resync', pod: pod('one', '300', 'Failed') }]);
    expect(gone.updates).toEqual([{ type: 'resync', pod: undefined }]);
    expect(scripted.last.options.resourceVersion).toBe('300');
    expect(hub.stats()).toMatchObject({ relists: 1, connectionsOpened: 2 });
  });

  it('lists again when the watch request itself answers HTTP 410', async () => {
    const kube = scripted.client();
    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: () => undefined });
    await flush();

    scripted.last.fail(new ClusterError('kube.refused', 'gone', { details: { httpStatus: 410 } }));
    await flush();

    expect(scripted.listCalls).toBe(2);
    expect(scripted.streams).toHaveLength(2);
  });

  it('backs off exponentially on repeated failures and tells subscribers', async () => {
    const kube = scripted.client();
    const one = recorder();
    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: one.onUpdate });
    await flush();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

    for (let attempt = 0; attempt < 4; attempt += 1) {
      scripted.last.fail(refused);
      await clock.advance(60_000);
    }

    // random() = 1 takes the top of each jittered range: 500, 1000, 2000, 4000 ms.
    expect(clock.delaysMs.slice(0, 4)).toEqual([500, 1_000, 2_000, 4_000]);
    expect(one.updates.filter((update) => update.type === 'error')).toHaveLength(4);
    const first = one.updates[0];
    expect(first?.type === 'error' && first.error.code).toBe('kube.unreachable');
    expect(scripted.streams).toHaveLength(5);
  });

  it('treats an unexplained stream failure as transient and retries', async () => {
    const kube = scripted.client();
    const one = recorder();
    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: one.onUpdate });
    await flush();

    scripted.last.fail(new Error('the watch stream sent a line that is not a JSON event'));
    await clock.advance(1_000);

    const error = one.updates[0];
    expect(error?.type === 'error' && [error.error.code, error.error.transient]).toEqual([
      'kube.unreachable',
      true,
    ]);
    expect(scripted.streams).toHaveLength(2);
  });

  it('passes a refusal the server explained (403) on as not transient', async () => {
    const kube = scripted.client();
    const one = recorder();
    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: one.onUpdate });
    await flush();

    scripted.last.fail(new ClusterError('kube.forbidden', 'may not watch pods'));
    await flush();

    const error = one.updates[0];
    expect(error?.type === 'error' && [error.error.code, error.error.transient]).toEqual([
      'kube.forbidden',
      false,
    ]);
  });

  it('stops the watch after the last subscriber leaves and the linger passes', async () => {
    const kube = scripted.client();
    const subscription = await hub.subscribe({
      kube,
      namespace: 'drills',
      pod: 'one',
      onUpdate: () => undefined,
    });
    await flush();
    const stream = scripted.last;

    subscription.close();
    subscription.close();
    await clock.advance(1_000);

    expect(stream.options.signal.aborted).toBe(true);
    expect(hub.stats()).toMatchObject({ activeWatches: 0, subscribers: 0 });

    await hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: () => undefined });
    expect(scripted.listCalls).toBe(2);
  });

  it('keeps the watch when a new drill subscribes during the linger', async () => {
    const kube = scripted.client();
    const first = await hub.subscribe({
      kube,
      namespace: 'drills',
      pod: 'one',
      onUpdate: () => undefined,
    });
    await flush();

    first.close();
    await clock.advance(500);
    await hub.subscribe({ kube, namespace: 'drills', pod: 'two', onUpdate: () => undefined });
    await clock.advance(5_000);

    expect(scripted.streams).toHaveLength(1);
    expect(scripted.last.options.signal.aborted).toBe(false);
  });

  it('rejects the subscription when the first list fails, and retries on the next one', async () => {
    const kube = scripted.client();
    scripted.listFailure = new ClusterError('kube.forbidden', 'may not list pods');

    await expect(
      hub.subscribe({ kube, namespace: 'drills', pod: 'one', onUpdate: () => undefined }),
    ).rejects.toThrow('may not list pods');

    scripted.listFailure = undefined;
    const subscription = await hub.subscribe({
      kube,
      namespace: 'drills',
      pod: 'one',
      onUpdate: () => undefined,
    });
    expect(subscription.current()).toBeUndefined();
    expect(scripted.listCalls).toBe(2);
  });

  it('gives a new subscriber the pod as last seen', async () => {
    const kube = scripted.client();
    scripted.pods = [pod('one', '90')];
    await hub.subscribe({ kube, namespace: 'drills', pod: 'other', onUpdate: () => undefined });
    await flush();
    scripted.last.send({ type: 'MODIFIED', object: pod('one', '120', 'Pending') });

    const subscription = await hub.subscribe({
      kube,
      namespace: 'drills',
      pod: 'one',
      onUpdate: () => undefined,
    });

    expect(subscription.current()?.status?.phase).toBe('Pending');
  });
});
