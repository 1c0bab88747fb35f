/**
 * Turns every failure of a Kubernetes API call into a ClusterError whose message says what
 * went wrong in words an on-call engineer can act on, and whose code tells the failures
 * apart (PodSecurity, quota, RBAC, conflict, validation, not found, unreachable).
 *
 * The API server explains a refusal in a `Status` object in the response body; client-node
 * hands that body over as raw text (`ApiException.body`), so it is parsed here. Messages are
 * built from the Status fields and the request's own context, never by echoing request
 * options: those carry the bearer token and client certificates.
 */
import { ClusterError, toOomtestError, type OomtestError, type ErrorCode } from '../errors.js';

/** What the failed call was trying to do, to name it in the message. */
export interface CallContext {
  /** Kubernetes verb: create, get, list, watch, delete. */
  verb: string;
  /** Plural resource: pods, events, pods/log. */
  resource: string;
  namespace: string;
  name?: string;
  /** The API server's URL, named when it cannot be reached (it holds no secret). */
  server?: string;
}

/** The fields of a `metav1.Status` that messages use. */
export interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: { field?: string; message?: string }[] };
}

/** Error codes of a failed connection (Node's, and OpenSSL's for TLS). */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
};

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

/**
 * Maps anything a call to the API server threw to an OomtestError: a ClusterError for
 * every failure the server or the network explains, `internal` for anything else (a bug).
 */
export function toClusterError(error: unknown, context: CallContext): OomtestError {
  if (error instanceof ClusterError) return error;

  const httpStatus = httpStatusOf(error);
  if (httpStatus !== undefined) {
    return fromStatus(httpStatus, parseStatus(bodyOf(error)), context, error);
  }

  const network = networkProblem(error);
  if (network !== undefined) return unreachable(network, context, error);

  return toOomtestError(error);
}

/** Builds the ClusterError for an HTTP answer other than 2xx, given its parsed Status. */
export function fromStatus(
  httpStatus: number,
  status: KubeStatus | undefined,
  context: CallContext,
  cause?: unknown,
): ClusterError {
  const detail = status?.message?.trim() ?? '';
  const details = { httpStatus, reason: status?.reason };
  const make = (code: ErrorCode, message: string, transient = false): ClusterError =>
    new ClusterError(code, message, { cause, details, transient });

  if (httpStatus === 401) return make('kube.forbidden', unauthorizedMessage());
  if (httpStatus === 403) return forbidden(detail, context, make);
  if (httpStatus === 404) return make('kube.not-found', notFoundMessage(status, context));
  if (httpStatus === 409) return make('kube.conflict', conflictMessage(status, context));
  if (httpStatus === 410)
    return make('kube.refused', `${what(context)}: ${detail || 'gone'}`, true);
  if (httpStatus === 422) return make('kube.invalid', invalidMessage(status, context));
  if (httpStatus === 429 || httpStatus >= 500) {
    const message = `the Kubernetes API server answered ${httpStatus} to ${what(context)}${
      detail ? `: ${detail}` : ''
    } (it may be overloaded or restarting; try again)`;
    return make('kube.unreachable', message, true);
  }

  return make(
    'kube.refused',
    `the Kubernetes API refused to ${what(context)}: ${detail || httpStatus}`,
  );
}

/** True when a watch or list failed because its resourceVersion is no longer kept. */
export function isExpired(error: unknown): boolean {
  return error instanceof ClusterError && error.details.httpStatus === 410;
}

/** Parses a response body into a Status; undefined when it is not one (HTML from a proxy). */
export function parseStatus(body: unknown): KubeStatus | undefined {
  const value = typeof body === 'string' ? parseJson(body) : body;
  if (typeof value !== 'object' || value === null) return undefined;

  const candidate = value as KubeStatus & { kind?: string };
  if (candidate.kind !== 'Status' && typeof candidate.message !== 'string') return undefined;
  return candidate;
}

function forbidden(
  detail: string,
  context: CallContext,
  make: (code: ErrorCode, message: string) => ClusterError,
): ClusterError {
  if (detail.includes('violates PodSecurity')) {
    return make('kube.pod-security', podSecurityMessage(detail, context));
  }
  if (detail.includes('exceeded quota') || detail.includes('failed quota')) {
    return make('kube.quota', quotaMessage(detail, context));
  }
  return make('kube.forbidden', rbacMessage(detail, context));
}

/**
 * `pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container
 * "stress" must not set securityContext.privileged=true)`: name the profile and the fields,
 * then the two ways out.
 */
function podSecurityMessage(detail: string, context: CallContext): string {
  const match = /violates PodSecurity "([^"]+)":\s*(.*)$/s.exec(detail);
  const profile = match?.[1] ?? 'unknown';
  const violations = match?.[2]?.trim() || detail;

  return (
    `namespace "${context.namespace}" enforces Pod Security "${profile}", which refuses the ` +
    `drill pod: ${violations}. The tmpfs method needs a privileged container: use ` +
    `--method emptydir or --method anon (no privilege needed), or ask a cluster admin to ` +
    `label the namespace pod-security.kubernetes.io/enforce=privileged.`
  );
}

function quotaMessage(detail: string, context: CallContext): string {
  const reason = detail.replace(/^.*?is forbidden:\s*/, '');
  return (
    `a ResourceQuota in namespace "${context.namespace}" refuses the drill pod: ${reason}. ` +
    `Ask for a smaller limit or --cpu, or wait for other pods there to finish.`
  );
}

// User, verb, resource and (optional) namespace of an RBAC denial. Built from parts only
// because the literal is wider than a line; it is the same pattern, with no flags.
const RBAC_FORBIDDEN = new RegExp(
  String.raw`User "([^"]+)" cannot (\S+) resource "([^"]+)"` +
    String.raw`(?: in API group "[^"]*")?` +
    String.raw`(?: in the namespace "([^"]+)")?`,
);

/**
 * `pods is forbidden: User "system:serviceaccount:ns:sa" cannot create resource "pods" in
 * API group "" in the namespace "x"`: say who lacks which verb on which resource.
 */
function rbacMessage(detail: string, context: CallContext): string {
  const match = RBAC_FORBIDDEN.exec(detail);
  const user = match?.[1];
  const verb = match?.[2] ?? context.verb;
  const resource = match?.[3] ?? context.resource;
  const namespace = match?.[4] ?? context.namespace;
  const who = user === undefined ? "oomtest's credentials" : `"${user}"`;

  return (
    `${who} may not ${verb} ${resource} in namespace "${namespace}" (Kubernetes RBAC): grant ` +
    `it with a Role and RoleBinding there (the Helm chart does with rbac.create=true).`
  );
}

function unauthorizedMessage(): string {
  return (
    'the Kubernetes API server rejected the credentials (401 Unauthorized): the token or ' +
    'client certificate in the kubeconfig is missing, expired or not for this cluster.'
  );
}

function notFoundMessage(status: KubeStatus | undefined, context: CallContext): string {
  if (
    status?.details?.kind === 'namespaces' ||
    /namespaces? "[^"]+" not found/.test(status?.message ?? '')
  ) {
    return `namespace "${context.namespace}" does not exist`;
  }
  return `${what(context)}: not found${status?.message ? ` (${status.message})` : ''}`;
}

function conflictMessage(status: KubeStatus | undefined, context: CallContext): string {
  if (status?.reason === 'AlreadyExists') {
    return `a pod named "${context.name}" already exists in namespace "${context.namespace}"`;
  }
  return `${what(context)}: conflict: ${status?.message ?? 'the object changed meanwhile'}`;
}

function invalidMessage(status: KubeStatus | undefined, context: CallContext): string {
  const causes = (status?.details?.causes ?? [])
    .map((cause) => [cause.field, cause.message].filter(Boolean).join(': '))
    .filter((line) => line !== '');
  const head = status?.message ?? `${what(context)}: invalid`;
  if (causes.length === 0) return `the Kubernetes API rejected the pod as invalid: ${head}`;

  return `the Kubernetes API rejected the pod as invalid: ${causes.join('; ')}`;
}

function unreachable(problem: string, context: CallContext, cause: unknown): ClusterError {
  const where = context.server === undefined ? 'the Kubernetes API server' : context.server;
  return new ClusterError(
    'kube.unreachable',
    `cannot reach ${where} to ${what(context)}: ${problem}`,
    { cause, transient: true, details: { problem } },
  );
}

/** "create pods/p in namespace n", for messages. */
function what(context: CallContext): string {
  const target =
    context.name === undefined ? context.resource : `${context.resource}/${context.name}`;
  return `${context.verb} ${target} in namespace "${context.namespace}"`;
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;

  // ApiException carries `code`; client-node's Watch and our own stream set `statusCode`.
  const candidate = error as { code?: unknown; statusCode?: unknown; body?: unknown };
  if (typeof candidate.statusCode === 'number') return candidate.statusCode;
  if (typeof candidate.code === 'number' && candidate.code >= 100) return candidate.code;
  return undefined;
}

function bodyOf(error: unknown): unknown {
  return (error as { body?: unknown }).body;
}

/** A plain-words description of a transport failure, or undefined if this is not one. */
function networkProblem(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;

  const candidate = error as { name?: string; code?: unknown; errno?: unknown; type?: string };
  if (candidate.name === 'AbortError' || candidate.name === 'TimeoutError') {
    return 'no answer in time (request timed out)';
  }
  const code = typeof candidate.code === 'string' ? candidate.code : undefined;
  const errno = typeof candidate.errno === 'string' ? candidate.errno : undefined;
  const symbol = code ?? errno;
  if (symbol !== undefined && NETWORK_CODES[symbol] !== undefined) return NETWORK_CODES[symbol];
  if (symbol !== undefined && TLS_CODE.test(symbol)) return `TLS handshake failed (${symbol})`;
  if (candidate.type === 'system' || candidate.type === 'request-timeout') {
    return symbol === undefined ? 'network error' : `network error (${symbol})`;
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
