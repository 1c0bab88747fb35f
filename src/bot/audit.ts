/**
 * The audit trail: one structured line per command, refusal and outcome, saying who asked,
 * where, what, with what result, and which drill. Never the request body or a token: the
 * body carries Slack's verification token and a response_url that works for 30 minutes.
 */
import type { Logger as SlackLogger } from '@slack/bolt';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { slackLogger } from '../slack/client.js';
import type { CommandName } from './plan.js';

export interface AuditEntry {
  user: string;
  channel: string;
  command: CommandName;
  result: 'accepted' | 'refused' | 'failed';
  code?: ErrorCode;
  drillId?: string;
  pod?: string;
  namespace?: string;
  cluster?: string;
  /** Kept for the log line only: what a failed call threw. */
  err?: unknown;
}

/** Writes the audit line and counts the command in the metrics. */
export function audit(deps: { logger: Logger; metrics?: Metrics }, entry: AuditEntry): void {
  const { err, ...fields } = entry;
  const line = err === undefined ? fields : { ...fields, err };

  if (entry.result === 'failed') deps.logger.warn(line, `command ${entry.command} failed`);
  else deps.logger.info(line, `command ${entry.command} ${entry.result}`);
  deps.metrics?.commands.inc({ command: entry.command, result: entry.result });
}

/** What Bolt's HTTP receiver logs, before answering 401, for a request that did not verify. */
const UNVERIFIED_PREFIX = 'Failed to parse and verify the request data';

/**
 * The receiver's logger, adding an audit line for each request Bolt refused because its
 * signature or timestamp did not verify. Bolt offers no hook there, only this log call. The
 * sender is unknown (an unverified body proves nothing), so the line names only the refusal.
 */
export function receiverLogger(deps: { logger: Logger; metrics?: Metrics }): SlackLogger {
  const base = slackLogger(deps.logger);

  return {
    ...base,
    warn: (...parts: unknown[]) => {
      if (typeof parts[0] !== 'string' || !parts[0].startsWith(UNVERIFIED_PREFIX)) {
        return base.warn(...parts);
      }
      const line = { command: 'request', result: 'refused', code: 'auth.denied' };
      deps.logger.warn(line, 'Slack request refused: its signature or timestamp did not verify');
      deps.metrics?.commands.inc({ command: 'request', result: 'refused' });
    },
  };
}
