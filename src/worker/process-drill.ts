/**
 * One drill job, start to finish: run the drill (or re-adopt it after a crash), keep its
 * outcome in Redis, report it to Slack exactly once, and tell BullMQ whether to retry.
 *
 * Retry policy: a transient failure (the API server unreachable) is thrown as is, and
 * BullMQ tries again with backoff while attempts remain; the next attempt re-adopts the
 * pod. Anything else is reported to the channel and then thrown as UnrecoverableError,
 * so a PodSecurity rejection or an unmanaged pod is never retried.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import type { DrillOutcome } from '../drill/types.js';
import { runDrill } from '../drill/run.js';
import { OomtestError, toOomtestError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { KubeClientSet } from '../kube/client.js';
import { sleep, type Clock, type PodWatchHub } from '../kube/watch.js';
import { validateDrillJob, type DrillJobData, type DrillState } from '../queue/index.js';
import { DrillReporter } from './reporter.js';
import type { SlackPacers } from './slack-pacer.js';
import type { StopListener } from './stop-listener.js';
import type { RunningDrill, RunningDrills } from './running-drills.js';

export interface ProcessDeps {
  kube: KubeClientSet;
  watches: PodWatchHub;
  clock: Clock;
  logger: Logger;
  slack: WebClient;
  pacers: SlackPacers;
  state: DrillState;
  stops: StopListener;
  /** This worker's id, recorded in summary claims. */
  workerId: string;
  metrics?: Metrics;
  /** Least time between two edits of one message, ms (default 1,000). */
  minUpdateIntervalMs?: number;
}

/** What a drill job returns to BullMQ (kept with the completed job). */
export interface DrillJobResult {
  status: DrillOutcome['status'] | 'reported-earlier';
  code?: ErrorCode;
}

/** How often to look again at a summary claim held by another process, ms. */
const CLAIM_POLL_MS = 2_000;

/** Failures worth another attempt: the cluster may be back in a minute. */
const TRANSIENT_CODES = new Set<ErrorCode>(['kube.unreachable']);

/** Runs or resumes one drill job; `running` holds it while it runs, for stop and hand-back. */
export async function processDrill(
  job: Job<DrillJobData>,
  deps: ProcessDeps,
  running: RunningDrills,
): Promise<DrillJobResult> {
  const data = parseJob(job, deps.logger);
  const log = deps.logger.child(logFields(data, deps.kube));

  if (await deps.state.summaryPosted(data.drillId)) {
    log.info({ result: 'skipped' }, 'drill already reported; nothing to do');
    return { status: 'reported-earlier' };
  }

  const reporter = new DrillReporter({
    slack: deps.slack,
    pacers: deps.pacers,
    ctx: { drillId: data.drillId, request: data.request, requestedBy: data.requestedBy },
    channel: data.channel,
    messageTs: data.messageTs,
    logger: log,
    metrics: deps.metrics,
    clock: deps.clock,
    minUpdateIntervalMs: deps.minUpdateIntervalMs,
  });

  const outcome =
    (await deps.state.loadOutcome(data.drillId)) ??
    (await runAndKeep({ job, data, deps, reporter, log, running }));
  // BullMQ's way to say "this job was moved elsewhere, do not complete it".
  if (outcome === undefined) throw new DelayedError('drill handed back to the queue');

  await reportOnce({ data, outcome, deps, reporter, log }).catch((error: unknown) => {
    const failure = toOomtestError(error);
    if (failure.transient) throw failure;
    // Slack refused the summary for good (channel gone, app removed): retrying cannot help.
    log.error({ err: error, code: failure.code, result: 'failed' }, 'summary could not be posted');
    throw new UnrecoverableError(failure.message);
  });
  return settle(outcome);
}

function parseJob(job: Job<DrillJobData>, logger: Logger): DrillJobData {
  try {
    return validateDrillJob(job.data);
  } catch (error) {
    logger.error({ drillId: job.id, err: error, code: 'request.invalid' }, 'unreadable drill job');
    throw new UnrecoverableError((error as Error).message);
  }
}

function logFields(data: DrillJobData, kube: KubeClientSet): Record<string, unknown> {
  return {
    drillId: data.drillId,
    pod: data.request.pod,
    namespace: data.request.namespace,
    cluster: contextName(data, kube),
    user: data.requestedBy,
    channel: data.channel,
  };
}

/** The kubeconfig context the drill runs in, by name (the current one when none was given). */
function contextName(data: DrillJobData, kube: KubeClientSet): string | undefined {
  try {
    return kube.forContext(data.request.cluster).cluster;
  } catch {
    // An unknown context fails the drill with a clear message later; log what was asked.
    return data.request.cluster;
  }
}

interface RunContext {
  job: Job<DrillJobData>;
  data: DrillJobData;
  deps: ProcessDeps;
  reporter: DrillReporter;
  log: Logger;
  running: RunningDrills;
}

/**
 * Runs the drill and stores its outcome before anything is posted, so a crash between
 * the two makes the next attempt report, not repeat, the drill. Undefined when the drill
 * was handed back to the queue during shutdown.
 */
async function runAndKeep(run: RunContext): Promise<DrillOutcome | undefined> {
  const { job, data, deps, reporter } = run;
  const drill = run.running.start(data.drillId, reporter);
  const releaseStop = deps.stops.own(data.drillId, (request) => drill.stop(request.by));
  const stoppedBy = await deps.state.stoppedBy(data.drillId);
  if (stoppedBy !== undefined) drill.stop(stoppedBy);

  deps.metrics?.drillsActive.inc();
  const startedAt = new Date(deps.clock.now()).toISOString();
  try {
    const outcome = await raceHandBack(
      drill,
      runDrill(
        data.request,
        {
          drillId: data.drillId,
          signal: drill.signal,
          onProgress: (progress) => reporter.progress(progress),
          // A job started before (a crash, a retry, a hand-back) may have left its pod:
          // adopt it by its drill-id label and count from its status.
          adopt: job.attemptsStarted > 1,
          // Also marks the pod as queued through Slack, which the orphan sweep relies on.
          requestedBy: data.requestedBy,
        },
        {
          kube: deps.kube.forContext(data.request.cluster),
          watches: deps.watches,
          clock: deps.clock,
          // The engine adds drillId, pod, namespace and cluster itself.
          logger: deps.logger.child({ user: data.requestedBy, channel: data.channel }),
        },
      ),
    );
    if (outcome === undefined || drill.handedBack) return undefined;
    return await keep(run, retryIfTransient(run, outcome));
  } catch (error) {
    if (drill.handedBack) return undefined;
    return keep(run, failureOutcome(data, toRetryable(run, error), startedAt, deps.clock));
  } finally {
    releaseStop();
    deps.metrics?.drillsActive.dec();
  }
}

/**
 * The drill's outcome, or undefined as soon as it is handed back: the job then returns
 * while the process shuts down, and the drill's next worker adopts the pod.
 *
 * Known shortcoming: the engine has no way to let go of a drill without deleting its pod,
 * so a handed-back drill keeps running in this process until the process exits (main.ts
 * exits right after close). If the process lived on, that drill could delete the pod under
 * its next worker, which would then report the drill as deleted.
 */
function raceHandBack(
  drill: RunningDrill,
  outcome: Promise<DrillOutcome>,
): Promise<DrillOutcome | undefined> {
  return Promise.race([outcome, drill.released.then(() => undefined)]);
}

async function keep(run: RunContext, fresh: DrillOutcome): Promise<DrillOutcome> {
  const outcome = await run.deps.state.saveOutcome(fresh);
  run.deps.metrics?.drills.inc({ status: outcome.status });
  for (const kill of outcome.kills) {
    run.deps.metrics?.oomKills.inc({ exit_code: String(kill.exitCode ?? 'unknown') });
  }
  return outcome;
}

/** True when BullMQ will run this job again after a failure of this attempt. */
function attemptsLeft(job: Job<DrillJobData>): boolean {
  return job.attemptsMade + 1 < (job.opts.attempts ?? 1);
}

/** Throws (for a retry) a transient failure while attempts remain; else returns it. */
function toRetryable(run: RunContext, error: unknown): OomtestError {
  const failure = toOomtestError(error);
  if (failure.transient && attemptsLeft(run.job)) {
    run.log.warn({ err: error, code: failure.code }, 'drill attempt failed; retrying');
    throw failure;
  }
  return failure;
}

function retryIfTransient(run: RunContext, outcome: DrillOutcome): DrillOutcome {
  const code = outcome.failure?.code;
  if (code === undefined || !TRANSIENT_CODES.has(code) || !attemptsLeft(run.job)) return outcome;

  run.log.warn({ code }, 'drill attempt failed; retrying');
  throw new OomtestError(code, outcome.failure?.message ?? code, { transient: true });
}

/** The outcome of a drill the engine could not run at all. */
function failureOutcome(
  data: DrillJobData,
  failure: OomtestError,
  startedAt: string,
  clock: Clock,
): DrillOutcome {
  return {
    drillId: data.drillId,
    request: data.request,
    status: 'failed',
    verdict: `Drill failed: ${failure.message}`,
    kills: [],
    restartCount: 0,
    describe: '',
    failure: { code: failure.code, message: failure.message },
    deleted: false,
    startedAt,
    finishedAt: new Date(clock.now()).toISOString(),
  };
}

interface ReportContext {
  data: DrillJobData;
  outcome: DrillOutcome;
  deps: ProcessDeps;
  reporter: DrillReporter;
  log: Logger;
}

/**
 * Posts the summary unless some process already did or is doing it. A failed post
 * releases the claim and throws, so the job's next attempt posts from the kept outcome.
 */
async function reportOnce(report: ReportContext): Promise<void> {
  const { data, outcome, deps, reporter, log } = report;
  if (!(await claimSummary(report))) {
    log.info({ result: 'skipped' }, 'summary posted by another worker');
    return;
  }

  const stoppedBy =
    outcome.status === 'stopped' ? await deps.state.stoppedBy(data.drillId) : undefined;
  try {
    await reporter.finish(outcome, { stoppedBy });
  } catch (error) {
    await deps.state.releaseSummary(data.drillId);
    throw error;
  }
  await deps.state.markSummaryPosted(data.drillId);
  audit(report);
}

/**
 * Claims the summary; false once it has been posted. While another process holds the
 * claim without having posted (it may be posting now, or it died mid-post), waits for
 * the claim to turn into "posted" or to expire: giving up would lose the summary when
 * the holder is dead.
 */
async function claimSummary({ data, deps }: ReportContext): Promise<boolean> {
  for (;;) {
    if (await deps.state.claimSummary(data.drillId, deps.workerId)) return true;
    if (await deps.state.summaryPosted(data.drillId)) return false;
    await sleep(deps.clock, CLAIM_POLL_MS);
  }
}

/**
 * The audit line: one per outcome, in the shared log vocabulary. durationMs runs from the
 * bot queueing the drill to its summary being posted: what the user waited.
 */
function audit({ data, outcome, deps, log }: ReportContext): void {
  const durationMs = deps.clock.now() - Date.parse(data.enqueuedAt);
  const fields = {
    result: outcome.status,
    code: outcome.failure?.code,
    kill: outcome.kills.length,
    durationMs: Number.isNaN(durationMs) ? undefined : durationMs,
  };
  if (outcome.status === 'done' || outcome.status === 'stopped') log.info(fields, 'drill finished');
  else log.warn(fields, 'drill finished');
}

/** Failed drills end as failed jobs, never retried: the channel has already been told. */
function settle(outcome: DrillOutcome): DrillJobResult {
  if (outcome.status === 'done' || outcome.status === 'stopped') return { status: outcome.status };
  const code = outcome.failure?.code ?? 'drill.timeout';
  throw new UnrecoverableError(`${code}: ${outcome.failure?.message ?? outcome.verdict}`);
}
