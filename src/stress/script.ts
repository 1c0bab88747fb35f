/**
 * The stress script: a POSIX sh program that fills memory until the kernel OOM-kills it.
 *
 * It is the container's own command, so every kubelet restart runs it again and re-applies
 * the pressure. It must run under dash + coreutils and under busybox sh + applets, because
 * images ship either; it uses only sh, dd, mount, mkdir, rm, tail, head, tr and sleep.
 *
 * Progress protocol on standard output, one line each (parsed by `parseStressLog`):
 *
 *     oomtest: start method=tmpfs fill_bytes=419430400
 *     oomtest: filled bytes=16777216 elapsed_ms=40          repeated as the fill grows
 *     oomtest: volume-full bytes=209715200 elapsed_ms=500   emptydir only: the volume is
 *                                                           full, anonymous memory follows
 *     oomtest: full bytes=419430400 elapsed_ms=900          everything filled, no kill
 *     oomtest: error reason=mount-denied detail="..."       then exit 32
 *
 * Error reasons: mount-denied (no CAP_SYS_ADMIN: the pod is not privileged), mount-failed,
 * mkdir-failed, write-failed (tmpfs, emptydir), no-volume and cleanup-failed (emptydir),
 * fill-failed (anon). The detail is the tool's own first line, quotes and backslashes
 * replaced.
 *
 * Exit status: 137 when the filler was SIGKILLed (the OOM killer), 32 after an error line,
 * 143 on SIGTERM. After `full` the script holds the memory until it is stopped.
 */
import { InvalidRequestError } from '../errors.js';
import { STRESS_METHODS, type StressMethod } from '../request/types.js';

const MIB = 1_048_576;

/** Where the tmpfs is mounted (tmpfs) or the emptyDir volume is mounted (emptydir). */
export const DEFAULT_STRESS_DIR = '/oomtest';

/** Exit status after an `oomtest: error` line: the fill could not even start. */
export const EXIT_SETUP_FAILED = 32;

/** Exit status when the filler was killed by SIGKILL (128 + 9), as the kernel does on OOM. */
export const EXIT_OOM_KILLED = 137;

// Progress is printed once per chunk; about 64 lines per fill keeps `kubectl logs` short
// while still showing, to within ~1.5% of the fill, how far it got before the kill.
const TARGET_PROGRESS_LINES = 64;
// Caps a chunk of a huge fill at ~30 ms of writing (the tmpfs path runs at ~2 GiB/s), so
// progress keeps coming and a kill mid-chunk hides at most 64 MiB.
const MAX_CHUNK_BYTES = 64 * MIB;

// Absolute, and only characters that need no quoting in sh, a mount table or a log line.
const SAFE_DIR = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;

export interface StressScriptOptions {
  method: StressMethod;
  /** Bytes to fill; the drill sets it above the memory limit so the kernel must step in. */
  fillBytes: number;
  /** Mount point of the tmpfs or emptyDir; default DEFAULT_STRESS_DIR. Unused by anon. */
  dir?: string;
  /** Bytes written between progress lines, a whole number of MiB; default defaultChunkBytes. */
  chunkBytes?: number;
}

/** Bytes per progress step for a fill: fill/64 rounded up to whole MiB, 1..64 MiB. */
export function defaultChunkBytes(fillBytes: number): number {
  const mib = Math.ceil(fillBytes / TARGET_PROGRESS_LINES / MIB);
  return Math.min(Math.max(mib, 1) * MIB, MAX_CHUNK_BYTES);
}

/** Builds the POSIX sh stress script for one method; throws InvalidRequestError on bad options. */
export function stressScript(options: StressScriptOptions): string {
  const settings = validate(options);
  const method = METHOD_SCRIPTS[settings.method];

  const lines = [
    ...header(settings),
    ...helpers(),
    ...method.fillers.flatMap((filler) => filler()),
    ...start(settings),
    ...method.body(settings),
  ];
  return lines.join('\n') + '\n';
}

interface Settings {
  method: StressMethod;
  fillBytes: number;
  dir: string;
  chunkMib: number;
}

function validate(options: StressScriptOptions): Settings {
  const { method, fillBytes } = options;
  if (!STRESS_METHODS.includes(method)) {
    throw new InvalidRequestError(`unknown stress method "${String(method)}"`);
  }
  if (!Number.isSafeInteger(fillBytes) || fillBytes <= 0) {
    throw new InvalidRequestError(
      `fill must be a whole, positive number of bytes, got ${fillBytes}`,
    );
  }

  const dir = options.dir ?? DEFAULT_STRESS_DIR;
  if (!SAFE_DIR.test(dir) || dir.split('/').includes('..')) {
    throw new InvalidRequestError(
      `stress directory "${dir}" must be an absolute path of [A-Za-z0-9._-]`,
    );
  }

  const chunkBytes = options.chunkBytes ?? defaultChunkBytes(fillBytes);
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes % MIB !== 0) {
    throw new InvalidRequestError(
      `chunk must be a whole, positive number of MiB, got ${chunkBytes} bytes`,
    );
  }

  return { method, fillBytes, dir, chunkMib: chunkBytes / MIB };
}

/** The settings as sh variables; the file is the one the file methods fill and remove. */
function header(settings: Settings): string[] {
  return [
    `# oomtest stress: method=${settings.method}; progress lines start with "oomtest: ".`,
    `fill_bytes=${settings.fillBytes}`,
    `chunk_mib=${settings.chunkMib}`,
    `dir='${settings.dir}'`,
    'file="$dir/oomtest.fill"',
    'filled=0',
    "trap 'exit 143' TERM INT",
  ];
}

/**
 * Helpers every method uses. Notes on the less obvious lines:
 * - /proc/uptime has two decimals ("12345.67"); prefixing the fraction with 1 and
 *   subtracting 100 avoids sh reading "08" as a bad octal number. No `date +%N`: GNU only.
 * - An error line also goes to the kubelet's termination-log file when it exists, so the
 *   reason shows in the pod's status (`lastState.terminated.message`) without reading logs.
 * - `sleep & wait` so a SIGTERM trap runs at once instead of after the sleep.
 * - The last chunk is shortened so the fill ends within one MiB of fill_bytes.
 */
function helpers(): string[] {
  return [
    'clock() {',
    '  read -r up rest 2>/dev/null </proc/uptime || up=0.00',
    '  now_ms=$(( ${up%.*} * 1000 + (1${up#*.} - 100) * 10 ))',
    '}',
    'report() {',
    '  clock',
    `  printf 'oomtest: %s bytes=%s elapsed_ms=%s\\n' "$1" "$filled" "$((now_ms - start_ms))"`,
    '}',
    'fail() {',
    `  detail=$(printf '%s\\n' "$2" | head -n 1 | tr '"\\\\' "''")`,
    `  line="oomtest: error reason=$1 detail=\\"$detail\\""`,
    `  printf '%s\\n' "$line"`,
    '  [ ! -w /dev/termination-log ] || printf \'%s\\n\' "$line" >/dev/termination-log',
    `  exit ${EXIT_SETUP_FAILED}`,
    '}',
    'hold() { while :; do sleep 3600 & wait $!; done; }',
    'next_chunk() {',
    `  left=$(( (fill_bytes - filled + ${MIB - 1}) / ${MIB} ))`,
    '  [ "$left" -le "$chunk_mib" ] || left=$chunk_mib',
    '}',
  ];
}

/**
 * Appends chunks to $file. dd's status above 128 means a signal killed it: pass it on (137
 * for the OOM killer). Any other failure (ENOSPC) returns 1 with dd's words in $out.
 */
function fileFiller(): string[] {
  return [
    'fill_file() {',
    '  while [ "$filled" -lt "$fill_bytes" ]; do',
    '    next_chunk',
    `    out=$(dd if=/dev/zero bs=${MIB} count="$left" 2>&1 >>"$file")`,
    '    rc=$?',
    '    [ "$rc" -le 128 ] || exit "$rc"',
    '    [ "$rc" -eq 0 ] || return 1',
    `    filled=$((filled + left * ${MIB}))`,
    '    report filled',
    '  done',
    '}',
  ];
}

function start(settings: Settings): string[] {
  return [
    'clock',
    'start_ms=$now_ms',
    `printf 'oomtest: start method=%s fill_bytes=%s\\n' ${settings.method} "$fill_bytes"`,
  ];
}

/**
 * Anonymous memory without privilege: `tail -n 1` of a stream that never has a newline
 * must keep the whole stream in its own heap (GNU and busybox alike), so it grows by one
 * chunk per dd and the OOM killer picks it. Its output, the whole "line", goes to
 * /dev/null: gigabytes of zeros never reach the log. Progress goes to fd 3 (stdout)
 * because the producer's stdout is the pipe. After `full` the producer keeps the pipe open,
 * so tail never sees end of input and keeps holding the memory. The pipeline runs in the
 * background so that `wait` (tail's status: 137 when killed) lets a SIGTERM trap run at once.
 */
function anonFiller(): string[] {
  return [
    'fill_anon() {',
    '  exec 3>&1',
    '  {',
    '    while [ "$filled" -lt "$fill_bytes" ]; do',
    '      next_chunk',
    `      dd if=/dev/zero bs=${MIB} count="$left" 2>/dev/null || exit 1`,
    `      filled=$((filled + left * ${MIB}))`,
    '      report filled >&3',
    '    done',
    '    report full >&3',
    '    hold',
    '  } | tail -n 1 >/dev/null &',
    '  wait $!',
    '  rc=$?',
    '  [ "$rc" -le 128 ] || exit "$rc"',
    '  fail fill-failed "tail ended (status $rc) before the memory was filled"',
    '}',
  ];
}

interface MethodScript {
  /** The fill functions the body calls; the others are left out to keep the script short. */
  fillers: Array<() => string[]>;
  body: (settings: Settings) => string[];
}

const METHOD_SCRIPTS: Record<StressMethod, MethodScript> = {
  tmpfs: { fillers: [fileFiller], body: tmpfsBody },
  emptydir: { fillers: [fileFiller, anonFiller], body: emptyDirBody },
  anon: { fillers: [anonFiller], body: () => ['fill_anon'] },
};

/**
 * The recipe's method: a tmpfs sized to the fill (rounded up to the chunk's MiB, so the
 * last dd fits). Its pages stay charged to the container until the file is removed, so
 * killing dd frees nothing and the kernel cannot recover without a kill.
 * Without CAP_SYS_ADMIN mount fails: say so in one line and exit 32, never fill nothing.
 */
function tmpfsBody(settings: Settings): string[] {
  const sizeBytes = Math.ceil(settings.fillBytes / MIB) * MIB;
  return [
    'out=$(mkdir -p "$dir" 2>&1) || fail mkdir-failed "$out"',
    `out=$(mount -t tmpfs -o size=${sizeBytes} tmpfs "$dir" 2>&1) || {`,
    '  case "$out" in',
    '    *ermission*|*ermitted*|*denied*|*"are you root"*|*"only root"*|*superuser*)',
    '      fail mount-denied "$out" ;;',
    '    *) fail mount-failed "$out" ;;',
    '  esac',
    '}',
    'fill_file || fail write-failed "$out"',
    'report full',
    'hold',
  ];
}

/**
 * A memory-backed emptyDir mounted at $dir. It outlives container restarts, so the file of
 * an earlier run is removed first: otherwise a restarted container starts at its limit.
 * The kubelet sizes the volume min(sizeLimit, pod memory limit), so dd may stop with
 * ENOSPC before the kernel kills it: anonymous memory then pushes past the limit. Any
 * other write error (the volume not writable by this user) is reported, not papered over.
 */
function emptyDirBody(): string[] {
  return [
    '[ -d "$dir" ] || fail no-volume "$dir is not a directory: the emptyDir volume is missing"',
    'out=$(rm -f "$file" 2>&1) || fail cleanup-failed "$out"',
    'if ! fill_file; then',
    '  case "$out" in',
    '    *"No space"*) report volume-full; fill_anon ;;',
    '    *) fail write-failed "$out" ;;',
    '  esac',
    'fi',
    'report full',
    'hold',
  ];
}

/** What a stress run's log says about how far it got; see the protocol at the top. */
export interface StressLog {
  /** Bytes filled at the last progress line (at least this much was charged). */
  filledBytes?: number;
  /** Milliseconds from the script's start to the last progress line. */
  elapsedMs?: number;
  /** True when everything was filled and no kill came. */
  full: boolean;
  error?: { reason: string; detail: string };
  method?: string;
  /** emptydir: bytes in the volume when it ran out of space and anonymous memory took over. */
  volumeFullBytes?: number;
}

// `oomtest: <kind> key=value key="quoted value"`, anywhere after a timestamp or other prefix.
const LINE = /(?:^|\s)oomtest: ([a-z-]+)(.*)$/;
const FIELD = /([a-z_]+)=(?:"([^"]*)"|(\S*))/g;

/**
 * Reads a stress run's output (e.g. `kubectl logs --previous`, with or without
 * `--timestamps`). Lines that are not part of the protocol are ignored. A `start` line
 * begins a new run, so concatenated logs describe the last run only.
 */
export function parseStressLog(text: string): StressLog {
  let log: StressLog = { full: false };
  for (const line of text.split('\n')) {
    const match = LINE.exec(line.trimEnd());
    if (match === null) continue;

    log = applyLine(log, match[1] ?? '', fieldsOf(match[2] ?? ''));
  }

  return log;
}

function fieldsOf(rest: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of rest.matchAll(FIELD)) {
    fields.set(match[1] ?? '', match[2] ?? match[3] ?? '');
  }

  return fields;
}

function applyLine(log: StressLog, kind: string, fields: Map<string, string>): StressLog {
  switch (kind) {
    case 'start':
      return { full: false, method: fields.get('method') };
    case 'filled':
      return { ...log, ...progressOf(fields) };
    case 'volume-full':
      return { ...log, ...progressOf(fields), volumeFullBytes: wholeNumber(fields.get('bytes')) };
    case 'full':
      return { ...log, ...progressOf(fields), full: true };
    case 'error':
      return {
        ...log,
        error: { reason: fields.get('reason') ?? '', detail: fields.get('detail') ?? '' },
      };
    default:
      return log;
  }
}

function progressOf(fields: Map<string, string>): Pick<StressLog, 'filledBytes' | 'elapsedMs'> {
  return {
    filledBytes: wholeNumber(fields.get('bytes')),
    elapsedMs: wholeNumber(fields.get('elapsed_ms')),
  };
}

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
