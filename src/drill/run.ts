/**
 * Runs one drill against a cluster: subscribe to the namespace's shared watch, create (or
 * re-adopt) the pod, feed every update into the state machine, report progress, and at the
 * end read events and the killed container's log, render the describe-style summary, write
 * the verdict and delete the pod (unless --keep), on success, failure and stop alike.
 */
import type { ErrorCode, OomtestError } from '../errors.js';
import { toOomtestError } from '../errors.js';
import {
  describePod,
  sleep,
  systemClock,
  type Clock,
  type EventJson,
  type KubeClient,
  type PodJson,
  type PodSubscription,
  type PodUpdate,
  type PodWatchHub,
} from '../kube/index.js';
import { silentLogger, type Logger } from '../log.js';
import type { DrillRequest } from '../request/types.js';
import {
  buildPod,
  LABEL_DRILL_ID,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  parseStressLog,
  STRESS_CONTAINER,
  type StressLog,
} from '../stress/index.js';
import { TimeoutBudget } from './budget.js';
import { DrillMachine, type Ending, type Transition } from './machine.js';
import type { DrillOutcome, DrillProgress, KillRecord } from './types.js';
import { verdictOf } from './verdict.js';

export interface RunDrillOptions {
  /** The drill's id: labels the pod, so a later attempt can find and adopt it. */
  drillId: string;
  /** Aborting it stops the drill (status `stopped`); the pod is still cleaned up. */
  signal?: AbortSignal;
  /** Called on every visible change (phase, message, kills); identical updates are dropped. */
  onProgress?: (progress: DrillProgress) => void;
  /**
   * This run follows an earlier attempt of the same drill (a worker crash or a retry).
   * A pod carrying the drill's id is adopted either way, since its label proves it is
   * ours; this only says it is expected (and is logged).
   */
  adopt?: boolean;
  /** Who asked (Slack user id or `cli:<user>`), written on the pod for people reading it. */
  requestedBy?: string;
}

export interface DrillTuning {
  /** Grace period of the clean-up delete, seconds. Default 2: the script holds no state. */
  deleteGraceSeconds?: number;
  /** Longest wait for the pod to be gone after deleting it, ms. Default 30 s. */
  deleteWaitMs?: number;
  /** Log lines read from a killed container. Default 50: enough for the last progress lines. */
  logTailLines?: number;
}

export interface DrillDeps {
  /** The client for the drill's cluster context (the caller resolves --cluster). */
  kube: KubeClient;
  /** The process's shared watches. */
  watches: PodWatchHub;
  clock?: Clock;
  logger?: Logger;
  tuning?: DrillTuning;
}

const DEFAULT_TUNING: Required<DrillTuning> = {
  deleteGraceSeconds: 2,
  deleteWaitMs: 30_000,
  logTailLines: 50,
};

/**
 * Runs one drill to its end and describes how it went. Cluster refusals (PodSecurity,
 * quota, RBAC, an unreachable server) come back as a failed outcome with the ClusterError's
 * code and message, not as a throw; only bugs throw.
 */
export async function runDrill(
  request: DrillRequest,
  options: RunDrillOptions,
  deps: DrillDeps,
): Promise<DrillOutcome> {
  return new DrillRun(request, options, deps).run();
}

interface Failure {
  code: ErrorCode;
  message: string;
}

interface LogRead {
  text: string;
  log: StressLog;
}

/** The state of one running drill; its methods are the steps. */
class DrillRun {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly tuning: Required<DrillTuning>;
  private readonly startedAtMs: number;
  private readonly kube: KubeClient;
  private readonly watches: PodWatchHub;
  private subscription: PodSubscription | undefined;
  private machine: DrillMachine | undefined;
  private budget: TimeoutBudget | undefined;
  private uid: string | undefined;
  private lastPod: PodJson | undefined;
  private readonly buffered: PodUpdate[] = [];
  /** A failure of the run itself (not of the pod): it wins over the machine's ending. */
  private failure: Failure | undefined;
  private endRun: () => void = () => undefined;
  private readonly ended: Promise<void>;
  private deletionSeen: (() => void) | undefined;
  private readonly logReads = new Map<number, Promise<LogRead | undefined>>();
  private lastLogRead: LogRead | undefined;
  private lastProgressKey = '';

  constructor(
    private readonly request: DrillRequest,
    private readonly options: RunDrillOptions,
    deps: DrillDeps,
  ) {
    this.kube = deps.kube;
    this.clock = deps.clock ?? systemClock;
    this.tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    this.startedAtMs = this.clock.now();
    this.log = (deps.logger ?? silentLogger()).child({
      drillId: options.drillId,
      pod: request.pod,
      namespace: request.namespace,
      cluster: deps.kube.cluster,
    });
    this.ended = new Promise((resolve) => (this.endRun = resolve));
    this.watches = deps.watches;
  }

  async run(): Promise<DrillOutcome> {
    const onAbort = (): void => this.stop();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.startSafely();
      if (this.machine !== undefined && !this.isOver()) await this.ended;
      return await this.finish();
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      this.budget?.cancel();
      this.subscription?.close();
    }
  }

  private async startSafely(): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      const failure = toOomtestError(error);
      this.log.warn({ err: error, code: failure.code }, 'drill could not start');
      this.failure = { code: failure.code, message: failure.message };
    }
  }

  /** Subscribe first, so no update of the pod can slip between creating and watching it. */
  private async start(): Promise<void> {
    // Even when already stopped, look for a pod an earlier attempt of this drill left: a
    // stop that arrives between retries must delete it rather than leave it to the sweep.
    this.subscription = await this.watches.subscribe({
      kube: this.kube,
      namespace: this.request.namespace,
      pod: this.request.pod,
      onUpdate: (update) => this.onUpdate(update),
    });

    const existing = await this.kube.readPod({
      namespace: this.request.namespace,
      name: this.request.pod,
    });
    if (existing !== undefined) return this.takeOver(existing);
    if (this.options.signal?.aborted) return;

    await this.create();
  }

  private async create(): Promise<void> {
    const body = buildPod(this.request, {
      drillId: this.options.drillId,
      requestedBy: this.options.requestedBy,
    });
    let created: PodJson;
    try {
      created = await this.kube.createPod({ namespace: this.request.namespace, pod: body });
    } catch (error) {
      // Another creator won a race for the name: decide about its pod like any existing one.
      const racer = isCode(error, 'kube.conflict') ? await this.readExisting() : undefined;
      if (racer === undefined) throw error;
      return this.takeOver(racer);
    }

    this.log.info('drill pod created');
    this.own(created, false);
  }

  private async readExisting(): Promise<PodJson | undefined> {
    return this.kube.readPod({ namespace: this.request.namespace, name: this.request.pod });
  }

  /**
   * A pod of that name exists: adopt it if it is this drill's, else refuse and never touch it.
   * Known shortcoming: if an earlier attempt was already deleting it (a crash during clean-up),
   * the adopted pod is seen terminating and the drill reports "deleted by someone else"
   * instead of waiting for it to go and starting afresh; the user has to run it again.
   */
  private takeOver(pod: PodJson): void {
    const refusal = this.refusalFor(pod);
    if (refusal !== undefined) {
      this.log.warn({ code: refusal.code }, 'a pod of that name exists; left untouched');
      this.failure = refusal;
      return;
    }

    const expected = this.options.adopt ? 'as expected after an earlier attempt' : 'unexpectedly';
    this.log.info(`adopting the drill pod (${expected})`);
    this.own(pod, true);
  }

  private refusalFor(pod: PodJson): Failure | undefined {
    const { pod: name, namespace } = this.request;
    const labels = pod.metadata?.labels ?? {};
    if (labels[LABEL_MANAGED_BY] !== MANAGED_BY) {
      return {
        code: 'drill.unmanaged-pod',
        message:
          `a pod named "${name}" already exists in namespace "${namespace}" and oomtest does not ` +
          `manage it (no ${LABEL_MANAGED_BY}=${MANAGED_BY} label); it was left untouched. ` +
          'Choose another pod name.',
      };
    }

    const owner = labels[LABEL_DRILL_ID];
    if (owner === this.options.drillId) return undefined;
    return {
      code: 'drill.busy',
      message:
        `pod "${name}" in namespace "${namespace}" belongs to another oomtest drill ` +
        `(${owner ?? 'no drill id'}); wait for it to end, stop it with /oomtest stop ${name}, ` +
        'or delete it if it was kept with --keep.',
    };
  }

  /** From here on the pod is this drill's: watch it, time it, and clean it up at the end. */
  private own(pod: PodJson, adopted: boolean): void {
    this.uid = pod.metadata?.uid;
    this.machine = new DrillMachine({
      container: STRESS_CONTAINER,
      kills: this.request.kills,
      adopted,
    });
    this.budget = new TimeoutBudget(this.clock, this.request.timeoutSeconds * 1_000, () =>
      this.onTimeout(),
    );
    if (!adopted) this.emit({ phase: 'applied', message: `pod ${this.request.pod} created` });

    this.observe(pod);
    for (const update of this.buffered.splice(0)) this.onUpdate(update);
    const current = this.subscription?.current();
    if (current !== undefined && current.metadata?.uid === this.uid) this.observe(current);
    if (this.options.signal?.aborted) this.stop();
    this.afterStep();
  }

  private onUpdate(update: PodUpdate): void {
    if (this.deletionSeen !== undefined) return this.watchDeletion(update);
    if (update.type === 'error') return this.onWatchError(update.error);
    if (this.machine === undefined) {
      this.buffered.push(update);
      return;
    }
    if (this.isOver()) return;

    this.apply(update);
    this.afterStep();
  }

  private apply(update: Exclude<PodUpdate, { type: 'error' }>): void {
    const pod = update.pod;
    const ours = pod !== undefined && pod.metadata?.uid === this.uid;
    if (update.type === 'resync' && !ours) {
      this.machine?.gone();
      return;
    }
    if (!ours) return;

    if (update.type === 'DELETED') {
      this.lastPod = pod;
      this.machine?.gone();
      return;
    }
    this.observe(pod);
  }

  private observe(pod: PodJson): void {
    if (this.machine === undefined) return;

    this.lastPod = pod;
    for (const transition of this.machine.observe(pod)) this.announce(transition);
    this.readKillLogs(pod);
  }

  private announce(transition: Transition): void {
    if (transition.phase === 'killed') {
      this.log.info({ kill: transition.kill }, transition.message);
    } else {
      this.log.debug(`${transition.phase}: ${transition.message}`);
    }
    this.emit(transition);
  }

  /** Ends the run when the machine ended; otherwise charges time unless in back-off. */
  private afterStep(): void {
    if (this.isOver()) {
      this.endRun();
      return;
    }
    if (this.machine?.inBackoff()) this.budget?.pause();
    else this.budget?.resume();
  }

  private isOver(): boolean {
    return this.failure !== undefined || this.machine?.ended === true;
  }

  private onWatchError(error: OomtestError): void {
    if (error.transient) return;

    // The watch will not recover by retrying (access revoked, namespace gone).
    this.failure ??= { code: error.code, message: error.message };
    this.endRun();
  }

  private onTimeout(): void {
    this.log.info({ durationMs: this.budget?.elapsedMs() }, 'drill timed out');
    this.machine?.timeout();
    this.endRun();
  }

  private stop(): void {
    if (this.machine === undefined) return;
    this.machine.stop();
    this.endRun();
  }

  /**
   * Reads the stress log of each killed instance once the kubelet shows it as lastState
   * (then `--previous` is exactly that instance), for the filled bytes and fill time.
   * Known shortcoming: the log carries no instance id, so if the container is restarted and
   * killed again before this read arrives (it has at least the 10 s back-off to do so), the
   * figures shown for a kill are the next kill's; counting is not affected.
   */
  private readKillLogs(pod: PodJson): void {
    const status = pod.status?.containerStatuses?.find((item) => item.name === STRESS_CONTAINER);
    const last = status?.lastState?.terminated;
    if (status === undefined || last === undefined || status.state?.terminated !== undefined)
      return;

    const kill = this.machine?.kills.find(
      (item) => !item.inferred && sameInstant(item.finishedAt, last.finishedAt),
    );
    if (kill === undefined || this.logReads.has(kill.instance)) return;
    this.logReads.set(kill.instance, this.readKillLog(kill));
  }

  private async readKillLog(kill: KillRecord): Promise<LogRead | undefined> {
    const read = await this.readLog(true);
    if (read === undefined) return undefined;

    kill.filledBytes = read.log.filledBytes;
    kill.fillMs = read.log.elapsedMs;
    if (this.lastLogRead === undefined || kill.ordinal === this.machine?.kills.length) {
      this.lastLogRead = read;
    }
    return read;
  }

  private async readLog(previous: boolean): Promise<LogRead | undefined> {
    try {
      const text = await this.kube.readLog({
        namespace: this.request.namespace,
        name: this.request.pod,
        container: STRESS_CONTAINER,
        previous,
        tailLines: this.tuning.logTailLines,
      });
      return { text, log: parseStressLog(text) };
    } catch (error) {
      this.log.debug({ err: error }, 'could not read the stress container log');
      return undefined;
    }
  }

  private emit(transition: Transition): void {
    const machine = this.machine;
    // Several kills found in one update are announced one by one, each with the kills so far.
    const kills = (machine?.kills ?? []).slice(0, transition.kill);
    const progress: DrillProgress = {
      drillId: this.options.drillId,
      phase: transition.phase,
      message: transition.message,
      at: new Date(this.clock.now()).toISOString(),
      kills: kills.map((kill) => ({ ...kill })),
      restartCount: machine?.restartCount ?? 0,
      backoffSeconds: transition.backoffSeconds,
      node: machine?.node,
    };
    const key = JSON.stringify({ ...progress, at: undefined });
    if (key === this.lastProgressKey) return;
    this.lastProgressKey = key;

    try {
      this.options.onProgress?.(progress);
    } catch (error) {
      this.log.error({ err: error }, 'progress callback threw');
    }
  }

  /** Everything after the end: logs, events, describe, verdict, clean-up. */
  private async finish(): Promise<DrillOutcome> {
    this.budget?.cancel();
    const ending: Ending = this.machine?.ending ?? { kind: 'stopped' };
    const logRead = await this.endingLog(ending);
    const pod = await this.summaryPod();
    const describe = pod === undefined ? '' : await this.describe(pod);
    const judged = this.judge(ending, logRead);
    const deleted = await this.cleanUp(ending);

    const outcome = this.outcome({ ...judged, describe, deleted, logTail: logRead?.text });
    this.emit({ phase: outcome.status, message: outcome.verdict });
    this.log.info(
      {
        result: outcome.status,
        code: outcome.failure?.code,
        kill: outcome.kills.length,
        durationMs: this.clock.now() - this.startedAtMs,
      },
      outcome.verdict,
    );
    return outcome;
  }

  /** The log that explains the ending: the failed instance's, or the last killed one's. */
  private async endingLog(ending: Ending): Promise<LogRead | undefined> {
    await Promise.allSettled(this.logReads.values());
    if (this.machine === undefined || this.failure !== undefined) return undefined;

    if (ending.kind === 'container-exit') return this.readLog(ending.previous);
    const stillFilling = this.machine.kills.length === 0 && this.machine.everStarted;
    if (stillFilling && ['timeout', 'deadline', 'stopped'].includes(ending.kind)) {
      return this.readLog(false);
    }
    return this.lastLogRead;
  }

  /**
   * The pod for the summary: as last seen by the watch, i.e. in the state the drill ended
   * on (a fresh read could already show the next kill, contradicting the verdict). Read
   * only when the watch never delivered it.
   */
  private async summaryPod(): Promise<PodJson | undefined> {
    if (this.uid === undefined || this.lastPod !== undefined) return this.lastPod;

    try {
      const pod = await this.readExisting();
      return pod?.metadata?.uid === this.uid ? pod : undefined;
    } catch (error) {
      this.log.debug({ err: error }, 'could not read the pod for the summary');
      return undefined;
    }
  }

  private async describe(pod: PodJson): Promise<string> {
    let events: EventJson[] = [];
    try {
      events = await this.kube.listPodEvents({
        namespace: this.request.namespace,
        name: this.request.pod,
        uid: this.uid,
      });
    } catch (error) {
      this.log.debug({ err: error }, 'could not list the pod events');
    }

    try {
      // The inline stress script (~60 lines) would bury the fields that matter.
      return describePod({ pod, events, now: new Date(this.clock.now()), maxCommandLines: 1 });
    } catch (error) {
      this.log.error({ err: error }, 'could not render the pod summary');
      return '';
    }
  }

  private judge(ending: Ending, logRead: LogRead | undefined) {
    if (this.failure !== undefined) {
      return {
        status: 'failed' as const,
        verdict: `Failed: ${this.failure.message}`,
        failure: this.failure,
      };
    }
    if (this.machine === undefined) {
      const failure: Failure = {
        code: 'drill.stopped',
        message: 'stopped before the pod was created',
      };
      return { status: 'stopped' as const, verdict: `Stopped: ${failure.message}`, failure };
    }

    return verdictOf({
      request: this.request,
      ending,
      kills: this.machine.kills,
      backoffsSeconds: this.machine.backoffsSeconds,
      log: logRead?.log,
      logText: logRead?.text,
      lastWaiting: this.machine.lastWaiting,
      everStarted: this.machine.everStarted,
    });
  }

  /**
   * Deletes the drill's pod (only if its uid is still ours) and waits, bounded, until the
   * watch shows it gone, so that running the same drill again at once does not hit 409.
   */
  private async cleanUp(ending: Ending): Promise<boolean> {
    if (this.uid === undefined || this.machine === undefined) return false;
    if (this.request.keep || ending.kind === 'deleted') return false;

    const gone = new Promise<void>((resolve) => (this.deletionSeen = resolve));
    let result: 'deleted' | 'gone';
    try {
      result = await this.kube.deletePod({
        namespace: this.request.namespace,
        name: this.request.pod,
        uid: this.uid,
        gracePeriodSeconds: this.tuning.deleteGraceSeconds,
      });
    } catch (error) {
      const failure = toOomtestError(error);
      this.log.error({ err: error, code: failure.code }, 'could not delete the drill pod');
      return false;
    }
    if (result === 'gone') return false;

    await this.waitGone(gone);
    return true;
  }

  private async waitGone(gone: Promise<void>): Promise<void> {
    const timeout = new AbortController();
    const waited = await Promise.race([
      gone.then(() => true),
      sleep(this.clock, this.tuning.deleteWaitMs, timeout.signal).then(() => false),
    ]);
    timeout.abort();
    if (!waited) {
      this.log.warn(
        { durationMs: this.tuning.deleteWaitMs },
        'drill pod still terminating after delete',
      );
    }
  }

  private watchDeletion(update: PodUpdate): void {
    if (update.type === 'error' || update.type === 'ADDED' || update.type === 'MODIFIED') return;

    const sameUid = update.pod?.metadata?.uid === this.uid;
    if (update.type === 'DELETED' ? sameUid : !sameUid) this.deletionSeen?.();
  }

  private outcome(parts: {
    status: DrillOutcome['status'];
    verdict: string;
    failure?: Failure;
    describe: string;
    deleted: boolean;
    logTail?: string;
  }): DrillOutcome {
    return {
      drillId: this.options.drillId,
      request: this.request,
      status: parts.status,
      verdict: parts.verdict,
      kills: (this.machine?.kills ?? []).map((kill) => ({ ...kill })),
      restartCount: this.machine?.restartCount ?? 0,
      describe: parts.describe,
      logTail: parts.logTail,
      failure: parts.failure,
      deleted: parts.deleted,
      startedAt: new Date(this.startedAtMs).toISOString(),
      finishedAt: new Date(this.clock.now()).toISOString(),
    };
  }
}

function isCode(error: unknown, code: ErrorCode): boolean {
  return toOomtestError(error).code === code;
}

function sameInstant(a: string | null | undefined, b: string | undefined): boolean {
  if (a === null || a === undefined || b === undefined) return false;
  return Date.parse(a) === Date.parse(b);
}
