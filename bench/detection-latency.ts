/**
 * Benchmark 2, detection latency: how long after the API server emits the pod update that
 * shows an OOM kill (state.terminated, reason OOMKilled) the drill engine reports it, i.e.
 * its onProgress('killed') callback runs (the worker turns that into the Slack update).
 *
 * Everything runs against the fake API server in this process (its store is where a watch
 * event is emitted, so the emission time is taken there), with the real client, the real
 * shared watch and real runDrill: BENCH_ROUNDS rounds of BENCH_DRILLS concurrent drills of
 * BENCH_KILLS kills each, all sharing one watch connection, as in a worker.
 *
 * Baseline, measured in the same run on the same events: real `kubectl get pods -w` watching
 * the same namespace; its latency is from the same emission to the moment its output line
 * showing the pod OOMKilled with that restart count reaches this process.
 *
 * Settings (environment): BENCH_ROUNDS (5), BENCH_DRILLS (20), BENCH_KILLS (3),
 * OOMTEST_KUBECTL (kubectl path; `npm run bench` sets it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runDrill } from '../src/drill/run.js';
import type { DrillProgress } from '../src/drill/types.js';
import { createKubeClients, PodWatchHub, type KubeClient } from '../src/kube/index.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../src/stress/index.js';
import { kubeconfigText } from '../test/fake-kube/index.js';
import { FakeApiServer } from '../test/fake-kube/server.js';
import type { Change } from '../test/fake-kube/store.js';
import type { PodJson } from '../test/fake-kube/types.js';
import { drillRequest } from '../test/support/drill-job.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DRILLS = Number(process.env.BENCH_DRILLS ?? 20);
const KILLS = Number(process.env.BENCH_KILLS ?? 3);
const KUBECTL = process.env.OOMTEST_KUBECTL ?? join(process.cwd(), '.tools/kubectl/kubectl');
// 0.02 turns the kubelet's 10 s back-off into 200 ms and a 3 s fill into 60 ms: kills come
// fast, yet far enough apart that each is a separate watch event for both watchers.
const TIME_SCALE = 0.02;
const NAMESPACE = 'bench';
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'detection-latency.md');

/** `pod/restartCount-of-the-dead-instance` → ms (performance.now()). */
type Times = Map<string, number>;

interface Samples {
  emitted: Times;
  engine: Times;
  kubectl: Times;
}

async function main(): Promise<void> {
  const server = new FakeApiServer({ timeScale: TIME_SCALE, namespaces: [{ name: NAMESPACE }] });
  const url = await server.listen();
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-bench-detect-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigText(url), { mode: 0o600 });
  const samples: Samples = { emitted: new Map(), engine: new Map(), kubectl: new Map() };
  const unlisten = server.store.listen({ resource: 'pods', onChange: (c) => onEmit(c, samples) });
  const kubectl = startKubectl(kubeconfig, dir, samples.kubectl);

  try {
    await kubectl.ready;
    const kube = createKubeClients({ kubeconfigPath: kubeconfig }).forContext();
    const hub = new PodWatchHub({ labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` });
    for (let round = 0; round < ROUNDS; round += 1) await runRound(kube, hub, round, samples);
    // kubectl's last lines may still be in the pipe.
    await new Promise((resolve) => setTimeout(resolve, 500));
    hub.close();
    report(samples, hub.stats().connectionsOpened);
  } finally {
    unlisten();
    kubectl.child.kill('SIGTERM');
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runRound(kube: KubeClient, hub: PodWatchHub, round: number, samples: Samples) {
  const drills = Array.from({ length: DRILLS }, (_, index) => {
    const pod = `detect-${round}-${index}`;
    const onProgress = (progress: DrillProgress): void => {
      const kill = progress.kills.at(-1);
      if (progress.phase !== 'killed' || kill === undefined) return;
      const key = `${pod}/${kill.instance}`;
      if (!samples.engine.has(key)) samples.engine.set(key, performance.now());
    };
    return runDrill(
      drillRequest({ pod, namespace: NAMESPACE, kills: KILLS, timeoutSeconds: 60 }),
      { drillId: `bench-${round}-${index}`, onProgress },
      { kube, watches: hub },
    );
  });
  const outcomes = await Promise.all(drills);
  const failed = outcomes.filter((outcome) => outcome.status !== 'done');
  if (failed.length > 0) throw new Error(`drill did not finish: ${failed[0]?.verdict}`);
}

/** Records when the store (and so every watch) first shows each instance OOMKilled. */
function onEmit(change: Change, samples: Samples): void {
  const pod = change.object as PodJson;
  const status = pod.status?.containerStatuses?.[0];
  if (change.type !== 'MODIFIED' || status?.state?.terminated?.reason !== 'OOMKilled') return;

  // The kubelet goes on killing until the drill deletes the pod: only the drill's kills count.
  if (status.restartCount >= KILLS) return;
  const key = `${pod.metadata.name}/${status.restartCount}`;
  if (!samples.emitted.has(key)) samples.emitted.set(key, performance.now());
}

/** kubectl get pods -w: each output line is timestamped when it reaches this process. */
function startKubectl(
  kubeconfig: string,
  dir: string,
  times: Times,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    KUBECTL,
    [
      '--kubeconfig',
      kubeconfig,
      '--cache-dir',
      join(dir, 'cache'),
      'get',
      'pods',
      '-w',
      '-n',
      NAMESPACE,
    ],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let buffered = '';
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const at = performance.now();
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) recordLine(line, at, times);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    // "No resources found" is the first thing a watch of an empty namespace prints.
    if (chunk.toString().includes('No resources found')) resolveReady();
  });
  // A watch that printed nothing yet is still watching; give it a moment to connect.
  setTimeout(resolveReady, 1_000);
  return { child, ready };
}

/** `detect-0-3   0/1   OOMKilled   2 (1s ago)   4s` → key detect-0-3/2. */
function recordLine(line: string, at: number, times: Times): void {
  const columns = line.trim().split(/\s+/);
  const [name, , status, restarts] = columns;
  if (name === undefined || status !== 'OOMKilled' || restarts === undefined) return;

  const key = `${name}/${Number.parseInt(restarts, 10)}`;
  if (!times.has(key)) times.set(key, at);
}

function latencies(emitted: Times, seen: Times): number[] {
  const values: number[] = [];
  for (const [key, at] of emitted) {
    const detected = seen.get(key);
    if (detected !== undefined) values.push(detected - at);
  }
  return values.sort((a, b) => a - b);
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(index, 0)] ?? Number.NaN;
}

function row(name: string, values: number[], emitted: number): string {
  const ms = (value: number): string => value.toFixed(2);
  return `| ${name} | ${values.length} of ${emitted} | ${ms(percentile(values, 0.5))} | ${ms(
    percentile(values, 0.99),
  )} | ${ms(values.at(-1) ?? Number.NaN)} |`;
}

function report(samples: Samples, watchConnections: number): void {
  const engine = latencies(samples.emitted, samples.engine);
  const kubectl = latencies(samples.emitted, samples.kubectl);
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
  const text = [
    '# Detection latency',
    '',
    `Run ${new Date().toISOString()} on ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Linux ${release()}, Node ${process.version}.`,
    `${ROUNDS} rounds of ${DRILLS} concurrent drills × ${KILLS} OOM kills against the fake API server ` +
      `(kubelet time scale ${TIME_SCALE}); the engine's drills shared ${watchConnections} watch connection(s). ` +
      'Latency runs from the fake emitting the pod update that first shows the instance OOMKilled ' +
      'to the engine calling onProgress(killed), and, as the baseline on the same events, to ' +
      '`kubectl get pods -w` (v1.30) printing that pod as OOMKilled with that restart count.',
    '',
    '| watcher | kills seen | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|',
    row('oomtest engine (shared watch → state machine → onProgress)', engine, samples.emitted.size),
    row('kubectl get pods -w (baseline)', kubectl, samples.emitted.size),
    '',
    'Both run in this one process with the fake server and its kubelet (kubectl as a child ' +
      'process), on two cores: the tail is mostly the event loop being busy with the other ' +
      `${DRILLS - 1} drills' updates. A kill not seen by a watcher is left out of its row.`,
  ].join('\n');

  console.log(text);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${text}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
