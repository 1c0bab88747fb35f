/**
 * The safety net behind crash recovery: a periodic sweep that deletes drill pods whose
 * drill is gone from the queue (its job finished without cleaning up, failed for good
 * after too many stalls, or vanished with Redis's data). Pods of drills that are queued,
 * running or waiting for a retry are never touched, nor are `--keep` pods of finished
 * drills while their job is retained.
 *
 * Known shortcoming: the sweep knows only its own queue. Two oomtest installations with
 * different Redis servers that share a namespace would each delete the other's running
 * drill pods (those queued from Slack); give each installation its own namespaces.
 */
import type { Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { KubeClient, KubeClientSet, PodJson } from '../kube/client.js';
import type { Clock } from '../kube/watch.js';
import type { DrillJobData } from '../queue/index.js';
import {
  ANNOTATION_REQUESTED_BY,
  LABEL_DRILL_ID,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '../stress/index.js';

/** A Slack requester marks a pod queued through Slack, not one from `oomtest run`. */
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * A pod with no job and no Slack requester may belong to `oomtest run` in a terminal,
 * which has no queue. It is left alone until its activeDeadlineSeconds plus this grace
 * has passed since it was created: by then the kubelet has stopped it anyway.
 */
const TERMINAL_DRILL_GRACE_MS = 5 * 60_000;

export interface SweepOptions {
  kube: KubeClientSet;
  queue: Queue<DrillJobData>;
  /** Namespaces drills may use (config.allowedNamespaces). */
  namespaces: string[];
  /** Contexts besides the current one that drills may use (config.allowedClusters). */
  clusters: string[];
  clock: Clock;
  logger: Logger;
}

/** Deletes orphaned drill pods everywhere drills may run; returns how many it deleted. */
export async function sweepOrphans(options: SweepOptions): Promise<number> {
  let deleted = 0;
  const contexts = [undefined, ...options.clusters];

  for (const context of contexts) {
    const kube = options.kube.forContext(context);
    for (const namespace of options.namespaces) {
      deleted += await sweepNamespace(options, kube, namespace).catch((error: unknown) => {
        options.logger.warn({ err: error, namespace, cluster: kube.cluster }, 'sweep failed');
        return 0;
      });
    }
  }
  return deleted;
}

async function sweepNamespace(
  options: SweepOptions,
  kube: KubeClient,
  namespace: string,
): Promise<number> {
  const list = await kube.listPods({
    namespace,
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
  });
  let deleted = 0;

  for (const pod of list.items) {
    if (!(await isOrphan(options, pod))) continue;

    const name = pod.metadata?.name ?? '';
    const drillId = pod.metadata?.labels?.[LABEL_DRILL_ID];
    await kube.deletePod({ namespace, name, uid: pod.metadata?.uid });
    options.logger.info(
      { drillId, pod: name, namespace, cluster: kube.cluster, result: 'swept' },
      'deleted a drill pod whose drill is gone',
    );
    deleted += 1;
  }
  return deleted;
}

async function isOrphan(options: SweepOptions, pod: PodJson): Promise<boolean> {
  if (pod.metadata?.deletionTimestamp !== undefined) return false;

  const drillId = pod.metadata?.labels?.[LABEL_DRILL_ID];
  const job = drillId === undefined ? undefined : await options.queue.getJob(drillId);
  if (job !== undefined && job !== null) {
    if (LIVE_STATES.has(await job.getState())) return false;
    return !job.data.request.keep;
  }

  const requester = pod.metadata?.annotations?.[ANNOTATION_REQUESTED_BY] ?? '';
  if (SLACK_USER_ID.test(requester)) return true;
  return pastDeadline(pod, options.clock.now());
}

function pastDeadline(pod: PodJson, nowMs: number): boolean {
  const createdMs = Date.parse(pod.metadata?.creationTimestamp ?? '');
  const deadlineSeconds = pod.spec?.activeDeadlineSeconds;
  if (Number.isNaN(createdMs) || deadlineSeconds === undefined) return false;
  return nowMs > createdMs + deadlineSeconds * 1_000 + TERMINAL_DRILL_GRACE_MS;
}
