/**
 * Small helpers shared by the fake API server: quantities, timestamps, ids.
 * Kept independent of src/ so the test bed cannot drift along with the code under test.
 */
import { randomBytes, randomUUID } from 'node:crypto';

const BINARY_SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const DECIMAL_SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Parses a Kubernetes quantity ("200Mi", "2", "500m", "1e3") into a number; NaN when malformed. */
export function parseQuantity(text: string): number {
  const match =
    /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/.exec(
      text.trim(),
    );
  if (!match) return Number.NaN;

  const value = Number(match[1]);
  if (match[3] !== undefined) return value * 10 ** Number(match[3]);

  const suffix = match[2] ?? '';
  return value * (BINARY_SUFFIXES[suffix] ?? DECIMAL_SUFFIXES[suffix] ?? Number.NaN);
}

/** Canonical form of a byte count as resource.Quantity prints it: 209715200 → "200Mi". */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0';

  for (const [suffix, size] of Object.entries(BINARY_SUFFIXES).reverse()) {
    if (bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** RFC 3339 with whole seconds, as metav1.Time marshals. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime marshals (event.eventTime). */
export function rfc3339Micro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function newUid(): string {
  return randomUUID();
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** The five lower-case alphanumerics the apiserver appends to a generateName. */
export function randomSuffix(): string {
  // Same alphabet as k8s.io/apimachinery/pkg/util/rand: no vowels, no look-alikes.
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** Go's time.Duration String() for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/**
 * apimachinery's duration.HumanDuration, which kubectl's AGE column and the Table's cells use:
 * precise under two minutes, then coarser as the age grows.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Up to a second in the future counts as now: clocks of client and server drift.
  if (seconds < -1) return '<invalid>';
  if (seconds <= 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;

  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const rest = seconds % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;

  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const rest = hours % 24;
    return rest === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${rest}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    const rest = days % 365;
    return rest === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${rest}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Deep copy of a JSON value; stored objects are never handed out by reference. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
