/**
 * Durations as Go and kubectl write them (`90s`, `5m`, `1h30m`, `2m30s`), in whole seconds.
 *
 * Narrower than Go's time.ParseDuration on purpose: units are h, m and s only (a drill
 * never needs less than a second), the total must be a whole number of seconds, and a bare
 * number is refused because `30` could mean seconds or minutes.
 */
import { InvalidRequestError } from './errors.js';
import { quote } from './quantity.js';

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 };

// A drill's longest timeout is an hour; a week keeps the parser general while
// still refusing typos like `9999999h` before they become absurd numbers.
const MAX_DURATION_SECONDS = 7 * 24 * 3600;
// Longer than `1h59m59s` many times over; a paste of garbage is refused without a scan.
const MAX_DURATION_CHARS = 32;

const DURATION_PATTERN = /^(?:(?:\d+(?:\.\d*)?|\.\d+)[a-zA-Z]+)+$/;
const PART_PATTERN = /(\d+(?:\.\d*)?|\.\d+)([a-zA-Z]+)/g;

function refuse(what: string, text: string, problem: string): InvalidRequestError {
  return new InvalidRequestError(`${what} ${quote(text)} ${problem}`, {
    details: { field: what },
  });
}

function checkShape(text: string, what: string): void {
  if (text === '') throw new InvalidRequestError(`${what} is empty: write e.g. 90s, 5m or 1h30m`);
  if (text.length > MAX_DURATION_CHARS) throw refuse(what, text, 'is too long for a duration');
  if (text.startsWith('-')) throw refuse(what, text, 'is negative: it must be above zero');
  if (/^[+]?(\d+(\.\d*)?|\.\d+)$/.test(text)) {
    throw refuse(what, text, `has no unit: write ${text}s, ${text}m or ${text}h`);
  }
  if (!DURATION_PATTERN.test(text)) {
    throw refuse(what, text, 'is not a duration: write e.g. 90s, 5m or 1h30m');
  }
}

/** Milliseconds of one part, exactly (fractions like `1.5m` are allowed when whole). */
function partMilliseconds(what: string, text: string, part: RegExpExecArray): number {
  const [, amount = '', unit = ''] = part;
  const unitSeconds = UNIT_SECONDS[unit];
  if (unitSeconds === undefined) {
    throw refuse(what, text, `has an unknown unit "${unit}": use h, m or s`);
  }

  // Three decimals of milliseconds cover every whole second from a fraction of h or m;
  // rounding there avoids binary float noise such as 0.1 * 3600.
  return Math.round(Number(amount) * unitSeconds * 1000);
}

/**
 * Parses a Go-style duration (`90s`, `5m`, `1h30m`, `1.5m`) into whole seconds. `what`
 * names the value in messages (`--timeout`). Throws InvalidRequestError for bare numbers,
 * zero, negatives, units other than h/m/s, fractions of a second and more than a week.
 */
export function parseDuration(text: string, what: string): number {
  checkShape(text, what);

  let totalMs = 0;
  for (const part of text.matchAll(PART_PATTERN)) {
    totalMs += partMilliseconds(what, text, part);
  }

  if (totalMs === 0) throw refuse(what, text, 'is zero: it must be above zero');
  if (totalMs > MAX_DURATION_SECONDS * 1000) throw refuse(what, text, 'is longer than a week');
  if (totalMs % 1000 !== 0) throw refuse(what, text, 'is not a whole number of seconds');
  return totalMs / 1000;
}

/**
 * Prints seconds compactly, largest unit first, zero parts left out: 90 → `1m30s`,
 * 3600 → `1h`, 0 → `0s`. Fractions are rounded to the nearest second.
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    throw new RangeError(`expected a number of seconds, got ${seconds}`);
  }
  if (seconds < 0) return `-${formatSeconds(-seconds)}`;

  const whole = Math.round(seconds);
  if (whole === 0) return '0s';

  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return [hours && `${hours}h`, minutes && `${minutes}m`, rest && `${rest}s`]
    .filter(Boolean)
    .join('');
}
