/**
 * The core proof that describePod reads like kubectl: real drill pods (built by the stress
 * module from a parsed `/oomtest` command) go through the fake API server's simulated kubelet,
 * which OOM-kills them, backs off, fails image pulls or leaves them unscheduled; then real
 * `kubectl describe pod` prints each one, and our rendering of the same pod and events, fetched
 * as raw JSON from the same server, must equal kubectl's text at some instant of the window
 * kubectl ran in. The kubelet keeps changing the pod, so each comparison is taken only when the
 * pod and its events were identical before and after kubectl ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePod, type EventLike, type PodLike } from '../../src/kube/describe.js';
import { parseCommand } from '../../src/request/parse.js';
import type { RequestDefaults } from '../../src/request/types.js';
import { buildPod } from '../../src/stress/manifest.js';
import {
  startFakeKube,
  type FakeKube,
  type KubeletBehaviour,
  type PodJson,
} from '../fake-kube/index.js';
import {
  compareWithKubectl,
  kubectlDescribe,
  type KubectlRun,
} from './fixtures/describe-support.js';

const NAMESPACE = 'describe-drills';

const DEFAULTS: RequestDefaults = {
  namespace: NAMESPACE,
  image: 'busybox:1.36',
  cpu: '100m',
  kills: 2,
  timeoutSeconds: 300,
  maxMemoryBytes: 4 * 1024 ** 3,
};

/**
 * Per-pod kubelet behaviour, in real-world ms (the fake runs at timeScale 0.01). The long fills
 * and back-offs hold a pod still in the state under test for a few real seconds.
 */
const BEHAVIOUR: Record<string, Partial<KubeletBehaviour>> = {
  // Killed twice (exit 137), restarted after a 1 s back-off, then running for 1 s.
  'mem-nginx': { fillMs: 100_000, backoffBaseMs: 1_000 },
  // Same, but the kernel killed a child: Reason OOMKilled with Exit Code 0.
  'mem-child': { fillMs: 100_000, backoffBaseMs: 1_000, oomExitCode: 0 },
  // Killed twice quickly, then waiting out a long CrashLoopBackOff.
  'mem-backoff': { fillMs: 2_000, backoffBaseMs: 1_000_000 },
  'mem-typo': { imagePullError: 'ErrImagePull' },
  // Never scheduled.
  'mem-pending': { scheduleMs: 100_000_000 },
  // Evicted by the kubelet after its first OOM kill: phase Failed with a reason and message.
  'mem-evicted': { fillMs: 2_000, evictAfterKills: 1 },
};

let kube: FakeKube;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startFakeKube({
    timeScale: 0.01,
    namespaces: [{ name: NAMESPACE, podSecurity: 'privileged' }],
    kubelet: (pod) => BEHAVIOUR[pod.metadata?.name ?? ''] ?? {},
  });
  dir = mkdtempSync(join(tmpdir(), 'oomtest-describe-fake-'));
  kubeconfig = join(dir, 'kubeconfig');
  kube.writeKubeconfig(kubeconfig, { namespace: NAMESPACE });
});

afterAll(async () => {
  await kube.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One request to the fake, without keep-alive so no socket outlives the suite. */
function call(
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${kube.url}${path}`, {
      method,
      agent: false,
      headers: { authorization: 'Bearer fake-kube-token', 'content-type': 'application/json' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function getJson<T>(path: string): Promise<T> {
  const { status, text } = await call('GET', path);
  if (status !== 200) throw new Error(`GET ${path}: ${status} ${text}`);
  return JSON.parse(text) as T;
}

/** Creates the drill pod for `command` through the API, as the worker would. */
async function createDrillPod(command: string): Promise<void> {
  const parsed = parseCommand(command, DEFAULTS);
  if (parsed.kind !== 'drill') throw new Error(`not a drill command: ${command}`);
  const pod = buildPod(parsed.request, {
    drillId: `describe-${parsed.request.pod}`,
    requestedBy: 'U024BE7LH',
  });

  const { status, text } = await call('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, pod);
  if (status !== 201) throw new Error(`create ${command}: ${status} ${text}`);
}

/** The pod and the events kubectl asks for, as raw JSON from the server. */
async function snapshot(name: string): Promise<{ pod: PodJson; events: EventLike[] }> {
  const pod = await getJson<PodJson>(`/api/v1/namespaces/${NAMESPACE}/pods/${name}`);
  const selector = encodeURIComponent(
    `involvedObject.name=${name},involvedObject.namespace=${NAMESPACE},involvedObject.uid=${pod.metadata.uid}`,
  );
  const list = await getJson<{ items: EventLike[] }>(
    `/api/v1/namespaces/${NAMESPACE}/events?fieldSelector=${selector}`,
  );
  return { pod, events: list.items };
}

/** Polls of the fake's store before giving up on a state: 30 s at 20 ms. */
const MAX_POLLS = 1_500;

/** Waits (polling the fake's store) until the pod is in the state under test. */
async function waitFor(name: string, ready: (pod: PodJson) => boolean): Promise<void> {
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    const pod = kube.pods(NAMESPACE).find((p) => p.metadata.name === name);
    if (pod && ready(pod)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`pod ${name} never reached the state under test`);
}

/** kubectl's view and ours of one unchanged snapshot; retries while the kubelet moves the pod. */
async function describeBoth(
  name: string,
): Promise<{ run: KubectlRun; render: (now: Date) => string }> {
  for (let attempt = 0; ; attempt++) {
    const before = await snapshot(name);
    const run = await kubectlDescribe({ kubeconfig, namespace: NAMESPACE, name });
    const after = await snapshot(name);
    if (JSON.stringify(before) === JSON.stringify(after)) {
      // The fake types fields it does not model (hostPath, ...) as unknown; the JSON is a pod.
      const pod = before.pod as PodLike;
      return { run, render: (now) => describePod({ pod, events: before.events, now }) };
    }
    if (attempt >= 20) throw new Error(`pod ${name} kept changing while kubectl ran`);
  }
}

function status(
  pod: PodJson,
): NonNullable<NonNullable<PodJson['status']>['containerStatuses']>[number] | undefined {
  return pod.status?.containerStatuses?.[0];
}

describe('describePod compared with real kubectl on pods driven by the simulated kubelet', () => {
  it.each([
    ['mem-nginx', 137],
    ['mem-child', 0],
  ])(
    'matches kubectl for %s, running again after two OOM kills (exit %d)',
    async (name, exitCode) => {
      await createDrillPod(`${name} 200Mi`);
      await waitFor(
        name,
        (pod) => status(pod)?.restartCount === 2 && status(pod)?.state?.running !== undefined,
      );

      const { run, render } = await describeBoth(name);

      expect(run.text).toContain('      Reason:       OOMKilled\n');
      expect(run.text).toContain(`      Exit Code:    ${exitCode}\n`);
      expect(run.text).toContain('    Restart Count:  2\n');
      const result = compareWithKubectl(run, render);
      expect(result.diff).toEqual([]);
      expect(result.equal).toBe(true);
    },
  );

  it('matches kubectl for a pod waiting in CrashLoopBackOff after its second OOM kill', async () => {
    await createDrillPod('mem-backoff 64Mi --method emptydir');
    await waitFor(
      'mem-backoff',
      (pod) => status(pod)?.state?.waiting?.reason === 'CrashLoopBackOff',
    );

    const { run, render } = await describeBoth('mem-backoff');

    expect(run.text).toContain('      Reason:       CrashLoopBackOff\n');
    expect(compareWithKubectl(run, render).diff).toEqual([]);
  });

  it('matches kubectl for a pod whose image cannot be pulled', async () => {
    await createDrillPod('mem-typo 64Mi --image busybox:does-not-exist');
    await waitFor('mem-typo', (pod) => status(pod)?.state?.waiting?.reason === 'ImagePullBackOff');

    const { run, render } = await describeBoth('mem-typo');

    expect(run.text).toContain('ImagePullBackOff');
    expect(compareWithKubectl(run, render).diff).toEqual([]);
  });

  it('matches kubectl for a pod the kubelet evicted', async () => {
    await createDrillPod('mem-evicted 64Mi');
    await waitFor('mem-evicted', (pod) => pod.status?.phase === 'Failed');

    const { run, render } = await describeBoth('mem-evicted');

    expect(run.text).toContain('Reason:           Evicted\n');
    expect(compareWithKubectl(run, render).diff).toEqual([]);
  });

  it('matches kubectl for a pod that is still pending', async () => {
    await createDrillPod('mem-pending 64Mi --method anon');
    await waitFor('mem-pending', (pod) => pod.status?.phase === 'Pending');

    const { run, render } = await describeBoth('mem-pending');

    expect(run.text).toContain('Node:             <none>\n');
    expect(compareWithKubectl(run, render).diff).toEqual([]);
  });
});
