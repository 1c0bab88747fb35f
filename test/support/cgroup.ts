/**
 * Runs commands inside a real memory cgroup with a limit, so tests and benchmarks see the
 * kernel's own OOM killer: exit 137 and the cgroup's oom_kill counter.
 *
 * cgroup v1 (/sys/fs/cgroup/memory/<name>) and v2 (/sys/fs/cgroup/<name>) are both handled.
 * Needs root and a writable cgroup tree; `probeMemoryCgroups()` says why when it cannot.
 * Also builds the two shell environments images ship: dash + coreutils, busybox + applets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CGROUP_ROOT = '/sys/fs/cgroup';
const V1_MEMORY_ROOT = join(CGROUP_ROOT, 'memory');

export type CgroupVersion = 1 | 2;

export type CgroupProbe =
  { usable: true; version: CgroupVersion } | { usable: false; reason: string };

export interface RunOptions {
  /** The command; the first element is resolved on the caller's PATH. */
  argv: string[];
  /** The child's whole environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Kill everything in the cgroup after this long; default 30 s. */
  timeoutMs?: number;
  /**
   * Kill everything in the cgroup once stdout so far satisfies this (e.g. a `full` line).
   * May be async: the processes stay alive while it inspects them.
   */
  stopWhen?: (stdout: string) => boolean | Promise<boolean>;
  /**
   * How `stopWhen` stops the run: by default SIGKILL to everything in the cgroup; with a
   * signal, that signal to the command's own process only (as the kubelet stops a
   * container), and SIGKILL to whatever it leaves behind once it has exited.
   */
  stopSignal?: NodeJS.Signals;
}

export interface RunResult {
  /** The exit status as a shell or the kubelet reports it: the code, or 128 + signal number. */
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when `stopWhen` matched and the run was ended by the helper. */
  stopped: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface MemoryCgroup {
  version: CgroupVersion;
  path: string;
  limitBytes: number;
  /** The kernel's count of OOM kills in this cgroup (memory.oom_control / memory.events). */
  oomKills(): Promise<number>;
  /** Bytes charged to the cgroup now (memory.usage_in_bytes / memory.current). */
  usageBytes(): Promise<number>;
  /** The command names (comm) of the processes in the cgroup now. */
  commands(): Promise<string[]>;
  /** Runs argv with its process placed in this cgroup before exec. */
  run(options: RunOptions): Promise<RunResult>;
  /** SIGKILLs every process left in the cgroup and waits until it is empty. */
  killAll(): Promise<void>;
  /** killAll, then removes the cgroup. */
  destroy(): Promise<void>;
}

/** Whether memory cgroups can be created here, and which version; the reason when not. */
export async function probeMemoryCgroups(): Promise<CgroupProbe> {
  if (process.platform !== 'linux') return { usable: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { usable: false, reason: 'not running as root' };

  const version = cgroupVersion();
  if (version === undefined) {
    return { usable: false, reason: `no memory cgroup controller under ${CGROUP_ROOT}` };
  }

  try {
    const probe = await createMemoryCgroup({
      limitBytes: 64 * 1_048_576,
      name: uniqueName('probe'),
    });
    await probe.destroy();
    return { usable: true, version };
  } catch (error) {
    return { usable: false, reason: `cannot create a memory cgroup: ${(error as Error).message}` };
  }
}

function cgroupVersion(): CgroupVersion | undefined {
  if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return 2;
  if (existsSync(join(V1_MEMORY_ROOT, 'memory.limit_in_bytes'))) return 1;
  return undefined;
}

/** A name no parallel suite or earlier run uses. */
export function uniqueName(prefix: string): string {
  return `oomtest-${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates a child memory cgroup with `limitBytes` of memory and no swap to escape to. */
export async function createMemoryCgroup(options: {
  limitBytes: number;
  name?: string;
}): Promise<MemoryCgroup> {
  const version = cgroupVersion();
  if (version === undefined) throw new Error(`no memory cgroup controller under ${CGROUP_ROOT}`);

  const name = options.name ?? uniqueName('cg');
  const path = version === 1 ? join(V1_MEMORY_ROOT, name) : join(CGROUP_ROOT, name);
  if (version === 2) await enableV2MemoryController();
  await mkdir(path);

  const cgroup = makeCgroup(version, path, options.limitBytes);
  try {
    await setLimit(version, path, options.limitBytes);
  } catch (error) {
    await cgroup.destroy();
    throw error;
  }

  return cgroup;
}

async function enableV2MemoryController(): Promise<void> {
  const control = join(CGROUP_ROOT, 'cgroup.subtree_control');
  const enabled = await readFile(control, 'utf8');
  if (!enabled.split(/\s+/).includes('memory')) await writeFile(control, '+memory');
}

async function setLimit(version: CgroupVersion, path: string, limitBytes: number): Promise<void> {
  const limit = String(limitBytes);
  if (version === 2) {
    await writeFile(join(path, 'memory.max'), limit);
    // Swapping the fill out would let it grow past the limit without a kill.
    if (existsSync(join(path, 'memory.swap.max')))
      await writeFile(join(path, 'memory.swap.max'), '0');
    return;
  }

  await writeFile(join(path, 'memory.limit_in_bytes'), limit);
  // memsw counts memory + swap; equal to the limit means no swap (absent without swap accounting).
  const memsw = join(path, 'memory.memsw.limit_in_bytes');
  if (existsSync(memsw)) await writeFile(memsw, limit);
}

function makeCgroup(version: CgroupVersion, path: string, limitBytes: number): MemoryCgroup {
  const cgroup: MemoryCgroup = {
    version,
    path,
    limitBytes,
    oomKills: () => readOomKills(version, path),
    usageBytes: async () => {
      const file = version === 1 ? 'memory.usage_in_bytes' : 'memory.current';
      return Number((await readFile(join(path, file), 'utf8')).trim());
    },
    commands: async () => {
      const pids = await pidsOf(path);
      const names = await Promise.all(
        pids.map((pid) => readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')),
      );
      return names.map((name) => name.trim()).filter((name) => name !== '');
    },
    run: (options) => runInCgroup(cgroup, options),
    killAll: () => killAll(path),
    destroy: async () => {
      if (!existsSync(path)) return;
      await killAll(path);
      await removeDir(path);
    },
  };
  return cgroup;
}

async function readOomKills(version: CgroupVersion, path: string): Promise<number> {
  const file = version === 1 ? 'memory.oom_control' : 'memory.events';
  const text = await readFile(join(path, file), 'utf8');
  const match = /^oom_kill (\d+)$/m.exec(text);
  if (match?.[1] === undefined) throw new Error(`${file} has no oom_kill counter (kernel < 4.13?)`);

  return Number(match[1]);
}

async function pidsOf(path: string): Promise<number[]> {
  const text = await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

async function killAll(path: string): Promise<void> {
  // Processes may fork while being killed (a shell between two dd): repeat until empty.
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const pids = await pidsOf(path);
    if (pids.length === 0) return;

    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await sleep(50);
  }
  throw new Error(`processes left in ${path} after 5 s of SIGKILL`);
}

async function removeDir(path: string): Promise<void> {
  // rmdir fails with EBUSY for a moment after the last process exits.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await rmdir(path);
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await sleep(100);
    }
  }
}

// Enters the cgroup given as $1, then execs the rest: the command is charged from its start.
const ENTER_CGROUP = 'echo $$ >"$1" || exit 125; shift; exec "$@"';
const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGPIPE: 13 };

async function runInCgroup(cgroup: MemoryCgroup, options: RunOptions): Promise<RunResult> {
  const startedMs = performance.now();
  const procs = join(cgroup.path, 'cgroup.procs');
  const child = spawn(
    '/bin/sh',
    ['-c', ENTER_CGROUP, 'oomtest-enter-cgroup', procs, ...options.argv],
    {
      env: options.env ?? process.env,
      // The unprivileged users some runs switch to may not be able to enter our directory.
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );

  let stdout = '';
  let stderr = '';
  let stopped = false;
  let timedOut = false;
  const killAll = (): void => void cgroup.killAll().catch(() => undefined);
  const stop = (): void => {
    if (options.stopSignal === undefined) killAll();
    else child.kill(options.stopSignal);
  };
  // Background holders (sleep, tail) keep the pipes open after the command exits.
  child.on('exit', () => {
    if (stopped) killAll();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, options.timeoutMs ?? 30_000);

  let checking = false;
  const check = async (): Promise<void> => {
    if (stopped || checking || options.stopWhen === undefined) return;
    checking = true;
    const matched = await options.stopWhen(stdout);
    checking = false;
    if (!matched) return;

    stopped = true;
    stop();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    void check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  // 'close' waits for every holder of the pipes (background sleeps, tail) to exit too.
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    },
  );
  clearTimeout(timer);

  const status = code ?? 128 + (SIGNALS[signal ?? ''] ?? 0);
  return {
    status,
    code,
    signal,
    stdout,
    stderr,
    stopped,
    timedOut,
    durationMs: performance.now() - startedMs,
  };
}

/** How to run a POSIX sh script under one of the shells images ship. */
export interface ShellEnv {
  name: 'dash' | 'busybox';
  /** Prefix of argv: append `-c`, script (or a script file). */
  shell: string[];
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** Absolute path of a program on this process's PATH, or undefined. */
export function which(program: string): string | undefined {
  const found = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'which', program], {
    encoding: 'utf8',
  });
  const path = found.stdout.trim();
  return found.status === 0 && path.startsWith('/') ? path : undefined;
}

/** dash with the system's coreutils on PATH; undefined when dash is not installed. */
export function dashEnv(): ShellEnv | undefined {
  const dash = which('dash');
  if (dash === undefined) return undefined;

  return { name: 'dash', shell: [dash], env: { ...process.env }, cleanup: async () => undefined };
}

/**
 * busybox sh with a private directory of applet links first on PATH, so dd, mount, tail,
 * ... are busybox's as in a busybox image. Undefined when busybox is not installed.
 */
export async function busyboxEnv(): Promise<ShellEnv | undefined> {
  const busybox = which('busybox');
  if (busybox === undefined) return undefined;

  const dir = await mkdtemp(join(tmpdir(), 'oomtest-busybox-'));
  // Readable by the unprivileged user the restricted methods run as.
  await chmod(dir, 0o755);
  const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  const applets = list.stdout.split('\n').filter((name) => /^[a-z0-9_.-]+$/.test(name));
  await Promise.all(applets.map((applet) => symlink(busybox, join(dir, applet))));

  return {
    name: 'busybox',
    shell: [busybox, 'sh'],
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
