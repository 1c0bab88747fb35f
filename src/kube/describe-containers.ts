/**
 * The Containers (and Init / Ephemeral Containers) section of `kubectl describe pod`, field for
 * field in kubectl v1.30's order and wording.
 */
import { canonicalQuantity, formatRfc1123z, goQuote, quantityValue } from './describe-format.js';
import { goSort } from './describe-gosort.js';
import type { PrefixWriter } from './describe-tabwriter.js';
import {
  toDate,
  type ContainerLike,
  type ContainerStateLike,
  type ContainerStatusLike,
  type EnvVarLike,
  type PodLike,
  type ProbeLike,
  type ResourceList,
} from './describe-types.js';

/** What the container writers need besides the writer itself. */
export interface ContainerContext {
  w: PrefixWriter;
  pod: PodLike;
  /** IANA zone for timestamps. */
  timeZone: string;
  /** The moment ages are measured from. */
  now: Date;
  /** Longest Command/Args item shown, in lines; longer ones are cut with a note. */
  maxCommandLines?: number;
}

function orNone(text: string): string {
  return text.length > 0 ? text : '<none>';
}

function goBool(value: boolean | undefined): string {
  return value ? 'True' : 'False';
}

/** Go's sort.Strings order: by UTF-16 code unit, which equals byte order for BMP text. */
export function byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Writes one containers section: `label` is "Containers", "Init Containers", ... */
export function writeContainers(
  ctx: ContainerContext,
  label: string,
  containers: readonly ContainerLike[],
  statuses: readonly ContainerStatusLike[],
): void {
  const statusByName = new Map(statuses.map((status) => [status.name ?? '', status]));
  ctx.w.write(0, `${label}:${containers.length === 0 ? ' <none>' : ''}\n`);

  for (const container of containers) {
    const status = statusByName.get(container.name ?? '');
    writeBasicInfo(ctx.w, container, status);
    writeCommand(ctx, container);
    if (status) writeState(ctx, status);
    writeResources(ctx.w, container.resources ?? {}, 2);
    writeProbes(ctx.w, container);
    if ((container.envFrom ?? []).length > 0) writeEnvFrom(ctx.w, container);
    writeEnv(ctx, container);
    writeMounts(ctx.w, container);
  }
}

function portList(container: ContainerLike, pick: 'containerPort' | 'hostPort'): string {
  return (container.ports ?? [])
    .map((port) => `${port[pick] ?? 0}/${port.protocol ?? ''}`)
    .join(', ');
}

function writeBasicInfo(w: PrefixWriter, c: ContainerLike, status?: ContainerStatusLike): void {
  w.write(1, `${c.name ?? ''}:\n`);
  if (status) w.write(2, `Container ID:\t${status.containerID ?? ''}\n`);
  w.write(2, `Image:\t${c.image ?? ''}\n`);
  if (status) w.write(2, `Image ID:\t${status.imageID ?? ''}\n`);

  const ports = portList(c, 'containerPort');
  w.write(2, ports.includes(',') ? `Ports:\t${ports}\n` : `Port:\t${orNone(ports)}\n`);
  const hostPorts = portList(c, 'hostPort');
  w.write(
    2,
    hostPorts.includes(',') ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${orNone(hostPorts)}\n`,
  );

  const seccomp = c.securityContext?.seccompProfile;
  if (!seccomp) return;
  w.write(2, `SeccompProfile:\t${seccomp.type ?? ''}\n`);
  if (seccomp.type === 'Localhost')
    w.write(3, `LocalhostProfile:\t${seccomp.localhostProfile ?? ''}\n`);
}

function writeLines(w: PrefixWriter, title: string, items: readonly string[] | undefined): void {
  if (!items || items.length === 0) return;

  w.write(2, `${title}:\n`);
  for (const item of items) {
    for (const line of item.split('\n')) w.write(3, `${line}\n`);
  }
}

function writeCommand(ctx: ContainerContext, c: ContainerLike): void {
  const cut = (items: readonly string[] | undefined): readonly string[] | undefined =>
    ctx.maxCommandLines === undefined
      ? items
      : items?.map((item) => cutLines(item, ctx.maxCommandLines ?? 0));
  writeLines(ctx.w, 'Command', cut(c.command));
  writeLines(ctx.w, 'Args', cut(c.args));
}

/** Keeps the first `max` lines of a long inline script and says how much was left out. */
function cutLines(item: string, max: number): string {
  const lines = item.split('\n');
  if (lines.length <= max) return item;
  const hidden = lines.length - max;
  return [
    ...lines.slice(0, max),
    `... (${hidden} more lines: kubectl get pod -o yaml shows them)`,
  ].join('\n');
}

function writeState(ctx: ContainerContext, status: ContainerStatusLike): void {
  writeOneState(ctx, 'State', status.state ?? {});
  if (status.lastState?.terminated) writeOneState(ctx, 'Last State', status.lastState);
  ctx.w.write(2, `Ready:\t${goBool(status.ready)}\n`);
  ctx.w.write(2, `Restart Count:\t${status.restartCount ?? 0}\n`);
}

/** kubectl prints a waiting container's reason but never its message. */
function writeOneState(ctx: ContainerContext, title: string, state: ContainerStateLike): void {
  const { w, timeZone } = ctx;
  const time = (value: Parameters<typeof toDate>[0]): string =>
    formatRfc1123z(toDate(value), timeZone);
  if (state.running) {
    w.write(2, `${title}:\tRunning\n`);
    w.write(3, `Started:\t${time(state.running.startedAt)}\n`);
    return;
  }
  if (state.waiting || !state.terminated) {
    w.write(2, `${title}:\tWaiting\n`);
    if (state.waiting?.reason) w.write(3, `Reason:\t${state.waiting.reason}\n`);
    return;
  }

  const t = state.terminated;
  w.write(2, `${title}:\tTerminated\n`);
  if (t.reason) w.write(3, `Reason:\t${t.reason}\n`);
  if (t.message) w.write(3, `Message:\t${t.message}\n`);
  w.write(3, `Exit Code:\t${t.exitCode ?? 0}\n`);
  if ((t.signal ?? 0) > 0) w.write(3, `Signal:\t${t.signal}\n`);
  w.write(3, `Started:\t${time(t.startedAt)}\n`);
  w.write(3, `Finished:\t${time(t.finishedAt)}\n`);
}

/** Limits then Requests, each sorted by resource name, values in canonical form. */
export function writeResources(
  w: PrefixWriter,
  resources: { limits?: ResourceList; requests?: ResourceList },
  level: number,
): void {
  for (const [title, list] of [
    ['Limits', resources.limits],
    ['Requests', resources.requests],
  ] as const) {
    const names = Object.keys(list ?? {}).sort(byteOrder);
    if (names.length > 0) w.write(level, `${title}:\n`);
    for (const name of names) w.write(level + 1, `${name}:\t${canonicalQuantity(list![name]!)}\n`);
  }
}

/** net.JoinHostPort: IPv6 literals get brackets. */
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** kubectl's DescribeProbe, e.g. "http-get http://:8080/healthz delay=0s timeout=1s ...". */
export function describeProbe(probe: ProbeLike): string {
  const attrs =
    `delay=${probe.initialDelaySeconds ?? 0}s timeout=${probe.timeoutSeconds ?? 0}s ` +
    `period=${probe.periodSeconds ?? 0}s #success=${probe.successThreshold ?? 0} ` +
    `#failure=${probe.failureThreshold ?? 0}`;
  if (probe.exec) return `exec [${(probe.exec.command ?? []).join(' ')}] ${attrs}`;
  if (probe.httpGet) {
    const { scheme = '', host = '', port, path = '' } = probe.httpGet;
    const portText = port === undefined ? '' : String(port);
    const authority = portText.length > 0 ? joinHostPort(host, portText) : host;
    const slash = path.length > 0 && !path.startsWith('/') && authority.length > 0 ? '/' : '';
    return `http-get ${scheme.toLowerCase()}://${authority}${slash}${path} ${attrs}`;
  }
  if (probe.tcpSocket) {
    return `tcp-socket ${probe.tcpSocket.host ?? ''}:${probe.tcpSocket.port ?? ''} ${attrs}`;
  }
  if (probe.grpc) return `grpc <pod>:${probe.grpc.port ?? 0} ${probe.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

function writeProbes(w: PrefixWriter, c: ContainerLike): void {
  if (c.livenessProbe) w.write(2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
  if (c.readinessProbe) w.write(2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
  if (c.startupProbe) w.write(2, `Startup:\t${describeProbe(c.startupProbe)}\n`);
}

function writeEnvFrom(w: PrefixWriter, c: ContainerLike): void {
  w.write(2, 'Environment Variables from:\n');
  for (const source of c.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : source.secretRef ? 'Secret' : '';
    const from = source.prefix ? `${kind} with prefix '${source.prefix}'` : kind;
    w.write(3, `${ref?.name ?? ''}\t${from}\tOptional: ${ref?.optional === true}\n`);
  }
}

/**
 * The value kubectl shows for a fieldRef. kubectl resolves it through client-go's scheme, which
 * knows only metadata.name and metadata.namespace as Pod field labels; every other path
 * (status.podIP, spec.nodeName, metadata.uid, labels) prints an empty value before "(v1:path)".
 */
function fieldRefValue(pod: PodLike, fieldPath: string): string {
  if (fieldPath === 'metadata.name') return pod.metadata?.name ?? '';
  if (fieldPath === 'metadata.namespace') return pod.metadata?.namespace ?? '';
  return '';
}

/** kubectl's ExtractContainerResourceValue for cpu, memory and ephemeral-storage. */
function resourceRefValue(
  c: ContainerLike,
  resource: string,
  divisorText?: string | number,
): string {
  const [kind, name] = resource.split('.');
  const list =
    kind === 'limits'
      ? c.resources?.limits
      : kind === 'requests'
        ? c.resources?.requests
        : undefined;
  if (!list || !name || !['cpu', 'memory', 'ephemeral-storage'].includes(name)) return '';

  const divisor = quantityValue(divisorText) || 1;
  const value = quantityValue(list[name]) ?? 0;
  // Go rounds CPU through milli-units and the rest through whole units before dividing.
  const result =
    name === 'cpu'
      ? Math.ceil(Math.ceil(value * 1_000) / Math.ceil(divisor * 1_000))
      : Math.ceil(Math.ceil(value) / Math.ceil(divisor));
  return String(result);
}

function writeEnvVar(ctx: ContainerContext, c: ContainerLike, e: EnvVarLike): void {
  const { w } = ctx;
  const name = e.name ?? '';
  const from = e.valueFrom;
  if (!from) {
    (e.value ?? '').split('\n').forEach((line, i) => {
      w.write(3, i === 0 ? `${name}:\t${line}\n` : `\t${line}\n`);
    });
    return;
  }
  if (from.fieldRef) {
    const path = from.fieldRef.fieldPath ?? '';
    const value = fieldRefValue(ctx.pod, path);
    w.write(3, `${name}:\t${value} (${from.fieldRef.apiVersion ?? ''}:${path})\n`);
  } else if (from.resourceFieldRef) {
    const resource = from.resourceFieldRef.resource ?? '';
    let value = resourceRefValue(c, resource, from.resourceFieldRef.divisor);
    if (value === '0' && (resource === 'limits.cpu' || resource === 'limits.memory')) {
      value = 'node allocatable';
    }
    w.write(3, `${name}:\t${value} (${resource})\n`);
  } else if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const text = `<set to the key '${ref.key ?? ''}' in secret '${ref.name ?? ''}'>`;
    w.write(3, `${name}:\t${text}\tOptional: ${ref.optional === true}\n`);
  } else if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const text = `<set to the key '${ref.key ?? ''}' of config map '${ref.name ?? ''}'>`;
    w.write(3, `${name}:\t${text}\tOptional: ${ref.optional === true}\n`);
  }
}

function writeEnv(ctx: ContainerContext, c: ContainerLike): void {
  const env = c.env ?? [];
  ctx.w.write(2, `Environment:${env.length === 0 ? '\t<none>' : ''}\n`);
  for (const e of env) writeEnvVar(ctx, c, e);
}

function writeMounts(w: PrefixWriter, c: ContainerLike): void {
  const mounts = goSort(c.volumeMounts ?? [], (a, b) => (a.mountPath ?? '') < (b.mountPath ?? ''));
  const none = mounts.length === 0 ? '\t<none>' : '';
  w.write(2, `Mounts:${none}\n`);
  for (const mount of mounts) {
    const flags = [mount.readOnly ? 'ro' : 'rw'];
    if (mount.subPath) flags.push(`path=${goQuote(mount.subPath)}`);
    w.write(3, `${mount.mountPath ?? ''} from ${mount.name ?? ''} (${flags.join(',')})\n`);
  }

  const devices = goSort(
    c.volumeDevices ?? [],
    (a, b) => (a.devicePath ?? '') < (b.devicePath ?? ''),
  );
  if (devices.length === 0) return;
  w.write(2, `Devices:${none}\n`);
  for (const device of devices)
    w.write(3, `${device.devicePath ?? ''} from ${device.name ?? ''}\n`);
}
