/**
 * The fake API server checked against real kubectl v1.30: if kubectl prints what it prints for a
 * real cluster (columns, STATUS values, describe blocks, errors) and nothing on stderr, the fake
 * speaks the protocol well enough for the code under test too.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startFakeKube } from './index.js';
import { drillPod, findPod, KubectlSandbox, restartCount, waitFor } from './helpers.js';
import type { FakeKube } from './types.js';

let kube: FakeKube;
let kubectl: KubectlSandbox;

beforeAll(async () => {
  kube = await startFakeKube({
    timeScale: 0.01,
    namespaces: [
      { name: 'drills-baseline', podSecurity: 'baseline' },
      { name: 'drills-restricted', podSecurity: 'restricted' },
      { name: 'drills-quota', memoryQuotaBytes: 100 * 2 ** 20 },
    ],
    kubelet: (pod) => {
      const name = pod.metadata?.name ?? '';
      if (name.startsWith('steady')) return { neverOom: true };
      // A long second back-off keeps the recipe's picture (Restart Count 2, waiting in
      // CrashLoopBackOff, last state OOMKilled) on screen while describe runs.
      if (name.startsWith('recipe')) return { backoffBaseMs: 100_000 };
      if (name.startsWith('badimage')) return { imagePullError: 'ErrImagePull' };
      return {};
    },
  });
  kubectl = new KubectlSandbox(kube);
});

afterAll(async () => {
  await kube.stop();
  kubectl.cleanup();
});

async function createPod(
  name: string,
  options: Partial<Parameters<typeof drillPod>[0]> = {},
): Promise<void> {
  const file = kubectl.writeFile(`${name}.json`, JSON.stringify(drillPod({ name, ...options })));
  const result = await kubectl.run(['create', '-f', file]);
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe(`pod/${name} created\n`);
}

describe('kubectl get', () => {
  test('lists a running pod with READY 1/1, STATUS Running and no discovery noise', async () => {
    await createPod('steady-get');
    await waitFor(
      'steady-get running',
      () => findPod(kube, 'steady-get')?.status.phase === 'Running',
    );

    const result = await kubectl.run(['get', 'pods']);

    expect(result.stderr).toBe('');
    const [header, ...rows] = result.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(rows.find((row) => row.startsWith('steady-get '))).toMatch(
      /^steady-get\s+1\/1\s+Running\s+0\s+\d+s$/,
    );
  });

  test('shows IP, NODE, NOMINATED NODE and READINESS GATES with -o wide', async () => {
    await createPod('steady-wide');
    const pod = await waitFor('steady-wide running', () => {
      const found = findPod(kube, 'steady-wide');
      return found?.status.phase === 'Running' ? found : undefined;
    });

    const result = await kubectl.run(['get', 'pod', 'steady-wide', '-o', 'wide']);

    expect(result.stderr).toBe('');
    const [header, row] = result.stdout.trim().split('\n');
    expect(header).toMatch(
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/,
    );
    expect(row).toMatch(
      new RegExp(
        `^steady-wide\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${pod.status.podIP}\\s+node-1\\s+<none>\\s+<none>$`,
      ),
    );
  });

  test('streams the OOM kill, the immediate restart, the back-off and the second restart with -w', async () => {
    const watch = kubectl.start([
      'get',
      'pods',
      '-w',
      '--field-selector',
      'metadata.name=oom-watch',
    ]);
    await createPod('oom-watch');

    await waitFor(
      'a third start',
      () =>
        restartCount(findPod(kube, 'oom-watch')) >= 2 && /Running\s+2 /.test(watch.output.stdout),
    );
    await watch.stop();

    expect(watch.output.stderr).toBe('');
    const statuses = watch.output.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/).slice(2, 4).join(' '));
    const sequence = statuses.filter((status, index) => status !== statuses[index - 1]);
    const expected = [
      'Running 0',
      'OOMKilled 0',
      'Running 1',
      'OOMKilled 1',
      'CrashLoopBackOff 1',
      'Running 2',
    ];
    expect(sequence.filter((status) => expected.includes(status))).toEqual(expected);
  });

  test('shows ErrImagePull or ImagePullBackOff for an image that cannot be pulled', async () => {
    await createPod('badimage-get', { image: 'busybox:no-such-tag' });
    await waitFor(
      'the pull back-off',
      () =>
        findPod(kube, 'badimage-get')?.status.containerStatuses?.[0]?.state.waiting?.reason ===
        'ImagePullBackOff',
    );

    const result = await kubectl.run(['get', 'pod', 'badimage-get', '--no-headers']);

    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^badimage-get\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s+0\s+/);
  });
});

describe('kubectl describe', () => {
  test('prints the recipe: Last State Terminated OOMKilled, Restart Count 2, Guaranteed, events with counts', async () => {
    await createPod('recipe-describe');
    await waitFor('the second restart', () => restartCount(findPod(kube, 'recipe-describe')) >= 2);

    const result = await kubectl.run(['describe', 'pod', 'recipe-describe']);

    expect(result.stderr).toBe('');
    const out = result.stdout;
    expect(out).toMatch(/^Name:\s+recipe-describe$/m);
    expect(out).toMatch(/^Node:\s+node-1\/\d+\.\d+\.\d+\.\d+$/m);
    expect(out).toMatch(
      /^ {4}Last State:\s+Terminated\n {6}Reason:\s+OOMKilled\n {6}Exit Code:\s+137\n {6}Started:\s+\w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000\n {6}Finished:/m,
    );
    expect(Number(/Restart Count:\s+(\d+)/.exec(out)?.[1])).toBeGreaterThanOrEqual(2);
    expect(out).toMatch(/Limits:\n\s+cpu:\s+100m\n\s+memory:\s+200Mi/);
    expect(out).toMatch(/^QoS Class:\s+Guaranteed$/m);
    expect(out).toMatch(
      /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/recipe-describe to node-1/,
    );
    expect(out).toMatch(
      /Normal\s+Started\s+\S+ \(x\d+ over \S+\)\s+kubelet\s+Started container stress/,
    );
    expect(out).toMatch(
      /Warning\s+BackOff\s+.*kubelet\s+Back-off restarting failed container stress in pod recipe-describe_default\(/,
    );
    expect(out).toMatch(/Conditions:\n\s+Type\s+Status\n\s+PodReadyToStartContainers\s+True/);
  });

  test("prints FailedScheduling for the recipe's nodeSelector that no node matches", async () => {
    const pod = drillPod({ name: 'unplaceable' });
    pod.spec.nodeSelector = { disktype: 'abc' };
    const file = kubectl.writeFile('unplaceable.json', JSON.stringify(pod));
    expect((await kubectl.run(['create', '-f', file])).stderr).toBe('');
    await waitFor('the scheduler to give up', () =>
      kube
        .events()
        .some((e) => e.involvedObject.name === 'unplaceable' && e.reason === 'FailedScheduling'),
    );

    const result = await kubectl.run(['describe', 'pod', 'unplaceable']);
    const listed = await kubectl.run(['get', 'pod', 'unplaceable', '--no-headers']);

    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^Status:\s+Pending$/m);
    expect(result.stdout).toMatch(/^Node-Selectors:\s+disktype=abc$/m);
    expect(result.stdout).toMatch(
      /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector\./,
    );
    expect(listed.stdout).toMatch(/^unplaceable\s+0\/1\s+Pending\s+0\s+/);
  });

  test('prints the pull failure events for a bad image', async () => {
    await createPod('badimage-describe', { image: 'busybox:missing' });
    await waitFor(
      'the pull back-off',
      () =>
        findPod(kube, 'badimage-describe')?.status.containerStatuses?.[0]?.state.waiting?.reason ===
        'ImagePullBackOff',
    );

    const result = await kubectl.run(['describe', 'pod', 'badimage-describe']);

    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /Warning\s+Failed\s+.*Failed to pull image "busybox:missing": rpc error: code = NotFound/,
    );
    expect(result.stdout).toMatch(/Normal\s+BackOff\s+.*Back-off pulling image "busybox:missing"/);
  });
});

describe('kubectl logs', () => {
  test('--previous reads the killed instance, with progress up to the limit', async () => {
    await createPod('oom-logs');
    await waitFor('a restart', () => restartCount(findPod(kube, 'oom-logs')) >= 1);

    const result = await kubectl.run(['logs', 'oom-logs', '-c', 'stress', '--previous']);

    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`oomtest: start method=tmpfs fill_bytes=${2 * 200 * 2 ** 20}`);
    const filled = lines
      .slice(1)
      .map((line) => Number(/^oomtest: filled bytes=(\d+) elapsed_ms=\d+$/.exec(line)?.[1]));
    expect(filled.length).toBeGreaterThan(3);
    expect(Math.max(...filled)).toBeLessThan(200 * 2 ** 20);
    expect(Math.max(...filled)).toBeGreaterThan(150 * 2 ** 20);
  });

  test('-f follows one instance until the kill and then exits cleanly', async () => {
    await createPod('oom-follow');
    await waitFor('running', () => findPod(kube, 'oom-follow')?.status.phase === 'Running');

    const result = await kubectl.run(['logs', '-f', 'oom-follow']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^oomtest: start method=tmpfs /);
    // 16 MiB reports below a 200Mi limit: the last one is 192 MiB.
    expect(lines.at(-1)).toMatch(/^oomtest: filled bytes=201326592 elapsed_ms=\d+$/);
  });

  test("--previous on a container that never restarted is the kubelet's 400", async () => {
    await createPod('steady-logs');
    await waitFor(
      'steady-logs running',
      () => findPod(kube, 'steady-logs')?.status.phase === 'Running',
    );

    const result = await kubectl.run(['logs', 'steady-logs', '--previous']);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      'Error from server (BadRequest): previous terminated container "stress" in pod "steady-logs" not found\n',
    );
  });
});

describe('kubectl delete', () => {
  test('deletes a running pod after its grace period and waits for it to disappear', async () => {
    await createPod('steady-delete');
    await waitFor(
      'steady-delete running',
      () => findPod(kube, 'steady-delete')?.status.phase === 'Running',
    );

    const result = await kubectl.run(['delete', 'pod', 'steady-delete']);

    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('pod "steady-delete" deleted\n');
    expect(findPod(kube, 'steady-delete')).toBeUndefined();
    const killing = kube
      .events()
      .find((e) => e.involvedObject.name === 'steady-delete' && e.reason === 'Killing');
    expect(killing?.message).toBe('Stopping container stress');
  });

  test('a missing pod is NotFound', async () => {
    const result = await kubectl.run(['delete', 'pod', 'never-existed']);

    expect(result.stderr).toBe('Error from server (NotFound): pods "never-existed" not found\n');
  });
});

describe('kubectl create refused by the server', () => {
  test('a privileged pod in a baseline namespace gets the PodSecurity message and nothing is created', async () => {
    const file = kubectl.writeFile(
      'priv.json',
      JSON.stringify(drillPod({ name: 'mem-nginx', namespace: 'drills-baseline' })),
    );

    const result = await kubectl.run(['create', '-f', file]);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe(
      `Error from server (Forbidden): error when creating "${file}": pods "mem-nginx" is forbidden: violates PodSecurity "baseline:latest": privileged (container "stress" must not set securityContext.privileged=true)\n`,
    );
    expect(kube.pods('drills-baseline')).toEqual([]);
  });

  test('a root, privileged pod in a restricted namespace lists every restricted violation', async () => {
    const file = kubectl.writeFile(
      'priv-r.json',
      JSON.stringify(drillPod({ name: 'mem-nginx', namespace: 'drills-restricted' })),
    );

    const result = await kubectl.run(['create', '-f', file]);

    expect(result.stderr).toContain(
      'pods "mem-nginx" is forbidden: violates PodSecurity "restricted:latest": privileged (container "stress" must not set securityContext.privileged=true), ' +
        'allowPrivilegeEscalation != false (container "stress" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "stress" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "stress" must set securityContext.runAsNonRoot=true), ' +
        'runAsUser=0 (container "stress" must not set runAsUser=0), ' +
        'seccompProfile (pod or container "stress" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")\n',
    );
    expect(kube.pods('drills-restricted')).toEqual([]);
  });

  test('a compliant unprivileged pod passes the restricted level', async () => {
    await createPod('steady-restricted', {
      namespace: 'drills-restricted',
      method: 'anon',
      restricted: true,
    });

    expect(findPod(kube, 'steady-restricted', 'drills-restricted')).toBeDefined();
  });

  test('a pod over the namespace memory quota is refused with the quota numbers', async () => {
    const file = kubectl.writeFile(
      'quota.json',
      JSON.stringify(drillPod({ name: 'too-big', namespace: 'drills-quota' })),
    );

    const result = await kubectl.run(['create', '-f', file]);

    expect(result.stderr).toContain(
      'pods "too-big" is forbidden: exceeded quota: memory-quota, requested: limits.memory=200Mi,requests.memory=200Mi, used: limits.memory=0,requests.memory=0, limited: limits.memory=100Mi,requests.memory=100Mi',
    );
    expect(kube.pods('drills-quota')).toEqual([]);
  });

  test('a second pod of the same name is AlreadyExists', async () => {
    await createPod('steady-twice');
    const file = kubectl.writeFile(
      'twice.json',
      JSON.stringify(drillPod({ name: 'steady-twice' })),
    );

    const result = await kubectl.run(['create', '-f', file]);

    expect(result.stderr).toBe(
      `Error from server (AlreadyExists): error when creating "${file}": pods "steady-twice" already exists\n`,
    );
  });

  test('a name that is not a DNS subdomain is Invalid (422)', async () => {
    const file = kubectl.writeFile('bad.json', JSON.stringify(drillPod({ name: 'Bad_Name' })));

    const result = await kubectl.run(['create', '-f', file]);

    expect(result.stderr).toContain(
      'The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
    );
  });
});

describe('requests as RBAC sees them', () => {
  test('kubectl get -w, logs and delete use list, watch, get pods/log and delete', async () => {
    const verbs = new Set(
      kube.requests
        .filter((r) => r.resource)
        .map((r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`),
    );

    for (const expected of [
      'list pods',
      'watch pods',
      'get pods',
      'get pods/log',
      'create pods',
      'delete pods',
      'list events',
    ]) {
      expect(verbs.has(expected)).toBe(true);
    }
  });
});
