/**
 * metav1.Status errors with the real apiserver's reasons, codes and message wording.
 */
import type { StatusJson } from './types.js';

type StatusDetails = NonNullable<StatusJson['details']>;

/** A request the fake refuses; the server turns it into a Status body with this code. */
export class ApiError extends Error {
  readonly status: StatusJson;

  constructor(status: StatusJson) {
    super(status.message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export function statusBody(options: {
  code: number;
  reason: string;
  message: string;
  details?: StatusDetails;
}): StatusJson {
  const body: StatusJson = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: options.message,
    reason: options.reason,
    code: options.code,
  };
  if (options.details) body.details = options.details;
  return body;
}

function fail(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  return new ApiError(statusBody({ code, reason, message, ...(details ? { details } : {}) }));
}

export function notFound(resource: string, name: string): ApiError {
  return fail(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

export function alreadyExists(resource: string, name: string): ApiError {
  return fail(409, 'AlreadyExists', `${resource} "${name}" already exists`, {
    name,
    kind: resource,
  });
}

/** 409 Conflict: `Operation cannot be fulfilled on pods "x": <why>`. */
export function conflict(resource: string, name: string, why: string): ApiError {
  return fail(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, {
    name,
    kind: resource,
  });
}

/** 403 from admission: `pods "x" is forbidden: <why>`. */
export function forbidden(resource: string, name: string, why: string): ApiError {
  return fail(403, 'Forbidden', `${resource} "${name}" is forbidden: ${why}`, {
    name,
    kind: resource,
  });
}

export function badRequest(message: string): ApiError {
  return fail(400, 'BadRequest', message);
}

export interface FieldCause {
  field: string;
  /** e.g. 'FieldValueInvalid', 'FieldValueRequired', 'FieldValueForbidden' */
  reason: string;
  /** The cause as the field error prints it, without the field path: `Invalid value: "x": ...` */
  message: string;
}

/** 422 Invalid: `Pod "x" is invalid: [field: cause, ...]`, the shape field.ErrorList gives. */
export function invalid(kind: string, name: string, causes: FieldCause[]): ApiError {
  const parts = causes.map((cause) => `${cause.field}: ${cause.message}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return fail(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name,
    kind,
    causes: causes.map((cause) => ({
      reason: cause.reason,
      message: cause.message,
      field: cause.field,
    })),
  });
}

/** 410 Expired for a watch or list from a resourceVersion the server no longer has. */
export function expired(requestedRv: number, oldestRv: number): StatusJson {
  return statusBody({
    code: 410,
    reason: 'Expired',
    message: `too old resource version: ${requestedRv} (${oldestRv})`,
  });
}

const INJECTED_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The body of a fault injected with faults.failNext(). */
export function injectedFailure(code: number): StatusJson {
  const reason = INJECTED_REASONS[code] ?? 'Unknown';
  const message =
    code === 500
      ? 'Internal error occurred: injected by the fake API server'
      : code === 429
        ? 'Too many requests, please try again later.'
        : `injected by the fake API server (${code})`;
  const details: StatusDetails | undefined =
    code === 429 || code === 503 ? { retryAfterSeconds: 1 } : undefined;
  return statusBody({ code, reason, message, ...(details ? { details } : {}) });
}
