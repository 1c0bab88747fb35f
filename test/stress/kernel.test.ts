/**
 * The generated stress scripts against the real kernel: each method runs in a child memory
 * cgroup limited to 64Mi, under dash + coreutils and under busybox, the way a container
 * would run it. These are the only tests that show a real OOM kill.
 *
 * The privileged method runs as root inside `unshare -m`, so its tmpfs never leaks into this
 * machine's mounts; the restricted methods run as uid 65534 with no capabilities.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseStressLog, stressScript, type StressLog } from '../../src/stress/script.js';
import type { StressMethod } from '../../src/request/types.js';
import {
  busyboxEnv,
  createMemoryCgroup,
  dashEnv,
  probeMemoryCgroups,
  which,
  type MemoryCgroup,
  type RunOptions,
  type RunResult,
  type ShellEnv,
} from '../support/cgroup.js';

const MIB = 1_048_576;
const LIMIT_BYTES = 64 * MIB;
// Far above the limit and above 2^32, so both shells' 64-bit arithmetic is exercised; the
// kill comes at 64Mi, long before.
const FILL_BYTES = 5 * 1024 * MIB;
// 1 MiB steps give ~60 progress lines before the kill: enough to see the fill grow.
const CHUNK_BYTES = MIB;

const probe = await probeMemoryCgroups();
const unshare = which('unshare');
const setpriv = which('setpriv');
const mount = which('mount');
const missingTools = Object.entries({ unshare, setpriv, mount })
  .filter(([, path]) => path === undefined)
  .map(([name]) => name);
const skipReason = !probe.usable
  ? probe.reason
  : missingTools.length > 0
    ? `missing ${missingTools.join(', ')}`
    : undefined;
if (skipReason !== undefined) console.warn(`kernel stress tests skipped: ${skipReason}`);

const shells: Array<{ name: string; env: ShellEnv | undefined }> = [
  { name: 'dash + coreutils', env: dashEnv() },
  { name: 'busybox', env: await busyboxEnv() },
];
afterAll(async () => Promise.all(shells.map((shell) => shell.env?.cleanup())));

// What a restricted container is: an ordinary user with no capabilities at all.
const UNPRIVILEGED = [
  '--reuid=65534',
  '--regid=65534',
  '--clear-groups',
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
];

// Plays the kubelet for emptydir: a memory-backed volume (mount options $2) in a private
// mount namespace (util-linux mount given as $1, whatever PATH holds), then the
// container command `runs` times on the same volume, as container restarts would. Output
// between runs: `oomtest-test: run=N status=S`. The last run is exec'd, so signals reach it.
const VOLUME = [
  '"$1" -t tmpfs -o "$2" tmpfs "$3" || exit 99',
  'runs=$4; shift 4; run=1',
  'while [ "$run" -lt "$runs" ]; do',
  '  "$@"; echo "oomtest-test: run=$run status=$?"; run=$((run + 1))',
  'done',
  'exec "$@"',
].join('\n');

interface Scenario {
  shell: ShellEnv;
  cgroup: MemoryCgroup;
  dir: string;
}

interface MethodRun extends Omit<RunOptions, 'argv' | 'env'> {
  fillBytes?: number;
  /** tmpfs: run as root with CAP_SYS_ADMIN (the privileged pod); default true. */
  capSysAdmin?: boolean;
  /** emptydir: the size of the memory-backed volume; default the limit, as the kubelet sizes it. */
  volumeBytes?: number;
  /** emptydir: how many times the container command runs on the same volume; default 1. */
  runs?: number;
  /** emptydir: the volume's permissions; default 1777 (the kubelet makes it 0777). */
  volumeMode?: string;
}

/** Runs one method's script the way its pod would run it, inside the scenario's cgroup. */
function runMethod(scenario: Scenario, method: StressMethod, options: MethodRun = {}) {
  const { fillBytes = FILL_BYTES, capSysAdmin = true, runs = 1 } = options;
  const volume = `size=${options.volumeBytes ?? LIMIT_BYTES},mode=${options.volumeMode ?? '1777'}`;
  const text = stressScript({ method, fillBytes, dir: scenario.dir, chunkBytes: CHUNK_BYTES });
  const shell = [...scenario.shell.shell, '-c', text];

  return scenario.cgroup.run({
    ...options,
    argv: argvFor(method, shell, { capSysAdmin, volume, runs, dir: scenario.dir }),
    env: scenario.shell.env,
  });
}

function argvFor(
  method: StressMethod,
  shell: string[],
  options: { capSysAdmin: boolean; volume: string; runs: number; dir: string },
): string[] {
  if (method === 'tmpfs') {
    // A private mount namespace, so the tmpfs never shows up in this machine's mounts.
    const drop = options.capSysAdmin
      ? []
      : [setpriv!, '--inh-caps=-sys_admin', '--bounding-set=-sys_admin'];
    return [unshare!, '-m', ...drop, ...shell];
  }

  const unprivileged = [setpriv!, ...UNPRIVILEGED, ...shell];
  if (method === 'anon') return unprivileged;

  const volume = [mount!, options.volume, options.dir, String(options.runs)];
  return [unshare!, '-m', '/bin/sh', '-c', VOLUME, 'oomtest-volume', ...volume, ...unprivileged];
}

function filledBytes(stdout: string): number[] {
  return [...stdout.matchAll(/^oomtest: filled bytes=(\d+) elapsed_ms=\d+$/gm)].map((m) =>
    Number(m[1]),
  );
}

function elapsedMs(stdout: string): number[] {
  return [...stdout.matchAll(/^oomtest: filled bytes=\d+ elapsed_ms=(\d+)$/gm)].map((m) =>
    Number(m[1]),
  );
}

function describeRun(result: RunResult): string {
  return `status ${result.status}, stdout:\n${result.stdout.slice(-2000)}\nstderr:\n${result.stderr.slice(-1000)}`;
}

/** Fails with the run's output, which says why far better than the two numbers. */
function expectStatus(result: RunResult, status: number): void {
  if (result.status !== status)
    throw new Error(`expected status ${status}: ${describeRun(result)}`);
}

/** A real OOM kill at the limit, reported the way a container runtime would see it. */
async function expectKilledAtLimit(
  scenario: Scenario,
  run: () => Promise<RunResult>,
  method: StressMethod,
): Promise<StressLog> {
  const oomKillsBefore = await scenario.cgroup.oomKills();
  const result = await run();
  const oomKillsAfter = await scenario.cgroup.oomKills();

  expectStatus(result, 137);
  expect(oomKillsAfter).toBeGreaterThan(oomKillsBefore);
  // The fill itself never reaches the log: only protocol lines do.
  expect(result.stdout.length).toBeLessThan(64 * 1024);

  const log = parseStressLog(result.stdout);
  expect(log).toMatchObject({ method, full: false });
  expect(log.error).toBeUndefined();
  expect(log.filledBytes).toBeGreaterThanOrEqual(LIMIT_BYTES / 2);
  expect(log.filledBytes).toBeLessThanOrEqual(LIMIT_BYTES + CHUNK_BYTES);

  const steps = filledBytes(result.stdout);
  expect(steps.length).toBeGreaterThanOrEqual(16);
  steps.slice(1).forEach((bytes, index) => expect(bytes).toBeGreaterThan(steps[index]!));
  const times = elapsedMs(result.stdout);
  times.slice(1).forEach((ms, index) => expect(ms).toBeGreaterThanOrEqual(times[index]!));
  return log;
}

/** After `full`, the script must still be running and still hold the memory. */
function holdsAfterFull(scenario: Scenario, seen: { usage: number; commands: string[] }) {
  return async (stdout: string): Promise<boolean> => {
    if (!/^oomtest: full /m.test(stdout)) return false;

    // The hold's `sleep` is forked right after the line is printed.
    for (let attempt = 0; attempt < 100 && !seen.commands.includes('sleep'); attempt += 1) {
      seen.commands = await scenario.cgroup.commands();
      await sleep(20);
    }
    seen.usage = await scenario.cgroup.usageBytes();
    return true;
  };
}

const describeKernel = skipReason === undefined ? describe : describe.skip;

describeKernel(`stress scripts in a real memory cgroup (limit 64Mi)`, () => {
  describe.each(shells)('under $name', ({ name, env }) => {
    const scenario = {} as Scenario;

    beforeEach(async () => {
      if (env === undefined) throw new Error(`${name} is not installed (apt-get install busybox)`);
      scenario.shell = env;
      scenario.cgroup = await createMemoryCgroup({ limitBytes: LIMIT_BYTES });
      const parent = await mkdtemp(join(tmpdir(), 'oomtest-stress-'));
      // The unprivileged user must reach the volume, as it can a pod's emptyDir.
      await chmod(parent, 0o755);
      scenario.dir = join(parent, 'fill');
      // The mount point of the tmpfs and of the simulated emptyDir volume.
      await mkdir(scenario.dir);
    });

    afterEach(async () => {
      await scenario.cgroup?.destroy();
      if (scenario.dir !== undefined)
        await rm(join(scenario.dir, '..'), { recursive: true, force: true });
    });

    it('runs the applets of that environment', async () => {
      const result = await scenario.cgroup.run({
        argv: [...scenario.shell.shell, '-c', 'command -v dd; dd --version 2>&1 | head -n 1; true'],
        env: scenario.shell.env,
      });

      const ddPath = result.stdout.split('\n')[0] ?? '';
      if (name === 'busybox') expect(ddPath).toMatch(/oomtest-busybox-[^/]+\/dd$/);
      else expect(result.stdout).toMatch(/coreutils/);
    });

    it('tmpfs as privileged root: the kernel OOM-kills the fill (exit 137, oom_kill counted)', async () => {
      await expectKilledAtLimit(scenario, () => runMethod(scenario, 'tmpfs'), 'tmpfs');
    });

    it('tmpfs without CAP_SYS_ADMIN: says mount-denied and exits 32, filling nothing', async () => {
      const oomKillsBefore = await scenario.cgroup.oomKills();
      const result = await runMethod(scenario, 'tmpfs', { capSysAdmin: false });

      expectStatus(result, 32);
      expect(await scenario.cgroup.oomKills()).toBe(oomKillsBefore);
      const log = parseStressLog(result.stdout);
      expect(log.error?.reason).toBe('mount-denied');
      expect(log.error?.detail).toMatch(/permission denied/i);
      expect(log.filledBytes).toBeUndefined();
    });

    it('anon as an unprivileged user: the kernel OOM-kills the fill (exit 137)', async () => {
      await expectKilledAtLimit(scenario, () => runMethod(scenario, 'anon'), 'anon');
    });

    it('emptydir as an unprivileged user: the kernel OOM-kills the fill (exit 137)', async () => {
      const run = () => runMethod(scenario, 'emptydir');
      await expectKilledAtLimit(scenario, run, 'emptydir');
    });

    it('emptydir after a kill: the restarted script removes the old file and fills again', async () => {
      const result = await runMethod(scenario, 'emptydir', { runs: 2 });

      const [first, second] = result.stdout
        .split(/^oomtest-test: run=1 status=(\d+)$/m)
        .filter((_, i) => i !== 1);
      expect(result.stdout).toMatch(/^oomtest-test: run=1 status=137$/m);
      expect(result.status).toBe(137);
      // Without the clean-up the second run would start at the limit and die at once.
      expect(parseStressLog(first ?? '').filledBytes).toBeGreaterThanOrEqual(LIMIT_BYTES / 2);
      expect(parseStressLog(second ?? '').filledBytes).toBeGreaterThanOrEqual(LIMIT_BYTES / 2);
    });

    it('emptydir on a volume smaller than the limit: anonymous memory pushes past it', async () => {
      const volumeBytes = 32 * MIB;
      const run = () => runMethod(scenario, 'emptydir', { volumeBytes });
      const log = await expectKilledAtLimit(scenario, run, 'emptydir');

      expect(log.volumeFullBytes).toBe(volumeBytes);
      expect(log.filledBytes).toBeGreaterThan(volumeBytes);
    });

    it('emptydir on a volume the user cannot write: says write-failed and exits 32', async () => {
      const result = await runMethod(scenario, 'emptydir', { volumeMode: '0755' });

      expectStatus(result, 32);
      const log = parseStressLog(result.stdout);
      expect(log.error?.reason).toBe('write-failed');
      expect(log.error?.detail).toMatch(/permission denied/i);
      expect(log.volumeFullBytes).toBeUndefined();
    });

    it.each(['tmpfs', 'emptydir', 'anon'] as const)(
      '%s with a fill below the limit: prints full and holds the memory until stopped',
      async (method) => {
        const fillBytes = 16 * MIB;
        const seen = { usage: 0, commands: [] as string[] };
        const stopWhen = holdsAfterFull(scenario, seen);
        const result = await runMethod(scenario, method, { fillBytes, stopWhen });

        if (!result.stopped) throw new Error(`not stopped by the helper: ${describeRun(result)}`);
        expect(seen.commands).toContain('sleep');
        expect(seen.usage).toBeGreaterThanOrEqual(fillBytes);
        expect(parseStressLog(result.stdout)).toMatchObject({ full: true, filledBytes: fillBytes });
      },
    );

    it.each(['tmpfs', 'emptydir', 'anon'] as const)(
      '%s holding its fill: exits 143 by itself on SIGTERM, as when the kubelet stops it',
      async (method) => {
        const full = (stdout: string): boolean => /^oomtest: full /m.test(stdout);
        const result = await runMethod(scenario, method, {
          fillBytes: 16 * MIB,
          stopWhen: full,
          stopSignal: 'SIGTERM',
          // As PID 1 an untrapped SIGTERM would be ignored; here it would kill the shell
          // (signal, no code). Only the script's own trap exits with code 143.
          timeoutMs: 10_000,
        });

        expect(result.timedOut).toBe(false);
        expect({ code: result.code, signal: result.signal }).toEqual({ code: 143, signal: null });
      },
    );
  });
});

if (skipReason !== undefined) {
  describe('stress scripts in a real memory cgroup', () => {
    it.skip(`skipped: ${skipReason}`, () => undefined);
  });
}
