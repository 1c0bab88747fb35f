/**
 * Slack mrkdwn helpers: escaping, mentions, and splitting long text into code blocks that
 * each fit one section block.
 */

/** Slack refuses a section block whose text is longer than this (characters). */
export const MAX_SECTION_CHARS = 3_000;

const CODE_FENCE = '```';
/** Two fences and the newlines inside them. */
const FENCE_OVERHEAD_CHARS = CODE_FENCE.length * 2 + 2;

/**
 * Escapes the three characters Slack gives meaning to in mrkdwn (`&`, `<`, `>`), so user
 * text cannot ping `<!channel>` or forge a link. Applies inside code blocks too: Slack
 * shows `&lt;none&gt;` there as `<none>`.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `<@U123>` for a Slack user id; anything else is shown escaped, never as a mention. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

/** Inline code (`` `text` ``) with the backticks that would end it removed. */
export function inlineCode(text: string): string {
  return `\`${escapeMrkdwn(text.replace(/`/g, "'"))}\``;
}

/** Wraps already-escaped text in a code block; backtick runs cannot close it early. */
export function fence(escaped: string): string {
  return `${CODE_FENCE}\n${escaped.replace(/```/g, "'''")}\n${CODE_FENCE}`;
}

/**
 * Splits raw `text` into escaped code blocks of at most `maxChars` each (fences included),
 * breaking between lines; a single line longer than that is cut.
 */
export function codeBlocks(text: string, maxChars = MAX_SECTION_CHARS): string[] {
  const room = maxChars - FENCE_OVERHEAD_CHARS;
  const chunks: string[] = [];
  let current = '';

  for (const line of escapedLines(text, room)) {
    const joined = current === '' ? line : `${current}\n${line}`;
    if (joined.length <= room) {
      current = joined;
      continue;
    }
    chunks.push(current);
    current = line;
  }

  if (current !== '' || chunks.length === 0) chunks.push(current);
  return chunks.map(fence);
}

/** Escaped lines, each cut to `room` characters without splitting an `&..;` entity. */
function escapedLines(text: string, room: number): string[] {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return lines.flatMap((line) => cutEscaped(escapeMrkdwn(line), room));
}

function cutEscaped(line: string, room: number): string[] {
  const pieces: string[] = [];
  let rest = line;

  while (rest.length > room) {
    let cut = room;
    const amp = rest.lastIndexOf('&', cut);
    // An entity straddling the cut would show as garbage: cut before its `&` instead.
    if (amp > room - '&amp;'.length && !rest.slice(amp, cut).includes(';')) cut = amp;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }

  pieces.push(rest);
  return pieces;
}

/** The last `maxChars` characters of `text`, starting at a line boundary when possible. */
export function tail(text: string, maxChars: number): { text: string; cut: boolean } {
  if (text.length <= maxChars) return { text, cut: false };

  const end = text.slice(text.length - maxChars);
  const newline = end.indexOf('\n');
  return {
    text: newline >= 0 && newline < end.length - 1 ? end.slice(newline + 1) : end,
    cut: true,
  };
}
