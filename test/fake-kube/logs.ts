/**
 * What a stress container prints, per container instance, following the stress script's
 * progress protocol (`oomtest: start|filled|full|error ...`), and the kubelet's rules for which
 * instance `GET .../log` (and `previous=true`) reads.
 */
import { badRequest } from './status.js';
import type { ContainerJson, ContainerStatusJson, PodJson } from './types.js';
import { parseQuantity } from './util.js';

export interface LogLine {
  /** Real wall-clock time the line is written. */
  atMs: number;
  text: string;
}

export interface ScriptPlan {
  /** The command fills memory (an oomtest script, or dd/tmpfs as in the recipe); else it idles. */
  stress: boolean;
  method: string;
  fillBytes: number;
  /** 0 when the container has no memory limit: nothing kills it, it fills up and stays. */
  limitBytes: number;
  /** The script needs mount(2) (tmpfs) but the container has no privilege for it. */
  mountDenied: boolean;
}

// The filler reports roughly every 16 MiB, as dd with 1 MiB blocks and a 16-block count does.
const REPORT_STEP_BYTES = 16 * 2 ** 20;
// Keep a huge limit from producing thousands of lines.
const MAX_REPORT_LINES = 64;
// What a script that names no size fills when it has no limit either.
const DEFAULT_FILL_BYTES = 512 * 2 ** 20;

/** Reads method and fill size from the container's command; falls back to twice the limit. */
export function planScript(container: ContainerJson): ScriptPlan {
  const text = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
  const limitBytes = parseQuantity(container.resources?.limits?.memory ?? '0') || 0;
  const method =
    /method=([a-z]+)/.exec(text)?.[1] ?? (/mount\s+-t\s+tmpfs/.test(text) ? 'tmpfs' : 'anon');
  const namedFill = /fill_bytes=(\d+)/i.exec(text)?.[1];
  const fillBytes = namedFill
    ? Number(namedFill)
    : limitBytes > 0
      ? 2 * limitBytes
      : DEFAULT_FILL_BYTES;

  const context = container.securityContext ?? {};
  const canMount =
    context.privileged === true || (context.capabilities?.add ?? []).includes('SYS_ADMIN');
  return {
    stress: /oomtest|dd\s+if=\/dev\/zero|mount\s+-t\s+tmpfs/.test(text),
    method,
    fillBytes,
    limitBytes,
    mountDenied: method === 'tmpfs' && !canMount,
  };
}

/**
 * Lines of one instance that fills memory for `fillMs` (nominal) and then either dies at the
 * limit or, when `untilBytes` exceeds the limit but nothing kills it, reports `full`.
 */
export function fillLines(options: {
  plan: ScriptPlan;
  startedAtMs: number;
  fillMs: number;
  timeScale: number;
  full: boolean;
}): LogLine[] {
  const { plan, startedAtMs, fillMs, timeScale, full } = options;
  const target = full ? plan.fillBytes : plan.limitBytes;
  const step = Math.max(
    REPORT_STEP_BYTES,
    Math.ceil(target / MAX_REPORT_LINES / 2 ** 20) * 2 ** 20,
  );
  const lines: LogLine[] = [
    {
      atMs: startedAtMs,
      text: `oomtest: start method=${plan.method} fill_bytes=${plan.fillBytes}`,
    },
  ];

  for (let bytes = step; bytes < target; bytes += step) {
    const elapsedMs = Math.round((bytes / target) * fillMs);
    lines.push({
      atMs: startedAtMs + elapsedMs * timeScale,
      text: `oomtest: filled bytes=${bytes} elapsed_ms=${elapsedMs}`,
    });
  }
  if (full) {
    lines.push({
      atMs: startedAtMs + fillMs * timeScale,
      text: `oomtest: full bytes=${plan.fillBytes} elapsed_ms=${fillMs}`,
    });
  }
  return lines;
}

export function mountDeniedLines(plan: ScriptPlan, atMs: number): LogLine[] {
  return [
    { atMs, text: `oomtest: start method=${plan.method} fill_bytes=${plan.fillBytes}` },
    { atMs, text: 'mount: permission denied (are you root?)' },
    {
      atMs,
      text: 'oomtest: error reason=mount-denied detail="mount: permission denied (are you root?)"',
    },
  ];
}

export function textLines(text: string, atMs: number): LogLine[] {
  return text
    .split('\n')
    .filter((line, index, all) => line !== '' || index < all.length - 1)
    .map((line) => ({ atMs, text: line }));
}

export interface LogQuery {
  container?: string;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
  timestamps: boolean;
  sinceSeconds?: number;
}

/** Which container a log request means: the named one, or the only one (else the real 400). */
export function pickContainer(pod: PodJson, requested: string | undefined): string {
  const names = pod.spec.containers.map((container) => container.name);
  if (requested) {
    if (!names.includes(requested)) {
      throw badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`);
    }
    return requested;
  }
  if (names.length === 1) return names[0] ?? '';
  throw badRequest(
    `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`,
  );
}

/**
 * The container ID whose log is read, following the kubelet's validateContainerLogStatus,
 * including its 400 messages for waiting containers and a missing previous instance.
 */
export function logContainerId(pod: PodJson, name: string, previous: boolean): string {
  const status: ContainerStatusJson | undefined = pod.status.containerStatuses?.find(
    (s) => s.name === name,
  );
  const podName = pod.metadata.name ?? '';
  const { waiting, running, terminated } = status?.state ?? {};
  const lastTerminated = status?.lastState.terminated;

  if (previous) {
    if (!lastTerminated?.containerID) {
      throw badRequest(`previous terminated container "${name}" in pod "${podName}" not found`);
    }
    return lastTerminated.containerID;
  }
  if (running) return status?.containerID ?? '';
  if (terminated) {
    const id = terminated.containerID || lastTerminated?.containerID;
    if (!id) throw badRequest(`container "${name}" in pod "${podName}" is terminated`);
    return id;
  }
  if (lastTerminated) {
    if (!lastTerminated.containerID)
      throw badRequest(`container "${name}" in pod "${podName}" is terminated`);
    return lastTerminated.containerID;
  }
  if (waiting) {
    const why =
      waiting.reason === 'ErrImagePull'
        ? "image can't be pulled"
        : waiting.reason === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : waiting.reason;
    throw badRequest(`container "${name}" in pod "${podName}" is waiting to start: ${why}`);
  }
  throw badRequest(`container "${name}" in pod "${podName}" is waiting to start - no logs yet`);
}

/** Renders the visible lines of an instance as the kubelet serves them. */
export function renderLog(lines: LogLine[], query: LogQuery, nowMs: number): string {
  let visible = lines.filter((line) => line.atMs <= nowMs);
  if (query.sinceSeconds !== undefined) {
    const since = nowMs - query.sinceSeconds * 1000;
    visible = visible.filter((line) => line.atMs >= since);
  }
  if (query.tailLines !== undefined)
    visible = query.tailLines === 0 ? [] : visible.slice(-query.tailLines);

  let text = visible
    .map((line) =>
      query.timestamps
        ? `${new Date(line.atMs).toISOString().replace('Z', '000000Z')} ${line.text}\n`
        : `${line.text}\n`,
    )
    .join('');
  if (query.limitBytes !== undefined)
    text = Buffer.from(text).subarray(0, query.limitBytes).toString();
  return text;
}
