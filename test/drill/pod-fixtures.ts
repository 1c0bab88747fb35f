/**
 * Hand-written drill pod objects in the JSON form the watch delivers, shaped like what the
 * kubelet reports at each step of an OOM drill.
 */
import type { PodJson } from '../../src/kube/index.js';

type ContainerState = Record<string, unknown>;

export interface PodShape {
  uid?: string;
  resourceVersion?: number;
  nodeName?: string;
  phase?: string;
  reason?: string;
  message?: string;
  deleting?: boolean;
  unschedulable?: string;
  /** No container status at all (not created yet). */
  noContainer?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

let version = 1_000;

/** A drill pod; every call gets a higher resourceVersion unless one is given. */
export function drillPod(shape: PodShape = {}): PodJson {
  version += 1;
  const uid = shape.uid ?? 'uid-1';
  const conditions = shape.unschedulable
    ? [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: shape.unschedulable,
        },
      ]
    : [{ type: 'PodScheduled', status: 'True' }];
  const containerStatuses = shape.noContainer
    ? undefined
    : [
        {
          name: 'stress',
          image: 'docker.io/library/busybox:1.36.1',
          imageID: '',
          ready: shape.state?.running !== undefined,
          restartCount: shape.restartCount ?? 0,
          state: shape.state ?? { waiting: { reason: 'ContainerCreating' } },
          lastState: shape.lastState ?? {},
        },
      ];

  return {
    metadata: {
      name: 'mem-nginx',
      namespace: 'drills',
      uid,
      resourceVersion: String(shape.resourceVersion ?? version),
      deletionTimestamp: shape.deleting ? '2026-01-01T00:05:00Z' : undefined,
    },
    spec: {
      nodeName: shape.unschedulable ? undefined : (shape.nodeName ?? 'node-1'),
      containers: [{ name: 'stress', image: 'docker.io/library/busybox:1.36.1' }],
    },
    status: {
      phase: shape.phase ?? 'Running',
      reason: shape.reason,
      message: shape.message,
      conditions,
      containerStatuses,
    },
  } as PodJson;
}

export function running(startedAt = '2026-01-01T00:00:10Z'): ContainerState {
  return { running: { startedAt } };
}

export function oomKilled(instance: number, exitCode = 137): ContainerState {
  return {
    terminated: {
      reason: 'OOMKilled',
      exitCode,
      startedAt: `2026-01-01T00:0${instance}:10Z`,
      finishedAt: `2026-01-01T00:0${instance}:13Z`,
      containerID: `containerd://c${instance}`,
    },
  };
}

export function errored(exitCode: number, finishedAt = '2026-01-01T00:00:11Z'): ContainerState {
  return {
    terminated: { reason: 'Error', exitCode, startedAt: '2026-01-01T00:00:10Z', finishedAt },
  };
}

export function crashLoop(seconds: string): ContainerState {
  return {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: `back-off ${seconds} restarting failed container=stress pod=mem-nginx_drills(uid-1)`,
    },
  };
}

/** The status sequence of one kill: terminated, back-off, restarted. */
export function killCycle(instance: number, backoff: string): PodJson[] {
  return [
    drillPod({
      restartCount: instance,
      state: oomKilled(instance),
      lastState: instance > 0 ? oomKilled(instance - 1) : {},
    }),
    drillPod({ restartCount: instance, state: crashLoop(backoff), lastState: oomKilled(instance) }),
    drillPod({ restartCount: instance + 1, state: running(), lastState: oomKilled(instance) }),
  ];
}
