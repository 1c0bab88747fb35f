/**
 * Server-side printing: the meta.k8s.io/v1 Table the apiserver returns when a client (kubectl
 * get) asks for `application/json;as=Table;v=v1;g=meta.k8s.io`. Cells are computed as the
 * apiserver's printers do (pkg/printers/internalversion), so kubectl shows the STATUS,
 * READY and RESTARTS a real cluster would. The server always fills the wide columns; kubectl
 * hides those with priority > 0 unless `-o wide`.
 */
import type { ContainerStatusJson, EventJson, KubeObject, PodJson } from './types.js';
import { humanDuration } from './util.js';

interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

interface TableRow {
  cells: unknown[];
  object?: unknown;
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
}

export interface TableJson {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: ColumnDefinition[] | null;
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function column(
  name: string,
  description: string,
  extra: Partial<ColumnDefinition> = {},
): ColumnDefinition {
  return { name, type: 'string', format: '', description, priority: 0, ...extra };
}

const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const AGE_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const POD_COLUMNS: ColumnDefinition[] = [
  column('Name', NAME_DOC, { format: 'name' }),
  column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'The aggregate status of the containers in this pod.'),
  column(
    'Restarts',
    'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  ),
  column('Age', AGE_DOC),
  column(
    'IP',
    'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
    { priority: 1 },
  ),
  column('Node', 'NodeName indicates in which node this pod is scheduled.', { priority: 1 }),
  column(
    'Nominated Node',
    'nominatedNodeName is set only when this pod preempts other pods on the node.',
    { priority: 1 },
  ),
  column(
    'Readiness Gates',
    'If specified, all readiness gates will be evaluated for pod readiness.',
    { priority: 1 },
  ),
];

const EVENT_COLUMNS: ColumnDefinition[] = [
  column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column(
    'Reason',
    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  ),
  column('Object', 'The object that this event is about.'),
  column(
    'Subobject',
    'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.',
    { priority: 1 },
  ),
  column(
    'Source',
    'The component reporting this event. Should be a short machine understandable string.',
    { priority: 1 },
  ),
  column('Message', 'A human-readable description of the status of this operation.'),
  column(
    'First Seen',
    'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
    { priority: 1 },
  ),
  column('Count', 'The number of times this event has occurred.', { priority: 1 }),
  column('Name', NAME_DOC, { priority: 1, format: 'name' }),
];

const NAMESPACE_COLUMNS: ColumnDefinition[] = [
  column('Name', NAME_DOC, { format: 'name' }),
  column('Status', 'The status of the namespace'),
  column('Age', AGE_DOC),
];

const NODE_COLUMNS: ColumnDefinition[] = [
  column('Name', NAME_DOC, { format: 'name' }),
  column('Status', 'The status of the node'),
  column('Roles', 'The roles of the node'),
  column('Age', AGE_DOC),
  column('Version', 'Kubelet Version reported by the node.'),
  column('Internal-IP', 'List of addresses reachable to the node.', { priority: 1 }),
  column('External-IP', 'List of addresses reachable to the node.', { priority: 1 }),
  column(
    'OS-Image',
    'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
    { priority: 1 },
  ),
  column(
    'Kernel-Version',
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    { priority: 1 },
  ),
  column(
    'Container-Runtime',
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    { priority: 1 },
  ),
];

const DEFAULT_COLUMNS: ColumnDefinition[] = [
  column('Name', NAME_DOC, { format: 'name' }),
  column('Created At', AGE_DOC, { type: 'date' }),
];

function since(timestamp: string | null | undefined, nowMs: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(nowMs - Date.parse(timestamp));
}

/** printPod: READY, STATUS (the reason kubectl shows), RESTARTS with "(Xs ago)". */
export function podCells(pod: PodJson, nowMs: number): unknown[] {
  const statuses: ContainerStatusJson[] = pod.status.containerStatuses ?? [];
  let reason = pod.status.reason || pod.status.phase;
  let restarts = 0;
  let ready = 0;
  let lastRestartMs = 0;
  let hasRunning = false;

  for (const status of [...statuses].reverse()) {
    restarts += status.restartCount;
    const finished = status.lastState.terminated?.finishedAt;
    if (finished) lastRestartMs = Math.max(lastRestartMs, Date.parse(finished));

    const { waiting, terminated, running } = status.state;
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated)
      reason = terminated.signal
        ? `Signal:${terminated.signal}`
        : `ExitCode:${terminated.exitCode}`;
    else if (status.ready && running) {
      hasRunning = true;
      ready += 1;
    }
  }
  if (reason === 'Completed' && hasRunning) {
    const podReady = (pod.status.conditions ?? []).some(
      (c) => c.type === 'Ready' && c.status === 'True',
    );
    reason = podReady ? 'Running' : 'NotReady';
  }
  const terminal = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && pod.status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !terminal) reason = 'Terminating';

  const restartText =
    restarts !== 0 && lastRestartMs > 0
      ? `${restarts} (${humanDuration(nowMs - lastRestartMs)} ago)`
      : String(restarts);
  const podIp = pod.status.podIPs?.[0]?.ip || '<none>';
  return [
    pod.metadata.name,
    `${ready}/${pod.spec.containers.length}`,
    reason,
    restartText,
    since(pod.metadata.creationTimestamp, nowMs),
    podIp,
    pod.spec.nodeName || '<none>',
    pod.status.nominatedNodeName || '<none>',
    '<none>',
  ];
}

function eventCells(event: EventJson, nowMs: number): unknown[] {
  const first = event.firstTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp;
  const last = event.lastTimestamp ?? event.eventTime ?? first;
  const object = `${event.involvedObject.kind.toLowerCase()}/${event.involvedObject.name}`;
  const source = event.source.component
    ? [event.source.component, event.source.host].filter(Boolean).join(', ')
    : event.reportingComponent;
  return [
    since(last, nowMs),
    event.type,
    event.reason,
    object,
    event.involvedObject.fieldPath ?? '',
    source,
    event.message.trim(),
    since(first, nowMs),
    event.count ?? 1,
    event.metadata.name,
  ];
}

function rowConditions(object: KubeObject): TableRow['conditions'] {
  const phase = (object as Partial<PodJson>).status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  // printPod marks finished pods so `kubectl get` can hide them with --show-all=false.
  const reason = phase === 'Succeeded' ? 'Succeeded' : 'Failed';
  return [
    {
      type: 'Completed',
      status: 'True',
      reason,
      message: reason === 'Succeeded' ? 'The pod has completed successfully.' : 'The pod failed.',
    },
  ];
}

function columnsFor(resource: string): ColumnDefinition[] {
  if (resource === 'pods') return POD_COLUMNS;
  if (resource === 'events') return EVENT_COLUMNS;
  if (resource === 'namespaces') return NAMESPACE_COLUMNS;
  if (resource === 'nodes') return NODE_COLUMNS;
  return DEFAULT_COLUMNS;
}

function cellsFor(resource: string, object: KubeObject, nowMs: number): unknown[] {
  if (resource === 'pods') return podCells(object as PodJson, nowMs);
  if (resource === 'events') return eventCells(object as EventJson, nowMs);
  if (resource === 'namespaces') {
    const phase = (object.status as { phase?: string } | undefined)?.phase ?? 'Active';
    return [object.metadata.name, phase, since(object.metadata.creationTimestamp, nowMs)];
  }
  if (resource === 'nodes') return nodeCells(object, nowMs);
  return [object.metadata.name, object.metadata.creationTimestamp];
}

interface NodeStatusJson {
  conditions?: Array<{ type: string; status: string }>;
  addresses?: Array<{ type: string; address: string }>;
  nodeInfo?: Record<string, string>;
}

function nodeCells(node: KubeObject, nowMs: number): unknown[] {
  const status = (node.status ?? {}) as NodeStatusJson;
  const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const address = (type: string): string =>
    status.addresses?.find((entry) => entry.type === type)?.address ?? '<none>';
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((label) => label.startsWith('node-role.kubernetes.io/'))
    .map((label) => label.slice('node-role.kubernetes.io/'.length));
  return [
    node.metadata.name,
    ready ? 'Ready' : 'NotReady',
    roles.length > 0 ? roles.join(',') : '<none>',
    since(node.metadata.creationTimestamp, nowMs),
    status.nodeInfo?.kubeletVersion ?? '',
    address('InternalIP'),
    address('ExternalIP'),
    status.nodeInfo?.osImage ?? '',
    status.nodeInfo?.kernelVersion ?? '',
    status.nodeInfo?.containerRuntimeVersion ?? '',
  ];
}

function embedded(object: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

/** A Table for a list (or one watch event); `withColumns` false drops definitions as watches do. */
export function toTable(options: {
  resource: string;
  objects: KubeObject[];
  include: IncludeObject;
  metadata?: TableJson['metadata'];
  withColumns?: boolean;
}): TableJson {
  const nowMs = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.metadata ?? {},
    columnDefinitions: options.withColumns === false ? null : columnsFor(options.resource),
    rows: options.objects.map((object) => {
      const row: TableRow = { cells: cellsFor(options.resource, object, nowMs) };
      const conditions = options.resource === 'pods' ? rowConditions(object) : undefined;
      if (conditions) row.conditions = conditions;
      const inner = embedded(object, options.include);
      if (inner !== undefined) row.object = inner;
      return row;
    }),
  };
}

/** True when an Accept header asks for a meta.k8s.io Table (v1 or v1beta1). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => /as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}
