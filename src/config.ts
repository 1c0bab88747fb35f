/**
 * Settings, read from the environment once at start-up and validated. This is the only
 * module that reads `process.env`; everything else receives a `Config`.
 *
 * A problem stops the process with a message naming each bad variable, all at once, so an
 * operator fixes a Helm values file in one round instead of one crash per variable.
 */
import { ConfigError } from './errors.js';
import { parseMemory, parseCpu, formatMemory } from './quantity.js';
import { parseDuration } from './duration.js';
import type { RequestDefaults } from './request/types.js';

/** Which process is starting: each needs a different subset of settings. */
export type ProcessRole = 'bot' | 'worker' | 'all' | 'run';

/**
 * The stress image when neither OOMTEST_IMAGE nor --image is given: it must have a POSIX
 * sh, dd and mount. busybox has all three in about 4 MB and pulls in seconds. Fully
 * qualified because CRI-O may refuse short names; pinned so a drill is repeatable.
 */
export const DEFAULT_IMAGE = 'docker.io/library/busybox:1.36.1';

export interface SlackSettings {
  /** SLACK_BOT_TOKEN (xoxb-). */
  botToken?: string;
  /** SLACK_SIGNING_SECRET: verifies HTTP requests. */
  signingSecret?: string;
  /** SLACK_APP_TOKEN (xapp-): when set, the bot uses Socket Mode. */
  appToken?: string;
  /** SLACK_API_URL: Web API base, ending in `/` (e.g. `https://slack.com/api/`). */
  apiUrl?: string;
}

export interface Config {
  role: ProcessRole;
  slack: SlackSettings;
  /** PORT: HTTP routes (/slack/events, /healthz, /readyz, /metrics). 0 picks a free port. */
  port: number;
  /** REDIS_URL. */
  redisUrl: string;
  /** KUBECONFIG, when set; otherwise ~/.kube/config, then the in-cluster service account. */
  kubeconfigPath?: string;
  /** Values used when a flag is absent, and the memory cap. */
  defaults: RequestDefaults;
  /** OOMTEST_ALLOWED_NAMESPACES; defaults to the default namespace alone. */
  allowedNamespaces: string[];
  /** OOMTEST_ALLOWED_USERS: Slack user ids; empty means anyone. */
  allowedUsers: string[];
  /** OOMTEST_ALLOWED_CHANNELS: Slack channel ids; empty means any channel. */
  allowedChannels: string[];
  /** OOMTEST_ALLOWED_CLUSTERS: kubeconfig contexts `--cluster` may name; empty means none. */
  allowedClusters: string[];
  /** OOMTEST_WORKER_CONCURRENCY: drills one worker runs at once (default 50). */
  workerConcurrency: number;
  /** OOMTEST_JOB_RETENTION: how long finished jobs stay in Redis (default 24h). */
  jobRetentionSeconds: number;
  /** OOMTEST_SHUTDOWN_GRACE: how long SIGTERM waits for running drills (default 30s). */
  shutdownGraceSeconds: number;
  /** LOG_LEVEL: pino level (default info). */
  logLevel: string;
}

type Env = Record<string, string | undefined>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
// The characters an OCI reference may hold; the parser checks --image's full grammar.
const IMAGE_REFERENCE = /^[a-z0-9][a-z0-9._/:@-]{0,254}$/;
const CONTEXT_NAME = /^[A-Za-z0-9._@:/-]{1,253}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates every setting `role` needs. Throws ConfigError naming each problem. */
export function loadConfig(role: ProcessRole, env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const defaultNamespace = read.pattern(
    'OOMTEST_NAMESPACE',
    'default',
    DNS_LABEL,
    'a DNS-1123 label',
  );
  const config: Config = {
    role,
    slack: readSlack(read, role),
    port: read.integer('PORT', 3000, 0, 65_535),
    redisUrl: read.redisUrl('REDIS_URL', 'redis://127.0.0.1:6379'),
    kubeconfigPath: read.optional('KUBECONFIG'),
    defaults: {
      namespace: defaultNamespace,
      image: read.pattern('OOMTEST_IMAGE', DEFAULT_IMAGE, IMAGE_REFERENCE, 'an image reference'),
      cpu: read.cpu('OOMTEST_CPU', '500m'),
      kills: read.integer('OOMTEST_KILLS', 2, 1, 10),
      timeoutSeconds: read.duration('OOMTEST_TIMEOUT', '3m'),
      maxMemoryBytes: read.memory('OOMTEST_MAX_MEMORY', '4Gi'),
    },
    allowedNamespaces: read.list('OOMTEST_ALLOWED_NAMESPACES', DNS_LABEL, 'namespace'),
    allowedUsers: read.list('OOMTEST_ALLOWED_USERS', SLACK_USER_ID, 'Slack user id'),
    allowedChannels: read.list('OOMTEST_ALLOWED_CHANNELS', SLACK_CHANNEL_ID, 'Slack channel id'),
    allowedClusters: read.list('OOMTEST_ALLOWED_CLUSTERS', CONTEXT_NAME, 'kubeconfig context'),
    workerConcurrency: read.integer('OOMTEST_WORKER_CONCURRENCY', 50, 1, 1_000),
    jobRetentionSeconds: read.duration('OOMTEST_JOB_RETENTION', '24h'),
    shutdownGraceSeconds: read.duration('OOMTEST_SHUTDOWN_GRACE', '30s'),
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
  };
  if (config.allowedNamespaces.length === 0) config.allowedNamespaces = [defaultNamespace];

  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return config;
}

function readSlack(read: EnvReader, role: ProcessRole): SlackSettings {
  const needsSlack = role !== 'run';
  const botToken = read.secret('SLACK_BOT_TOKEN', 'xoxb-', needsSlack);
  const appToken = read.secret('SLACK_APP_TOKEN', 'xapp-', false);
  // Socket Mode needs no signing secret: Slack authenticates the socket with the app token.
  const needsSecret = (role === 'bot' || role === 'all') && appToken === undefined;
  const signingSecret = read.secret('SLACK_SIGNING_SECRET', '', needsSecret);
  const apiUrl = read.url('SLACK_API_URL');

  return {
    botToken,
    appToken,
    signingSecret,
    apiUrl: apiUrl === undefined || apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
  };
}

/** Reads one variable at a time, recording problems instead of throwing at the first. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  /** Never puts the value itself in a message: it is a credential. */
  secret(name: string, prefix: string, required: boolean): string | undefined {
    const value = this.optional(name);
    if (value === undefined) {
      if (required) this.problems.push(`${name} is required`);
      return undefined;
    }
    if (!value.startsWith(prefix)) this.problems.push(`${name} must start with "${prefix}"`);
    return value;
  }

  pattern(name: string, fallback: string, pattern: RegExp, what: string): string {
    const value = this.optional(name) ?? fallback;
    if (!pattern.test(value)) this.problems.push(`${name}="${value}" is not ${what}`);
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const text = this.optional(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      this.problems.push(`${name}="${text}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  oneOf(name: string, fallback: string, allowed: string[]): string {
    const value = this.optional(name) ?? fallback;
    if (!allowed.includes(value))
      this.problems.push(`${name}="${value}" must be one of ${allowed.join(', ')}`);
    return value;
  }

  list(name: string, pattern: RegExp, what: string): string[] {
    const text = this.optional(name);
    if (text === undefined) return [];
    const items = text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    for (const item of items) {
      if (!pattern.test(item)) this.problems.push(`${name}: "${item}" is not a valid ${what}`);
    }
    return [...new Set(items)];
  }

  memory(name: string, fallback: string): number {
    const text = this.optional(name) ?? fallback;
    try {
      return parseMemory(text, name).bytes;
    } catch (error) {
      this.problems.push(`${name}: ${(error as Error).message}`);
      return parseMemory(fallback, name).bytes;
    }
  }

  cpu(name: string, fallback: string): string {
    const text = this.optional(name) ?? fallback;
    try {
      return parseCpu(text).text;
    } catch (error) {
      this.problems.push(`${name}: ${(error as Error).message}`);
      return fallback;
    }
  }

  duration(name: string, fallback: string): number {
    const text = this.optional(name) ?? fallback;
    try {
      return parseDuration(text, name);
    } catch (error) {
      this.problems.push(`${name}: ${(error as Error).message}`);
      return parseDuration(fallback, name);
    }
  }

  url(name: string): string | undefined {
    const text = this.optional(name);
    if (text === undefined) return undefined;
    if (!isUrl(text, ['http:', 'https:']))
      this.problems.push(`${name}="${text}" is not an http(s) URL`);
    return text;
  }

  /** The URL may hold a password: a problem names the variable, never the value. */
  redisUrl(name: string, fallback: string): string {
    const text = this.optional(name) ?? fallback;
    if (!isUrl(text, ['redis:', 'rediss:']))
      this.problems.push(`${name} is not a redis:// or rediss:// URL`);
    return text;
  }
}

function isUrl(text: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** A one-line description of the settings that matter for an operator, without secrets. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    role: config.role,
    port: config.port,
    mode: config.slack.appToken === undefined ? 'http' : 'socket',
    allowedNamespaces: config.allowedNamespaces,
    allowedUsers: config.allowedUsers.length === 0 ? 'anyone' : config.allowedUsers.length,
    allowedChannels: config.allowedChannels.length === 0 ? 'any' : config.allowedChannels.length,
    allowedClusters: config.allowedClusters,
    maxMemory: formatMemory(config.defaults.maxMemoryBytes),
    workerConcurrency: config.workerConcurrency,
  };
}
