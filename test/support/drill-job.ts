/** Builders for drill job data used by the queue, worker and end-to-end suites. */
import { newDrillId, type DrillJobData } from '../../src/queue/index.js';
import type { DrillRequest } from '../../src/request/types.js';

/** A valid 200Mi tmpfs drill request; override any field. */
export function drillRequest(overrides: Partial<DrillRequest> = {}): DrillRequest {
  return {
    pod: 'mem-nginx',
    namespace: 'default',
    memoryLimit: '200Mi',
    memoryLimitBytes: 209_715_200,
    kills: 2,
    method: 'tmpfs',
    fill: '400Mi',
    fillBytes: 419_430_400,
    image: 'busybox:1.36.1',
    cpu: '500m',
    timeoutSeconds: 180,
    keep: false,
    ...overrides,
  };
}

/** Valid job data with a fresh drill id; override any field or the request's. */
export function drillJob(
  overrides: Partial<DrillJobData> = {},
  request: Partial<DrillRequest> = {},
): DrillJobData {
  return {
    v: 1,
    drillId: newDrillId(),
    request: drillRequest(request),
    requestedBy: 'U0123ABCD',
    channel: 'C0123ABCD',
    messageTs: '1700000000.000100',
    enqueuedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A queue prefix no other suite uses, so suites can share one Redis in parallel. */
export function uniquePrefix(what: string): string {
  return `oomtest-test-${what}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** REDIS_URL as `npm test` sets it, or the usual local default. */
export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}
