/**
 * Value formatting exactly as `kubectl describe` (v1.30) prints values: RFC 1123 times with a
 * numeric zone, kubectl's human durations ("3m12s", "2d4h"), canonical resource quantities
 * ("1024Mi" prints as "1Gi") and Go's %q quoting.
 */

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
];

/** What Go prints for a zero time.Time (a timestamp the API left unset). */
const GO_ZERO_TIME_RFC1123Z = 'Mon, 01 Jan 0001 00:00:00 +0000';

const MS_PER_SECOND = 1_000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Minutes east of UTC that `timeZone` (IANA name) has at `date`. */
function zoneOffsetMinutes(date: Date, timeZone: string): number {
  if (timeZone === 'UTC') return 0;

  const parts = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(date)
    .find((part) => part.type === 'timeZoneName');
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(parts?.value ?? '');
  if (!match) return 0;

  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
}

/**
 * Go's time.RFC1123Z layout, `Mon, 02 Jan 2006 15:04:05 -0700`, in `timeZone` (an IANA name;
 * default UTC). kubectl itself prints in the local zone of the machine it runs on; a bot has no
 * reader's zone, so UTC is the honest default. Unset times print as Go's zero time.
 */
export function formatRfc1123z(date: Date | undefined, timeZone = 'UTC'): string {
  if (!date) return GO_ZERO_TIME_RFC1123Z;

  const offset = zoneOffsetMinutes(date, timeZone);
  const local = new Date(date.getTime() + offset * MS_PER_MINUTE);
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad2(Math.floor(Math.abs(offset) / 60))}${pad2(Math.abs(offset) % 60)}`;
  const day = DAY_NAMES[local.getUTCDay()];
  const month = MONTH_NAMES[local.getUTCMonth()];
  const clock =
    `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:` +
    `${pad2(local.getUTCSeconds())}`;
  return `${day}, ${pad2(local.getUTCDate())} ${month} ${local.getUTCFullYear()} ${clock} ${zone}`;
}

/** Go's int(x): truncation toward zero. */
function goInt(x: number): number {
  return Math.trunc(x);
}

/**
 * apimachinery's duration.HumanDuration: about two significant figures ("45s", "3m12s",
 * "25m", "5h3m", "2d4h", "1y30d"); up to one second in the future still reads "0s".
 */
export function humanDuration(elapsedMs: number): string {
  const seconds = goInt(elapsedMs / MS_PER_SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  // Two minutes, not one: "95s" reads better than "1m35s" for fresh events (kubectl's choice).
  if (seconds < 120) return `${seconds}s`;

  const minutes = goInt(elapsedMs / MS_PER_MINUTE);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 3 * 60) return `${minutes}m`;

  const hours = goInt(elapsedMs / MS_PER_HOUR);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${hours / 24}d` : `${goInt(hours / 24)}d${hours % 24}h`;

  const days = goInt(hours / 24);
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = goInt(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** kubectl's translateTimestampSince: the age of `then` at `now`, or `<unknown>` when unset. */
export function ageSince(then: Date | undefined, now: Date): string {
  if (!then) return '<unknown>';
  return humanDuration(now.getTime() - then.getTime());
}

/** Go's %q for a string: double quotes with escapes (ASCII control characters as \x..). */
export function goQuote(text: string): string {
  return JSON.stringify(text).replace(/\\u00([0-7][0-9a-f])/g, '\\x$1');
}

const DECIMAL_SUFFIX_EXPONENTS: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX_POWERS: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(
  Object.entries(DECIMAL_SUFFIX_EXPONENTS).map(([suffix, exponent]) => [exponent, suffix]),
);
const BINARY_SUFFIX_BY_POWER = new Map(
  Object.entries(BINARY_SUFFIX_POWERS).map(([suffix, power]) => [power, suffix]),
);

type QuantityFormat = 'decimal-si' | 'binary-si' | 'decimal-exponent';

interface ParsedQuantity {
  /** value = unscaled * 10^-scale */
  unscaled: bigint;
  scale: number;
  format: QuantityFormat;
}

/** Quantities are exact to 10^-9 (resource.Quantity rounds anything finer up to 1n). */
const NANO_SCALE = 9;
const QUANTITY_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

function bigAbs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function parseQuantity(text: string): ParsedQuantity | undefined {
  const match = QUANTITY_PATTERN.exec(text.trim());
  if (!match || `${match[2]}${match[3] ?? ''}` === '') return undefined;

  const [, sign, whole = '', fraction = '', suffix = ''] = match;
  let unscaled = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  let scale = fraction.length;
  let format: QuantityFormat = 'decimal-si';
  if (suffix in BINARY_SUFFIX_POWERS) {
    unscaled *= 1024n ** BigInt(BINARY_SUFFIX_POWERS[suffix]!);
    format = 'binary-si';
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    scale -= Number(suffix.slice(1));
    format = 'decimal-exponent';
  } else {
    scale -= DECIMAL_SUFFIX_EXPONENTS[suffix]!;
  }
  return roundUpToNano({ unscaled, scale, format });
}

function roundUpToNano(q: ParsedQuantity): ParsedQuantity {
  if (q.scale <= NANO_SCALE) return q;

  const divisor = 10n ** BigInt(q.scale - NANO_SCALE);
  const magnitude = bigAbs(q.unscaled);
  const rounded = (magnitude + divisor - 1n) / divisor;
  return { ...q, unscaled: q.unscaled < 0n ? -rounded : rounded, scale: NANO_SCALE };
}

/** The value as an integer, or undefined when it has a fractional part. */
function asInteger(q: ParsedQuantity): bigint | undefined {
  if (q.scale <= 0) return q.unscaled * 10n ** BigInt(-q.scale);

  const divisor = 10n ** BigInt(q.scale);
  return q.unscaled % divisor === 0n ? q.unscaled / divisor : undefined;
}

function canonicalDecimal(q: ParsedQuantity): string {
  let mantissa = q.unscaled;
  let exponent = -q.scale;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent += 1;
  }
  const down = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(down);
  exponent -= down;

  if (q.format === 'decimal-exponent')
    return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  return `${mantissa}${DECIMAL_SUFFIX_BY_EXPONENT.get(exponent) ?? ''}`;
}

function canonicalBinary(value: bigint): string {
  let mantissa = value;
  let power = 0;
  while (mantissa % 1024n === 0n && BINARY_SUFFIX_BY_POWER.has(power + 1)) {
    mantissa /= 1024n;
    power += 1;
  }
  return `${mantissa}${BINARY_SUFFIX_BY_POWER.get(power) ?? ''}`;
}

/**
 * resource.Quantity's String(): the canonical form kubectl prints ("1024Mi" -> "1Gi",
 * "0.5" -> "500m", "1000m" -> "1"). Text that is not a quantity is returned unchanged.
 */
export function canonicalQuantity(value: string | number): string {
  const parsed = parseQuantity(String(value));
  if (!parsed) return String(value);
  if (parsed.unscaled === 0n) return '0';

  if (parsed.format === 'binary-si') {
    const integer = asInteger(parsed);
    // Below 1Ki, or with a fraction, binary suffixes cannot say it exactly: Go falls back to SI.
    if (integer !== undefined && bigAbs(integer) >= 1024n) return canonicalBinary(integer);
    return canonicalDecimal({ ...parsed, format: 'decimal-si' });
  }
  return canonicalDecimal(parsed);
}

/** The quantity's value as a JavaScript number (for QoS comparisons and env resource refs). */
export function quantityValue(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;

  const parsed = parseQuantity(String(value));
  if (!parsed) return undefined;
  return Number(parsed.unscaled) / 10 ** parsed.scale;
}
