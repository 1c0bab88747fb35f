/**
 * Core v1 events as a cluster records them.
 *
 * The kubelet uses client-go's event recorder: an event identical to an earlier one (same
 * object, field path, source, type, reason and message) is not created again, the existing one
 * gets `count + 1` and a new `lastTimestamp` while `firstTimestamp` stays, which is where
 * `kubectl describe`'s "(x2 over 10m)" comes from. The scheduler uses the events.k8s.io API
 * instead, so its events read back through core v1 with `eventTime` set and no
 * first/lastTimestamp, `source` empty and `reportingComponent` naming it.
 *
 * Known gap: the recorder's spam filter and similar-message folding ("combined from similar
 * events") are not simulated; a test that floods events sees every one of them.
 */
import type { Store } from './store.js';
import type { EventJson, PodJson } from './types.js';
import { newUid, rfc3339, rfc3339Micro } from './util.js';

export interface KubeletEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** `spec.containers{NAME}` for container events; absent for pod-level ones. */
  container?: string;
}

export class EventRecorder {
  /** Aggregation key → the stored event's name, so aggregating never scans the namespace. */
  private readonly recorded = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly nodeName: string,
  ) {}

  /** Records (or aggregates into an earlier identical event) one kubelet event about a pod. */
  kubelet(pod: PodJson, event: KubeletEvent): EventJson {
    const now = Date.now();
    const namespace = pod.metadata.namespace;
    const fieldPath = event.container ? `spec.containers{${event.container}}` : undefined;
    const key = JSON.stringify([
      pod.metadata.uid,
      fieldPath,
      event.type,
      event.reason,
      event.message,
    ]);
    const existingName = this.recorded.get(key);
    const same = existingName
      ? this.store.get<EventJson>('events', namespace, existingName)
      : undefined;
    if (same) {
      same.count = (same.count ?? 1) + 1;
      same.lastTimestamp = rfc3339(now);
      return this.store.update('events', same);
    }

    const created = this.create(pod, event, { now, fieldPath });
    this.recorded.set(key, created.metadata.name ?? '');
    return created;
  }

  private create(
    pod: PodJson,
    event: KubeletEvent,
    at: { now: number; fieldPath: string | undefined },
  ): EventJson {
    const { now, fieldPath } = at;
    return this.store.create<EventJson>('events', {
      ...this.base(pod, now, fieldPath),
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: 'kubelet', host: this.nodeName },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      eventTime: null,
      reportingComponent: 'kubelet',
      reportingInstance: this.nodeName,
    });
  }

  /** The scheduler's `Scheduled` event, written through events.k8s.io as the real one is. */
  scheduled(pod: PodJson): EventJson {
    return this.scheduler(pod, {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${this.nodeName}`,
      action: 'Binding',
    });
  }

  /** The scheduler's `FailedScheduling` event for a pod that fits no node. */
  failedScheduling(pod: PodJson, message: string): EventJson {
    return this.scheduler(pod, {
      type: 'Warning',
      reason: 'FailedScheduling',
      message,
      action: 'Scheduling',
    });
  }

  private scheduler(
    pod: PodJson,
    event: { type: 'Normal' | 'Warning'; reason: string; message: string; action: string },
  ): EventJson {
    const now = Date.now();
    return this.store.create<EventJson>('events', {
      ...this.base(pod, now, undefined),
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: rfc3339Micro(now),
      action: event.action,
      reportingComponent: 'default-scheduler',
      reportingInstance: `default-scheduler-${this.nodeName}`,
    });
  }

  private base(
    pod: PodJson,
    now: number,
    fieldPath: string | undefined,
  ): Pick<EventJson, 'kind' | 'apiVersion' | 'metadata' | 'involvedObject'> {
    // client-go names an event after its object and the recording time in hex nanoseconds.
    const name = `${pod.metadata.name}.${(BigInt(now) * 1_000_000n + BigInt(Math.floor(Math.random() * 1e6))).toString(16)}`;
    return {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: {
        name,
        namespace: pod.metadata.namespace,
        uid: newUid(),
        creationTimestamp: rfc3339(now),
      },
      involvedObject: {
        kind: 'Pod',
        namespace: pod.metadata.namespace,
        name: pod.metadata.name ?? '',
        uid: pod.metadata.uid,
        apiVersion: 'v1',
        resourceVersion: pod.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
    };
  }
}
