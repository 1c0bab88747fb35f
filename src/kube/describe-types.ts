/**
 * The shapes describePod reads. Each is a structural superset of both forms a pod or event
 * reaches us in: raw JSON from a watch (timestamps are RFC 3339 strings) and
 * @kubernetes/client-node 1.x model objects (timestamps are Date). Field names are the same
 * camelCase in both, so only timestamps (and the odd number-for-string quantity) need care.
 */

/** RFC 3339 text from raw JSON, or a Date from a client-node model. */
export type Timestamp = Date | string;

/** A resource quantity: a string in the API, tolerated as a number in hand-built objects. */
export type QuantityText = string | number;

export type ResourceList = Readonly<Record<string, QuantityText>>;

export interface OwnerReferenceLike {
  kind?: string;
  name?: string;
  controller?: boolean;
}

export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  ownerReferences?: readonly OwnerReferenceLike[];
  deletionTimestamp?: Timestamp;
  deletionGracePeriodSeconds?: number;
  creationTimestamp?: Timestamp;
}

export interface SeccompProfileLike {
  type?: string;
  localhostProfile?: string;
}

export interface ContainerPortLike {
  containerPort?: number;
  hostPort?: number;
  protocol?: string;
}

export interface KeyRefLike {
  key?: string;
  name?: string;
  optional?: boolean;
}

export interface EnvVarLike {
  name?: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { apiVersion?: string; fieldPath?: string };
    resourceFieldRef?: { containerName?: string; resource?: string; divisor?: QuantityText };
    secretKeyRef?: KeyRefLike;
    configMapKeyRef?: KeyRefLike;
  };
}

export interface EnvFromLike {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

/** Port numbers or names (IntOrString). */
export type PortLike = number | string;

export interface ProbeLike {
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  exec?: { command?: readonly string[] };
  httpGet?: { scheme?: string; host?: string; port?: PortLike; path?: string };
  tcpSocket?: { host?: string; port?: PortLike };
  grpc?: { port?: number; service?: string };
}

export interface ContainerLike {
  name?: string;
  image?: string;
  command?: readonly string[];
  args?: readonly string[];
  ports?: readonly ContainerPortLike[];
  env?: readonly EnvVarLike[];
  envFrom?: readonly EnvFromLike[];
  resources?: { limits?: ResourceList; requests?: ResourceList };
  volumeMounts?: readonly {
    name?: string;
    mountPath?: string;
    readOnly?: boolean;
    subPath?: string;
  }[];
  volumeDevices?: readonly { name?: string; devicePath?: string }[];
  livenessProbe?: ProbeLike;
  readinessProbe?: ProbeLike;
  startupProbe?: ProbeLike;
  securityContext?: { seccompProfile?: SeccompProfileLike };
}

export interface ContainerStateLike {
  running?: { startedAt?: Timestamp };
  waiting?: { reason?: string; message?: string };
  terminated?: {
    reason?: string;
    message?: string;
    exitCode?: number;
    signal?: number;
    startedAt?: Timestamp;
    finishedAt?: Timestamp;
  };
}

export interface ContainerStatusLike {
  name?: string;
  containerID?: string;
  imageID?: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

export interface KeyToPathLike {
  path?: string;
  fieldRef?: { fieldPath?: string };
  resourceFieldRef?: { resource?: string };
}

export interface VolumeLike {
  name?: string;
  hostPath?: { path?: string; type?: string };
  emptyDir?: { medium?: string; sizeLimit?: QuantityText };
  secret?: { secretName?: string; optional?: boolean };
  configMap?: { name?: string; optional?: boolean };
  persistentVolumeClaim?: { claimName?: string; readOnly?: boolean };
  nfs?: { server?: string; path?: string; readOnly?: boolean };
  downwardAPI?: { items?: readonly KeyToPathLike[] };
  projected?: {
    sources?: readonly {
      secret?: { name?: string; optional?: boolean };
      configMap?: { name?: string; optional?: boolean };
      downwardAPI?: object;
      serviceAccountToken?: { expirationSeconds?: number };
    }[];
  };
  csi?: {
    driver?: string;
    fsType?: string;
    readOnly?: boolean;
    volumeAttributes?: Readonly<Record<string, string>>;
  };
}

export interface TolerationLike {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface TopologySpreadConstraintLike {
  topologyKey?: string;
  whenUnsatisfiable?: string;
  maxSkew?: number;
  labelSelector?: {
    matchLabels?: Readonly<Record<string, string>>;
    matchExpressions?: readonly { key?: string; operator?: string; values?: readonly string[] }[];
  };
}

export interface PodSpecLike {
  priority?: number;
  priorityClassName?: string;
  runtimeClassName?: string;
  serviceAccountName?: string;
  nodeName?: string;
  securityContext?: { seccompProfile?: SeccompProfileLike };
  initContainers?: readonly ContainerLike[];
  containers?: readonly ContainerLike[];
  ephemeralContainers?: readonly ContainerLike[];
  readinessGates?: readonly { conditionType?: string }[];
  volumes?: readonly VolumeLike[];
  nodeSelector?: Readonly<Record<string, string>>;
  tolerations?: readonly TolerationLike[];
  topologySpreadConstraints?: readonly TopologySpreadConstraintLike[];
}

export interface PodStatusLike {
  phase?: string;
  reason?: string;
  message?: string;
  hostIP?: string;
  podIP?: string;
  podIPs?: readonly { ip?: string }[];
  startTime?: Timestamp;
  nominatedNodeName?: string;
  qosClass?: string;
  conditions?: readonly { type?: string; status?: string }[];
  initContainerStatuses?: readonly ContainerStatusLike[];
  containerStatuses?: readonly ContainerStatusLike[];
  ephemeralContainerStatuses?: readonly ContainerStatusLike[];
}

/** A pod as raw JSON or as a client-node V1Pod. */
export interface PodLike {
  metadata?: ObjectMetaLike;
  spec?: PodSpecLike;
  status?: PodStatusLike;
}

/** A core/v1 Event as raw JSON or as a client-node CoreV1Event. */
export interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: Timestamp;
  lastTimestamp?: Timestamp;
  eventTime?: Timestamp;
  series?: { count?: number; lastObservedTime?: Timestamp };
  source?: { component?: string; host?: string };
  reportingComponent?: string;
}

/**
 * A timestamp as a Date, or undefined when unset. Go's zero time (year 1, which the API
 * serialises as null but some tools write out) counts as unset, as kubectl's IsZero() does.
 */
export function toDate(value: Timestamp | null | undefined): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;

  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.getUTCFullYear() <= 1 ? undefined : date;
}
