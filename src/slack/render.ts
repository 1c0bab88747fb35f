/**
 * What a drill looks like in Slack, as Block Kit. Pure: the same input always renders the
 * same message, and every message stays within Slack's limits (a section's text at most
 * 3,000 characters, a message at most 50 blocks), whatever the pod, log or events hold.
 *
 * Everything users or the cluster control (pod names, images, verdicts, logs, describe
 * text) is escaped for mrkdwn.
 */
import type { types as SlackTypes } from '@slack/bolt';
import type { DrillRequest } from '../request/types.js';
import type {
  DrillOutcome,
  DrillPhase,
  DrillProgress,
  DrillStatus,
  KillRecord,
} from '../drill/types.js';
import { formatBytesApprox } from '../quantity.js';
import { formatSeconds } from '../duration.js';
import {
  escapeMrkdwn,
  mention,
  inlineCode,
  codeBlocks,
  tail,
  MAX_SECTION_CHARS,
} from './mrkdwn.js';

export type KnownBlock = SlackTypes.KnownBlock;

/** action_id of the Stop button; its value is the drill id. */
export const STOP_ACTION_ID = 'oomtest_stop';

export interface DrillContext {
  drillId: string;
  request: DrillRequest;
  /** Slack user id of who asked. */
  requestedBy: string;
}

export interface SlackMessage {
  /** Notification and fallback text: one plain line. */
  text: string;
  blocks: KnownBlock[];
}

export interface RenderedOutcome {
  message: SlackMessage;
  /** Set when the describe text did not fit the message: the worker uploads it. */
  file?: { filename: string; title: string; content: string };
}

/**
 * Code blocks of the describe text shown inline. A full describe of a drill pod (about
 * 3,500 characters) takes two; three leave room for long event lists while keeping the
 * channel message short enough to read on a phone.
 */
const MAX_INLINE_DESCRIBE_BLOCKS = 3;
/** Lines of `renderStatus` before "and N more": an ephemeral reply, not a report. */
const MAX_STATUS_LINES = 25;

/** The message posted when the drill is queued, with the Stop button. */
export function renderQueued(ctx: DrillContext): SlackMessage {
  return progressMessage(ctx, {
    headline: `:hourglass: OOM drill queued for ${target(ctx.request)}`,
    steps: ['Waiting for a worker…'],
  });
}

/** The message as the drill progresses: a step list ending in the current phase, and Stop. */
export function renderProgress(ctx: DrillContext, progress: DrillProgress): SlackMessage {
  return progressMessage(ctx, {
    headline:
      `${PHASE_EMOJI[progress.phase]} OOM drill ${PHASE_WORDS[progress.phase]}: ` +
      `${target(ctx.request)}`,
    steps: progressSteps(ctx.request, progress),
  });
}

/**
 * The drill's channel message when it could not be queued after all (Redis went away, or
 * another drill for the pod won the race): no Stop button, the reason in plain words.
 */
export function renderNotQueued(ctx: DrillContext, reason: string): SlackMessage {
  const why = escapeMrkdwn(reason);
  const headline = `:x: OOM drill for ${target(ctx.request)} was not started: ${why}`;
  return {
    text: `${stripEmoji(headline)} (drill ${ctx.drillId})`,
    blocks: [section(clip(headline)), context(factsLine(ctx))],
  };
}

const PHASE_EMOJI: Record<DrillPhase, string> = {
  applied: ':hourglass:',
  scheduled: ':hourglass_flowing_sand:',
  pulling: ':hourglass_flowing_sand:',
  started: ':runner:',
  running: ':runner:',
  killed: ':boom:',
  backoff: ':zzz:',
  restarted: ':runner:',
  done: ':white_check_mark:',
  failed: ':x:',
  timedout: ':alarm_clock:',
  stopped: ':octagonal_sign:',
};

const PHASE_WORDS: Record<DrillPhase, string> = {
  applied: 'pod created',
  scheduled: 'scheduled',
  pulling: 'pulling the image',
  started: 'running',
  running: 'running',
  killed: 'saw an OOM kill',
  backoff: 'in back-off',
  restarted: 'restarted the container',
  done: 'done',
  failed: 'failed',
  timedout: 'timed out',
  stopped: 'stopped',
};

/** Phases in the order a drill reaches them; kills and back-offs repeat after `running`. */
const PHASE_ORDER: DrillPhase[] = ['applied', 'scheduled', 'pulling', 'started', 'running'];

function progressSteps(request: DrillRequest, progress: DrillProgress): string[] {
  const reached = (phase: DrillPhase): boolean =>
    progress.kills.length > 0 || PHASE_ORDER.indexOf(progress.phase) >= PHASE_ORDER.indexOf(phase);
  const node = progress.node === undefined ? '' : ` on ${inlineCode(progress.node)}`;
  const steps = [':white_check_mark: Queued'];

  if (reached('scheduled')) steps.push(`:white_check_mark: Scheduled${node}`);
  if (reached('started')) steps.push(':white_check_mark: Running: filling memory');
  for (const kill of progress.kills) steps.push(`:boom: ${killLine(kill, request.kills)}`);
  if (progress.phase === 'backoff') steps.push(backoffLine(progress, request.kills));
  steps.push(`:arrow_right: ${escapeMrkdwn(progress.message)}`);
  return steps;
}

function killLine(kill: KillRecord, wanted: number): string {
  const exit = kill.exitCode === null ? 'exit code unknown' : `exit ${kill.exitCode}`;
  const filled =
    kill.filledBytes === undefined ? '' : `, filled ${formatBytesApprox(kill.filledBytes)}`;
  const inferred = kill.inferred ? ' (seen only as a restart: no status showed it)' : '';
  return `OOM kill ${kill.ordinal} of ${wanted} (${exit}${filled})${inferred}`;
}

function backoffLine(progress: DrillProgress, wanted: number): string {
  const wait =
    progress.backoffSeconds === undefined ? '' : ` ${formatSeconds(progress.backoffSeconds)}`;
  const next = Math.min(progress.kills.length + 1, wanted);
  return (
    `:zzz: Kubelet back-off${wait} before restart ${progress.restartCount + 1} ` +
    `(then OOM kill ${next})`
  );
}

function progressMessage(
  ctx: DrillContext,
  parts: { headline: string; steps: string[] },
): SlackMessage {
  const text = `${stripEmoji(parts.headline)} (drill ${ctx.drillId})`;
  return {
    text,
    blocks: [
      section(parts.headline),
      section(clip(parts.steps.join('\n'))),
      context(factsLine(ctx)),
      stopButton(ctx.drillId),
    ],
  };
}

/** The Stop button, with a confirmation: stopping deletes the pod mid-drill. */
function stopButton(drillId: string): KnownBlock {
  return {
    type: 'actions',
    block_id: 'oomtest_controls',
    elements: [
      {
        type: 'button',
        action_id: STOP_ACTION_ID,
        value: drillId,
        style: 'danger',
        text: { type: 'plain_text', text: 'Stop drill' },
        confirm: {
          title: { type: 'plain_text', text: 'Stop this drill?' },
          text: { type: 'plain_text', text: 'The drill pod is deleted and the drill ends now.' },
          confirm: { type: 'plain_text', text: 'Stop' },
          deny: { type: 'plain_text', text: 'Keep running' },
        },
      },
    ],
  };
}

/**
 * The final message: the verdict on top, the cause of a failure in plain words, key facts,
 * then the describe-style text in code blocks. When that text needs more than
 * MAX_INLINE_DESCRIBE_BLOCKS blocks, its head and tail stay inline and the whole of it
 * comes back as `file` for files.uploadV2.
 */
export function renderOutcome(
  ctx: DrillContext,
  outcome: DrillOutcome,
  opts: { stoppedBy?: string } = {},
): RenderedOutcome {
  const verdict = `${STATUS_EMOJI[outcome.status]} *${escapeMrkdwn(outcome.verdict)}*`;
  const blocks: KnownBlock[] = [section(verdict)];

  if (opts.stoppedBy !== undefined) blocks.push(section(`Stopped by ${mention(opts.stoppedBy)}.`));
  if (outcome.failure !== undefined)
    blocks.push(section(clip(`*Cause:* ${escapeMrkdwn(outcome.failure.message)}`)));
  blocks.push(context(outcomeFacts(ctx, outcome)));

  const describe = describeBlocks(outcome);
  blocks.push(...describe.blocks);
  return {
    message: { text: `${escapeMrkdwn(outcome.verdict)} (drill ${ctx.drillId})`, blocks },
    ...(describe.attach ? { file: describeFile(ctx, outcome) } : {}),
  };
}

const STATUS_EMOJI: Record<DrillStatus, string> = {
  done: ':white_check_mark:',
  failed: ':x:',
  timedout: ':alarm_clock:',
  stopped: ':octagonal_sign:',
};

function outcomeFacts(ctx: DrillContext, outcome: DrillOutcome): string {
  const kills = `${outcome.kills.length} of ${ctx.request.kills} OOM kills`;
  const restarts = `restart count ${outcome.restartCount}`;
  const tookMs = Date.parse(outcome.finishedAt) - Date.parse(outcome.startedAt);
  const took = Number.isFinite(tookMs) ? `took ${formatSeconds(tookMs / 1_000)}` : undefined;
  const pod = outcome.deleted ? 'pod deleted' : podLeftBehind(outcome);
  return [factsLine(ctx), kills, restarts, took, pod].filter(Boolean).join(' · ');
}

function podLeftBehind(outcome: DrillOutcome): string {
  if (outcome.describe === '') return 'no pod created';
  return outcome.request.keep ? 'pod kept (--keep)' : 'pod not deleted';
}

function describeBlocks(outcome: DrillOutcome): { blocks: KnownBlock[]; attach: boolean } {
  if (outcome.describe.trim() === '') return { blocks: [], attach: false };

  const chunks = codeBlocks(outcome.describe);
  if (chunks.length <= MAX_INLINE_DESCRIBE_BLOCKS)
    return { blocks: chunks.map(section), attach: false };

  const omitted = chunks.length - 2;
  const parts = `part${omitted === 1 ? '' : 's'}`;
  const note = `… ${omitted} more ${parts} of the describe output are in the attached file …`;
  return { blocks: [section(chunks[0]!), context(note), section(chunks.at(-1)!)], attach: true };
}

function describeFile(
  ctx: DrillContext,
  outcome: DrillOutcome,
): NonNullable<RenderedOutcome['file']> {
  const { pod, namespace } = ctx.request;
  return {
    filename: `${pod}-${ctx.drillId}-describe.txt`,
    title: `kubectl describe pod ${pod} -n ${namespace} (drill ${ctx.drillId})`,
    content: outcome.describe,
  };
}

/**
 * Thread replies with the details: the kills, the pod's events, and the tail of the killed
 * container's log. Each string is mrkdwn of at most 3,000 characters, for one section block
 * or one message's text.
 */
export function renderThreadDetails(outcome: DrillOutcome): string[] {
  const details: string[] = [];
  if (outcome.kills.length > 0) details.push(killsDetail(outcome));

  const events = eventsSection(outcome.describe);
  if (events !== undefined) details.push(...headedCode('*Events*', events));
  if (outcome.logTail !== undefined && outcome.logTail.trim() !== '')
    details.push(logDetail(outcome.logTail));
  return details;
}

function killsDetail(outcome: DrillOutcome): string {
  const lines = outcome.kills.map((kill) => {
    const when = kill.finishedAt === null ? '' : ` at ${escapeMrkdwn(kill.finishedAt)}`;
    const took =
      kill.fillMs === undefined ? '' : ` after ${formatSeconds(kill.fillMs / 1_000)} of filling`;
    return `• ${killLine(kill, outcome.request.kills)}${when}${took}`;
  });
  return clip(`*OOM kills*\n${lines.join('\n')}`);
}

/** The `Events:` part of a describe text, through the end. */
function eventsSection(describe: string): string | undefined {
  const start = describe.search(/^Events:/m);
  return start < 0 ? undefined : describe.slice(start);
}

/** A heading on the first of `text`'s code blocks, every part within a section's limit. */
function headedCode(heading: string, text: string): string[] {
  const blocks = codeBlocks(text, MAX_SECTION_CHARS - heading.length - 1);
  return blocks.map((block, index) => (index === 0 ? `${heading}\n${block}` : block));
}

/** Room for the heading and the fences: the rest of a section holds the log's last lines. */
const LOG_TAIL_CHARS = 2_700;

function logDetail(logTail: string): string {
  const shown = tail(logTail, LOG_TAIL_CHARS);
  const heading = shown.cut
    ? '*Log of the killed container (last lines)*'
    : '*Log of the killed container*';
  const [block] = codeBlocks(escapeLengthSafe(shown.text));
  return `${heading}\n${block}`;
}

/**
 * Escaping can grow text (`<` becomes `&lt;`); trims from the front until the escaped
 * form fits LOG_TAIL_CHARS, so the newest lines survive.
 */
function escapeLengthSafe(text: string): string {
  let shown = text;
  while (escapeMrkdwn(shown).length > LOG_TAIL_CHARS) shown = tail(shown, shown.length - 200).text;
  return shown;
}

/**
 * The reply to `/oomtest status`: one line per active drill, newest last. Plain mrkdwn
 * text for an ephemeral message.
 */
export function renderStatus(
  drills: Array<{ drillId: string; request: DrillRequest; requestedBy: string; state: string }>,
): string {
  if (drills.length === 0) return 'No drills are running or queued.';

  const lines = drills.slice(0, MAX_STATUS_LINES).map((drill) => {
    const { request } = drill;
    return (
      `• ${target(request)}: ${escapeMrkdwn(drill.state)}, ` +
      `asked by ${mention(drill.requestedBy)} (drill ${inlineCode(drill.drillId)})`
    );
  });
  const more = drills.length - lines.length;
  if (more > 0) lines.push(`… and ${more} more`);
  return clip(
    `*${drills.length} drill${drills.length === 1 ? '' : 's'} active*\n${lines.join('\n')}`,
  );
}

/** `ns/pod` at 200Mi (and the cluster when one was named). */
function target(request: DrillRequest): string {
  const cluster = request.cluster === undefined ? '' : ` on ${inlineCode(request.cluster)}`;
  return (
    `${inlineCode(`${request.namespace}/${request.pod}`)} ` +
    `at ${escapeMrkdwn(request.memoryLimit)}${cluster}`
  );
}

function factsLine(ctx: DrillContext): string {
  const { request } = ctx;
  const details =
    `${request.kills} kill${request.kills === 1 ? '' : 's'}, ` +
    `method ${request.method}, image ${inlineCode(request.image)}`;
  return `Drill ${inlineCode(ctx.drillId)} · asked by ${mention(ctx.requestedBy)} · ${details}`;
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text) }] };
}

/** Keeps generated text within a section's limit; only pathological input reaches it. */
function clip(text: string): string {
  return text.length <= MAX_SECTION_CHARS ? text : `${text.slice(0, MAX_SECTION_CHARS - 1)}…`;
}

function stripEmoji(text: string): string {
  return text.replace(/:[a-z_]+: /g, '').replace(/`/g, '');
}
