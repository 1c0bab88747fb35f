/**
 * The plain-words verdict on top of a drill's summary, and the failure message for each
 * way a drill can end badly. Pure: everything comes from the machine, the request and the
 * stress script's log.
 */
import type { ErrorCode } from '../errors.js';
import { formatSeconds } from '../duration.js';
import { formatBytesApprox } from '../quantity.js';
import type { DrillRequest } from '../request/types.js';
import type { StressLog } from '../stress/index.js';
import { ENDING_CODES, type Ending } from './machine.js';
import type { DrillStatus, KillRecord } from './types.js';

/** What the verdict is built from. */
export interface VerdictInput {
  request: DrillRequest;
  ending: Ending;
  kills: KillRecord[];
  /** Back-off before the restart after kill n (index n - 1); undefined: restarted at once. */
  backoffsSeconds: (number | undefined)[];
  /** The stress log of the instance that matters (the last killed, or the failed one). */
  log?: StressLog;
  /** Its raw text (tail), to quote a line when the protocol says nothing. */
  logText?: string;
  /** What the pod was last waiting for, to explain a timeout. */
  lastWaiting?: string;
  everStarted: boolean;
}

export interface Verdict {
  status: DrillStatus;
  verdict: string;
  failure?: { code: ErrorCode; message: string };
}

/** The outcome's status, verdict line and failure (code and message) for how it ended. */
export function verdictOf(input: VerdictInput): Verdict {
  const { ending } = input;
  if (ending.kind === 'done') return { status: 'done', verdict: successLine(input) };

  const failure = failureOf(input, ending);
  const status: DrillStatus =
    ending.kind === 'stopped'
      ? 'stopped'
      : failure.code === 'drill.timeout'
        ? 'timedout'
        : 'failed';
  const prefix = status === 'stopped' ? 'Stopped' : status === 'timedout' ? 'Timed out' : 'Failed';
  return { status, verdict: `${prefix}: ${failure.message}`, failure };
}

/**
 * "OOMKilled 2 times as expected (exit 137: ...); killed at ~198Mi of 200Mi after 0.4 s;
 * restarted after 10 s and 20 s back-off".
 */
function successLine(input: VerdictInput): string {
  const { kills, request } = input;
  const times = kills.length === 1 ? 'once' : `${kills.length} times`;
  const expected = kills.length === request.kills ? ' as expected' : `, ${request.kills} asked for`;
  const parts = [`OOMKilled ${times}${expected}${exitWords(kills)}`];

  const fill = fillWords(kills, request.memoryLimit);
  if (fill !== undefined) parts.push(fill);
  parts.push(restartWords(input.backoffsSeconds, kills.length));
  const inferred = kills.filter((kill) => kill.inferred).length;
  if (inferred > 0) {
    parts.push(
      `${inferred} of the kills inferred from the restart count (their status was never seen)`,
    );
  }
  return parts.join('; ');
}

/** Names exit 137 and exit 0 in plain words: they mean different kernels/kubelets. */
export function exitWords(kills: KillRecord[]): string {
  const codes = [...new Set(kills.filter((kill) => !kill.inferred).map((kill) => kill.exitCode))];
  if (codes.length === 0) return '';
  if (codes.length > 1) return ` (exit codes ${codes.map(String).join(', ')})`;

  const [code] = codes;
  if (code === 137) {
    return ' (exit 137: the kernel killed the whole container, as cgroup v2 group kill does)';
  }
  if (code === 0) {
    return (
      ' (exit 0: the kernel killed a child process and the container\u2019s main process ' +
      'survived and exited, as on cgroup v1 or with the kubelet\u2019s singleProcessOOMKill)'
    );
  }
  return ` (exit ${code})`;
}

function fillWords(kills: KillRecord[], limit: string): string | undefined {
  const measured = [...kills].reverse().find((kill) => kill.filledBytes !== undefined);
  if (measured?.filledBytes === undefined) return undefined;

  const amount = `killed at ${formatBytesApprox(measured.filledBytes)} of ${limit}`;
  if (measured.fillMs === undefined) return amount;
  return `${amount} after ${formatFillSeconds(measured.fillMs)}`;
}

/** "restarted after 10 s and 20 s back-off", "restarted at once, then after 10 s back-off". */
export function restartWords(backoffsSeconds: (number | undefined)[], kills: number): string {
  const waits = Array.from({ length: kills }, (_, index) => backoffsSeconds[index]);
  if (waits.every((wait) => wait !== undefined)) {
    return `restarted after ${joinAnd(waits.map((wait) => `${wait} s`))} back-off`;
  }
  const words = waits.map((wait) => (wait === undefined ? 'at once' : `after ${wait} s back-off`));
  return `restarted ${words.join(', then ')}`;
}

function failureOf(input: VerdictInput, ending: Exclude<Ending, { kind: 'done' }>) {
  const message = failureMessage(input, ending);
  const code = isMountDenied(input, ending) ? 'drill.mount-denied' : ENDING_CODES[ending.kind];
  return { code, message };
}

function failureMessage(input: VerdictInput, ending: Exclude<Ending, { kind: 'done' }>): string {
  const progress = killsSoFar(input);
  switch (ending.kind) {
    case 'stopped':
      return `stopped on request ${progress}`;
    case 'timeout':
      return timeoutMessage(input);
    case 'deleted':
      return `the pod was deleted by someone else ${progress}`;
    case 'evicted':
      return `the kubelet evicted the pod ${progress}: ${ending.message || 'no reason given'}`;
    case 'deadline':
      return deadlineMessage(input, progress);
    case 'image-pull':
      return imagePullMessage(ending);
    case 'container-config':
      return (
        `the kubelet could not create the stress container (${ending.reason}): ` +
        `${ending.message}`
      );
    case 'container-exit':
      return exitMessage(input, ending);
    case 'pod-failed':
      return `the pod ${ending.reason}${ending.message ? `: ${ending.message}` : ''} ${progress}`;
  }
}

function imagePullMessage(ending: Extract<Ending, { kind: 'image-pull' }>): string {
  const image = ending.image === undefined ? 'the stress image' : `image "${ending.image}"`;
  const detail = ending.message ? `: ${ending.message}` : '';
  return (
    `${image} could not be pulled (${ending.reason})${detail}. ` +
    'Check the name and tag, or pass another with --image (it needs a POSIX sh, dd and mount).'
  );
}

function exitMessage(input: VerdictInput, ending: Extract<Ending, { kind: 'container-exit' }>) {
  if (isMountDenied(input, ending)) {
    const detail = input.log?.error?.detail || 'mount: permission denied';
    return (
      `the tmpfs method could not mount its tmpfs (${detail}): it needs a privileged ` +
      'container. Use --method emptydir or --method anon, which need no privilege.'
    );
  }

  const exit = `exited with code ${ending.exitCode ?? 'unknown'} (${ending.reason})`;
  const error = input.log?.error;
  if (error !== undefined) {
    return (
      `the stress script failed (${error.reason}: ${error.detail}) ` +
      `and ${exit} ${killsSoFar(input)}`
    );
  }
  if (input.log?.full) {
    return (
      `the stress script filled ${input.request.fill} without being OOM-killed and ${exit}: ` +
      `the ${input.request.memoryLimit} limit was not enforced`
    );
  }
  const last = lastLine(input.logText);
  const logEnd = last ? `; its log ends: ${last}` : '';
  return `the stress container ${exit} ${killsSoFar(input)}${logEnd}`;
}

/** Timeout: tell "no kill at all" apart from "k of N kills", and say how far the fill got. */
function timeoutMessage(input: VerdictInput): string {
  const limit = `--timeout ${formatSeconds(input.request.timeoutSeconds)}`;
  if (input.kills.length > 0) {
    return (
      `only ${input.kills.length} of ${input.request.kills} OOM kills within ${limit} ` +
      '(time in kubelet back-off not counted)'
    );
  }
  return `no OOM kill ${input.log?.full ? 'at all ' : ''}within ${limit}; ${fillProgress(input)}`;
}

/**
 * The pod's activeDeadlineSeconds (the net for a lost worker) ran out first; it covers the
 * timeout plus every back-off, so this means the kubelet was slower than it promises.
 */
function deadlineMessage(input: VerdictInput, progress: string): string {
  const net = "the pod's activeDeadlineSeconds safety net ran out";
  if (input.kills.length > 0) return `${net} ${progress}`;
  return `no OOM kill before ${net}; ${fillProgress(input)}`;
}

/** How far a container that was never killed got. */
function fillProgress(input: VerdictInput): string {
  const { fill, memoryLimit } = input.request;
  if (!input.everStarted) {
    return `the container never started (${input.lastWaiting ?? 'no status'})`;
  }
  if (input.log?.full) {
    return (
      `the script filled ${fill} without being killed ` +
      `(is the ${memoryLimit} limit enforced on this node?)`
    );
  }
  if (input.log?.filledBytes !== undefined) {
    const filled = formatBytesApprox(input.log.filledBytes);
    return `the script had filled ${filled} of ${fill} and was still going`;
  }
  return 'the script reported no progress';
}

function isMountDenied(input: VerdictInput, ending: Ending): boolean {
  if (ending.kind !== 'container-exit') return false;
  if (input.log?.error?.reason === 'mount-denied') return true;
  return /mount: permission denied/i.test(input.logText ?? '');
}

function killsSoFar(input: VerdictInput): string {
  return `after ${input.kills.length} of ${input.request.kills} OOM kills`;
}

function formatFillSeconds(ms: number): string {
  // Tenths below 10 s ("0.4 s"), whole seconds above: the fill rate is what matters.
  return ms < 10_000 ? `${(ms / 1_000).toFixed(1)} s` : `${Math.round(ms / 1_000)} s`;
}

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function lastLine(text: string | undefined): string | undefined {
  const lines = (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.at(-1);
}
