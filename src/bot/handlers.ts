/**
 * The Bolt listeners: `/oomtest` and the Stop button. Both acknowledge before anything
 * slow happens (Slack gives 3 s); the acknowledgement's text is decided from the command
 * and the configuration alone.
 */
import type { App, RespondFn, BlockButtonAction } from '@slack/bolt';
import type { Config } from '../config.js';
import { InvalidRequestError, toOomtestError } from '../errors.js';
import { STOP_ACTION_ID } from '../slack/render.js';
import { escapeMrkdwn } from '../slack/mrkdwn.js';
import { authoriseCaller } from './authorise.js';
import { audit } from './audit.js';
import { followUp, stopRequestedText, type FollowUpDeps, type Reply } from './follow-up.js';
import { ackText, planCommand } from './plan.js';

/** The slash command this app answers. */
export const COMMAND = '/oomtest';

export interface HandlerDeps extends FollowUpDeps {
  config: Config;
}

/** Registers the command and the Stop button on `app`. */
export function registerHandlers(app: App, deps: HandlerDeps): void {
  app.command(COMMAND, async ({ command, ack, respond }) => {
    const startedAt = process.hrtime.bigint();
    const input = { text: command.text, user: command.user_id, channel: command.channel_id };
    const plan = planCommand(input, deps.config);
    const text = ackText(plan, deps.config);

    await (text === undefined ? ack() : ack({ response_type: 'ephemeral', text }));
    deps.metrics?.ackSeconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);

    const reply = replier(respond, deps);
    await followUp({ plan, input: { ...input, responseUrl: command.response_url }, reply }, deps);
  });

  app.action<BlockButtonAction>(STOP_ACTION_ID, async ({ body, action, ack, respond }) => {
    await ack();
    await stopFromButton({ body, drillId: action.value ?? '' }, deps, replier(respond, deps));
  });
}

/** Drill ids are label values: lower-case letters, digits and '-', at most 63. */
const DRILL_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

async function stopFromButton(
  click: { body: BlockButtonAction; drillId: string },
  deps: HandlerDeps,
  reply: Reply,
): Promise<void> {
  const user = click.body.user.id;
  const channel = click.body.channel?.id ?? click.body.container?.channel_id ?? '';
  const entry = { user, channel, command: 'stop' as const, drillId: click.drillId };

  try {
    authoriseCaller(deps.config, { user, channel });
    if (!DRILL_ID.test(click.drillId))
      throw new InvalidRequestError('the Stop button carried no valid drill id');

    await deps.queue.requestStop({ drillId: click.drillId, by: user });
    await reply(stopRequestedText(click.drillId));
    audit(deps, { ...entry, result: 'accepted' });
  } catch (error) {
    const known = toOomtestError(error);
    const refused = known.code === 'auth.denied' || known.code === 'request.invalid';
    const message = known.code === 'internal' ? 'the drill could not be stopped' : known.message;

    await reply(`${refused ? ':no_entry:' : ':warning:'} ${escapeMrkdwn(message)}.`);
    audit(deps, {
      ...entry,
      result: refused ? 'refused' : 'failed',
      code: known.code,
      err: refused ? undefined : error,
    });
  }
}

/**
 * Ephemeral replies through response_url. `replace_original: false` matters for the Stop
 * button: without it Slack could replace the drill's channel message with the reply.
 */
function replier(respond: RespondFn, deps: HandlerDeps): Reply {
  return async (text) => {
    try {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    } catch (error) {
      // response_url expires after 30 minutes or 5 uses; the audit line still records it.
      deps.logger.warn(
        { code: 'slack.api', err: describeFailure(error) },
        'could not reply through response_url',
      );
    }
  };
}

/** The failure without the request it came from: axios errors carry the response_url. */
function describeFailure(error: unknown): { message: string } {
  return { message: error instanceof Error ? error.message : String(error) };
}
