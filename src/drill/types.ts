/**
 * What a drill reports while it runs and when it ends. The terminal prints these; the
 * worker turns them into Slack updates. Plain JSON values only.
 */
import type { DrillRequest } from '../request/types.js';
import type { ErrorCode } from '../errors.js';

export type DrillPhase =
  | 'applied'
  | 'scheduled'
  | 'pulling'
  | 'started'
  | 'running'
  | 'killed'
  | 'backoff'
  | 'restarted'
  | 'done'
  | 'failed'
  | 'timedout'
  | 'stopped';

/** One OOM kill, counted once per (pod uid, container, instance ordinal, finishedAt). */
export interface KillRecord {
  /** 1-based position within the drill. */
  ordinal: number;
  container: string;
  /** The container instance that died: 0 for the first start, then the restart count. */
  instance: number;
  exitCode: number | null;
  /** RFC 3339 from the pod status; null for a kill inferred from a restartCount jump. */
  startedAt: string | null;
  finishedAt: string | null;
  /** True when no status showed this kill: restartCount jumped past it. */
  inferred: boolean;
  /** Bytes the stress script reported before it died, from the previous container's log. */
  filledBytes?: number;
  /** Milliseconds the stress script reported from start to its last progress line. */
  fillMs?: number;
}

export interface DrillProgress {
  drillId: string;
  phase: DrillPhase;
  /** One line for a human: "OOM kill 1 of 2 (exit 137)". */
  message: string;
  /** ISO time the drill engine saw this. */
  at: string;
  kills: KillRecord[];
  restartCount: number;
  /** Set during back-off: how long the kubelet waits before the next restart. */
  backoffSeconds?: number;
  node?: string;
}

export type DrillStatus = 'done' | 'failed' | 'timedout' | 'stopped';

export interface DrillOutcome {
  drillId: string;
  request: DrillRequest;
  status: DrillStatus;
  /** The plain verdict line shown on top of the summary. */
  verdict: string;
  kills: KillRecord[];
  restartCount: number;
  /** `kubectl describe pod`-style text of the pod as last seen (empty if never created). */
  describe: string;
  /** Last lines of the killed container's log (previous instance), when read. */
  logTail?: string;
  failure?: { code: ErrorCode; message: string };
  /** True when the engine deleted the pod (false with --keep, or if it never existed). */
  deleted: boolean;
  startedAt: string;
  finishedAt: string;
}
