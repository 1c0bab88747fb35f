/**
 * Character-level checks on command text, before any word is interpreted.
 *
 * No value typed here ever reaches a shell (the stress script is generated from numbers),
 * but values do land in pod specs, logs and Slack messages. Refusing shell metacharacters
 * outright is cheaper to reason about than proving every path escapes them, and it turns
 * a pasted `mem; rm -rf /` into a clear refusal instead of a confusing pod name error.
 */
import { InvalidRequestError } from '../errors.js';
import { quote } from '../quantity.js';

/**
 * Longest command accepted, in characters. The longest valid one (63-character pod and
 * namespace, a long image reference, a 253-character context, every flag) is about 750.
 */
export const MAX_COMMAND_CHARS = 1000;

const SHELL_METACHARACTERS = new Set(';|&$`<>(){}\\\'"*?!#~');

// Slack escapes these three in slash-command text, so a typed `<` arrives as `&lt;`.
const SLACK_ENTITIES: ReadonlyArray<readonly [string, string]> = [
  ['&lt;', '<'],
  ['&gt;', '>'],
  ['&amp;', '&'],
];

// With "Escape channels, users, and links" on, Slack wraps anything that looks like a URL,
// `ghcr.io/org/img` arriving as `<http://ghcr.io/org/img|ghcr.io/org/img>`; the label after
// the bar is what was typed. A typed `<` arrives as `&lt;`, so a raw `<` is always Slack's.
const SLACK_LINK = /<(?:https?|mailto):[^\s<>|]*\|([^\s<>|]+)>/g;
const SLACK_MENTION = /<[@#!][^\s<>]*>/;

// Autocorrect (Slack, macOS, iOS) turns a typed `--` into one of these.
const DASHES = new Map([
  ['\u2010', 'hyphen'],
  ['\u2011', 'non-breaking hyphen'],
  ['\u2012', 'figure dash'],
  ['\u2013', 'en dash'],
  ['\u2014', 'em dash'],
  ['\u2015', 'horizontal bar'],
  ['\u2212', 'minus sign'],
]);

const CHARACTER_NAMES = new Map([
  ['\u00a0', 'no-break space'],
  ['\u2018', 'curly quote'],
  ['\u2019', 'curly quote'],
  ['\u201c', 'curly quote'],
  ['\u201d', 'curly quote'],
  ['\u2026', 'ellipsis'],
]);

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The whitespace-separated word of `text` around `index`, for messages. */
function wordAt(text: string, index: number): string {
  const start = text.slice(0, index).search(/\S+$/);
  const end = text.slice(index).search(/\s/);
  return text.slice(start === -1 ? index : start, end === -1 ? undefined : index + end);
}

function refuseDash(text: string, index: number, char: string): InvalidRequestError {
  const word = wordAt(text, index);
  const corrected = word.replace(/^[-\u2010-\u2015\u2212]+/, '--');
  const name = DASHES.get(char) ?? 'dash';
  return new InvalidRequestError(
    `${quote(word)} has the dash ${char} (${name}, ${codePoint(char)}) where two hyphens belong: ` +
      `type two hyphens, ${quote(corrected)} (autocorrect turns -- into a dash)`,
  );
}

function refuseNonAscii(text: string, index: number, char: string): InvalidRequestError {
  const name = CHARACTER_NAMES.get(char);
  const shown = name === undefined ? `'${char}'` : `a ${name}`;
  return new InvalidRequestError(
    `${quote(wordAt(text, index))} contains ${shown} (${codePoint(char)}): ` +
      'commands take plain ASCII letters, digits and - . _ : / @ = only',
  );
}

function refuseMetacharacter(text: string, index: number, char: string, typed: string) {
  const how = typed === char ? '' : ` (Slack sends it as ${typed})`;
  return new InvalidRequestError(
    `${quote(wordAt(text, index))} contains the shell metacharacter ${char}${how}: ` +
      'commands take no quoting, redirection or substitution',
  );
}

function refuseControl(char: string): InvalidRequestError {
  if (char === '\n' || char === '\r') {
    return new InvalidRequestError('the command spans several lines: put it on one line');
  }
  return new InvalidRequestError(`the command contains a control character (${codePoint(char)})`);
}

/** The Slack entity starting at `index`, if any, as [typed text, character it stands for]. */
function entityAt(text: string, index: number): readonly [string, string] | undefined {
  return SLACK_ENTITIES.find(([entity]) => text.startsWith(entity, index));
}

function checkCharacter(text: string, index: number): void {
  const char = text.charAt(index);
  if (DASHES.has(char)) throw refuseDash(text, index, char);
  if (char.charCodeAt(0) > 0x7e) {
    throw refuseNonAscii(text, index, String.fromCodePoint(text.codePointAt(index) ?? 0));
  }
  if (char.charCodeAt(0) < 0x20 && char !== '\t') throw refuseControl(char);
  if (char === '\x7f') throw refuseControl(char);

  if (!SHELL_METACHARACTERS.has(char)) return;
  const [typed, meant] = entityAt(text, index) ?? [char, char];
  throw refuseMetacharacter(text, index, meant, typed);
}

/** Refuses a command longer than MAX_COMMAND_CHARS, before any other work on it. */
export function checkCommandLength(chars: number): void {
  if (chars <= MAX_COMMAND_CHARS) return;
  throw new InvalidRequestError(
    `the command is ${chars} characters long; at most ${MAX_COMMAND_CHARS} are accepted`,
  );
}

/**
 * Throws InvalidRequestError naming the first character a command may not contain: shell
 * metacharacters (also as Slack's `&lt;` `&gt;` `&amp;`), newlines and other control
 * characters, and anything outside ASCII, with a special word for autocorrected `--`.
 * Also refuses text over MAX_COMMAND_CHARS.
 */
export function checkCommandText(text: string): void {
  checkCommandLength(text.length);

  for (let index = 0; index < text.length; index += 1) checkCharacter(text, index);
}

/**
 * Replaces Slack's link markup with the text the user typed, and refuses mentions
 * (`@user`, `#channel`, `@here`), which are never arguments. Text without markup is
 * returned unchanged.
 */
export function unwrapSlackLinks(text: string): string {
  const unwrapped = text.replace(SLACK_LINK, '$1');
  if (SLACK_MENTION.test(unwrapped)) {
    // Not quoted back: echoing `<!channel>` into a reply would notify the channel.
    throw new InvalidRequestError(
      'the command contains a Slack mention or channel link (@user, #channel, @here): ' +
        'oomtest takes plain words only',
    );
  }

  return unwrapped;
}
