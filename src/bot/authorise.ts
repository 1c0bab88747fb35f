/**
 * Who may ask for what, from configuration alone: pure and synchronous, so it runs before
 * the acknowledgement without delaying it. Each refusal is a NotAllowedError whose message
 * names what was refused and how an admin would allow it. Messages are plain text; the
 * caller escapes them for Slack.
 */
import { NotAllowedError } from '../errors.js';
import type { Config } from '../config.js';

export interface Caller {
  /** Slack user id. */
  user: string;
  /** Slack channel id the command was typed in or the button clicked in. */
  channel: string;
}

export interface Target {
  namespace: string;
  /** kubeconfig context named with --cluster; undefined means the default one. */
  cluster?: string;
}

type Lists = Pick<
  Config,
  'allowedUsers' | 'allowedChannels' | 'allowedNamespaces' | 'allowedClusters'
>;

/** Throws unless the user and channel are allowed (an empty list allows everyone). */
export function authoriseCaller(config: Lists, caller: Caller): void {
  if (config.allowedUsers.length > 0 && !config.allowedUsers.includes(caller.user)) {
    throw new NotAllowedError(
      'you are not allowed to run OOM drills: ' +
        `your Slack user id ${caller.user} is not in OOMTEST_ALLOWED_USERS`,
    );
  }
  if (config.allowedChannels.length > 0 && !config.allowedChannels.includes(caller.channel)) {
    throw new NotAllowedError(
      'OOM drills are not allowed in this channel ' +
        `(${caller.channel} is not in OOMTEST_ALLOWED_CHANNELS)`,
    );
  }
}

/** Throws unless the namespace, and the cluster when one is named, are allowed. */
export function authoriseTarget(config: Lists, target: Target): void {
  if (!config.allowedNamespaces.includes(target.namespace)) {
    throw new NotAllowedError(
      `namespace "${target.namespace}" is not allowed: use ${listWords(config.allowedNamespaces)}`,
    );
  }
  if (target.cluster === undefined) return;

  if (config.allowedClusters.length === 0) {
    throw new NotAllowedError(
      '--cluster is not allowed here: no clusters are listed in OOMTEST_ALLOWED_CLUSTERS, ' +
        'so drills run on the default one',
    );
  }
  if (!config.allowedClusters.includes(target.cluster)) {
    throw new NotAllowedError(
      `cluster "${target.cluster}" is not allowed: use ${listWords(config.allowedClusters)}`,
    );
  }
}

function listWords(items: string[]): string {
  const quoted = items.map((item) => `"${item}"`);
  if (quoted.length === 1) return quoted[0]!;
  return `one of ${quoted.join(', ')}`;
}
