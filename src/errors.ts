/**
 * Every failure a user must tell apart has a code and a class here.
 *
 * Codes are namespaced strings (`area.what`) so that a log line, a Slack reply and a job
 * result all say the same thing. Errors cross process boundaries (BullMQ stores them in
 * Redis as plain objects), so callers recognise them by `name` or `code`, never only by
 * `instanceof`.
 */

export type ErrorCode =
  // The user's input: a bad command, flag or value.
  | 'request.invalid'
  // The user, channel, namespace, cluster or size is not allowed by configuration.
  | 'auth.denied'
  // Settings read at start-up are missing or malformed.
  | 'config.invalid'
  // The Kubernetes API refused or could not be reached.
  | 'kube.config'
  | 'kube.unreachable'
  | 'kube.forbidden'
  | 'kube.pod-security'
  | 'kube.quota'
  | 'kube.conflict'
  | 'kube.not-found'
  | 'kube.invalid'
  | 'kube.refused'
  // A drill ran but did not end with the expected OOM kills.
  | 'drill.busy'
  | 'drill.unmanaged-pod'
  | 'drill.image-pull'
  | 'drill.mount-denied'
  | 'drill.container-error'
  | 'drill.evicted'
  | 'drill.deleted'
  | 'drill.timeout'
  | 'drill.stopped'
  // The queue (Redis) could not take or give a job.
  | 'queue.unavailable'
  // The Slack Web API refused a call.
  | 'slack.api'
  | 'internal';

export interface OomtestErrorOptions {
  /** The underlying error, kept for logs; never shown to Slack users verbatim. */
  cause?: unknown;
  /** True when trying again later may succeed (network, 5xx, Redis down). Default false. */
  transient?: boolean;
  /** Extra structured facts for logs (HTTP status, Kubernetes reason, ...). */
  details?: Record<string, unknown>;
}

/** Base class: a message written for the person who typed the command. */
export class OomtestError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: OomtestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OomtestError';
    this.code = code;
    this.transient = options.transient ?? false;
    this.details = options.details ?? {};
  }

  /** A plain object that survives JSON (BullMQ job results, pub/sub messages). */
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, transient: this.transient };
  }
}

/** The command or one of its values is malformed. Nothing was queued or created. */
export class InvalidRequestError extends OomtestError {
  constructor(message: string, options?: OomtestErrorOptions) {
    super('request.invalid', message, options);
    this.name = 'InvalidRequestError';
  }
}

/** Configuration forbids what was asked (user, channel, namespace, cluster, size). */
export class NotAllowedError extends OomtestError {
  constructor(message: string, options?: OomtestErrorOptions) {
    super('auth.denied', message, options);
    this.name = 'NotAllowedError';
  }
}

/** A setting read at start-up is missing or malformed; the process should stop. */
export class ConfigError extends OomtestError {
  constructor(message: string, options?: OomtestErrorOptions) {
    super('config.invalid', message, options);
    this.name = 'ConfigError';
  }
}

/** The Kubernetes API refused a call, or could not be reached (then `transient`). */
export class ClusterError extends OomtestError {
  constructor(code: ErrorCode, message: string, options?: OomtestErrorOptions) {
    super(code, message, options);
    this.name = 'ClusterError';
  }
}

/** A drill ended without the OOM kills it asked for: the cause in plain words. */
export class DrillFailedError extends OomtestError {
  constructor(code: ErrorCode, message: string, options?: OomtestErrorOptions) {
    super(code, message, options);
    this.name = 'DrillFailedError';
  }
}

/** Redis did not answer in time; the user hears "queue unavailable". */
export class QueueUnavailableError extends OomtestError {
  constructor(message: string, options?: OomtestErrorOptions) {
    super('queue.unavailable', message, { transient: true, ...options });
    this.name = 'QueueUnavailableError';
  }
}

export interface SerializedError {
  name: string;
  code: ErrorCode;
  message: string;
  transient: boolean;
}

const KNOWN_NAMES = new Set([
  'OomtestError',
  'InvalidRequestError',
  'NotAllowedError',
  'ConfigError',
  'ClusterError',
  'DrillFailedError',
  'QueueUnavailableError',
]);

/** True for our errors, including ones that came back through Redis as plain objects. */
export function isOomtestError(value: unknown): value is OomtestError {
  if (value instanceof OomtestError) return true;
  if (typeof value !== 'object' || value === null) return false;

  const candidate = value as Partial<SerializedError>;
  return (
    typeof candidate.name === 'string' &&
    KNOWN_NAMES.has(candidate.name) &&
    typeof candidate.code === 'string' &&
    typeof candidate.message === 'string'
  );
}

/**
 * Turns anything thrown into an OomtestError. Unknown errors become `internal`, keep the
 * original as `cause`, and get a generic message: their text may hold hostnames or tokens.
 */
export function toOomtestError(value: unknown): OomtestError {
  if (value instanceof OomtestError) return value;
  if (isOomtestError(value)) {
    const plain = value as SerializedError;
    const revived = new OomtestError(plain.code, plain.message, { transient: plain.transient });
    revived.name = plain.name;
    return revived;
  }

  return new OomtestError('internal', 'internal error (see the logs for details)', {
    cause: value,
  });
}
