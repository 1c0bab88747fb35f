/**
 * The drill queue: name, versioned job schema, producer API for the bot, and the shared
 * per-drill state (stop requests, outcomes, summary markers) the worker uses.
 */
export {
  QUEUE_NAME,
  DEFAULT_PREFIX,
  DrillQueue,
  drillJobOptions,
  drillLockId,
} from './drill-queue.js';
export type { DrillQueueOptions, EnqueueResult } from './drill-queue.js';
export { JOB_SCHEMA_VERSION, newDrillId, validateDrillJob } from './schema.js';
export type { DrillJobData } from './schema.js';
export { DrillKeys, DrillState, parseStopRequest } from './drill-state.js';
export type { DrillStateOptions, StopRequest } from './drill-state.js';
export { consumerRedis, producerRedis, closeRedis, PRODUCER_TIMEOUT_MS } from './connection.js';
