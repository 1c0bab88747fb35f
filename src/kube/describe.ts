/**
 * `kubectl describe pod`, rendered from a pod and its events without a cluster round trip.
 *
 * The output reads exactly like kubectl v1.30's, line for line and space for space (test/kube
 * compares it with the real kubectl binary): same fields, same order, same tab-writer alignment,
 * same value formats. Two deliberate differences, both options: times print in UTC by default
 * (kubectl uses the local zone of whoever runs it), and "now" is passed in rather than read
 * from the clock, so the function is pure.
 *
 * Not rendered (kubectl prints them only when set, and drill pods never set them): pod-level
 * `Resources` (a v1.32+ field v1.30 ignores too), and the fields of rare volume kinds
 * (see describe-volumes.ts).
 */
import { writeContainers, byteOrder, type ContainerContext } from './describe-containers.js';
import { ageSince, formatRfc1123z, quantityValue } from './describe-format.js';
import { goSort } from './describe-gosort.js';
import { PrefixWriter } from './describe-tabwriter.js';
import {
  toDate,
  type ContainerLike,
  type EventLike,
  type PodLike,
  type TolerationLike,
  type TopologySpreadConstraintLike,
} from './describe-types.js';
import { writeVolumes } from './describe-volumes.js';

export type { EventLike, PodLike } from './describe-types.js';

export interface DescribePodOptions {
  /** The pod, as raw JSON (e.g. from a watch) or a client-node V1Pod. */
  pod: PodLike;
  /**
   * Events about the pod (raw JSON or CoreV1Event), in the order the API listed them.
   * An empty list prints `Events: <none>`; leaving it out omits the section, like
   * `kubectl describe --show-events=false`.
   */
  events?: readonly EventLike[] | { items?: readonly EventLike[] };
  /** The moment ages are measured from (kubectl uses the time it runs). */
  now: Date;
  /** IANA time zone for printed times. Default 'UTC'; kubectl itself uses the local zone. */
  timeZone?: string;
  /**
   * Cut each Command/Args item to this many lines (default: no cut, like kubectl). A drill
   * pod's inline stress script is ~60 lines, which would crowd out everything that matters
   * in a Slack message.
   */
  maxCommandLines?: number;
}

/** The annotation kubectl never shows: it repeats the whole object. */
const SKIPPED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Longer annotations are shown on their own lines and cut (kubectl's maxAnnotationLen). */
const MAX_ANNOTATION_LENGTH = 140;

/** Renders the pod as `kubectl describe pod` would print it; ends with a newline. */
export function describePod(options: DescribePodOptions): string {
  const { pod, now, timeZone = 'UTC', maxCommandLines } = options;
  const w = new PrefixWriter();
  const ctx: ContainerContext = { w, pod, timeZone, now, maxCommandLines };

  writeHeader(ctx);
  writeAllContainers(ctx);
  writeConditions(w, pod);
  writeVolumes(w, pod.spec?.volumes ?? []);
  w.write(0, `QoS Class:\t${qosClass(pod)}\n`);
  writeMap(w, 'Node-Selectors', pod.spec?.nodeSelector ?? {});
  writeTolerations(w, pod.spec?.tolerations ?? []);
  writeTopologySpread(w, pod.spec?.topologySpreadConstraints ?? []);
  if (options.events !== undefined) writeEvents(w, eventList(options.events), now);
  return w.finish();
}

function eventList(events: NonNullable<DescribePodOptions['events']>): readonly EventLike[] {
  return 'items' in events ? (events.items ?? []) : (events as readonly EventLike[]);
}

function writeHeader(ctx: ContainerContext): void {
  const { w, pod } = ctx;
  const meta = pod.metadata ?? {};
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};

  w.write(0, `Name:\t${meta.name ?? ''}\n`);
  w.write(0, `Namespace:\t${meta.namespace ?? ''}\n`);
  if (spec.priority !== undefined && spec.priority !== null)
    w.write(0, `Priority:\t${spec.priority}\n`);
  if (spec.priorityClassName) w.write(0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec.runtimeClassName) w.write(0, `Runtime Class Name:\t${spec.runtimeClassName}\n`);
  if (spec.serviceAccountName) w.write(0, `Service Account:\t${spec.serviceAccountName}\n`);
  w.write(
    0,
    spec.nodeName ? `Node:\t${spec.nodeName}/${status.hostIP ?? ''}\n` : 'Node:\t<none>\n',
  );
  const startTime = toDate(status.startTime);
  if (startTime) w.write(0, `Start Time:\t${formatRfc1123z(startTime, ctx.timeZone)}\n`);
  writeMap(w, 'Labels', meta.labels ?? {});
  writeAnnotations(w, meta.annotations ?? {});
  writeStatus(ctx);
  writeNetwork(w, pod);
}

function writeStatus(ctx: ContainerContext): void {
  const { w, pod } = ctx;
  const status = pod.status ?? {};
  const deletion = toDate(pod.metadata?.deletionTimestamp);
  const finished = status.phase === 'Failed' || status.phase === 'Succeeded';
  if (deletion && !finished) {
    w.write(0, `Status:\tTerminating (lasts ${ageSince(deletion, ctx.now)})\n`);
    w.write(0, `Termination Grace Period:\t${pod.metadata?.deletionGracePeriodSeconds ?? 0}s\n`);
  } else {
    w.write(0, `Status:\t${status.phase ?? ''}\n`);
  }
  if (status.reason) w.write(0, `Reason:\t${status.reason}\n`);
  if (status.message) w.write(0, `Message:\t${status.message}\n`);

  const seccomp = pod.spec?.securityContext?.seccompProfile;
  if (!seccomp) return;
  w.write(0, `SeccompProfile:\t${seccomp.type ?? ''}\n`);
  if (seccomp.type === 'Localhost')
    w.write(0, `LocalhostProfile:\t${seccomp.localhostProfile ?? ''}\n`);
}

function writeNetwork(w: PrefixWriter, pod: PodLike): void {
  const status = pod.status ?? {};
  w.write(0, `IP:\t${status.podIP ?? ''}\n`);
  const ips = status.podIPs ?? [];
  if (ips.length === 0) {
    w.write(0, 'IPs:\t<none>\n');
  } else {
    w.write(0, 'IPs:\n');
    for (const ip of ips) w.write(1, `IP:\t${ip.ip ?? ''}\n`);
  }

  const controller = (pod.metadata?.ownerReferences ?? []).find((ref) => ref.controller === true);
  if (controller) w.write(0, `Controlled By:\t${controller.kind ?? ''}/${controller.name ?? ''}\n`);
  if (status.nominatedNodeName) w.write(0, `NominatedNodeName:\t${status.nominatedNodeName}\n`);
}

function writeAllContainers(ctx: ContainerContext): void {
  const spec = ctx.pod.spec ?? {};
  const status = ctx.pod.status ?? {};
  if ((spec.initContainers ?? []).length > 0) {
    writeContainers(
      ctx,
      'Init Containers',
      spec.initContainers ?? [],
      status.initContainerStatuses ?? [],
    );
  }
  writeContainers(ctx, 'Containers', spec.containers ?? [], status.containerStatuses ?? []);
  if ((spec.ephemeralContainers ?? []).length > 0) {
    const statuses = status.ephemeralContainerStatuses ?? [];
    writeContainers(ctx, 'Ephemeral Containers', spec.ephemeralContainers ?? [], statuses);
  }
}

/** "Title:\tk=v" then "\tk=v" per further key, sorted; `<none>` when empty. */
function writeMap(w: PrefixWriter, title: string, map: Readonly<Record<string, string>>): void {
  w.write(0, `${title}:\t`);
  const keys = Object.keys(map).sort(byteOrder);
  if (keys.length === 0) {
    w.write(0, '<none>\n');
    return;
  }
  keys.forEach((key, i) => w.write(0, `${i > 0 ? '\t' : ''}${key}=${map[key]}\n`));
}

function byteLength(text: string): number {
  return Buffer.byteLength(text);
}

/** Go's s[:n] on a string is a byte slice; so is kubectl's cut. */
function shorten(text: string, maxBytes: number): string {
  if (byteLength(text) <= maxBytes) return text;
  return `${Buffer.from(text).subarray(0, maxBytes).toString()}...`;
}

function writeAnnotations(w: PrefixWriter, annotations: Readonly<Record<string, string>>): void {
  w.write(0, 'Annotations:\t');
  const keys = Object.keys(annotations)
    .filter((key) => key !== SKIPPED_ANNOTATION)
    .sort(byteOrder);
  if (keys.length === 0) {
    w.write(0, '<none>\n');
    return;
  }

  keys.forEach((key, i) => {
    if (i > 0) w.write(0, '\t');
    const value = (annotations[key] ?? '').replace(/\n$/, '');
    const long = byteLength(value) + byteLength(key) + 2 > MAX_ANNOTATION_LENGTH;
    if (!long && !value.includes('\n')) {
      w.write(0, `${key}: ${value}\n`);
      return;
    }
    w.write(0, `${key}:\n`);
    for (const line of value.split('\n'))
      w.write(0, `\t  ${shorten(line, MAX_ANNOTATION_LENGTH - 2)}\n`);
  });
}

function writeConditions(w: PrefixWriter, pod: PodLike): void {
  const conditions = pod.status?.conditions ?? [];
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length > 0) {
    w.write(0, 'Readiness Gates:\n  Type\tStatus\n');
    for (const gate of gates) {
      const match = conditions.find((c) => c.type === gate.conditionType);
      w.write(1, `${gate.conditionType ?? ''} \t${match ? (match.status ?? '') : '<none>'} \n`);
    }
  }
  if (conditions.length === 0) return;

  w.write(0, 'Conditions:\n  Type\tStatus\n');
  for (const c of conditions) w.write(1, `${c.type ?? ''} \t${c.status ?? ''} \n`);
}

function tolerationText(t: TolerationLike): string {
  let text = t.key ?? '';
  if (t.value) text += `=${t.value}`;
  if (t.effect) text += `:${t.effect}`;
  if (t.operator === 'Exists' && !t.value) text += t.key || t.effect ? ' op=Exists' : 'op=Exists';
  if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) {
    text += ` for ${t.tolerationSeconds}s`;
  }
  return text;
}

function writeTolerations(w: PrefixWriter, tolerations: readonly TolerationLike[]): void {
  w.write(0, 'Tolerations:\t');
  if (tolerations.length === 0) {
    w.write(0, '<none>\n');
    return;
  }
  const sorted = goSort(tolerations, (a, b) => (a.key ?? '') < (b.key ?? ''));
  sorted.forEach((t, i) => w.write(0, `${i > 0 ? '\t' : ''}${tolerationText(t)}\n`));
}

/** metav1.FormatLabelSelector. */
function formatSelector(selector: TopologySpreadConstraintLike['labelSelector']): string {
  if (!selector) return '<none>';
  const parts = Object.keys(selector.matchLabels ?? {})
    .sort(byteOrder)
    .map((key) => `${key}=${selector.matchLabels![key]}`);
  for (const expr of selector.matchExpressions ?? []) {
    const op = expr.operator ?? '';
    const values = [...(expr.values ?? [])].sort(byteOrder).join(',');
    if (op === 'Exists') parts.push(expr.key ?? '');
    else if (op === 'DoesNotExist') parts.push(`!${expr.key ?? ''}`);
    else parts.push(`${expr.key ?? ''} ${op === 'In' ? 'in' : 'notin'} (${values})`);
  }
  const text = parts.join(',');
  return text.length === 0 ? '<none>' : text;
}

function writeTopologySpread(
  w: PrefixWriter,
  constraints: readonly TopologySpreadConstraintLike[],
): void {
  if (constraints.length === 0) return;

  const sorted = goSort(constraints, (a, b) => (a.topologyKey ?? '') < (b.topologyKey ?? ''));
  w.write(0, 'Topology Spread Constraints:\t');
  sorted.forEach((c, i) => {
    if (i > 0) w.write(0, '\t');
    let text =
      `${c.topologyKey ?? ''}:${c.whenUnsatisfiable ?? ''} ` +
      `when max skew ${c.maxSkew ?? 0} is exceeded`;
    if (c.labelSelector) text += ` for selector ${formatSelector(c.labelSelector)}`;
    w.write(0, `${text}\n`);
  });
}

/**
 * kubectl v1.30 sorts events by lastTimestamp alone (newer kubectl also looks at series and
 * eventTime). Events without one, as events.k8s.io writers such as the scheduler leave them,
 * carry Go's zero time and so sort before every timestamped event.
 */
function eventSortTime(e: EventLike): number {
  return toDate(e.lastTimestamp)?.getTime() ?? Number.NEGATIVE_INFINITY;
}

function eventAge(e: EventLike, now: Date): string {
  const eventTime = toDate(e.eventTime);
  const first = eventTime ? ageSince(eventTime, now) : ageSince(toDate(e.firstTimestamp), now);
  if (e.series)
    return (
      `${ageSince(toDate(e.series.lastObservedTime), now)} ` +
      `(x${e.series.count ?? 0} over ${first})`
    );
  if ((e.count ?? 0) > 1)
    return `${ageSince(toDate(e.lastTimestamp), now)} (x${e.count} over ${first})`;
  return first;
}

function writeEvents(w: PrefixWriter, events: readonly EventLike[], now: Date): void {
  if (events.length === 0) {
    w.write(0, 'Events:\t<none>\n');
    return;
  }

  w.flush();
  const sorted = goSort(events, (a, b) => eventSortTime(a) < eventSortTime(b));
  w.write(0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  w.write(1, '----\t------\t----\t----\t-------\n');
  for (const e of sorted) {
    const from = e.source?.component || e.reportingComponent || '';
    const message = (e.message ?? '').trim();
    w.write(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${eventAge(e, now)}\t${from}\t${message}\n`);
  }
}

/** Kubernetes' QoS rules, used when the status does not say (kubectl v1.30 does the same). */
export function qosClass(pod: PodLike): string {
  if (pod.status?.qosClass) return pod.status.qosClass;

  const containers: ContainerLike[] = [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
  ];
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of containers) {
    addPositive(requests, c.resources?.requests);
    const found = addPositive(limits, c.resources?.limits);
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';

  for (const [name, request] of requests) {
    if (limits.get(name) !== request) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** Adds the positive cpu and memory quantities of `list` into `totals`; returns their names. */
function addPositive(
  totals: Map<string, number>,
  list?: Readonly<Record<string, string | number>>,
): Set<string> {
  const found = new Set<string>();
  for (const name of ['cpu', 'memory']) {
    const value = quantityValue(list?.[name]);
    if (value === undefined || value <= 0) continue;
    found.add(name);
    totals.set(name, (totals.get(name) ?? 0) + value);
  }
  return found;
}
