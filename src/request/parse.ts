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
import { flagText, splitArguments, type Arguments } from './arguments.js';
import { checkCommandLength, checkCommandText, unwrapSlackLinks } from './characters.js';
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

const HELP_FLAGS = new Set(['--help', '-h']);
const USAGE_EXAMPLE = 'e.g. "mem-nginx 200Mi"';

function checkTokens(tokens: readonly string[]): void {
  // Counted as if joined by single spaces, the same measure parseCommand applies to text.
  checkCommandLength(tokens.reduce((sum, token) => sum + token.length, tokens.length - 1));

  for (const token of tokens) {
    if (token === '') throw new InvalidRequestError('the command has an empty argument');
    if (/\s/.test(token)) {
      throw new InvalidRequestError(`argument ${quote(token)} contains a space`);
    }
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
  if (pod === undefined) {
    throw new InvalidRequestError('stop needs the pod name: e.g. "stop mem-nginx"');
  }
  if (extra !== undefined) {
    throw new InvalidRequestError(`unexpected extra argument ${quote(extra)}: stop takes one pod`);
  }

  checkLabel(pod, 'pod name');
  const namespace = checkLabel(flagText(args, 'namespace') ?? defaults.namespace, '--namespace');
  const stop = { kind: 'stop' as const, pod, namespace };
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
    if (rest.length > 0) {
      throw new InvalidRequestError(`status takes no arguments (got ${quote(rest.join(' '))})`);
    }
    return { kind: 'status' };
  }
  if (word === 'stop') return buildStop(splitArguments(rest, 'stop'), defaults);

  return { kind: 'drill', request: buildDrill(splitArguments(tokens, 'drill'), defaults) };
}

/**
 * Parses the text of a Slack slash command (everything after `/oomtest`). Empty text means
 * help. Words are separated by spaces or tabs; there is no quoting. Slack's link markup is
 * read as the text the user typed (see unwrapSlackLinks).
 */
export function parseCommand(text: string, defaults: RequestDefaults): ParsedCommand {
  checkCommandLength(text.length);
  const plain = unwrapSlackLinks(text);
  checkCommandText(plain);

  const tokens = plain.split(/[ \t]+/).filter((token) => token !== '');
  return parseTokens(tokens, defaults);
}
