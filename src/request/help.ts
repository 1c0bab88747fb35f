/**
 * Usage text for `/oomtest help` (Slack) and `oomtest run --help` (terminal). Both share the
 * grammar, so one text serves both; only the command prefix and the Slack-only
 * subcommands differ. The Slack form must fit one section block (3,000 characters).
 */
import { formatMemory } from '../quantity.js';
import { formatSeconds } from '../duration.js';
import type { RequestDefaults } from './types.js';
import {
  MAX_CPU_MILLICORES,
  MAX_KILLS,
  MAX_TIMEOUT_SECONDS,
  MIN_TIMEOUT_SECONDS,
} from './values.js';

export interface HelpOptions {
  /** Who reads it: `slack` (default) wraps the usage in a code block and lists stop/status. */
  target?: 'slack' | 'terminal';
  /** Command prefix shown in usage and examples. Default `/oomtest` (Slack), `oomtest run`. */
  prefix?: string;
  /** The running configuration, to show real defaults; generic wording without it. */
  defaults?: RequestDefaults;
}

/** Each default as shown; without a configuration, a pointer to where it is set. */
function defaultsText(defaults: RequestDefaults | undefined): Record<string, string> {
  return {
    namespace: defaults?.namespace ?? 'the configured one',
    kills: defaults === undefined ? 'the configured number' : String(defaults.kills),
    image: defaults?.image ?? 'the configured one',
    cpu: defaults?.cpu ?? 'the configured value',
    timeout:
      defaults === undefined ? 'the configured value' : formatSeconds(defaults.timeoutSeconds),
    max: defaults === undefined ? 'OOMTEST_MAX_MEMORY' : formatMemory(defaults.maxMemoryBytes),
  };
}

function usageLines(prefix: string, target: 'slack' | 'terminal'): string[] {
  const lines = [`${prefix} POD-NAME MEMORY-LIMIT [flags]       start a drill`];
  if (target === 'slack') {
    lines.push(
      `${prefix} stop POD-NAME [--namespace NS]     stop a drill, delete its pod`,
      `${prefix} status                              list drills in progress`,
      `${prefix} help                                this text`,
    );
  }

  return lines;
}

function exampleLines(prefix: string, target: 'slack' | 'terminal'): string[] {
  const lines = [
    `${prefix} mem-nginx 200Mi`,
    `${prefix} mem-nginx 512Mi --kills 3 --method emptydir`,
    `${prefix} mem-nginx 1Gi --namespace game-day --timeout 10m --keep`,
  ];
  if (target === 'slack') lines.push(`${prefix} stop mem-nginx`);
  return lines;
}

function flagLines(defaults: RequestDefaults | undefined): string[] {
  const shown = defaultsText(defaults);
  const timeouts = `${formatSeconds(MIN_TIMEOUT_SECONDS)}-${formatSeconds(MAX_TIMEOUT_SECONDS)}`;
  const maxCores = MAX_CPU_MILLICORES / 1000;
  return [
    `POD-NAME            lower case, digits, '-'; at most 63 characters`,
    `MEMORY-LIMIT        with a unit: 200Mi, 1Gi, 500M; at most ${shown.max}`,
    `--namespace NS      default: ${shown.namespace}`,
    `--kills N           OOM kills to watch, 1-${MAX_KILLS}; default: ${shown.kills}`,
    `--method M          how memory is filled; default: tmpfs`,
    `    tmpfs           files in a tmpfs mount; the pod runs privileged`,
    `    emptydir        files in a memory-backed emptyDir; no privilege`,
    `    anon            memory held by a process; no privilege`,
    `--fill SIZE         how much to fill; above the limit; default: twice the limit`,
    `--image IMAGE       needs sh, dd and mount; default: ${shown.image}`,
    `--cpu QTY           cpu request = limit, at most ${maxCores}; default: ${shown.cpu}`,
    `--timeout DURATION  ${timeouts}, back-off waits not counted; default: ${shown.timeout}`,
    `--keep              leave the pod in place at the end`,
    `--cluster CONTEXT   kubeconfig context; default: the current one`,
  ];
}

/**
 * The usage text. Defaults to the Slack form with the `/oomtest` prefix; pass
 * `{ target: 'terminal' }` for the CLI (prefix `oomtest run`, no code fences).
 * Placeholders are upper case rather than `<pod>`: the text holds no `<`, `>` or `&`, so it
 * goes into Slack mrkdwn as it is, with nothing to escape.
 */
export function helpText(options: HelpOptions = {}): string {
  const target = options.target ?? 'slack';
  const prefix = options.prefix ?? (target === 'slack' ? '/oomtest' : 'oomtest run');
  const body = [
    ...usageLines(prefix, target),
    '',
    'Examples:',
    ...exampleLines(prefix, target).map((line) => `  ${line}`),
    '',
    'Arguments and flags (flags go anywhere, as --flag value or --flag=value):',
    ...flagLines(options.defaults).map((line) => `  ${line}`),
  ].join('\n');

  const intro =
    'oomtest runs an out-of-memory drill: it creates the pod with requests = limits (QoS ' +
    'Guaranteed), fills memory past the limit until the kernel OOM-kills it, lets the kubelet ' +
    'restart it and repeats, then reports what kubectl describe pod shows and deletes the pod. ' +
    'tmpfs needs a namespace that admits privileged pods; emptydir and anon pass the ' +
    'restricted Pod Security profile.';
  return target === 'slack' ? `${intro}\n\`\`\`\n${body}\n\`\`\`` : `${intro}\n\n${body}`;
}
