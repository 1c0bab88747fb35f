/**
 * Splits command words into positional arguments and flags: `--flag value`, `--flag=value`
 * and the boolean `--keep`, anywhere on the line. Refuses unknown flags (naming the closest
 * known one), repeated flags, flags without a value and values given to `--keep`.
 */
import { InvalidRequestError } from '../errors.js';
import { quote } from '../quantity.js';

export const DRILL_FLAGS = [
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
export type FlagName = (typeof DRILL_FLAGS)[number];

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

export interface Arguments {
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
  if (BOOLEAN_FLAGS.has(flag)) {
    return readBoolean(flag, { inline, next: tokens[index + 1], args: context.args });
  }

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
  if (name === '') {
    throw new InvalidRequestError(`${quote(token)} is not a flag: flags read --name`);
  }

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
export function splitArguments(
  tokens: readonly string[],
  command: FlagContext['command'],
): Arguments {
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

/** The value of a flag that takes one, or undefined when it was not given. */
export function flagText(args: Arguments, flag: FlagName): string | undefined {
  const value = args.flags.get(flag);
  return typeof value === 'string' ? value : undefined;
}
