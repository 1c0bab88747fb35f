/**
 * Kubernetes quantities (`200Mi`, `500M`, `100m`, `0.5`), parsed with exact integer
 * arithmetic and printed in the canonical form Kubernetes itself prints.
 *
 * The grammar is Kubernetes' own: an optionally signed decimal number followed by ONE
 * suffix, which is a binary unit (Ki Mi Gi Ti Pi Ei), a decimal unit (m k M G T P E, or
 * none) or a decimal exponent (`e3`, `E-2`). Deliberate narrowings, because a drill sizes
 * real memory on a real node from what someone typed in a chat box:
 *
 * - Memory needs a unit. A bare `200` is 200 bytes to Kubernetes but almost always meant
 *   200Mi; exponent forms (`2e8`) carry no unit either, so they are refused too, and the
 *   message shows the same amount with a unit.
 * - `1e3M` (an exponent AND a unit) is not a Kubernetes quantity; it is refused as such.
 * - Memory must be a whole number of bytes; cpu a whole number of millicores.
 * - Cpu takes cores (`2`, `0.5`, `5e-1`) or millicores (`100m`) only.
 *
 * Every refusal is an InvalidRequestError whose message names the value and the problem.
 */
import { InvalidRequestError } from './errors.js';

export interface MemoryQuantity {
  /** Whole bytes; always a safe integer above zero. */
  bytes: number;
  /** Canonical Kubernetes text, e.g. `1Gi` for `1024Mi`, `1G` for `1000M`. */
  text: string;
}

export interface CpuQuantity {
  /** Whole millicores; always a safe integer above zero. */
  millicores: number;
  /** Canonical Kubernetes text: whole cores as `2`, anything else as millicores `500m`. */
  text: string;
}

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const DECIMAL_SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'] as const;

// Longer than any sensible quantity (`9007199254740991Ki` is 18); keeps BigInt work bounded.
const MAX_QUANTITY_CHARS = 40;
// 10^40 already dwarfs Number.MAX_SAFE_INTEGER bytes; a bound stops `1e999999999` from
// making BigInt compute a billion-digit power before we refuse it.
const MAX_EXPONENT = 40;
// Messages quote what was typed; a long paste should not fill the reply.
const MAX_QUOTED_CHARS = 40;

const NUMBER_PATTERN = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(.*)$/s;
const EXPONENT_PATTERN = /^[eE]([+-]?\d+)$/;
const EXPONENT_THEN_UNIT_PATTERN = /^[eE][+-]?\d+\D/;

type Suffix =
  | { kind: 'none' }
  | { kind: 'binary'; power: number }
  | { kind: 'decimal'; power: number }
  | { kind: 'milli' }
  | { kind: 'exponent'; exponent: number };

/** An exact rational value: numerator / denominator, both non-negative. */
interface Exact {
  negative: boolean;
  numerator: bigint;
  denominator: bigint;
}

interface Lexed {
  sign: string;
  mantissa: string;
  suffixText: string;
}

/** Quotes user text for an error message, shortened when it is long. */
export function quote(text: string): string {
  const shown = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return `"${shown}"`;
}

function refuse(what: string, text: string, problem: string): InvalidRequestError {
  return new InvalidRequestError(`${what} ${quote(text)} ${problem}`, {
    details: { field: what },
  });
}

function lex(text: string, what: string, example: string): Lexed {
  if (text === '') throw new InvalidRequestError(`${what} is empty: write e.g. ${example}`);
  if (text.length > MAX_QUANTITY_CHARS) {
    throw refuse(what, text, `is too long (${text.length} characters) for a quantity`);
  }

  const match = NUMBER_PATTERN.exec(text);
  if (!match) {
    throw refuse(what, text, `is not a Kubernetes quantity: write e.g. ${example}`);
  }

  const [, sign = '', mantissa = '', suffixText = ''] = match;
  return { sign, mantissa, suffixText };
}

function classifySuffix(suffixText: string): Suffix | undefined {
  if (suffixText === '') return { kind: 'none' };
  if (suffixText === 'm') return { kind: 'milli' };

  const binary = BINARY_SUFFIXES.indexOf(suffixText as (typeof BINARY_SUFFIXES)[number]);
  if (binary > 0) return { kind: 'binary', power: binary };

  // Checked before the decimal units so that `1E3` is an exponent while `1E` is exa.
  const exponent = EXPONENT_PATTERN.exec(suffixText);
  if (exponent) return { kind: 'exponent', exponent: Number(exponent[1]) };

  const decimal = DECIMAL_SUFFIXES.indexOf(suffixText as (typeof DECIMAL_SUFFIXES)[number]);
  if (decimal > 0) return { kind: 'decimal', power: decimal };

  return undefined;
}

/** The value of `mantissa × 10^exponent × factor`, exactly. */
function exactValue(lexed: Lexed, options: { exponent: number; factor: bigint }): Exact {
  const [whole = '', fraction = ''] = lexed.mantissa.split('.');
  const digits = BigInt(`${whole}${fraction}` || '0');
  const scale = fraction.length - options.exponent;

  const numerator = digits * options.factor * (scale < 0 ? 10n ** BigInt(-scale) : 1n);
  const denominator = scale > 0 ? 10n ** BigInt(scale) : 1n;
  return { negative: lexed.sign === '-', numerator, denominator };
}

interface WholeProblem {
  what: string;
  text: string;
  /** Plural unit name for messages: `bytes`, `millicores`. */
  unit: string;
  /** What to say about a fraction of one unit. */
  fraction: string;
}

/** Refuses zero, negatives, values above MAX_SAFE_INTEGER units and fractions of a unit. */
function wholePositive(value: Exact, problem: WholeProblem): number {
  const { what, text, unit } = problem;
  if (value.numerator === 0n) throw refuse(what, text, 'is zero: it must be above zero');
  if (value.negative) throw refuse(what, text, 'is negative: it must be above zero');

  if (value.numerator > BigInt(Number.MAX_SAFE_INTEGER) * value.denominator) {
    throw refuse(what, text, `is too large (more than ${Number.MAX_SAFE_INTEGER} ${unit})`);
  }
  if (value.numerator % value.denominator !== 0n) throw refuse(what, text, problem.fraction);

  return Number(value.numerator / value.denominator);
}

function checkExponent(what: string, text: string, suffix: Suffix): void {
  if (suffix.kind === 'exponent' && Math.abs(suffix.exponent) > MAX_EXPONENT) {
    throw refuse(what, text, `has an exponent out of range (at most e${MAX_EXPONENT})`);
  }
}

const MEMORY_EXAMPLE = '200Mi or 1Gi';

/** Hints for units people type by habit from other tools. */
function memoryUnitHint(suffixText: string): string {
  const upper = suffixText.toUpperCase();
  if (upper.endsWith('B') && upper.length === 2 && 'KMGTPE'.includes(upper.charAt(0))) {
    const letter = upper.charAt(0) === 'K' ? 'k' : upper.charAt(0);
    return `: Kubernetes writes ${letter}i (powers of 1024) or ${letter} (powers of 1000), no B`;
  }
  if (/^[kmgtpe]i$/i.test(suffixText)) {
    return `: units are case-sensitive, write ${suffixText.charAt(0).toUpperCase()}i`;
  }
  if (suffixText === 'K') return ': write Ki (1024 bytes) or k (1000 bytes)';

  return `: units are Ki Mi Gi Ti Pi Ei (powers of 1024) or k M G T P E (powers of 1000)`;
}

function memorySuffix(what: string, text: string, lexed: Lexed): Suffix {
  const { suffixText, mantissa } = lexed;
  if (EXPONENT_THEN_UNIT_PATTERN.test(suffixText)) {
    throw refuse(what, text, 'has both an exponent and a unit: use one of them, e.g. 200Mi');
  }

  const suffix = classifySuffix(suffixText);
  if (suffix === undefined) {
    throw refuse(what, text, `has an unknown unit${memoryUnitHint(suffixText)}`);
  }
  if (suffix.kind === 'none') {
    throw refuse(
      what,
      text,
      `has no unit: write ${mantissa}Mi (mebibytes) or ${mantissa}M (megabytes)`,
    );
  }
  if (suffix.kind === 'milli') {
    throw refuse(
      what,
      text,
      `is in millibytes (m): write ${mantissa}Mi or ${mantissa}M for megabytes`,
    );
  }

  return suffix;
}

function unitFactor(suffix: Suffix): bigint {
  if (suffix.kind === 'binary') return 1024n ** BigInt(suffix.power);
  if (suffix.kind === 'decimal') return 1000n ** BigInt(suffix.power);
  return 1n;
}

const BYTES: Omit<WholeProblem, 'what' | 'text'> = {
  unit: 'bytes',
  fraction: 'is not a whole number of bytes',
};

/** Shows the amount an exponent form stands for, written with a unit, when it is one. */
function exponentHint(lexed: Lexed, exponent: number): string {
  try {
    const exact = exactValue(lexed, { exponent, factor: 1n });
    const bytes = wholePositive(exact, { what: '', text: '', ...BYTES });
    return `: write it as ${formatMemory(bytes)}`;
  } catch {
    return `: write e.g. ${MEMORY_EXAMPLE}`;
  }
}

/**
 * Parses a memory quantity that must carry a unit (`200Mi`, `1.5Gi`, `500M`).
 * `what` names the value in messages (`memory limit`, `--fill`).
 * Throws InvalidRequestError for bare numbers, exponent forms, zero, negatives, fractions
 * of a byte, and anything above Number.MAX_SAFE_INTEGER bytes.
 * The canonical text keeps the kind of unit typed, as Kubernetes does: `1024Mi` → `1Gi`,
 * `1000M` → `1G`, `1536Mi` stays, and `0.5Ki` (not a whole Ki) becomes `512`.
 */
export function parseMemory(text: string, what: string): MemoryQuantity {
  const lexed = lex(text, what, MEMORY_EXAMPLE);
  const suffix = memorySuffix(what, text, lexed);
  if (suffix.kind === 'exponent') {
    const hint =
      Math.abs(suffix.exponent) > MAX_EXPONENT ? '' : exponentHint(lexed, suffix.exponent);
    throw refuse(what, text, `has no unit${hint || `: write e.g. ${MEMORY_EXAMPLE}`}`);
  }

  const exact = exactValue(lexed, { exponent: 0, factor: unitFactor(suffix) });
  const bytes = wholePositive(exact, { what, text, ...BYTES });
  const binaryText = suffix.kind === 'binary' ? formatBinary(bytes) : undefined;
  return { bytes, text: binaryText ?? formatDecimal(bytes) };
}

/** `bytes` with the largest binary suffix that keeps it whole; undefined below 1Ki steps. */
function formatBinary(bytes: number): string | undefined {
  return formatWithSuffixes(bytes, { base: 1024n, suffixes: BINARY_SUFFIXES });
}

/** `bytes` with the largest decimal suffix that keeps it whole; a bare number otherwise. */
function formatDecimal(bytes: number): string {
  return formatWithSuffixes(bytes, { base: 1000n, suffixes: DECIMAL_SUFFIXES }) ?? String(bytes);
}

function formatWithSuffixes(
  value: number,
  scheme: { base: bigint; suffixes: readonly string[] },
): string | undefined {
  let mantissa = BigInt(value);
  let power = 0;
  while (mantissa !== 0n && mantissa % scheme.base === 0n && power < scheme.suffixes.length - 1) {
    mantissa /= scheme.base;
    power += 1;
  }

  if (power === 0) return undefined;
  return `${mantissa}${scheme.suffixes[power]}`;
}

function assertByteCount(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`expected a whole, non-negative number of bytes, got ${bytes}`);
  }
}

/**
 * Prints a whole number of bytes as a canonical Kubernetes quantity: the shorter of the
 * largest exact binary form and the largest exact decimal form, binary on a tie
 * (209715200 → `200Mi`, 10^9 → `1G`, 1500 → `1500`). Throws RangeError for fractions and
 * negatives: those are programming errors, not user input.
 */
export function formatMemory(bytes: number): string {
  assertByteCount(bytes);

  const binary = formatBinary(bytes);
  const decimal = formatDecimal(bytes);
  if (binary === undefined) return decimal;
  return binary.length <= decimal.length ? binary : decimal;
}

const APPROX_UNITS = BINARY_SUFFIXES.slice(1);
// Below this the approximation shows one decimal (`~1.5Gi`); above it whole units are
// precise to within 1%, which is all a progress line needs.
const ONE_DECIMAL_BELOW = 10;

/**
 * A human approximation in binary units for progress lines: `~198Mi`, `~1.6Gi`; values
 * shown exactly go without the tilde (`200Mi`, `1.5Gi`), and plain bytes below 1Ki (`512B`).
 */
export function formatBytesApprox(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new RangeError(`expected a non-negative number of bytes, got ${bytes}`);
  }
  if (bytes < 1024) return `${Math.round(bytes)}B`;

  let power = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), APPROX_UNITS.length);
  let value = bytes / 1024 ** power;
  let shown = roundForDisplay(value);
  if (shown >= 1024 && power < APPROX_UNITS.length) {
    power += 1;
    value = bytes / 1024 ** power;
    shown = roundForDisplay(value);
  }

  const prefix = shown === value ? '' : '~';
  return `${prefix}${shown}${APPROX_UNITS[power - 1]}`;
}

function roundForDisplay(value: number): number {
  if (value < ONE_DECIMAL_BELOW) return Math.round(value * 10) / 10;
  return Math.round(value);
}

const CPU_EXAMPLE = '500m or 2';

function cpuSuffix(text: string, lexed: Lexed): Suffix {
  const suffix = classifySuffix(lexed.suffixText);
  const allowed =
    suffix?.kind === 'none' || suffix?.kind === 'milli' || suffix?.kind === 'exponent';
  if (!allowed || suffix === undefined) {
    throw refuse('--cpu', text, `is not a cpu quantity: write cores (0.5, 2) or millicores (500m)`);
  }

  return suffix;
}

/**
 * Parses a cpu quantity: cores (`2`, `0.5`, `5e-1`) or millicores (`100m`). Throws
 * InvalidRequestError for zero, negatives, anything finer than one millicore, and other
 * units. Canonical text is whole cores when exact (`2`), else millicores (`500m`).
 * Upper bounds are the caller's: they depend on what the command allows.
 */
export function parseCpu(text: string): CpuQuantity {
  const lexed = lex(text, '--cpu', CPU_EXAMPLE);
  const suffix = cpuSuffix(text, lexed);
  checkExponent('--cpu', text, suffix);

  const exponent = suffix.kind === 'exponent' ? suffix.exponent : 0;
  const factor = suffix.kind === 'milli' ? 1n : 1000n;
  const millicores = wholePositive(exactValue(lexed, { exponent, factor }), {
    what: '--cpu',
    text,
    unit: 'millicores',
    fraction: 'is finer than one millicore (1m), the smallest cpu step',
  });
  return { millicores, text: formatCpu(millicores) };
}

/** Canonical cpu text for a whole number of millicores: `2` or `1500m`. */
export function formatCpu(millicores: number): string {
  if (!Number.isSafeInteger(millicores) || millicores < 0) {
    throw new RangeError(`expected a whole, non-negative number of millicores, got ${millicores}`);
  }
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}
