/**
 * One validator per value of a drill command. Each returns the canonical value or throws
 * an error whose message names the value, what was typed and what would be accepted.
 */
import { InvalidRequestError, NotAllowedError } from '../errors.js';
import { formatMemory, parseCpu, parseMemory, quote, type MemoryQuantity } from '../quantity.js';
import { formatSeconds, parseDuration } from '../duration.js';
import { STRESS_METHODS, type StressMethod } from './types.js';

// DNS-1123 label: the rule for pod and namespace names.
const LABEL_MAX_CHARS = 63;
const LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const MAX_KILLS = 10;

// A drill measures memory, not cpu: 8 cores is already more than one stress container can
// use, and a larger Guaranteed request could leave a node's other pods without cpu for
// the whole drill.
export const MAX_CPU_MILLICORES = 8000;

// Below 10 s the kubelet has not even pulled an image; above an hour a forgotten drill
// holds node memory for too long (back-off waits do not count against it anyway).
export const MIN_TIMEOUT_SECONDS = 10;
export const MAX_TIMEOUT_SECONDS = 3600;

// Docker refuses memory limits below 6 MiB because a container's init process needs about
// that much to start; below it a drill reports a start failure, not the OOM kill rehearsed.
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

// kubeconfig context names are free-form; this is the set seen in practice (EKS ARNs,
// `user@cluster`, GKE's `gke_project_zone_name`), capped at a DNS name's length.
const CONTEXT_PATTERN = /^[A-Za-z0-9._@:/-]+$/;
const CONTEXT_MAX_CHARS = 253;

// The OCI distribution reference grammar, restricted to sha256 digests.
const ALNUM = '[a-z0-9]+';
const PATH_COMPONENT = `${ALNUM}(?:(?:[._]|__|-+)${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const IMAGE_NAME = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const IMAGE_TAG = /^\w[\w.-]{0,127}$/;
const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
// The distribution spec's limit on a repository name.
const IMAGE_NAME_MAX_CHARS = 255;
const IMAGE_SHAPE = 'registry[:port]/path[:tag][@sha256:digest]';

function invalid(what: string, text: string, problem: string): InvalidRequestError {
  return new InvalidRequestError(`${what} ${quote(text)} ${problem}`, { details: { field: what } });
}

function labelProblem(text: string): string {
  if (text.length > LABEL_MAX_CHARS) {
    return `is ${text.length} characters long; at most ${LABEL_MAX_CHARS} are allowed`;
  }
  if (/[A-Z]/.test(text) && LABEL_PATTERN.test(text.toLowerCase())) {
    const lower = quote(text.toLowerCase());
    return `has upper-case letters: Kubernetes names are lower case, e.g. ${lower}`;
  }

  const bad = /[^-a-z0-9]/.exec(text);
  if (bad) return `may contain only lower-case letters, digits and '-' (found '${bad[0]}')`;
  return 'must start and end with a letter or digit';
}

/** Checks a DNS-1123 label (pod or namespace name): lower case, digits, '-', ≤ 63. */
export function checkLabel(text: string, what: string): string {
  if (text.length <= LABEL_MAX_CHARS && LABEL_PATTERN.test(text)) return text;
  throw invalid(what, text, labelProblem(text));
}

/** The memory limit: unit required, at least MIN_MEMORY_BYTES, at most the configured cap. */
export function checkMemoryLimit(text: string, maxMemoryBytes: number): MemoryQuantity {
  const limit = parseMemory(text, 'memory limit');
  if (limit.bytes < MIN_MEMORY_BYTES) {
    throw invalid(
      'memory limit',
      text,
      `is below ${formatMemory(MIN_MEMORY_BYTES)}, too little for a container to start`,
    );
  }
  if (limit.bytes > maxMemoryBytes) {
    const cap = `the ${formatMemory(maxMemoryBytes)} cap (OOMTEST_MAX_MEMORY)`;
    throw new NotAllowedError(`memory limit ${quote(text)} is above ${cap}`, {
      details: { field: 'memory limit' },
    });
  }

  return limit;
}

/** `--fill`: strictly above the limit (or nothing is killed), at most twice the cap. */
export function checkFill(
  text: string,
  limit: MemoryQuantity,
  maxMemoryBytes: number,
): MemoryQuantity {
  const fill = parseMemory(text, '--fill');
  if (fill.bytes <= limit.bytes) {
    throw invalid(
      '--fill',
      text,
      `must be above the memory limit ${limit.text}, or nothing is OOM-killed`,
    );
  }

  const maxFillBytes = 2 * maxMemoryBytes;
  if (fill.bytes > maxFillBytes) {
    throw new NotAllowedError(
      `--fill ${quote(text)} is above ${formatMemory(maxFillBytes)}, twice the ` +
        `${formatMemory(maxMemoryBytes)} cap (OOMTEST_MAX_MEMORY)`,
      { details: { field: '--fill' } },
    );
  }

  return fill;
}

/** The default fill: twice the limit, enough to pass it however the kernel accounts. */
export function defaultFill(limit: MemoryQuantity): MemoryQuantity {
  const bytes = 2 * limit.bytes;
  return { bytes, text: formatMemory(bytes) };
}

/** `--kills`: a whole number from 1 to MAX_KILLS. */
export function checkKills(text: string): number {
  const range = `give 1 to ${MAX_KILLS}`;
  if (/^[+-]?(\d+\.\d*|\.\d+)$/.test(text)) {
    throw invalid('--kills', text, `is not a whole number: ${range}`);
  }
  if (!/^[+-]?\d+$/.test(text)) throw invalid('--kills', text, `is not a number: ${range}`);

  const kills = Number(text);
  if (kills < 1 || kills > MAX_KILLS) throw invalid('--kills', text, `is out of range: ${range}`);
  return kills;
}

/** `--method`: one of STRESS_METHODS, any letter case (`emptyDir` is how Kubernetes spells it). */
export function checkMethod(text: string): StressMethod {
  const method = STRESS_METHODS.find((candidate) => candidate === text.toLowerCase());
  if (method === undefined) {
    throw invalid('--method', text, `is not one of ${STRESS_METHODS.join(', ')}`);
  }
  return method;
}

function imageProblem(text: string): string | undefined {
  const [remainder = '', digest] = text.split('@', 2) as [string, string | undefined];
  if (text.split('@').length > 2) return 'has more than one @';
  if (digest !== undefined && !IMAGE_DIGEST.test(digest)) {
    return 'has a malformed digest: write @sha256: and 64 lower-case hex digits';
  }

  const tagAt = remainder.lastIndexOf(':');
  const hasTag = tagAt > remainder.lastIndexOf('/');
  const name = hasTag ? remainder.slice(0, tagAt) : remainder;
  const tag = hasTag ? remainder.slice(tagAt + 1) : undefined;
  if (tag !== undefined && !IMAGE_TAG.test(tag)) {
    return 'has a malformed tag: up to 128 letters, digits, _ . or -, not starting with . or -';
  }
  if (name.length > IMAGE_NAME_MAX_CHARS) {
    return `has a name longer than ${IMAGE_NAME_MAX_CHARS} characters`;
  }
  if (IMAGE_NAME.test(name)) return undefined;

  const path = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
  if (/[A-Z]/.test(path)) {
    return 'has upper-case letters in the repository path: it must be lower case';
  }
  return `is not a valid image reference: write ${IMAGE_SHAPE}, e.g. busybox:1.36`;
}

/** `--image`: an OCI image reference, registry[:port]/path[:tag][@sha256:<64 hex>]. */
export function checkImage(text: string): string {
  const problem = imageProblem(text);
  if (problem !== undefined) throw invalid('--image', text, problem);
  return text;
}

/** `--cpu`: above zero, whole millicores, at most MAX_CPU_MILLICORES; canonical text. */
export function checkCpu(text: string): string {
  const cpu = parseCpu(text);
  if (cpu.millicores > MAX_CPU_MILLICORES) {
    throw invalid(
      '--cpu',
      text,
      `is above ${MAX_CPU_MILLICORES / 1000} cores: a drill should not starve its node`,
    );
  }

  return cpu.text;
}

/** `--timeout`: a duration from MIN_TIMEOUT_SECONDS to MAX_TIMEOUT_SECONDS, in seconds. */
export function checkTimeout(text: string): number {
  const seconds = parseDuration(text, '--timeout');
  if (seconds < MIN_TIMEOUT_SECONDS || seconds > MAX_TIMEOUT_SECONDS) {
    const range = `${formatSeconds(MIN_TIMEOUT_SECONDS)} to ${formatSeconds(MAX_TIMEOUT_SECONDS)}`;
    throw invalid('--timeout', text, `is out of range: give ${range}`);
  }

  return seconds;
}

/** `--cluster`: a kubeconfig context name. Whether it exists is for the kube layer. */
export function checkContext(text: string): string {
  if (text.length > CONTEXT_MAX_CHARS) {
    throw invalid(
      '--cluster',
      text,
      `is ${text.length} characters long; at most ${CONTEXT_MAX_CHARS} are allowed`,
    );
  }
  if (!CONTEXT_PATTERN.test(text)) {
    throw invalid('--cluster', text, 'may contain only letters, digits and . _ @ : / -');
  }

  return text;
}
