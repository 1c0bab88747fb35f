import { verdictOf, type VerdictInput } from '../../src/drill/verdict.js';
import type { KillRecord } from '../../src/drill/types.js';
import { parseStressLog } from '../../src/stress/index.js';
import { drillRequest } from '../support/drill-job.js';

function kill(ordinal: number, overrides: Partial<KillRecord> = {}): KillRecord {
  return {
    ordinal,
    container: 'stress',
    instance: ordinal - 1,
    exitCode: 137,
    startedAt: '2026-01-01T00:00:10Z',
    finishedAt: '2026-01-01T00:00:13Z',
    inferred: false,
    ...overrides,
  };
}

function input(overrides: Partial<VerdictInput>): VerdictInput {
  return {
    request: drillRequest({ kills: 2 }),
    ending: { kind: 'done' },
    kills: [kill(1), kill(2)],
    backoffsSeconds: [10, 20],
    everStarted: true,
    ...overrides,
  };
}

describe('verdictOf', () => {
  it('says how many kills, the exit code in words, the fill and the back-offs on success', () => {
    const kills = [kill(1), kill(2, { filledBytes: 207_700_000, fillMs: 400 })];

    const result = verdictOf(input({ kills }));

    expect(result.status).toBe('done');
    expect(result.failure).toBeUndefined();
    expect(result.verdict).toBe(
      'OOMKilled 2 times as expected (exit 137: the kernel killed the whole container, as cgroup ' +
        'v2 group kill does); killed at ~198Mi of 200Mi after 0.4 s; restarted after 10 s and 20 s back-off',
    );
  });

  it('explains exit code 0 as a killed child whose PID 1 survived', () => {
    const result = verdictOf(
      input({
        kills: [kill(1, { exitCode: 0 })],
        request: drillRequest({ kills: 1 }),
        backoffsSeconds: [10],
      }),
    );

    expect(result.verdict).toContain(
      'OOMKilled once as expected (exit 0: the kernel killed a child process',
    );
    expect(result.verdict).toContain('cgroup v1');
  });

  it('says the first restart was immediate when no back-off was shown for it', () => {
    const result = verdictOf(input({ backoffsSeconds: [undefined, 10] }));

    expect(result.verdict).toContain('restarted at once, then after 10 s back-off');
  });

  it('says how many kills were asked for when more happened (a pod adopted late)', () => {
    const result = verdictOf(
      input({ kills: [kill(1), kill(2), kill(3)], backoffsSeconds: [undefined, 10, 20] }),
    );

    expect(result.verdict).toMatch(/^OOMKilled 3 times, 2 asked for \(exit 137/);
  });

  it('mentions inferred kills', () => {
    const result = verdictOf(
      input({ kills: [kill(1, { inferred: true, exitCode: null }), kill(2)] }),
    );

    expect(result.verdict).toContain('1 of the kills inferred from the restart count');
  });

  it('tells a timeout without any kill, where the script filled everything, apart from k of N kills', () => {
    const full = parseStressLog(
      'oomtest: start method=tmpfs fill_bytes=419430400\noomtest: full bytes=419430400 elapsed_ms=900\n',
    );

    const none = verdictOf(input({ ending: { kind: 'timeout' }, kills: [], log: full }));
    const some = verdictOf(input({ ending: { kind: 'timeout' }, kills: [kill(1)] }));

    expect(none.status).toBe('timedout');
    expect(none.failure?.code).toBe('drill.timeout');
    expect(none.verdict).toBe(
      'Timed out: no OOM kill at all within --timeout 3m; the script filled 400Mi without being ' +
        'killed (is the 200Mi limit enforced on this node?)',
    );
    expect(some.verdict).toBe(
      'Timed out: only 1 of 2 OOM kills within --timeout 3m (time in kubelet back-off not counted)',
    );
  });

  it('explains a deadline that ran out before any kill like a timeout without a kill', () => {
    const log = parseStressLog('oomtest: filled bytes=67108864 elapsed_ms=300\n');

    const result = verdictOf(
      input({ ending: { kind: 'deadline', message: 'Pod was active too long' }, kills: [], log }),
    );

    expect(result.status).toBe('timedout');
    expect(result.verdict).toBe(
      "Timed out: no OOM kill before the pod's activeDeadlineSeconds safety net ran out; " +
        'the script had filled 64Mi of 400Mi and was still going',
    );
  });

  it('says a container that never started never started, with what it waited for', () => {
    const result = verdictOf(
      input({
        ending: { kind: 'timeout' },
        kills: [],
        everStarted: false,
        lastWaiting: 'not scheduled: 0/1 nodes are available',
      }),
    );

    expect(result.verdict).toContain(
      'the container never started (not scheduled: 0/1 nodes are available)',
    );
  });

  it('reports mount-denied from the protocol line, suggesting the unprivileged methods', () => {
    const logText =
      'oomtest: start method=tmpfs fill_bytes=1\noomtest: error reason=mount-denied detail="mount: permission denied"\n';

    const result = verdictOf(
      input({
        ending: {
          kind: 'container-exit',
          reason: 'Error',
          exitCode: 32,
          message: '',
          previous: true,
        },
        kills: [],
        log: parseStressLog(logText),
        logText,
      }),
    );

    expect(result.failure?.code).toBe('drill.mount-denied');
    expect(result.verdict).toContain('needs a privileged container');
    expect(result.verdict).toContain('--method emptydir or --method anon');
  });

  it('reports mount-denied from a bare "mount: permission denied" line too', () => {
    const result = verdictOf(
      input({
        ending: {
          kind: 'container-exit',
          reason: 'Error',
          exitCode: 1,
          message: '',
          previous: true,
        },
        kills: [],
        logText: 'mount: permission denied (are you root?)\n',
      }),
    );

    expect(result.failure?.code).toBe('drill.mount-denied');
  });

  it('quotes the last log line of a container that failed for another reason', () => {
    const result = verdictOf(
      input({
        ending: {
          kind: 'container-exit',
          reason: 'Error',
          exitCode: 127,
          message: '',
          previous: true,
        },
        kills: [],
        logText: 'sh: dd: not found\n',
      }),
    );

    expect(result.failure?.code).toBe('drill.container-error');
    expect(result.verdict).toBe(
      'Failed: the stress container exited with code 127 (Error) after 0 of 2 OOM kills; its log ends: sh: dd: not found',
    );
  });

  it('names the image and the kubelet message when the image cannot be pulled', () => {
    const result = verdictOf(
      input({
        ending: {
          kind: 'image-pull',
          reason: 'ErrImagePull',
          message: 'not found',
          image: 'busybox:nope',
        },
        kills: [],
      }),
    );

    expect(result.failure?.code).toBe('drill.image-pull');
    expect(result.verdict).toContain(
      'image "busybox:nope" could not be pulled (ErrImagePull): not found',
    );
  });

  it('marks a stop on request as stopped with the kills so far', () => {
    const result = verdictOf(input({ ending: { kind: 'stopped' }, kills: [kill(1)] }));

    expect(result).toEqual({
      status: 'stopped',
      verdict: 'Stopped: stopped on request after 1 of 2 OOM kills',
      failure: { code: 'drill.stopped', message: 'stopped on request after 1 of 2 OOM kills' },
    });
  });

  it('reports eviction and deletion by someone else with their codes', () => {
    const evicted = verdictOf(
      input({
        ending: { kind: 'evicted', message: 'The node was low on resource: memory.' },
        kills: [kill(1)],
      }),
    );
    const deleted = verdictOf(input({ ending: { kind: 'deleted' }, kills: [] }));

    expect(evicted.failure?.code).toBe('drill.evicted');
    expect(evicted.verdict).toBe(
      'Failed: the kubelet evicted the pod after 1 of 2 OOM kills: The node was low on resource: memory.',
    );
    expect(deleted.failure?.code).toBe('drill.deleted');
  });
});
