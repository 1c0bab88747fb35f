/**
 * Drill request → the Pod that gets OOM-killed. Pure: no cluster access.
 *
 * The pod is QoS Guaranteed (requests equal limits for memory and cpu), restarts Always so
 * each kubelet restart re-applies the pressure, carries no API token, and has a deadline so
 * that nothing outlives a lost worker. Only `tmpfs` is privileged (its mount needs
 * CAP_SYS_ADMIN); `emptydir` and `anon` pass the `restricted` Pod Security profile.
 */
import type { V1Container, V1Pod, V1SecurityContext, V1Volume } from '@kubernetes/client-node';
import { OomtestError } from '../errors.js';
import type { DrillRequest, StressMethod } from '../request/types.js';
import { DEFAULT_STRESS_DIR, stressScript } from './script.js';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'oomtest';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const DRILL_POD_NAME = 'oomtest-drill';
export const LABEL_DRILL_ID = 'oomtest.dev/drill-id';

export const ANNOTATION_METHOD = 'oomtest.dev/method';
export const ANNOTATION_KILLS = 'oomtest.dev/kills';
export const ANNOTATION_FILL = 'oomtest.dev/fill';
export const ANNOTATION_REQUESTED_BY = 'oomtest.dev/requested-by';

/** The one container of a drill pod: the one whose restarts and kills are counted. */
export const STRESS_CONTAINER = 'stress';
/** The memory-backed emptyDir of the `emptydir` method. */
export const STRESS_VOLUME = 'oomtest-fill';

/** The stress image when none is configured; defined with the other settings. */
export { DEFAULT_IMAGE } from '../config.js';

// nobody/nogroup: numeric, so the kubelet can check runAsNonRoot without reading the image.
const NON_ROOT_ID = 65_534;

// The kubelet waits 10 s after the first crash, doubling per crash up to 5 minutes.
const BACKOFF_INITIAL_SECONDS = 10;
const BACKOFF_MAX_SECONDS = 300;

// The kubelet restarts a backed-off container at its next pod sync, not the instant the
// back-off ends; 10 s per kill covers that lag on a busy node.
const RESTART_SLACK_SECONDS = 10;
// The worker's own timeout fires first and then needs time to read status, logs and events
// and delete the pod; the deadline is only the net for a worker that never comes back.
const DEADLINE_MARGIN_SECONDS = 120;

// The script holds no state and exits on SIGTERM; a short grace keeps stop and cleanup quick.
const TERMINATION_GRACE_SECONDS = 5;

// A label value: at most 63 characters, alphanumeric at both ends, '-', '_' and '.' inside.
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export interface BuildPodOptions {
  /** The drill's id (also the BullMQ job id); must be a valid label value. */
  drillId: string;
  /** Who asked, for people reading the pod: a Slack user id or `cli:<user>`. */
  requestedBy?: string;
}

/**
 * The kubelet's restart back-off before each restart that a drill of `kills` kills waits
 * for, in seconds: 10, 20, 40, ... capped at 300.
 */
export function backoffScheduleSeconds(kills: number): number[] {
  if (!Number.isInteger(kills) || kills < 0) {
    throw new RangeError(`kills must be a whole, non-negative number, got ${kills}`);
  }

  return Array.from({ length: kills }, (_, index) =>
    Math.min(BACKOFF_INITIAL_SECONDS * 2 ** index, BACKOFF_MAX_SECONDS),
  );
}

/**
 * The pod's activeDeadlineSeconds: the drill's timeout, plus every back-off its kills will
 * wait for (those never count against the timeout), plus slack for restarts and clean-up.
 */
export function activeDeadlineSeconds(request: DrillRequest): number {
  const backoffSeconds = backoffScheduleSeconds(request.kills).reduce((sum, s) => sum + s, 0);
  const restartSlackSeconds = RESTART_SLACK_SECONDS * request.kills;

  return request.timeoutSeconds + backoffSeconds + restartSlackSeconds + DEADLINE_MARGIN_SECONDS;
}

/** The drill's Pod manifest; throws OomtestError('internal') for an unusable drill id. */
export function buildPod(request: DrillRequest, options: BuildPodOptions): V1Pod {
  if (!LABEL_VALUE.test(options.drillId)) {
    throw new OomtestError('internal', `drill id "${options.drillId}" is not a valid label value`);
  }

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: request.pod,
      namespace: request.namespace,
      labels: drillLabels(options.drillId),
      annotations: annotations(request, options),
    },
    spec: {
      containers: [stressContainer(request)],
      volumes: volumes(request),
      restartPolicy: 'Always',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      activeDeadlineSeconds: activeDeadlineSeconds(request),
    },
  };
}

/** The labels every drill pod carries; select managed pods with LABEL_MANAGED_BY=MANAGED_BY. */
export function drillLabels(drillId: string): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_NAME]: DRILL_POD_NAME,
    [LABEL_DRILL_ID]: drillId,
  };
}

function annotations(request: DrillRequest, options: BuildPodOptions): Record<string, string> {
  const result: Record<string, string> = {
    [ANNOTATION_METHOD]: request.method,
    [ANNOTATION_KILLS]: String(request.kills),
    [ANNOTATION_FILL]: request.fill,
  };
  if (options.requestedBy !== undefined) result[ANNOTATION_REQUESTED_BY] = options.requestedBy;

  return result;
}

function stressContainer(request: DrillRequest): V1Container {
  const resources = { memory: request.memoryLimit, cpu: request.cpu };
  const script = stressScript({ method: request.method, fillBytes: request.fillBytes });

  return {
    name: STRESS_CONTAINER,
    image: request.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', script],
    resources: { requests: { ...resources }, limits: { ...resources } },
    securityContext: securityContext(request.method),
    volumeMounts:
      request.method === 'emptydir'
        ? [{ name: STRESS_VOLUME, mountPath: DEFAULT_STRESS_DIR }]
        : undefined,
  };
}

function volumes(request: DrillRequest): V1Volume[] | undefined {
  if (request.method !== 'emptydir') return undefined;

  // The volume's size is the fill; the kubelet caps a memory-backed emptyDir at the pod's
  // memory limit, and the script makes up the difference with anonymous memory.
  return [{ name: STRESS_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: request.fill } }];
}

/**
 * tmpfs: the recipe's privileged root (mount needs CAP_SYS_ADMIN). The others: every
 * field the `restricted` Pod Security profile checks, set on the container.
 */
function securityContext(method: StressMethod): V1SecurityContext {
  if (method === 'tmpfs') return { privileged: true, runAsUser: 0 };

  return {
    runAsNonRoot: true,
    runAsUser: NON_ROOT_ID,
    runAsGroup: NON_ROOT_ID,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
