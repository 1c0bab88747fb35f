/**
 * The job schema: what the bot puts in Redis and the worker takes out. It is versioned
 * because bot and worker are deployed separately; during a rolling upgrade a worker may
 * meet a job written by a newer bot, and must refuse it by name instead of guessing.
 */
import { randomBytes } from 'node:crypto';
import { InvalidRequestError } from '../errors.js';
import { STRESS_METHODS, type DrillRequest } from '../request/types.js';

/** The one schema version this build writes and reads. */
export const JOB_SCHEMA_VERSION = 1;

export interface DrillJobData {
  v: 1;
  /** Also the BullMQ job id and the pod's `oomtest.dev/drill-id` label. */
  drillId: string;
  request: DrillRequest;
  /** Slack user id of who asked. */
  requestedBy: string;
  /** Slack channel id of the drill's message. */
  channel: string;
  /** `ts` of the drill's channel message, updated in place. */
  messageTs: string;
  /** The slash command's response_url, for ephemeral follow-ups. */
  responseUrl?: string;
  /** ISO time the bot queued the drill. */
  enqueuedAt: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Label values allow at most 63 characters; the id is a pod label.
const DRILL_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SLACK_ID = /^[A-Z0-9]{2,}$/;
const SLACK_TS = /^\d+\.\d+$/;
const QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/;
// The engine caps kills at 10 (design: --kills at most 10).
const MAX_KILLS = 10;

/**
 * A new drill id: time-ordered (base-36 milliseconds) plus 32 random bits, e.g.
 * `mia3k2x1-9f3c0a1b`. Valid as a BullMQ job id and as a Kubernetes label value.
 */
export function newDrillId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Checks a job's data field by field and returns it typed. Throws InvalidRequestError
 * naming the first bad field; an unknown schema version is refused, never coerced.
 */
export function validateDrillJob(data: unknown): DrillJobData {
  const job = asRecord(data, 'job data');
  if (job.v !== JOB_SCHEMA_VERSION) {
    throw new InvalidRequestError(
      `job schema version ${JSON.stringify(job.v)} is not supported ` +
        `(this build reads v${JOB_SCHEMA_VERSION})`,
    );
  }

  const checked: DrillJobData = {
    v: 1,
    drillId: matching(job.drillId, DRILL_ID, 'drillId'),
    request: validateRequest(job.request),
    requestedBy: matching(job.requestedBy, SLACK_ID, 'requestedBy'),
    channel: matching(job.channel, SLACK_ID, 'channel'),
    messageTs: matching(job.messageTs, SLACK_TS, 'messageTs'),
    enqueuedAt: isoTime(job.enqueuedAt, 'enqueuedAt'),
  };
  if (job.responseUrl !== undefined) checked.responseUrl = httpsUrl(job.responseUrl);
  return checked;
}

function validateRequest(value: unknown): DrillRequest {
  const request = asRecord(value, 'request');
  const method = text(request.method, 'request.method');
  if (!(STRESS_METHODS as readonly string[]).includes(method)) {
    throw invalid(`request.method "${method}" is not one of ${STRESS_METHODS.join(', ')}`);
  }

  const checked: DrillRequest = {
    pod: matching(request.pod, DNS_LABEL, 'request.pod', 63),
    namespace: matching(request.namespace, DNS_LABEL, 'request.namespace', 63),
    memoryLimit: matching(request.memoryLimit, QUANTITY, 'request.memoryLimit'),
    memoryLimitBytes: wholeNumber(request.memoryLimitBytes, 'request.memoryLimitBytes', 1),
    kills: wholeNumber(request.kills, 'request.kills', 1, MAX_KILLS),
    method: method as DrillRequest['method'],
    fill: matching(request.fill, QUANTITY, 'request.fill'),
    fillBytes: wholeNumber(request.fillBytes, 'request.fillBytes', 1),
    image: text(request.image, 'request.image'),
    cpu: matching(request.cpu, QUANTITY, 'request.cpu'),
    timeoutSeconds: wholeNumber(request.timeoutSeconds, 'request.timeoutSeconds', 1),
    keep: bool(request.keep, 'request.keep'),
  };
  if (request.cluster !== undefined) checked.cluster = text(request.cluster, 'request.cluster');
  return checked;
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw invalid(`${what} must be a non-empty string`);
  return value;
}

function matching(value: unknown, pattern: RegExp, what: string, maxLength = 255): string {
  const checked = text(value, what);
  if (checked.length > maxLength || !pattern.test(checked)) {
    throw invalid(`${what} "${checked.slice(0, 80)}" is malformed`);
  }
  return checked;
}

function wholeNumber(
  value: unknown,
  what: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false`);
  return value;
}

function isoTime(value: unknown, what: string): string {
  const checked = text(value, what);
  if (Number.isNaN(Date.parse(checked))) throw invalid(`${what} "${checked}" is not a time`);
  return checked;
}

function httpsUrl(value: unknown): string {
  const checked = text(value, 'responseUrl');
  if (!/^https?:\/\//.test(checked)) throw invalid('responseUrl must be an http(s) URL');
  return checked;
}

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(`invalid drill job: ${message}`);
}
