import { DrillMachine, parseBackoffSeconds, type Transition } from '../../src/drill/machine.js';
import type { PodJson } from '../../src/kube/index.js';
import { crashLoop, drillPod, errored, killCycle, oomKilled, running } from './pod-fixtures.js';

function feed(machine: DrillMachine, pods: PodJson[]): Transition[] {
  return pods.flatMap((pod) => machine.observe(pod));
}

const start = (): PodJson[] => [
  drillPod({ phase: 'Pending', noContainer: true }),
  drillPod({ phase: 'Pending', state: { waiting: { reason: 'ContainerCreating' } } }),
  drillPod({ state: running() }),
];

describe('DrillMachine', () => {
  it('walks applied → scheduled → pulling → started → killed → backoff → restarted → done for 2 kills', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });
    const pending = drillPod({ phase: 'Pending', noContainer: true });
    delete pending.spec?.nodeName;

    const transitions = feed(machine, [
      pending,
      ...start(),
      ...killCycle(0, '10s'),
      ...killCycle(1, '20s'),
    ]);

    expect(transitions.map((step) => step.phase)).toEqual([
      'scheduled',
      'pulling',
      'started',
      'killed',
      'backoff',
      'restarted',
      'killed',
      'backoff',
      'done',
    ]);
    expect(machine.ending).toEqual({ kind: 'done' });
    expect(
      machine.kills.map((kill) => [kill.ordinal, kill.instance, kill.exitCode, kill.inferred]),
    ).toEqual([
      [1, 0, 137, false],
      [2, 1, 137, false],
    ]);
    expect(machine.restartCount).toBe(2);
    expect(machine.backoffsSeconds).toEqual([10, 20]);
    expect(transitions[4]).toMatchObject({ phase: 'backoff', backoffSeconds: 10 });
    expect(transitions[3]?.message).toBe('OOM kill 1 of 2 (exit 137)');
  });

  it('counts each kill once when every update is replayed and resynced', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 3 });
    const pods = [...start(), ...killCycle(0, '10s'), ...killCycle(1, '20s')];
    const replayed = pods.flatMap((pod) => [pod, structuredClone(pod)]);

    feed(machine, replayed);
    // A resync after a 410 delivers the current object again, with a new resourceVersion.
    const resync = drillPod({ restartCount: 2, state: running(), lastState: oomKilled(1) });
    feed(machine, [resync, resync]);

    expect(machine.kills).toHaveLength(2);
    expect(machine.ended).toBe(false);
  });

  it('counts a kill it only saw as lastState of the restarted container', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 1 });

    feed(machine, [
      drillPod({ state: running() }),
      drillPod({ restartCount: 1, state: running(), lastState: oomKilled(0) }),
    ]);

    expect(machine.kills.map((kill) => kill.instance)).toEqual([0]);
    expect(machine.ending).toEqual({ kind: 'done' });
  });

  it('takes the instance from restartCount while waiting in back-off (not restartCount - 1)', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 3 });

    feed(machine, [
      drillPod({ state: running() }),
      drillPod({ restartCount: 1, state: running(), lastState: oomKilled(0) }),
      drillPod({ restartCount: 1, state: crashLoop('10s'), lastState: oomKilled(1) }),
    ]);

    expect(machine.kills.map((kill) => [kill.instance, kill.inferred])).toEqual([
      [0, false],
      [1, false],
    ]);
    expect(machine.phase).toBe('backoff');
    expect(machine.inBackoff()).toBe(true);
  });

  it('infers the kills it never saw when restartCount jumps, and marks them', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 3 });

    const transitions = feed(machine, [
      drillPod({ state: running() }),
      drillPod({ restartCount: 3, state: running(), lastState: oomKilled(2) }),
    ]);

    expect(
      machine.kills.map((kill) => [kill.ordinal, kill.instance, kill.inferred, kill.finishedAt]),
    ).toEqual([
      [1, 0, true, null],
      [2, 1, true, null],
      [3, 2, false, '2026-01-01T00:02:13Z'],
    ]);
    expect(transitions.filter((step) => step.phase === 'killed').map((step) => step.kill)).toEqual([
      1, 2, 3,
    ]);
    expect(transitions[1]?.message).toContain('inferred');
    expect(machine.ending).toEqual({ kind: 'done' });
  });

  it('is not done while the container waits in back-off after the last kill', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 1 });

    feed(machine, [...start(), ...killCycle(0, '10s').slice(0, 2)]);

    expect(machine.kills).toHaveLength(1);
    expect(machine.ended).toBe(false);
    expect(machine.backoffSeconds).toBe(10);
  });

  it('treats the same instance seen with different timestamp precision as one kill', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });
    const precise = oomKilled(0);
    (precise.terminated as { finishedAt: string }).finishedAt = '2026-01-01T00:00:13.000Z';

    feed(machine, [
      drillPod({ state: running() }),
      drillPod({ restartCount: 0, state: oomKilled(0) }),
      drillPod({ restartCount: 0, state: crashLoop('10s'), lastState: precise }),
    ]);

    expect(machine.kills).toHaveLength(1);
  });

  it('counts exit-code-0 OOM kills (a child killed, PID 1 survived)', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 1 });

    feed(machine, [
      drillPod({ state: running() }),
      drillPod({ restartCount: 1, state: running(), lastState: oomKilled(0, 0) }),
    ]);

    expect(machine.kills[0]?.exitCode).toBe(0);
    expect(machine.ending).toEqual({ kind: 'done' });
  });

  it('ends with image-pull on ImagePullBackOff, quoting the kubelet message and the image', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });

    machine.observe(
      drillPod({
        phase: 'Pending',
        state: {
          waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"' },
        },
      }),
    );

    expect(machine.ending).toEqual({
      kind: 'image-pull',
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "nope:1"',
      image: 'docker.io/library/busybox:1.36.1',
    });
  });

  it('ends with container-exit on a non-OOM exit, pointing at the log of the failed instance', () => {
    const current = new DrillMachine({ container: 'stress', kills: 2 });
    const previous = new DrillMachine({ container: 'stress', kills: 2 });

    current.observe(drillPod({ state: errored(32) }));
    previous.observe(drillPod({ state: crashLoop('10s'), lastState: errored(32) }));

    expect(current.ending).toMatchObject({ kind: 'container-exit', exitCode: 32, previous: false });
    expect(previous.ending).toMatchObject({ kind: 'container-exit', exitCode: 32, previous: true });
  });

  it('counts the kills before an eviction and then ends evicted with the reason', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 3 });

    feed(machine, [
      ...start(),
      ...killCycle(0, '10s'),
      drillPod({
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory.',
        restartCount: 1,
        state: oomKilled(1),
        lastState: oomKilled(0),
      }),
    ]);

    expect(machine.kills).toHaveLength(2);
    expect(machine.ending).toEqual({
      kind: 'evicted',
      message: 'The node was low on resource: memory.',
    });
  });

  it('ends as deleted when someone else starts deleting the pod', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });

    feed(machine, [drillPod({ state: running() }), drillPod({ state: running(), deleting: true })]);

    expect(machine.ending).toEqual({ kind: 'deleted' });
  });

  it('ends with deadline when activeDeadlineSeconds fails the pod', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });

    machine.observe(
      drillPod({
        phase: 'Failed',
        reason: 'DeadlineExceeded',
        message: 'Pod was active on the node longer than the specified deadline',
      }),
    );

    expect(machine.ending).toMatchObject({ kind: 'deadline' });
  });

  it('ignores objects older than the last one seen and objects of another pod uid', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });

    machine.observe(drillPod({ resourceVersion: 50, state: running() }));
    machine.observe(
      drillPod({ resourceVersion: 40, restartCount: 1, state: running(), lastState: oomKilled(0) }),
    );
    machine.observe(
      drillPod({ uid: 'someone-else', restartCount: 1, state: running(), lastState: oomKilled(0) }),
    );

    expect(machine.kills).toHaveLength(0);
    expect(machine.phase).toBe('started');
  });

  it('says "running" for a re-adopted pod and counts the kills it had already suffered', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 3, adopted: true });

    const transitions = machine.observe(
      drillPod({ restartCount: 1, state: running(), lastState: oomKilled(0) }),
    );

    expect(machine.kills).toHaveLength(1);
    expect(transitions.map((step) => step.phase)).toEqual(['killed', 'running']);
  });

  it('shows why an unschedulable pod waits', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });

    const transitions = machine.observe(
      drillPod({
        phase: 'Pending',
        noContainer: true,
        unschedulable: '0/1 nodes are available: 1 Insufficient memory.',
      }),
    );

    expect(transitions).toEqual([
      {
        phase: 'applied',
        message:
          'waiting for a node (not scheduled: 0/1 nodes are available: 1 Insufficient memory.)',
      },
    ]);
    expect(machine.lastWaiting).toContain('Insufficient memory');
  });

  it('does nothing after it ended', () => {
    const machine = new DrillMachine({ container: 'stress', kills: 2 });
    machine.stop();

    const transitions = feed(machine, [
      drillPod({ restartCount: 1, state: running(), lastState: oomKilled(0) }),
    ]);

    expect(transitions).toEqual([]);
    expect(machine.ending).toEqual({ kind: 'stopped' });
    expect(machine.kills).toHaveLength(0);
  });
});

describe('parseBackoffSeconds', () => {
  it.each([
    ['back-off 10s restarting failed container=stress pod=p_ns(u)', 10],
    ['back-off 1m20s restarting failed container=stress pod=p_ns(u)', 80],
    ['back-off 5m0s restarting failed container=stress pod=p_ns(u)', 300],
    ['something else', undefined],
  ])('reads %s as %s seconds', (message, seconds) => {
    expect(parseBackoffSeconds(message)).toBe(seconds);
  });
});
