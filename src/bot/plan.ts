/**
 * The synchronous half of a slash command: parse, authorise, and decide what to answer.
 * Nothing here waits on Redis or Slack, so the acknowledgement goes out at once; the slow
 * half (queue, channel message) runs after it (see respond.ts).
 */
import { toOomtestError, type OomtestError } from '../errors.js';
import type { Config } from '../config.js';
import type { DrillRequest } from '../request/types.js';
import { parseCommand } from '../request/parse.js';
import { helpText } from '../request/help.js';
import { newDrillId } from '../queue/index.js';
import { escapeMrkdwn, inlineCode } from '../slack/mrkdwn.js';
import { authoriseCaller, authoriseTarget, type Caller } from './authorise.js';

/** The subcommand, as it appears in audit lines and metrics. */
export type CommandName = 'drill' | 'help' | 'status' | 'stop';

export type Plan =
  | { kind: 'refused'; command: CommandName; error: OomtestError }
  | { kind: 'help'; command: 'help' }
  | { kind: 'status'; command: 'status' }
  | { kind: 'stop'; command: 'stop'; pod: string; namespace: string; cluster?: string }
  | { kind: 'drill'; command: 'drill'; drillId: string; request: DrillRequest };

export interface CommandInput extends Caller {
  /** What followed `/oomtest`. */
  text: string;
}

/** Decides what a command asks for and whether it is allowed. Never throws. */
export function planCommand(
  input: CommandInput,
  config: Config,
  newId: () => string = newDrillId,
): Plan {
  try {
    authoriseCaller(config, input);
    return allowedPlan(parseCommand(input.text, config.defaults), config, newId);
  } catch (error) {
    return { kind: 'refused', command: guessCommand(input.text), error: toOomtestError(error) };
  }
}

function allowedPlan(
  parsed: ReturnType<typeof parseCommand>,
  config: Config,
  newId: () => string,
): Plan {
  switch (parsed.kind) {
    case 'help':
      return { kind: 'help', command: 'help' };
    case 'status':
      return { kind: 'status', command: 'status' };
    case 'stop':
      authoriseTarget(config, parsed);
      return { ...parsed, command: 'stop' };
    case 'drill':
      authoriseTarget(config, parsed.request);
      return { kind: 'drill', command: 'drill', drillId: newId(), request: parsed.request };
  }
}

/** The subcommand a refused text was meant to be, for the audit line. */
function guessCommand(text: string): CommandName {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase();
  if (first === 'help' || first === 'status' || first === 'stop') return first;
  return first === undefined || first === '' ? 'help' : 'drill';
}

/**
 * The ephemeral text of the acknowledgement; undefined acknowledges silently (the answer
 * follows through response_url once Redis has been asked).
 */
export function ackText(plan: Plan, config: Config): string | undefined {
  switch (plan.kind) {
    case 'refused':
      return refusalText(plan.error);
    case 'help':
      return helpText({ target: 'slack', defaults: config.defaults });
    case 'drill':
      return queuedText(plan.drillId, plan.request);
    default:
      return undefined;
  }
}

function refusalText(error: OomtestError): string {
  // Our errors are written for the person who typed the command; anything else is not.
  const message = error.code === 'internal' ? 'something went wrong on our side' : error.message;
  const hint = error.code === 'request.invalid' ? ' (`/oomtest help` shows the usage)' : '';
  return `:no_entry: ${escapeMrkdwn(message)}${hint}. Nothing was queued.`;
}

function queuedText(drillId: string, request: DrillRequest): string {
  const target = inlineCode(`${request.namespace}/${request.pod}`);
  const kills = `${request.kills} OOM kill${request.kills === 1 ? '' : 's'}`;
  return (
    `Drill ${inlineCode(drillId)} queued: ${target} at ${escapeMrkdwn(request.memoryLimit)}, ` +
    `${kills}. Progress follows in this channel.`
  );
}
