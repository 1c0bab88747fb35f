/**
 * Command text → a validated ParsedCommand. Pure: the same grammar serves the Slack
 * command (`/oomtest mem-nginx 200Mi --kills 3`) and the terminal (`oomtest run ...`).
 *
 *   <pod-name> <memory-limit> [--namespace NS] [--kills N] [--method tmpfs|emptydir|anon]
 *     [--fill SIZE] [--image IMAGE] [--cpu QTY] [--timeout DURATION] [--keep] [--cluster CONTEXT]
 *   help | status | stop <pod-name> [--namespace NS] [--cluster CONTEXT]
 *
 * Flags go anywhere, as `--flag value` or `--flag=value`. Whether the namespace, cluster,
 * user or channel is allowed is decided by the caller; only the memory cap is checked here.
 */
import { InvalidRequestError } from '../errors.js';
import { quote } from '../quantity.js';
import { checkCommandText, MAX_COMMAND_CHARS } from './characters.js';
import type { DrillRequest, ParsedCommand, RequestDefaults } from './types.js';
import {
  checkContext,
  checkCpu,
  checkFill,
  checkImage,
  checkKills,
  checkLabel,
  checkMemoryLimit,
  checkMethod,
  checkTimeout,
  defaultFill,
} from './values.js';

const DRILL_FLAGS = [
  'namespace',
  'kills',
  'method',
  'fill',
  'image',
  'cpu',
  'timeout',
  'keep',
  'cluster',
] as const;
type FlagName = (typeof DRILL_FLAGS)[number];

const STOP_FLAGS: readonly FlagName[] = ['namespace', 'cluster'];
const BOOLEAN_FLAGS: ReadonlySet<FlagName> = new Set(['keep']);

// Words people reach for from kubectl and other tools, mapped to our flag.
const FLAG_SYNONYMS: Readonly<Record<string, FlagName>> = {
  n: 'namespace',
  ns: 'namespace',
  context: 'cluster',
  'kube-context': 'cluster',
  kubecontext: 'cluster',
  count: 'kills',
  restarts: 'kills',
  size: 'fill',
  memory: 'fill',
  limit: 'fill',
  cpus: 'cpu',
  deadline: 'timeout',
};

const HELP_FLAGS = new Set(['--help', '-h']);
const USAGE_EXAMPLE = 'e.g. "mem-nginx 200Mi"';

interface Arguments {
  positionals: string[];
  flags: Map<FlagName, string | true>;
}

/** Edit distance, for "did you mean" on mistyped flags. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }

  return previous[b.length] ?? 0;
}

/** The known flag closest to `name`, if one is close enough to be a typo. */
export function closestFlag(name: string, allowed: readonly FlagName[]): FlagName | undefined {
  const lower = name.toLowerCase();
  const synonym = FLAG_SYNONYMS[lower];
  if (synonym !== undefined && allowed.includes(synonym)) return synonym;

  const prefixed = allowed.filter((flag) => lower.length >= 2 && flag.startsWith(lower));
  if (prefixed.length === 1) return prefixed[0];

  // One typo per three letters: `--namspace`, `--kils`, `--timout` but not `--cat`.
  const ranked = allowed
    .map((flag) => ({ flag, distance: editDistance(lower, flag) }))
    .filter(({ flag, distance }) => distance <= Math.max(1, Math.floor(flag.length / 3)))
    .sort((a, b) => a.distance - b.distance);
  return ranked[0]?.flag;
}

function unknownFlag(
  token: string,
  name: string,
  allowed: readonly FlagName[],
): InvalidRequestError {
  const closest = closestFlag(name, allowed);
  const hint =
    closest === undefined
      ? `; flags are ${allowed.map((flag) => `--${flag}`).join(' ')}`
      : `: did you mean --${closest}?`;
  return new InvalidRequestError(`unknown flag ${quote(token)}${hint}`);
}

function isFlagLike(token: string): boolean {
  return token.startsWith('--') || /^-[A-Za-z]/.test(token);
}

/** Reads one flag at `tokens[index]`; returns how many tokens it used. */
function readFlag(tokens: readonly string[], index: number, context: FlagContext): number {
  const token = tokens[index] ?? '';
  const equals = token.indexOf('=');
  const name = token.slice(2, equals === -1 ? undefined : equals);
  const inline = equals === -1 ? undefined : token.slice(equals + 1);
  const flag = knownFlag(token, name, context);

  if (context.args.flags.has(flag)) throw new InvalidRequestError(`--${flag} is given twice`);
  if (BOOLEAN_FLAGS.has(flag))
    return readBoolean(flag, { inline, next: tokens[index + 1], args: context.args });

  const value = inline ?? tokens[index + 1];
  if (value === undefined || value === '' || (inline === undefined && isFlagLike(value))) {
    const after =
      inline === undefined && value !== undefined ? `, but ${quote(value)} follows it` : '';
    throw new InvalidRequestError(`--${flag} needs a value${after}`);
  }

  context.args.flags.set(flag, value);
  return inline === undefined ? 2 : 1;
}

interface FlagContext {
  command: 'drill' | 'stop';
  allowed: readonly FlagName[];
  args: Arguments;
}

function knownFlag(token: string, name: string, context: FlagContext): FlagName {
  if (name === '')
    throw new InvalidRequestError(`${quote(token)} is not a flag: flags read --name`);

  const flag = DRILL_FLAGS.find((candidate) => candidate === name);
  if (flag === undefined) throw unknownFlag(token, name, context.allowed);
  if (!context.allowed.includes(flag)) {
    const allowed = context.allowed.map((candidate) => `--${candidate}`).join(' and ');
    throw new InvalidRequestError(
      `--${flag} does not apply to ${context.command}: it takes only ${allowed}`,
    );
  }

  return flag;
}

// Values people put after a switch out of habit; anything else after --keep is positional.
const BOOLEAN_WORDS = new Set(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0']);

function readBoolean(
  flag: FlagName,
  options: { inline?: string; next?: string; args: Arguments },
): number {
  const value =
    options.inline ??
    (BOOLEAN_WORDS.has(options.next?.toLowerCase() ?? '') ? options.next : undefined);
  if (value !== undefined) {
    throw new InvalidRequestError(
      `--${flag} takes no value (got ${quote(value)}): write --${flag} alone, or leave it out`,
    );
  }

  options.args.flags.set(flag, true);
  return 1;
}

function readShortFlag(token: string, allowed: readonly FlagName[]): never {
  const name = token.slice(1).split('=')[0] ?? '';
  const closest = closestFlag(name, allowed);
  const hint = closest === undefined ? '' : `, e.g. --${closest}`;
  throw new InvalidRequestError(`unknown flag ${quote(token)}: flags take two hyphens${hint}`);
}

/** Splits tokens into positionals and flags, refusing unknown, repeated or empty flags. */
function splitArguments(tokens: readonly string[], command: FlagContext['command']): Arguments {
  const allowed = command === 'stop' ? STOP_FLAGS : DRILL_FLAGS;
  const context: FlagContext = { command, allowed, args: { positionals: [], flags: new Map() } };

  let index = 0;
  while (index < tokens.length) {
    const token = tokens[index] ?? '';
    if (token.startsWith('--')) {
      index += readFlag(tokens, index, context);
      continue;
    }
    if (/^-[A-Za-z]/.test(token)) readShortFlag(token, allowed);

    context.args.positionals.push(token);
    index += 1;
  }

  return context.args;
}

function checkTokens(tokens: readonly string[]): void {
  const total = tokens.reduce((sum, token) => sum + token.length + 1, 0);
  if (total > MAX_COMMAND_CHARS) checkCommandText(tokens.join(' '));

  for (const token of tokens) {
    if (token === '') throw new InvalidRequestError('the command has an empty argument');
    if (/\s/.test(token))
      throw new InvalidRequestError(`argument ${quote(token)} contains a space`);
    checkCommandText(token);
  }
}

function looksLikeQuantity(text: string): boolean {
  return /^[+-]?[\d.]/.test(text);
}

/** The pod name and limit, in that order, with messages for the usual slips. */
function podAndLimit(positionals: readonly string[]): [string, string] {
  const [pod, limit, extra] = positionals;
  if (pod === undefined) {
    throw new InvalidRequestError(`missing the pod name and memory limit: ${USAGE_EXAMPLE}`);
  }
  if (limit === undefined && looksLikeQuantity(pod)) {
    throw new InvalidRequestError(`missing the pod name before ${quote(pod)}: ${USAGE_EXAMPLE}`);
  }
  if (limit !== undefined && looksLikeQuantity(pod) && !looksLikeQuantity(limit)) {
    throw new InvalidRequestError(`the pod name comes first: ${quote(`${limit} ${pod}`)}`);
  }

  checkLabel(pod, 'pod name');
  if (limit === undefined) {
    throw new InvalidRequestError(
      `missing the memory limit after ${quote(pod)}: e.g. "${pod} 200Mi"`,
    );
  }
  if (extra !== undefined) {
    const expected = `a drill takes a pod name and a memory limit, ${USAGE_EXAMPLE}`;
    throw new InvalidRequestError(`unexpected extra argument ${quote(extra)}: ${expected}`);
  }
  return [pod, limit];
}

function flagText(args: Arguments, flag: FlagName): string | undefined {
  const value = args.flags.get(flag);
  return typeof value === 'string' ? value : undefined;
}

function buildDrill(args: Arguments, defaults: RequestDefaults): DrillRequest {
  const [pod, limitText] = podAndLimit(args.positionals);
  const namespace = checkLabel(flagText(args, 'namespace') ?? defaults.namespace, '--namespace');
  const limit = checkMemoryLimit(limitText, defaults.maxMemoryBytes);

  const fillText = flagText(args, 'fill');
  const fill =
    fillText === undefined
      ? defaultFill(limit)
      : checkFill(fillText, limit, defaults.maxMemoryBytes);
  const method = flagText(args, 'method');
  const kills = flagText(args, 'kills');
  const image = flagText(args, 'image');
  const cpu = flagText(args, 'cpu');
  const timeout = flagText(args, 'timeout');

  const request: DrillRequest = {
    pod,
    namespace,
    memoryLimit: limit.text,
    memoryLimitBytes: limit.bytes,
    kills: kills === undefined ? defaults.kills : checkKills(kills),
    method: method === undefined ? 'tmpfs' : checkMethod(method),
    fill: fill.text,
    fillBytes: fill.bytes,
    image: image === undefined ? defaults.image : checkImage(image),
    cpu: cpu === undefined ? defaults.cpu : checkCpu(cpu),
    timeoutSeconds: timeout === undefined ? defaults.timeoutSeconds : checkTimeout(timeout),
    keep: args.flags.get('keep') === true,
  };
  return withCluster(request, flagText(args, 'cluster'));
}

/** Adds `cluster` only when given, so the request survives a JSON round trip unchanged. */
function withCluster<T extends object>(
  value: T,
  cluster: string | undefined,
): T & { cluster?: string } {
  return cluster === undefined ? value : { ...value, cluster: checkContext(cluster) };
}

function buildStop(args: Arguments, defaults: RequestDefaults): ParsedCommand {
  const [pod, extra] = args.positionals;
  if (pod === undefined)
    throw new InvalidRequestError('stop needs the pod name: e.g. "stop mem-nginx"');
  if (extra !== undefined)
    throw new InvalidRequestError(`unexpected extra argument ${quote(extra)}`);

  const namespace = checkLabel(flagText(args, 'namespace') ?? defaults.namespace, '--namespace');
  const stop = { kind: 'stop' as const, pod: checkLabel(pod, 'pod name'), namespace };
  return withCluster(stop, flagText(args, 'cluster'));
}

/**
 * Parses already-split arguments (process argv after `oomtest run`, or words of a Slack
 * command). No arguments, `help`, `--help` or `-h` mean help. Throws InvalidRequestError
 * for anything malformed and NotAllowedError for a memory limit above the configured cap.
 */
export function parseTokens(tokens: readonly string[], defaults: RequestDefaults): ParsedCommand {
  checkTokens(tokens);

  const [first, ...rest] = tokens;
  if (first === undefined || tokens.some((token) => HELP_FLAGS.has(token))) return { kind: 'help' };

  const word = first.toLowerCase();
  if (word === 'help') return { kind: 'help' };
  if (word === 'status') {
    if (rest.length > 0)
      throw new InvalidRequestError(`status takes no arguments (got ${quote(rest.join(' '))})`);
    return { kind: 'status' };
  }
  if (word === 'stop') return buildStop(splitArguments(rest, 'stop'), defaults);

  return { kind: 'drill', request: buildDrill(splitArguments(tokens, 'drill'), defaults) };
}

/**
 * Parses the text of a Slack slash command (everything after `/oomtest`). Empty text means
 * help. Words are separated by spaces or tabs; there is no quoting.
 */
export function parseCommand(text: string, defaults: RequestDefaults): ParsedCommand {
  checkCommandText(text);

  const tokens = text.split(/[ \t]+/).filter((token) => token !== '');
  return parseTokens(tokens, defaults);
}
