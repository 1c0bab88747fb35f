/**
 * Benchmark 4, stress fill rate: how fast each generated stress script drives a container
 * to its OOM kill, against the recipe's original script, in a real memory cgroup.
 *
 * Every run gets a fresh child memory cgroup with the row's limit (no swap) and its
 * own private mount namespace, as a container would; the script runs as the container
 * command would, under dash + coreutils and under busybox. The clock starts at spawn and
 * stops when the cgroup's oom_kill counter moves (polled every millisecond or so), so
 * process start-up and the mount count, as they do in a drill.
 *
 * - recipe: `mkdir -p D; mount -t tmpfs -o size=10240M tmpfs D; dd if=/dev/zero of=D/block;
 *   sleep 60; ...`: dd's default 512-byte blocks, one process, no progress.
 * - tmpfs / emptydir / anon: `stressScript` with the drill's default fill (twice the limit)
 *   and its default chunking. emptydir's volume is a tmpfs the size of the limit, as the
 *   kubelet sizes a memory-backed emptyDir; emptydir and anon run as uid 65534.
 *
 * MiB/s is the limit divided by the seconds to the kill: the kill comes when the charge
 * reaches the limit, whatever filled it. Needs root and a writable cgroup tree.
 * Two limits: 64Mi, as in the kernel tests (start-up dominates), and 1Gi (the write path
 * does). Settings (environment): BENCH_FILL_LIMITS_MIB ("64,1024"), BENCH_FILL_RUNS (7).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { StressMethod } from '../src/request/types.js';
import { stressScript } from '../src/stress/script.js';
import {
  busyboxEnv,
  createMemoryCgroup,
  dashEnv,
  probeMemoryCgroups,
  which,
  type ShellEnv,
} from '../test/support/cgroup.js';

const MIB = 1_048_576;
// 64Mi is the tests' limit; at 1Gi start-up no longer hides the write path.
const LIMITS_MIB = (process.env.BENCH_FILL_LIMITS_MIB ?? '64,1024').split(',').map(Number);
const RUNS = Number(process.env.BENCH_FILL_RUNS ?? 7);
// A run that has not been killed by then is broken, not slow.
const RUN_TIMEOUT_MS = 120_000;
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'fill-rate.md');

type Variant = 'recipe' | StressMethod;
const VARIANTS: Variant[] = ['recipe', 'tmpfs', 'emptydir', 'anon'];

const UNPRIVILEGED = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];
// The kubelet's part for emptydir: a memory-backed volume the size of the limit, 0777.
const VOLUME = '"$1" -t tmpfs -o "size=$2,mode=1777" tmpfs "$3" || exit 99; shift 3; exec "$@"';

interface Tools {
  unshare: string;
  setpriv: string;
  mount: string;
}

interface RunSpec {
  variant: Variant;
  shell: ShellEnv;
  tools: Tools;
  limitBytes: number;
}

/** The seed's script, word for word apart from the directory. */
function recipeScript(dir: string): string {
  return [
    `mkdir -p ${dir}`,
    `mount -t tmpfs -o size=10240M tmpfs ${dir}`,
    `dd if=/dev/zero of=${dir}/block`,
    'sleep 60',
    `rm ${dir}/block`,
    `umount ${dir}`,
    `rmdir ${dir}`,
  ].join('\n');
}

function argvFor(spec: RunSpec, dir: string): string[] {
  const { variant, shell, tools, limitBytes } = spec;
  if (variant === 'recipe') return [tools.unshare, '-m', ...shell.shell, '-c', recipeScript(dir)];

  // The request layer's default --fill: twice the limit.
  const script = stressScript({ method: variant, fillBytes: 2 * limitBytes, dir });
  if (variant === 'tmpfs') return [tools.unshare, '-m', ...shell.shell, '-c', script];

  const command = [tools.setpriv, ...UNPRIVILEGED, ...shell.shell, '-c', script];
  if (variant === 'anon') return command;

  const volume = ['volume', tools.mount, String(limitBytes), dir];
  return [tools.unshare, '-m', '/bin/sh', '-c', VOLUME, ...volume, ...command];
}

/** Seconds from spawn to the kernel's OOM kill; throws when the run ends without one. */
async function timeToKill(spec: RunSpec): Promise<number> {
  const cgroup = await createMemoryCgroup({ limitBytes: spec.limitBytes });
  const parent = await mkdtemp(join(tmpdir(), 'oomtest-bench-'));
  await chmod(parent, 0o755);
  const dir = join(parent, 'fill');
  await mkdir(dir);

  try {
    const before = await cgroup.oomKills();
    const startedMs = performance.now();
    const run = cgroup.run({
      argv: argvFor(spec, dir),
      env: spec.shell.env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    let ended = false;
    void run.then(() => (ended = true));

    while ((await cgroup.oomKills()) === before) {
      if (ended) throw new Error(`${spec.variant} under ${spec.shell.name}: no OOM kill`);
      await sleep(1);
    }
    const seconds = (performance.now() - startedMs) / 1000;

    // The recipe would now sleep 60 s; the kill is all that is measured.
    await cgroup.killAll();
    await run;
    return seconds;
  } finally {
    await cgroup.destroy();
    await rm(parent, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Row {
  limitBytes: number;
  shell: string;
  variant: Variant;
  seconds: number[];
}

function tableRow(row: Row, rows: Row[]): string {
  const recipe = rows.find(
    (other) =>
      other.limitBytes === row.limitBytes &&
      other.shell === row.shell &&
      other.variant === 'recipe',
  );
  const mid = median(row.seconds);
  const speedUp = recipe === undefined ? '' : `${(median(recipe.seconds) / mid).toFixed(1)}×`;
  const range = `${Math.min(...row.seconds).toFixed(3)}–${Math.max(...row.seconds).toFixed(3)}`;
  const rate = (row.limitBytes / MIB / mid).toFixed(0);
  const cells = [`${row.limitBytes / MIB}Mi`, row.shell, row.variant, row.seconds.length];
  return `| ${[...cells, mid.toFixed(3), range, rate, speedUp].join(' | ')} |`;
}

function table(rows: Row[]): string {
  return [
    '| limit | shell | script | runs | median s to OOM kill | min–max s | MiB/s | vs recipe |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((row) => tableRow(row, rows)),
  ].join('\n');
}

function machine(version: 1 | 2): string {
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
  const memoryGiB = (totalmem() / 1024 ** 3).toFixed(1);
  return `${cpu}, ${memoryGiB} GiB, Linux ${release()}, cgroup v${version}`;
}

async function measure(shells: ShellEnv[], tools: Tools): Promise<Row[]> {
  const rows: Row[] = [];
  for (const limitBytes of LIMITS_MIB.map((mib) => mib * MIB)) {
    for (const shell of shells) {
      for (const variant of VARIANTS) {
        const seconds: number[] = [];
        const spec = { variant, shell, tools, limitBytes };
        for (let run = 0; run < RUNS; run += 1) seconds.push(await timeToKill(spec));
        rows.push({ limitBytes, shell: shell.name, variant, seconds });
      }
    }
  }

  return rows;
}

async function main(): Promise<void> {
  const probe = await probeMemoryCgroups();
  if (!probe.usable) throw new Error(`fill-rate needs a writable memory cgroup: ${probe.reason}`);
  const found = { unshare: which('unshare'), setpriv: which('setpriv'), mount: which('mount') };
  if (Object.values(found).includes(undefined)) {
    throw new Error('fill-rate needs unshare, setpriv and mount (util-linux)');
  }

  const shells = [dashEnv(), await busyboxEnv()].filter(
    (env): env is ShellEnv => env !== undefined,
  );
  let rows: Row[];
  try {
    rows = await measure(shells, found as Tools);
  } finally {
    await Promise.all(shells.map((shell) => shell.cleanup()));
  }

  const limits = LIMITS_MIB.map((mib) => `${mib}Mi`).join(' and ');
  const report = [
    '# Stress fill rate',
    '',
    `Run ${new Date().toISOString()} on ${machine(probe.version)}.`,
    `Memory cgroup limits ${limits} (no swap); the generated scripts fill twice the limit in ` +
      `their default chunks; ${RUNS} runs per row, a fresh cgroup each. Seconds run from ` +
      'spawn to the oom_kill counter moving (process start-up and mount included); ' +
      'MiB/s = limit / median seconds.',
    '',
    table(rows),
    '',
    'recipe: the seed script (dd with its default 512-byte blocks into a tmpfs), same shell, ' +
      'same limit. emptydir and anon run as uid 65534. A shell that is not installed is left out.',
    '',
  ].join('\n');

  console.log(report);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
