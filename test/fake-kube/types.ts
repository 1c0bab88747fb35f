/**
 * Shapes the fake API server works with.
 *
 * Objects are kept as the JSON the real apiserver would send (timestamps are RFC 3339 strings),
 * so what a client receives here is byte-for-byte the kind of thing it receives from a cluster.
 * The main paths (pods, their status, events) are typed; anything a client may add freely stays
 * `unknown` and is passed through untouched.
 */
import type { V1Pod } from '@kubernetes/client-node';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface NamespaceOptions {
  name: string;
  podSecurity?: PodSecurityLevel;
  /** Hard limit for both `requests.memory` and `limits.memory` in the namespace's quota. */
  memoryQuotaBytes?: number;
}

/** How the simulated kubelet treats one pod. Every duration is real-world ms, scaled by timeScale. */
export interface KubeletBehaviour {
  scheduleMs: number;
  pullMs: number;
  startMs: number;
  /** Running → OOM kill: how long the stress script takes to fill up to the memory limit. */
  fillMs: number;
  /** 137: the kernel killed PID 1 (cgroup v2 group kill); 0: a child was killed, PID 1 exited 0. */
  oomExitCode: 137 | 0;
  /** Pulls fail: 'ErrImagePull' for a default "not found" error, or the runtime's message itself. */
  imagePullError?: string;
  /** The script fills everything, prints `oomtest: full ...` and the container stays Running. */
  neverOom?: boolean;
  /** Every instance exits with this code (reason Error) after printing this log, e.g. exit 32. */
  crashWith?: { exitCode: number; log: string };
  /** The kubelet evicts the pod (phase Failed, reason Evicted) after this many OOM kills. */
  evictAfterKills?: number;
  /** The crash-loop back-off: starts here, doubles, capped at 300 000 ms. Default 10 000. */
  backoffBaseMs: number;
  /**
   * The real kubelet restarts a container immediately after its first death: its back-off entry
   * only exists once a container has died (kuberuntime_manager.go doBackOff), so the 10 s wait
   * applies from the second restart on. Set false to wait before every restart. Default true.
   */
  immediateFirstRestart: boolean;
}

export type KubeletSetting =
  Partial<KubeletBehaviour> | ((pod: V1Pod) => Partial<KubeletBehaviour>);

export interface FakeKubeOptions {
  /** Multiplies kubelet timings: 0.01 turns the 10 s back-off into 100 ms. Default 0.01. */
  timeScale?: number;
  /** Extra namespaces; 'default' always exists (privileged, no quota, unless listed here). */
  namespaces?: NamespaceOptions[];
  kubelet?: KubeletSetting;
  /** The single node's name. Default 'node-1'. */
  nodeName?: string;
  /** Watch events kept for resuming; older resourceVersions get 410 Expired. Default 5000. */
  watchHistorySize?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The verb as RBAC sees it: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  /** '' for non-resource paths (discovery, /version, /openapi). */
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  status: number;
  userAgent: string;
}

export interface KubeconfigOptions {
  /** Context names, all pointing at this server. Default ['fake-kube']. */
  contexts?: string[];
  /** Default: the first context. */
  currentContext?: string;
  /** Namespace set on every context. Default 'default'. */
  namespace?: string;
}

export interface FakeKubeFaults {
  /** Cuts every open watch stream abruptly (socket destroyed, no final chunk). */
  dropWatches(): void;
  /** Forgets all watch history: the next resume from any older resourceVersion gets 410. */
  expireWatchHistory(): void;
  /** The next `count` resource requests (not discovery) fail with this status. Default 500. */
  failNext(count: number, status?: number): void;
}

export interface FakeKube {
  /** http://127.0.0.1:PORT */
  url: string;
  writeKubeconfig(path: string, opts?: KubeconfigOptions): void;
  requests: RecordedRequest[];
  faults: FakeKubeFaults;
  pods(namespace?: string): PodJson[];
  events(namespace?: string): EventJson[];
  /** Creates a pod directly, bypassing admission (e.g. one oomtest does not manage). */
  putPod(pod: object): PodJson;
  stop(): Promise<void>;
}

// ---- JSON shapes -------------------------------------------------------------------------------

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  generation?: number;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface SecurityContextJson {
  privileged?: boolean;
  runAsUser?: number;
  runAsNonRoot?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string; localhostProfile?: string };
  [key: string]: unknown;
}

export interface ResourcesJson {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  [key: string]: unknown;
}

export interface ContainerJson {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  resources?: ResourcesJson;
  securityContext?: SecurityContextJson;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  ports?: Array<{ containerPort?: number; hostPort?: number; [key: string]: unknown }>;
  [key: string]: unknown;
}

export interface VolumeJson {
  name: string;
  hostPath?: unknown;
  emptyDir?: { medium?: string; sizeLimit?: string };
  [key: string]: unknown;
}

export interface PodSpecJson {
  containers: ContainerJson[];
  initContainers?: ContainerJson[];
  volumes?: VolumeJson[];
  restartPolicy?: string;
  activeDeadlineSeconds?: number;
  terminationGracePeriodSeconds?: number;
  nodeName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContextJson;
  [key: string]: unknown;
}

export interface ContainerStateJson {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt?: string | null;
    finishedAt?: string | null;
    containerID?: string;
    signal?: number;
  };
}

export interface ContainerStatusJson {
  name: string;
  state: ContainerStateJson;
  lastState: ContainerStateJson;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started: boolean;
}

export interface PodConditionJson {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime: string | null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface PodStatusJson {
  phase: string;
  reason?: string;
  message?: string;
  conditions?: PodConditionJson[];
  hostIP?: string;
  hostIPs?: Array<{ ip: string }>;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime?: string;
  containerStatuses?: ContainerStatusJson[];
  qosClass?: string;
  nominatedNodeName?: string;
  [key: string]: unknown;
}

export interface PodJson extends KubeObject {
  spec: PodSpecJson;
  status: PodStatusJson;
}

export interface ObjectReferenceJson {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventJson extends KubeObject {
  involvedObject: ObjectReferenceJson;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component?: string; host?: string };
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  eventTime: string | null;
  count?: number;
  reportingComponent: string;
  reportingInstance: string;
  action?: string;
}

export interface StatusJson {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: Array<{ reason: string; message: string; field?: string }>;
    retryAfterSeconds?: number;
  };
  code: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
