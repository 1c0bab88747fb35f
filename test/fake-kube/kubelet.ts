/**
 * A simulated scheduler + kubelet + containerd for one node.
 *
 * It drives each pod through the status shapes a real node produces: Pending (unscheduled),
 * ContainerCreating, Running, the OOM kill (state.terminated reason OOMKilled), the restart
 * back-off (waiting CrashLoopBackOff, lastState.terminated, restartCount), image pull failures,
 * mount denials, eviction, activeDeadlineSeconds and graceful deletion, with the events the
 * kubelet records on the way. Every delay is the real-world one times `timeScale`.
 *
 * Known gaps: no readiness/liveness probes (a running container is ready at once); no init
 * containers; the back-off entry never resets after 10 minutes of healthy running, as the
 * real one does; BackOff is recorded once per back-off period, where the real kubelet repeats
 * it on each sync during a long back-off (so counts of BackOff events run lower here).
 */
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { EventRecorder } from './events.js';
import { unschedulableReason } from './node.js';
import {
  fillLines,
  mountDeniedLines,
  planScript,
  textLines,
  type LogLine,
  type ScriptPlan,
} from './logs.js';
import type { Store } from './store.js';
import type {
  ContainerJson,
  ContainerStateJson,
  ContainerStatusJson,
  KubeletBehaviour,
  KubeletSetting,
  PodConditionJson,
  PodJson,
} from './types.js';
import { goDuration, randomHex, rfc3339 } from './util.js';

export const DEFAULT_BEHAVIOUR: KubeletBehaviour = {
  // Typical figures on a warm node: the scheduler binds within a second, a small image pulls
  // in ~2 s, containerd creates and starts a container in ~0.5 s.
  scheduleMs: 500,
  pullMs: 2_000,
  startMs: 500,
  // dd fills a 200Mi tmpfs in about 3 s.
  fillMs: 3_000,
  oomExitCode: 137,
  backoffBaseMs: 10_000,
  immediateFirstRestart: true,
};

// kubelet's MaxContainerBackOff.
const MAX_BACKOFF_MS = 300_000;
// PLEG relists every second, so a death is noticed (and a restart begins) about 1 s later.
const RELIST_MS = 1_000;
// A crashing script (mount denied, crashWith) dies this long after it starts.
const CRASH_AFTER_MS = 200;

interface Instance {
  containerId: string;
  startedAtMs: number;
  finishedAtMs?: number;
  exitCode?: number;
  reason?: string;
  lines: LogLine[];
}

type Phase =
  | 'creating'
  | 'running'
  | 'dead'
  | 'backoff'
  | 'pull-error'
  | 'pull-backoff'
  | 'done'
  /** The pod ended while this container was not running: the status manager's placeholder. */
  | 'unknown';

interface ContainerRuntime {
  spec: ContainerJson;
  phase: Phase;
  instances: Instance[];
  restartCount: number;
  /** The kubelet's back-off entry for this container; undefined until its first death. */
  backoffMs?: number;
  waitingMessage?: string;
  /** The image pull back-off, kept apart from the crash back-off as the kubelet does. */
  pullBackoffMs?: number;
  kills: number;
}

interface PodRuntime {
  namespace: string;
  name: string;
  uid: string;
  behaviour: KubeletBehaviour;
  containers: Map<string, ContainerRuntime>;
  timers: Set<NodeJS.Timeout>;
  podIp?: string;
  startTimeMs?: number;
  sandboxReady: boolean;
  deadlineTimer?: NodeJS.Timeout;
  terminal?: { phase: 'Failed' | 'Succeeded'; reason?: string; message?: string };
  conditionTimes: Map<string, { status: string; at: string }>;
}

export interface KubeletOptions {
  store: Store;
  events: EventRecorder;
  nodeName: string;
  hostIp: string;
  timeScale: number;
  behaviour?: KubeletSetting;
}

/** docker.io normalisation, as containerd reports `image` in container statuses. */
function fullImageName(image: string): string {
  const [first, ...rest] = image.split('/');
  const hasDomain =
    rest.length > 0 && (first?.includes('.') || first?.includes(':') || first === 'localhost');
  let name = hasDomain ? image : `docker.io/${rest.length === 0 ? 'library/' : ''}${image}`;
  const last = name.split('/').pop() ?? '';
  if (!last.includes(':') && !last.includes('@')) name += ':latest';
  return name;
}

function imageId(image: string): string {
  const repository = fullImageName(image).replace(/[:@][^/]*$/, '');
  return `${repository}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

export class Kubelet {
  private readonly pods = new Map<string, PodRuntime>();
  private readonly imagesPresent = new Set<string>();
  private nextIp = 5;
  private stopped = false;

  constructor(private readonly options: KubeletOptions) {}

  /** Starts the life of a freshly created pod: scheduling, then the kubelet. */
  admit(pod: PodJson): void {
    const runtime: PodRuntime = {
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      uid: pod.metadata.uid ?? '',
      behaviour: this.behaviourFor(pod),
      containers: new Map(
        pod.spec.containers.map((spec) => [
          spec.name,
          { spec, phase: 'creating', instances: [], restartCount: 0, kills: 0 },
        ]),
      ),
      timers: new Set(),
      sandboxReady: false,
      conditionTimes: new Map(),
    };
    this.pods.set(this.key(runtime.namespace, runtime.name), runtime);
    this.after(runtime, runtime.behaviour.scheduleMs, () => this.bind(runtime));
  }

  /** Graceful deletion: stop the containers (SIGTERM, SIGKILL after the grace), then remove. */
  terminate(pod: PodJson, graceSeconds: number): void {
    const runtime = this.runtimeOf(pod);
    if (!runtime) return;

    this.cancelTimers(runtime);
    for (const [name, container] of runtime.containers) {
      if (container.phase === 'running') {
        this.options.events.kubelet(pod, {
          type: 'Normal',
          reason: 'Killing',
          message: `Stopping container ${name}`,
          container: name,
        });
      }
    }
    // sh as PID 1 ignores SIGTERM, so a stress container lives out its whole grace period.
    this.afterReal(runtime, graceSeconds * 1000 * this.options.timeScale, () =>
      this.finishDeletion(runtime),
    );
  }

  /** Forgets a pod removed at once (grace 0, or never scheduled). */
  forget(pod: PodJson): void {
    const runtime = this.runtimeOf(pod);
    if (!runtime) return;
    this.cancelTimers(runtime);
    this.pods.delete(this.key(runtime.namespace, runtime.name));
  }

  /** The log of the instance with this container ID, and whether that instance has ended. */
  instanceLog(
    pod: PodJson,
    containerName: string,
    containerId: string,
  ): { lines: LogLine[]; finished: boolean } | undefined {
    const runtime = this.runtimeOf(pod);
    const instance = runtime?.containers
      .get(containerName)
      ?.instances.find((candidate) => candidate.containerId === containerId);
    if (!instance) return undefined;
    return { lines: instance.lines, finished: instance.finishedAtMs !== undefined };
  }

  stop(): void {
    this.stopped = true;
    for (const runtime of this.pods.values()) this.cancelTimers(runtime);
    this.pods.clear();
  }

  // ---- scheduling and pod start ----------------------------------------------------------------

  private bind(runtime: PodRuntime): void {
    const pending = this.current(runtime);
    const why = pending ? unschedulableReason(pending, this.options.nodeName) : undefined;
    if (pending && why) {
      this.unschedulable(runtime, why);
      return;
    }

    const pod = this.update(runtime, (current) => {
      current.spec.nodeName = this.options.nodeName;
      this.setCondition(runtime, current, 'PodScheduled', 'True');
    });
    if (!pod) return;

    this.options.events.scheduled(pod);
    // The kubelet sees the binding on its next watch event, a few ms later.
    this.afterReal(runtime, 10, () => this.acceptOnNode(runtime));
  }

  /**
   * The pod stays Pending with PodScheduled False. Known gap: the real scheduler retries (and
   * repeats the event) when the cluster changes; here nothing changes, so it never does.
   */
  private unschedulable(runtime: PodRuntime, message: string): void {
    const pod = this.update(runtime, (current) => {
      this.setCondition(runtime, current, 'PodScheduled', 'False', {
        reason: 'Unschedulable',
        message,
      });
    });
    if (pod) this.options.events.failedScheduling(pod, message);
  }

  private acceptOnNode(runtime: PodRuntime): void {
    runtime.startTimeMs = Date.now();
    this.publish(runtime);
    this.scheduleDeadline(runtime);
    // Sandbox creation (pause container, CNI) takes about as long as starting a container.
    this.after(runtime, runtime.behaviour.startMs, () => this.sandboxReady(runtime));
  }

  private sandboxReady(runtime: PodRuntime): void {
    runtime.sandboxReady = true;
    runtime.podIp = `10.244.0.${this.nextIp++}`;
    this.publish(runtime);
    for (const name of runtime.containers.keys()) this.startContainer(runtime, name);
  }

  /** activeDeadlineSeconds counts from startTime; re-armed when an update changes it. */
  private scheduleDeadline(runtime: PodRuntime): void {
    if (runtime.deadlineTimer) {
      clearTimeout(runtime.deadlineTimer);
      runtime.timers.delete(runtime.deadlineTimer);
    }
    const deadlineSeconds = this.current(runtime)?.spec.activeDeadlineSeconds;
    if (!deadlineSeconds || runtime.startTimeMs === undefined || runtime.terminal) return;

    const dueMs = runtime.startTimeMs + deadlineSeconds * 1000 * this.options.timeScale;
    runtime.deadlineTimer = this.afterReal(runtime, Math.max(0, dueMs - Date.now()), () =>
      this.deadlineExceeded(runtime),
    );
  }

  /** Called after a client updated the pod: the kubelet re-reads what it may change. */
  updated(pod: PodJson): void {
    const runtime = this.runtimeOf(pod);
    if (runtime && !pod.metadata.deletionTimestamp) this.scheduleDeadline(runtime);
  }

  // ---- one container instance ------------------------------------------------------------------

  private startContainer(runtime: PodRuntime, name: string): void {
    const container = runtime.containers.get(name);
    const pod = this.current(runtime);
    if (!container || !pod) return;

    const image = container.spec.image ?? '';
    const mustPull =
      container.spec.imagePullPolicy === 'Always' ||
      (container.spec.imagePullPolicy !== 'Never' && !this.imagesPresent.has(image));
    if (!mustPull) {
      this.record(
        runtime,
        name,
        'Normal',
        'Pulled',
        `Container image "${image}" already present on machine`,
      );
      this.createContainer(runtime, name);
      return;
    }

    this.record(runtime, name, 'Normal', 'Pulling', `Pulling image "${image}"`);
    this.after(runtime, runtime.behaviour.pullMs, () => this.pulled(runtime, name));
  }

  private pulled(runtime: PodRuntime, name: string): void {
    const container = runtime.containers.get(name);
    if (!container) return;

    const image = container.spec.image ?? '';
    if (runtime.behaviour.imagePullError) {
      this.pullFailed(runtime, name);
      return;
    }
    this.imagesPresent.add(image);
    const seconds = trimSeconds(runtime.behaviour.pullMs);
    // A small public image: busybox is about 2.2 MB.
    const sizeBytes = 2_155_247;
    this.record(
      runtime,
      name,
      'Normal',
      'Pulled',
      `Successfully pulled image "${image}" in ${seconds} (${seconds} including waiting). Image size: ${sizeBytes} bytes.`,
    );
    this.createContainer(runtime, name);
  }

  private pullFailed(runtime: PodRuntime, name: string): void {
    const container = runtime.containers.get(name);
    if (!container) return;

    const image = container.spec.image ?? '';
    const configured = runtime.behaviour.imagePullError ?? '';
    const full = fullImageName(image);
    const detail =
      configured === '' || configured === 'ErrImagePull' || configured === 'ImagePullBackOff'
        ? `rpc error: code = NotFound desc = failed to pull and unpack image "${full}": failed to resolve reference "${full}": ${full}: not found`
        : configured;
    this.record(runtime, name, 'Warning', 'Failed', `Failed to pull image "${image}": ${detail}`);
    this.record(runtime, name, 'Warning', 'Failed', 'Error: ErrImagePull');
    container.phase = 'pull-error';
    container.waitingMessage = detail;
    this.publish(runtime);

    const backoffMs = this.nextBackoff(runtime, container);
    this.after(runtime, RELIST_MS, () => {
      container.phase = 'pull-backoff';
      container.waitingMessage = `Back-off pulling image "${image}"`;
      this.record(runtime, name, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      this.record(runtime, name, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      this.publish(runtime);
      this.after(runtime, backoffMs, () => this.startContainer(runtime, name));
    });
  }

  private createContainer(runtime: PodRuntime, name: string): void {
    this.record(runtime, name, 'Normal', 'Created', `Created container ${name}`);
    this.after(runtime, runtime.behaviour.startMs, () => this.started(runtime, name));
  }

  private started(runtime: PodRuntime, name: string): void {
    const container = runtime.containers.get(name);
    if (!container) return;

    const startedAtMs = Date.now();
    if (container.instances.length > 0) container.restartCount += 1;
    const plan = planScript(container.spec);
    const instance: Instance = {
      containerId: `containerd://${randomHex(32)}`,
      startedAtMs,
      lines: [],
    };
    container.instances.push(instance);
    container.phase = 'running';
    this.record(runtime, name, 'Normal', 'Started', `Started container ${name}`);
    this.publish(runtime);
    this.runScript(runtime, container, instance, plan);
  }

  private runScript(
    runtime: PodRuntime,
    container: ContainerRuntime,
    instance: Instance,
    plan: ScriptPlan,
  ): void {
    const behaviour = runtime.behaviour;
    const { timeScale } = this.options;

    if (behaviour.crashWith) {
      const { exitCode, log } = behaviour.crashWith;
      instance.lines = textLines(log, instance.startedAtMs);
      this.after(runtime, CRASH_AFTER_MS, () =>
        this.exited(runtime, container, {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
        }),
      );
      return;
    }
    if (plan.stress && plan.mountDenied) {
      instance.lines = mountDeniedLines(plan, instance.startedAtMs);
      // The stress script exits 32 (mount's own "mount failure" status) when mount is denied.
      this.after(runtime, CRASH_AFTER_MS, () =>
        this.exited(runtime, container, { exitCode: 32, reason: 'Error' }),
      );
      return;
    }

    // Known gap: a container that is not a stress script (see planScript) just
    // runs, prints nothing and uses no memory, whatever its command would really do.
    if (!plan.stress) return;
    // Nothing kills a container without a memory limit before its script is done.
    const full =
      behaviour.neverOom === true || plan.limitBytes === 0 || plan.fillBytes <= plan.limitBytes;
    instance.lines = fillLines({
      plan,
      startedAtMs: instance.startedAtMs,
      fillMs: behaviour.fillMs,
      timeScale,
      full,
    });
    if (full) return;
    this.after(runtime, behaviour.fillMs, () => {
      container.kills += 1;
      this.exited(runtime, container, { exitCode: behaviour.oomExitCode, reason: 'OOMKilled' });
    });
  }

  private exited(
    runtime: PodRuntime,
    container: ContainerRuntime,
    outcome: { exitCode: number; reason: string },
  ): void {
    const instance = container.instances.at(-1);
    if (!instance) return;

    instance.finishedAtMs = Date.now();
    instance.exitCode = outcome.exitCode;
    instance.reason = outcome.reason;
    container.phase = 'dead';

    const evictAfter = runtime.behaviour.evictAfterKills;
    if (evictAfter !== undefined && container.kills >= evictAfter) {
      this.evict(runtime, container);
      return;
    }
    if (!this.restarts(runtime, outcome.exitCode)) {
      container.phase = 'done';
      this.settleIfAllDone(runtime);
      this.publish(runtime);
      return;
    }
    this.publish(runtime);
    this.after(runtime, RELIST_MS, () => this.restartOrBackOff(runtime, container));
  }

  private restarts(runtime: PodRuntime, exitCode: number): boolean {
    const policy = this.current(runtime)?.spec.restartPolicy ?? 'Always';
    return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
  }

  /** kuberuntime_manager.go doBackOff: no entry yet → restart now; else wait the entry out. */
  private restartOrBackOff(runtime: PodRuntime, container: ContainerRuntime): void {
    const name = container.spec.name;
    if (container.backoffMs === undefined && runtime.behaviour.immediateFirstRestart) {
      container.backoffMs = this.scaledBase(runtime);
      this.startContainer(runtime, name);
      return;
    }

    const waitMs = container.backoffMs ?? this.scaledBase(runtime);
    container.phase = 'backoff';
    container.waitingMessage = `back-off ${goDuration(waitMs)} restarting failed container=${name} pod=${runtime.name}_${runtime.namespace}(${runtime.uid})`;
    this.record(
      runtime,
      name,
      'Warning',
      'BackOff',
      `Back-off restarting failed container ${name} in pod ${runtime.name}_${runtime.namespace}(${runtime.uid})`,
    );
    this.publish(runtime);

    const elapsedMs = Date.now() - (container.instances.at(-1)?.finishedAtMs ?? Date.now());
    this.afterReal(runtime, Math.max(0, waitMs * this.options.timeScale - elapsedMs), () => {
      container.backoffMs = Math.min(waitMs * 2, MAX_BACKOFF_MS);
      this.startContainer(runtime, name);
    });
  }

  private scaledBase(runtime: PodRuntime): number {
    return runtime.behaviour.backoffBaseMs;
  }

  private nextBackoff(runtime: PodRuntime, container: ContainerRuntime): number {
    const current = container.pullBackoffMs ?? runtime.behaviour.backoffBaseMs;
    container.pullBackoffMs = Math.min(current * 2, MAX_BACKOFF_MS);
    return current;
  }

  // ---- endings ---------------------------------------------------------------------------------

  private evict(runtime: PodRuntime, container: ContainerRuntime): void {
    const limit = container.spec.resources?.limits?.memory ?? 'unknown';
    const request = container.spec.resources?.requests?.memory ?? limit;
    const message =
      `The node was low on resource: memory. Threshold quantity: 100Mi, available: 92160Ki. ` +
      `Container ${container.spec.name} was using ${limit}, request is ${request}, has larger consumption of memory. `;
    this.cancelTimers(runtime);
    for (const each of runtime.containers.values()) this.killInstance(each, 137, 'Error');
    runtime.terminal = { phase: 'Failed', reason: 'Evicted', message };
    const pod = this.publish(runtime, (current) => {
      current.status.conditions = [
        {
          type: 'DisruptionTarget',
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: rfc3339(Date.now()),
          reason: 'TerminationByKubelet',
          message,
        },
        ...(current.status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
      ];
    });
    if (pod) this.options.events.kubelet(pod, { type: 'Warning', reason: 'Evicted', message });
  }

  private deadlineExceeded(runtime: PodRuntime): void {
    const message = 'Pod was active on the node longer than the specified deadline';
    const pod = this.current(runtime);
    if (!pod || runtime.terminal) return;

    this.cancelTimers(runtime);
    this.options.events.kubelet(pod, { type: 'Warning', reason: 'DeadlineExceeded', message });
    for (const [name, container] of runtime.containers) {
      if (container.phase === 'running')
        this.record(runtime, name, 'Normal', 'Killing', `Stopping container ${name}`);
      this.killInstance(container, 137, 'Error');
    }
    runtime.terminal = { phase: 'Failed', reason: 'DeadlineExceeded', message };
    this.publish(runtime);
  }

  private finishDeletion(runtime: PodRuntime): void {
    for (const container of runtime.containers.values()) this.killInstance(container, 137, 'Error');
    const failed = [...runtime.containers.values()].some(
      (c) => c.phase === 'unknown' || (c.instances.at(-1)?.exitCode ?? 0) !== 0,
    );
    runtime.terminal ??= { phase: failed ? 'Failed' : 'Succeeded' };
    this.publish(runtime);
    this.options.store.remove('pods', runtime.namespace, runtime.name);
    this.pods.delete(this.key(runtime.namespace, runtime.name));
  }

  /**
   * Ends a container with the pod (deadline, eviction, deletion): a running instance dies with
   * this exit; one that was waiting (back-off, pull, creation) gets the status manager's
   * TerminatePod placeholder, terminated ContainerStatusUnknown with exit 137.
   */
  private killInstance(container: ContainerRuntime, exitCode: number, reason: string): void {
    const instance = container.instances.at(-1);
    if (container.phase === 'running' && instance && instance.finishedAtMs === undefined) {
      instance.finishedAtMs = Date.now();
      instance.exitCode = exitCode;
      instance.reason = reason;
    }
    if (container.phase === 'running' || container.phase === 'dead') container.phase = 'done';
    else if (container.phase !== 'done') container.phase = 'unknown';
  }

  private settleIfAllDone(runtime: PodRuntime): void {
    const all = [...runtime.containers.values()];
    if (!all.every((c) => c.phase === 'done')) return;
    const failed = all.some((c) => (c.instances.at(-1)?.exitCode ?? 0) !== 0);
    runtime.terminal = { phase: failed ? 'Failed' : 'Succeeded' };
  }

  // ---- status ----------------------------------------------------------------------------------

  /** Recomputes the pod's status from the runtime and writes it (one MODIFIED event). */
  private publish(runtime: PodRuntime, extra?: (pod: PodJson) => void): PodJson | undefined {
    return this.update(runtime, (pod) => {
      const statuses = [...runtime.containers.values()].map((c) => this.containerStatus(c));
      pod.status.containerStatuses = statuses;
      pod.status.phase = this.podPhase(runtime, statuses);
      if (runtime.terminal?.reason) pod.status.reason = runtime.terminal.reason;
      if (runtime.terminal?.message) pod.status.message = runtime.terminal.message;
      pod.status.hostIP = this.options.hostIp;
      pod.status.hostIPs = [{ ip: this.options.hostIp }];
      if (runtime.podIp) {
        pod.status.podIP = runtime.podIp;
        pod.status.podIPs = [{ ip: runtime.podIp }];
      }
      if (runtime.startTimeMs) pod.status.startTime = rfc3339(runtime.startTimeMs);
      this.podConditions(runtime, pod, statuses);
      extra?.(pod);
    });
  }

  private podPhase(runtime: PodRuntime, statuses: ContainerStatusJson[]): string {
    if (runtime.terminal) return runtime.terminal.phase;
    const neverRan = statuses.some((s) => s.state.waiting && !s.lastState.terminated);
    return neverRan ? 'Pending' : 'Running';
  }

  private podConditions(runtime: PodRuntime, pod: PodJson, statuses: ContainerStatusJson[]): void {
    const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
    const phase = pod.status.phase;
    const ended = phase === 'Succeeded' || phase === 'Failed';
    const notReady = {
      reason:
        phase === 'Succeeded'
          ? 'PodCompleted'
          : phase === 'Failed'
            ? 'PodFailed'
            : 'ContainersNotReady',
      ...(ended ? {} : { message: `containers with unready status: [${unready.join(' ')}]` }),
    };
    this.setCondition(
      runtime,
      pod,
      'PodReadyToStartContainers',
      runtime.sandboxReady && !runtime.terminal ? 'True' : 'False',
    );
    this.setCondition(runtime, pod, 'Initialized', 'True');
    this.setCondition(
      runtime,
      pod,
      'Ready',
      unready.length === 0 ? 'True' : 'False',
      unready.length === 0 ? {} : notReady,
    );
    this.setCondition(
      runtime,
      pod,
      'ContainersReady',
      unready.length === 0 ? 'True' : 'False',
      unready.length === 0 ? {} : notReady,
    );
    this.setCondition(runtime, pod, 'PodScheduled', 'True');
  }

  /** Sets a condition in the kubelet's order, keeping lastTransitionTime unless status flips. */
  private setCondition(
    runtime: PodRuntime,
    pod: PodJson,
    type: string,
    status: 'True' | 'False',
    extra: { reason?: string; message?: string } = {},
  ): void {
    const order = [
      'DisruptionTarget',
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ];
    const previous = runtime.conditionTimes.get(type);
    const at = previous && previous.status === status ? previous.at : rfc3339(Date.now());
    runtime.conditionTimes.set(type, { status, at });

    const condition: PodConditionJson = {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: at,
      ...extra,
    };
    const others = (pod.status.conditions ?? []).filter((c) => c.type !== type);
    pod.status.conditions = [...others, condition].sort(
      (a, b) => order.indexOf(a.type) - order.indexOf(b.type),
    );
  }

  private containerStatus(container: ContainerRuntime): ContainerStatusJson {
    const image = container.spec.image ?? '';
    const current = container.instances.at(-1);
    const previous = container.instances.at(-2);
    const dead = (instance: Instance): ContainerStateJson => ({
      terminated: {
        exitCode: instance.exitCode ?? 0,
        reason: instance.reason ?? 'Error',
        startedAt: rfc3339(instance.startedAtMs),
        finishedAt: rfc3339(instance.finishedAtMs ?? Date.now()),
        containerID: instance.containerId,
      },
    });
    const base = {
      name: container.spec.name,
      image: current ? fullImageName(image) : image,
      imageID: current ? imageId(image) : '',
      ...(current ? { containerID: current.containerId } : {}),
      restartCount: container.restartCount,
    };

    switch (container.phase) {
      case 'running':
        return {
          ...base,
          state: { running: { startedAt: rfc3339(current?.startedAtMs ?? Date.now()) } },
          lastState: previous ? dead(previous) : {},
          ready: true,
          started: true,
        };
      case 'dead':
      case 'done':
        return {
          ...base,
          state: current ? dead(current) : { waiting: { reason: 'ContainerCreating' } },
          lastState: previous ? dead(previous) : {},
          ready: false,
          started: false,
        };
      case 'unknown':
        return {
          ...base,
          state: {
            terminated: {
              exitCode: 137,
              reason: 'ContainerStatusUnknown',
              message: 'The container could not be located when the pod was terminated',
            },
          },
          lastState: current ? dead(current) : {},
          ready: false,
          started: false,
        };
      case 'backoff':
        return {
          ...base,
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: container.waitingMessage ?? '' },
          },
          lastState: current ? dead(current) : {},
          ready: false,
          started: false,
        };
      case 'pull-error':
      case 'pull-backoff':
        return {
          ...base,
          state: {
            waiting: {
              reason: container.phase === 'pull-error' ? 'ErrImagePull' : 'ImagePullBackOff',
              message: container.waitingMessage ?? '',
            },
          },
          lastState: current ? dead(current) : {},
          ready: false,
          started: false,
        };
      case 'creating':
        return {
          ...base,
          // A restart after a crash shows the dead instance until the new one runs.
          state: current ? dead(current) : { waiting: { reason: 'ContainerCreating' } },
          lastState: previous ? dead(previous) : {},
          ready: false,
          started: false,
        };
    }
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private record(
    runtime: PodRuntime,
    container: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const pod = this.current(runtime);
    if (pod) this.options.events.kubelet(pod, { type, reason, message, container });
  }

  private update(runtime: PodRuntime, mutate: (pod: PodJson) => void): PodJson | undefined {
    const pod = this.current(runtime);
    if (!pod) return undefined;
    mutate(pod);
    return this.options.store.update('pods', pod);
  }

  /** The stored pod, if it is still this runtime's pod (same uid). */
  private current(runtime: PodRuntime): PodJson | undefined {
    const pod = this.options.store.get<PodJson>('pods', runtime.namespace, runtime.name);
    return pod && pod.metadata.uid === runtime.uid ? pod : undefined;
  }

  private runtimeOf(pod: PodJson): PodRuntime | undefined {
    const runtime = this.pods.get(this.key(pod.metadata.namespace ?? '', pod.metadata.name ?? ''));
    return runtime && runtime.uid === pod.metadata.uid ? runtime : undefined;
  }

  private key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  /** Runs `fn` after a nominal (real-world) delay, scaled by timeScale. */
  private after(runtime: PodRuntime, nominalMs: number, fn: () => void): void {
    this.afterReal(runtime, nominalMs * this.options.timeScale, fn);
  }

  private afterReal(runtime: PodRuntime, ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const timer = setTimeout(() => {
      runtime.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    runtime.timers.add(timer);
    return timer;
  }

  private cancelTimers(runtime: PodRuntime): void {
    for (const timer of runtime.timers) clearTimeout(timer);
    runtime.timers.clear();
  }

  private behaviourFor(pod: PodJson): KubeletBehaviour {
    const setting = this.options.behaviour;
    const overrides =
      typeof setting === 'function' ? setting(pod as unknown as V1Pod) : (setting ?? {});
    return { ...DEFAULT_BEHAVIOUR, ...overrides };
  }
}

/** Go's Duration.String() for a pull time: 2s, 1.5s, 850ms. */
function trimSeconds(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
