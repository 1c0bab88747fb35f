/**
 * Whole drills against the fake API server: the happy paths and the watch faults a real
 * cluster throws at a long drill (dropped streams, expired history, missed updates).
 */
import { podsNamed, startBench, uniqueName, type DrillBench, type Drilled } from './fake-drill.js';

function killOrdinals(drilled: Drilled): number[] {
  const seen = drilled.progress.filter((update) => update.phase === 'killed');
  return seen.map((update) => update.kills.length);
}

/**
 * Every kill counted once: ordinals 1..k, one per container instance 0..k-1, and the
 * restart count (in the outcome and the summary) equal to k. Under faults the kubelet may
 * kill once more before the drill sees the restart it waits for: k may then exceed `kills`.
 */
function expectExactlyOnce(drilled: Drilled, kills: number, exact = true): void {
  const { outcome } = drilled;
  const counted = outcome.kills.length;
  if (exact) expect(counted).toBe(kills);
  else expect(counted).toBeGreaterThanOrEqual(kills);
  const sequence = Array.from({ length: counted }, (_, index) => index);
  expect(outcome.kills.map((kill) => kill.ordinal)).toEqual(sequence.map((index) => index + 1));
  expect(outcome.kills.map((kill) => kill.instance)).toEqual(sequence);
  expect(outcome.restartCount).toBe(counted);
  // One 'killed' update per kill, in order, each carrying the kills so far.
  expect(killOrdinals(drilled)).toEqual(sequence.map((index) => index + 1));
  expect(outcome.describe).toMatch(new RegExp(`Restart Count:\\s+${counted}\\n`));
}

describe('runDrill against the fake API server', () => {
  let bench: DrillBench;

  beforeAll(async () => {
    bench = await startBench();
  });

  afterAll(async () => {
    await bench.close();
  });

  it.each([1, 2, 5])(
    'ends done after %i OOM kills with Restart Count equal to the kills, each counted once',
    async (kills) => {
      const pod = uniqueName(`happy${kills}`);

      const drilled = await bench.drill({ pod, kills });

      expect(drilled.outcome.status).toBe('done');
      expect(drilled.outcome.failure).toBeUndefined();
      expectExactlyOnce(drilled, kills);
      expect(killOrdinals(drilled)).toEqual(Array.from({ length: kills }, (_, i) => i + 1));
      expect(drilled.outcome.kills.every((kill) => kill.exitCode === 137 && !kill.inferred)).toBe(
        true,
      );
      expect(drilled.outcome.verdict).toMatch(
        new RegExp(`^OOMKilled ${kills === 1 ? 'once' : `${kills} times`} as expected \\(exit 137`),
      );
      expect(drilled.outcome.describe).toContain('Reason:       OOMKilled');
      expect(drilled.outcome.deleted).toBe(true);
      expect(podsNamed(bench, pod)).toEqual([]);
    },
  );

  it('walks the phases in order and shows the back-off before each later restart', async () => {
    const pod = uniqueName('phases');

    const drilled = await bench.drill({ pod, kills: 2 });

    const phases = drilled.progress.map((update) => update.phase);
    expect(phases[0]).toBe('applied');
    expect(phases.at(-1)).toBe('done');
    expect(phases).toEqual(
      expect.arrayContaining(['scheduled', 'started', 'killed', 'backoff', 'restarted']),
    );
    const backoff = drilled.progress.find((update) => update.phase === 'backoff');
    // The kubelet restarts at once after the first death; the 10 s back-off comes before the second.
    expect(backoff?.backoffSeconds).toBe(10);
    expect(backoff?.kills).toHaveLength(2);
    expect(drilled.outcome.verdict).toContain('restarted at once, then after 10 s back-off');
  });

  it('reports the fill from the killed container\u2019s log and keeps its tail', async () => {
    const pod = uniqueName('fill');

    const { outcome } = await bench.drill({ pod, kills: 1 });

    expect(outcome.kills[0]?.filledBytes).toBeGreaterThan(150 * 2 ** 20);
    expect(outcome.kills[0]?.fillMs).toBeGreaterThan(0);
    expect(outcome.verdict).toMatch(/killed at ~?\d+Mi of 200Mi after \d+\.\d s/);
    expect(outcome.logTail).toContain('oomtest: start method=tmpfs');
  });

  it('can run the same drill again at once: the first one waited until its pod was gone', async () => {
    const pod = uniqueName('again');

    const first = await bench.drill({ pod, kills: 1 });
    const second = await bench.drill({ pod, kills: 1 });

    expect([first.outcome.status, second.outcome.status]).toEqual(['done', 'done']);
    expect(podsNamed(bench, pod)).toEqual([]);
  });

  it('names exit code 0 when the kernel killed a child and PID 1 survived', async () => {
    const pod = uniqueName('exit0');
    bench.behaviours.set(pod, { oomExitCode: 0 });

    const { outcome } = await bench.drill({ pod, kills: 2 });

    expect(outcome.status).toBe('done');
    expect(outcome.kills.map((kill) => kill.exitCode)).toEqual([0, 0]);
    expect(outcome.verdict).toContain('exit 0: the kernel killed a child process');
  });

  it('counts every kill exactly once when the watch is dropped mid-drill', async () => {
    const pod = uniqueName('dropped');
    let drops = 0;

    const drilled = await bench.drill(
      { pod, kills: 3 },
      {
        onProgress: (update) => {
          if (update.phase === 'killed' || update.phase === 'backoff') {
            drops += 1;
            bench.fake.faults.dropWatches();
          }
        },
      },
    );

    expect(drops).toBeGreaterThan(1);
    expect(drilled.outcome.status).toBe('done');
    expectExactlyOnce(drilled, 3, false);
    expect(drilled.outcome.kills.some((kill) => kill.inferred)).toBe(false);
  });

  it('re-lists after 410 Gone mid-drill and still counts every kill exactly once', async () => {
    const pod = uniqueName('expired');
    // The resume waits 300 ms (random() = 1); the history is forgotten 100 ms into that wait,
    // after the kubelet has moved on, so the resume asks for a version the server dropped.
    const hub = bench.hub({ initialBackoffMs: 300, random: () => 1 });
    let cut = false;

    const drilled = await bench.drill(
      { pod, kills: 3 },
      {
        hub,
        onProgress: (update) => {
          if (cut || update.phase !== 'killed') return;
          cut = true;
          bench.fake.faults.dropWatches();
          setTimeout(() => bench.fake.faults.expireWatchHistory(), 100);
        },
      },
    );

    expect(hub.stats().relists).toBeGreaterThan(0);
    expect(drilled.outcome.status).toBe('done');
    expectExactlyOnce(drilled, 3, false);
  });

  it('infers kills it never saw when the watch was away while they happened', async () => {
    const pod = uniqueName('missed');
    // random() = 1 makes the first retry wait the full 1.5 s: longer than the ~0.9 s the
    // scaled kubelet needs for the remaining kills, so they happen while nobody watches
    // (and shorter than the pod's scaled activeDeadlineSeconds, 3.3 s).
    const hub = bench.hub({ initialBackoffMs: 1_500, random: () => 1 });
    let cut = false;

    const drilled = await bench.drill(
      { pod, kills: 4 },
      {
        hub,
        onProgress: (update) => {
          if (cut || update.phase !== 'killed') return;
          cut = true;
          bench.fake.faults.dropWatches();
          // Forget the history once the kubelet has moved on, so the resume gets 410.
          setTimeout(() => bench.fake.faults.expireWatchHistory(), 1_000);
        },
      },
    );

    expect(drilled.outcome.status).toBe('done');
    expectExactlyOnce(drilled, 4, false);
    expect(drilled.outcome.kills.filter((kill) => kill.inferred).length).toBeGreaterThan(0);
    expect(drilled.outcome.kills.at(-1)?.inferred).toBe(false);
    expect(drilled.outcome.verdict).toContain('inferred from the restart count');
  });
});
