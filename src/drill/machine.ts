/**
 * One drill as a state machine over the pod objects the watch delivers. Deterministic and
 * free of I/O: it reads pod status, counts OOM kills and says which phase the drill is in
 * and whether (and why) it ended. The runner (run.ts) feeds it and acts on what it says.
 *
 * What the kubelet shows, in order, for each death of the stress container:
 *   1. state.terminated (reason OOMKilled), restartCount = the dead instance's number;
 *   2. state.waiting CrashLoopBackOff "back-off 10s restarting failed container=C pod=P_NS(UID)",
 *      lastState.terminated = the dead instance, restartCount unchanged;
 *   3. state.running, lastState.terminated = the dead instance, restartCount + 1.
 * Any of these may be missed (coalesced updates, a dropped watch, a re-adopted pod), so a
 * termination is identified by (pod uid, container, instance, finishedAt) wherever it shows,
 * and counted once. A restartCount that jumps past instances never seen terminated, while
 * the last one seen was OOMKilled, counts those as kills too, marked `inferred`.
 *
 * OOM kills are read from status only: Kubernetes emits no OOMKilled event.
 */
import type { ErrorCode } from '../errors.js';
import type { PodJson } from '../kube/index.js';
import type { DrillPhase, KillRecord } from './types.js';

type ContainerStatus = NonNullable<NonNullable<PodJson['status']>['containerStatuses']>[number];
type Terminated = NonNullable<NonNullable<ContainerStatus['state']>['terminated']>;

export interface MachineOptions {
  /** The container whose kills count. */
  container: string;
  /** OOM kills wanted (--kills). */
  kills: number;
  /** True when the pod existed before this run (re-adoption after a worker crash). */
  adopted?: boolean;
}

/** A step worth telling the user about; the runner turns each into a DrillProgress. */
export interface Transition {
  phase: DrillPhase;
  message: string;
  backoffSeconds?: number;
  /** For 'killed': the ordinal of the kill it announces (one update may bring several). */
  kill?: number;
}

/** Why the drill stopped watching: the runner explains it (see verdict.ts) and cleans up. */
export type Ending =
  | { kind: 'done' }
  | { kind: 'stopped' }
  | { kind: 'timeout' }
  | { kind: 'deleted' }
  | { kind: 'evicted'; message: string }
  | { kind: 'deadline'; message: string }
  | { kind: 'image-pull'; reason: string; message: string; image?: string }
  | { kind: 'container-config'; reason: string; message: string }
  | {
      kind: 'container-exit';
      reason: string;
      exitCode: number | null;
      message: string;
      /** Which log holds the failed instance: the current one, or `--previous`. */
      previous: boolean;
    }
  | { kind: 'pod-failed'; reason: string; message: string };

/** Wait reasons after which the image will not be there without someone fixing it. */
const IMAGE_PULL_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);
const CONTAINER_CONFIG_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreStartHookError',
]);

/** The drill's state; `observe` and the end methods move it. */
export class DrillMachine {
  phase: DrillPhase = 'applied';
  message = 'pod created; waiting for the scheduler';
  readonly kills: KillRecord[] = [];
  restartCount = 0;
  backoffSeconds: number | undefined;
  /** Back-off announced before the restart that followed kill n (index n - 1). */
  readonly backoffsSeconds: (number | undefined)[] = [];
  node: string | undefined;
  uid: string | undefined;
  ending: Ending | undefined;
  /** The last thing the pod was waiting for (to explain a timeout). */
  lastWaiting: string | undefined;
  /** Whether a container instance has ever run (to explain a timeout). */
  everStarted = false;

  private readonly countedKeys = new Set<string>();
  private readonly accountedInstances = new Set<number>();
  private lastResourceVersion: number | undefined;
  private firstObservation = true;

  constructor(private readonly options: MachineOptions) {}

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Feeds one pod object; returns the transitions it caused (maybe none). */
  observe(pod: PodJson): Transition[] {
    if (this.ended || this.isStale(pod)) return [];
    if (this.uid !== undefined && pod.metadata?.uid !== this.uid) return [];

    this.uid = pod.metadata?.uid;
    this.node = pod.spec?.nodeName ?? this.node;
    const status = this.containerStatus(pod);
    const transitions = status === undefined ? [] : this.countKills(status);
    for (const kill of transitions) this.show(kill);
    this.restartCount = Math.max(this.restartCount, status?.restartCount ?? 0);

    const ending = endingOf(pod, status);
    if (ending !== undefined) {
      this.ending = ending;
      return transitions;
    }

    const next = this.phaseOf(pod, status);
    this.firstObservation = false;
    if (next.phase === 'done') this.ending = { kind: 'done' };
    return [...transitions, ...this.moveTo(next)];
  }

  /** The pod disappeared (DELETED, or missing after a re-list) while the drill watched. */
  gone(): void {
    if (!this.ended) this.ending = { kind: 'deleted' };
  }

  /** The drill's time (back-off excluded) ran out. */
  timeout(): void {
    if (!this.ended) this.ending = { kind: 'timeout' };
  }

  /** Someone asked to stop the drill. */
  stop(): void {
    if (!this.ended) this.ending = { kind: 'stopped' };
  }

  /** True while the kubelet holds the container in restart back-off (not charged to --timeout). */
  inBackoff(): boolean {
    return this.phase === 'backoff' && !this.ended;
  }

  private containerStatus(pod: PodJson): ContainerStatus | undefined {
    return pod.status?.containerStatuses?.find((item) => item.name === this.options.container);
  }

  /**
   * resourceVersions are opaque, but every etcd-backed server issues increasing integers;
   * when they parse as such, an older object (a slow read racing the watch) is ignored.
   */
  private isStale(pod: PodJson): boolean {
    const text = pod.metadata?.resourceVersion;
    if (text === undefined || !/^\d+$/.test(text)) return false;

    const version = Number(text);
    if (this.lastResourceVersion !== undefined && version < this.lastResourceVersion) return true;
    this.lastResourceVersion = version;
    return false;
  }

  /** Records each termination once; returns a 'killed' transition per new OOM kill. */
  private countKills(status: ContainerStatus): Transition[] {
    const seen = terminationOf(status);
    if (seen === undefined) return [];
    if (this.accountedInstances.has(seen.instance)) return [];

    const key = this.killKey(seen.instance, seen.terminated.finishedAt);
    if (this.countedKeys.has(key)) return [];
    this.countedKeys.add(key);

    const isOom = seen.terminated.reason === 'OOMKilled';
    const transitions = isOom ? this.inferSkipped(seen.instance) : [];
    this.accountedInstances.add(seen.instance);
    if (isOom) transitions.push(this.addKill(seen.instance, seen.terminated, false));
    return transitions;
  }

  /** Instances below `instance` never seen terminated died too: count them as inferred kills. */
  private inferSkipped(instance: number): Transition[] {
    const transitions: Transition[] = [];
    for (let skipped = 0; skipped < instance; skipped += 1) {
      if (this.accountedInstances.has(skipped)) continue;
      this.accountedInstances.add(skipped);
      transitions.push(this.addKill(skipped, undefined, true));
    }
    return transitions;
  }

  private addKill(
    instance: number,
    terminated: Terminated | undefined,
    inferred: boolean,
  ): Transition {
    const record: KillRecord = {
      ordinal: this.kills.length + 1,
      container: this.options.container,
      instance,
      exitCode: terminated?.exitCode ?? null,
      startedAt: terminated?.startedAt ?? null,
      finishedAt: terminated?.finishedAt ?? null,
      inferred,
    };
    this.kills.push(record);
    return {
      phase: 'killed',
      message: killMessage(record, this.options.kills),
      kill: record.ordinal,
    };
  }

  private killKey(instance: number, finishedAt: string | undefined): string {
    const parsed = finishedAt === undefined ? NaN : Date.parse(finishedAt);
    const finished = Number.isNaN(parsed) ? (finishedAt ?? '-') : new Date(parsed).toISOString();
    return `${this.uid}/${this.options.container}/${instance}/${finished}`;
  }

  private phaseOf(pod: PodJson, status: ContainerStatus | undefined): Transition {
    if (status === undefined) return this.beforeContainer(pod);

    const state = status.state ?? {};
    if (state.running !== undefined) return this.whileRunning(status);
    // A dead instance not yet restarted: its kill was announced when it was counted.
    if (state.terminated !== undefined) return { phase: this.phase, message: this.message };

    const waiting = state.waiting;
    if (waiting?.reason === 'CrashLoopBackOff') return this.inBackoffPhase(waiting.message);
    this.lastWaiting = describeWaiting(waiting?.reason, waiting?.message);
    return { phase: 'pulling', message: `creating the container (${this.lastWaiting})` };
  }

  private beforeContainer(pod: PodJson): Transition {
    const scheduled = pod.status?.conditions?.find(
      (condition) => condition.type === 'PodScheduled',
    );
    if (scheduled?.status === 'False') {
      const why = scheduled.message ?? scheduled.reason ?? 'no node fits';
      this.lastWaiting = `not scheduled: ${why}`;
      return { phase: 'applied', message: `waiting for a node (${this.lastWaiting})` };
    }
    if (pod.spec?.nodeName !== undefined) {
      this.lastWaiting = 'the container was not created yet';
      return { phase: 'scheduled', message: `scheduled on ${pod.spec.nodeName}` };
    }
    this.lastWaiting = 'the scheduler had not placed the pod';
    return { phase: 'applied', message: 'pod created; waiting for the scheduler' };
  }

  private whileRunning(status: ContainerStatus): Transition {
    this.everStarted = true;
    const restarts = status.restartCount ?? 0;
    const wanted = this.options.kills;
    if (this.kills.length >= wanted && restarts >= wanted) {
      return {
        phase: 'done',
        message: `restarted after OOM kill ${this.kills.length}; drill complete`,
      };
    }
    if (this.firstObservation && this.options.adopted) {
      return {
        phase: 'running',
        message: `adopted the running drill pod (restart count ${restarts})`,
      };
    }
    if (restarts === 0) return { phase: 'started', message: 'container started; filling memory' };
    return {
      phase: 'restarted',
      message: `container restarted (restart ${restarts}); filling memory again`,
    };
  }

  private inBackoffPhase(message: string | undefined): Transition {
    const seconds = parseBackoffSeconds(message);
    const killIndex = this.kills.length - 1;
    if (killIndex >= 0 && this.backoffsSeconds[killIndex] === undefined) {
      this.backoffsSeconds[killIndex] = seconds;
    }
    const wait = seconds === undefined ? 'a back-off' : `${seconds} s`;
    return {
      phase: 'backoff',
      message: `kubelet back-off: restarting the container in ${wait}`,
      backoffSeconds: seconds,
    };
  }

  /** Applies a transition; returns it when it changes what the user sees. */
  private moveTo(next: Transition): Transition[] {
    const changed = next.phase !== this.phase || next.message !== this.message;
    this.show(next);
    return changed ? [next] : [];
  }

  private show(transition: Transition): void {
    this.phase = transition.phase;
    this.message = transition.message;
    this.backoffSeconds = transition.phase === 'backoff' ? transition.backoffSeconds : undefined;
  }
}

/** Where the status shows a finished instance, and which instance it was. */
function terminationOf(
  status: ContainerStatus,
): { instance: number; terminated: Terminated } | undefined {
  const restarts = status.restartCount ?? 0;
  const state = status.state ?? {};
  const last = status.lastState?.terminated;
  if (state.terminated !== undefined) return { instance: restarts, terminated: state.terminated };
  if (last === undefined) return undefined;
  if (state.running !== undefined) return { instance: Math.max(restarts - 1, 0), terminated: last };
  return { instance: restarts, terminated: last };
}

/** Failures visible in one pod object; undefined when the drill may go on. */
function endingOf(pod: PodJson, status: ContainerStatus | undefined): Ending | undefined {
  if (pod.metadata?.deletionTimestamp !== undefined) return { kind: 'deleted' };

  const podStatus = pod.status ?? {};
  if (podStatus.phase === 'Failed' || podStatus.phase === 'Succeeded') {
    return podEnding(podStatus.phase, podStatus.reason, podStatus.message);
  }
  if (status === undefined) return undefined;

  return waitingEnding(pod, status) ?? exitEnding(status);
}

function podEnding(phase: string, reason: string | undefined, message: string | undefined): Ending {
  const text = message ?? '';
  if (reason === 'Evicted') return { kind: 'evicted', message: text };
  if (reason === 'DeadlineExceeded') return { kind: 'deadline', message: text };
  return { kind: 'pod-failed', reason: reason ?? phase, message: text };
}

function waitingEnding(pod: PodJson, status: ContainerStatus): Ending | undefined {
  const waiting = status.state?.waiting;
  if (waiting?.reason === undefined) return undefined;

  const message = waiting.message ?? '';
  if (IMAGE_PULL_REASONS.has(waiting.reason)) {
    const image = pod.spec?.containers?.find((item) => item.name === status.name)?.image;
    return { kind: 'image-pull', reason: waiting.reason, message, image };
  }
  if (CONTAINER_CONFIG_REASONS.has(waiting.reason)) {
    return { kind: 'container-config', reason: waiting.reason, message };
  }
  return undefined;
}

/** A termination that is not an OOM kill ends the drill: the stress script itself failed. */
function exitEnding(status: ContainerStatus): Ending | undefined {
  const seen = terminationOf(status);
  if (seen === undefined || seen.terminated.reason === 'OOMKilled') return undefined;

  return {
    kind: 'container-exit',
    reason: seen.terminated.reason ?? 'Error',
    exitCode: seen.terminated.exitCode ?? null,
    message: seen.terminated.message ?? '',
    previous: status.state?.terminated === undefined,
  };
}

function describeWaiting(reason: string | undefined, message: string | undefined): string {
  if (reason === undefined) return 'waiting';
  return message ? `${reason}: ${message}` : reason;
}

/** "OOM kill 1 of 2 (exit 137)". */
export function killMessage(kill: KillRecord, wanted: number): string {
  if (kill.inferred) {
    const how = 'inferred: the restart count went past it unseen';
    return `OOM kill ${kill.ordinal} of ${wanted} (${how})`;
  }
  const exit = kill.exitCode === null ? 'exit code unknown' : `exit ${kill.exitCode}`;
  return `OOM kill ${kill.ordinal} of ${wanted} (${exit})`;
}

/**
 * The wait in the kubelet's CrashLoopBackOff message, `back-off 1m20s restarting failed
 * container=...`, in seconds (a Go duration: h, m, s parts).
 */
export function parseBackoffSeconds(message: string | undefined): number | undefined {
  const match = /back-off ((?:\d+(?:\.\d+)?[hms])+)/.exec(message ?? '');
  if (match?.[1] === undefined) return undefined;

  let seconds = 0;
  for (const part of match[1].matchAll(/(\d+(?:\.\d+)?)([hms])/g)) {
    const value = Number(part[1]);
    seconds += part[2] === 'h' ? value * 3_600 : part[2] === 'm' ? value * 60 : value;
  }
  return seconds;
}

/** A failure code for each way a drill can end badly (mount-denied is decided with the log). */
export const ENDING_CODES: Record<Exclude<Ending['kind'], 'done'>, ErrorCode> = {
  stopped: 'drill.stopped',
  timeout: 'drill.timeout',
  deleted: 'drill.deleted',
  evicted: 'drill.evicted',
  deadline: 'drill.timeout',
  'image-pull': 'drill.image-pull',
  'container-config': 'drill.container-error',
  'container-exit': 'drill.container-error',
  'pod-failed': 'drill.container-error',
};
