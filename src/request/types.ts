/**
 * The validated drill request: what every other layer receives after parsing.
 * Plain JSON values only, so it can travel in a BullMQ job unchanged.
 */

export const STRESS_METHODS = ['tmpfs', 'emptydir', 'anon'] as const;
export type StressMethod = (typeof STRESS_METHODS)[number];

export interface DrillRequest {
  /** Pod name: a DNS-1123 label. */
  pod: string;
  namespace: string;
  /** Canonical Kubernetes quantity, e.g. `200Mi`; used as both request and limit. */
  memoryLimit: string;
  memoryLimitBytes: number;
  /** How many OOM kills to observe (1..10; default 2). */
  kills: number;
  method: StressMethod;
  /** How much the stress script tries to fill (canonical quantity); always above the limit. */
  fill: string;
  fillBytes: number;
  image: string;
  /** Canonical cpu quantity, e.g. `100m`; used as both request and limit. */
  cpu: string;
  /**
   * Seconds the drill may spend outside kubelet restart back-off (scheduling, pulling,
   * filling). Back-off waits do not count: they are the kubelet's, and known in advance.
   */
  timeoutSeconds: number;
  /** Leave the pod in place at the end (for a human to `kubectl describe` it). */
  keep: boolean;
  /** kubeconfig context; undefined means the current context (or in-cluster). */
  cluster?: string;
}

/** What `/oomtest ...` or `oomtest run ...` asked for, after parsing. */
export type ParsedCommand =
  | { kind: 'drill'; request: DrillRequest }
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'stop'; pod: string; namespace: string; cluster?: string };

/** Values that apply when a flag is absent, and the caps that bound what may be asked. */
export interface RequestDefaults {
  namespace: string;
  image: string;
  /** Default `--cpu`, canonical, e.g. `100m`. */
  cpu: string;
  /** Default `--kills`. */
  kills: number;
  /** Default `--timeout`, seconds. */
  timeoutSeconds: number;
  /** OOMTEST_MAX_MEMORY in bytes: the largest limit a drill may ask for. */
  maxMemoryBytes: number;
}
