/**
 * What happens to a pod between the request and storage on a real apiserver: defaulting,
 * validation (422), the PodSecurity admission plugin (403) and the ResourceQuota plugin (403),
 * in that order. Messages follow the real wording so clients can be tested on them.
 *
 * Known gaps: validation covers names, containers, images, resources, restartPolicy and
 * activeDeadlineSeconds only; a pod the real apiserver rejects for another field (probes,
 * volumes, affinity, ...) is accepted here, so a test of such a manifest passes that a cluster
 * would refuse. PodSecurity implements the checks a drill pod can trip (host namespaces,
 * privileged, capabilities, hostPath and volume types, hostPort, allowPrivilegeEscalation,
 * runAsNonRoot, runAsUser, seccomp); AppArmor, SELinux, procMount, sysctls and Windows checks
 * are missing.
 */
import { forbidden, invalid, type FieldCause } from './status.js';
import type {
  ContainerJson,
  PodJson,
  PodSecurityLevel,
  SecurityContextJson,
  VolumeJson,
} from './types.js';
import { formatBytes, parseQuantity, randomSuffix } from './util.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for " +
  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and " +
  "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex " +
  "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
// DNS-1123 subdomain and label maxima (RFC 1123).
const MAX_SUBDOMAIN_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;

/** Fills in a generateName; the apiserver does this before validation. */
export function resolveName(pod: PodJson): void {
  if (pod.metadata.name || !pod.metadata.generateName) return;
  pod.metadata.name = `${pod.metadata.generateName}${randomSuffix()}`;
}

// ---- validation --------------------------------------------------------------------------------

/** 422 Invalid with the real field errors, or nothing. */
export function validatePod(pod: PodJson): void {
  const causes = [...validateMeta(pod), ...validateSpec(pod)];
  if (causes.length > 0) throw invalid('Pod', pod.metadata.name ?? '', causes);
}

function required(field: string, detail?: string): FieldCause {
  return {
    field,
    reason: 'FieldValueRequired',
    message: detail ? `Required value: ${detail}` : 'Required value',
  };
}

function badValue(field: string, value: unknown, detail: string): FieldCause {
  const shown = typeof value === 'string' ? `"${value}"` : String(value);
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${detail}` };
}

function validateMeta(pod: PodJson): FieldCause[] {
  const name = pod.metadata.name;
  if (!name) return [required('metadata.name', 'name or generateName is required')];
  if (name.length > MAX_SUBDOMAIN_LENGTH) {
    return [
      badValue('metadata.name', name, `must be no more than ${MAX_SUBDOMAIN_LENGTH} characters`),
    ];
  }
  if (!SUBDOMAIN.test(name)) return [badValue('metadata.name', name, SUBDOMAIN_MESSAGE)];
  return [];
}

function validateSpec(pod: PodJson): FieldCause[] {
  const spec = pod.spec;
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    return [required('spec.containers')];
  }

  const causes: FieldCause[] = [];
  const seen = new Set<string>();
  spec.containers.forEach((container, index) => {
    const at = `spec.containers[${index}]`;
    causes.push(...validateContainer(container, at));
    if (seen.has(container.name)) {
      causes.push({
        field: `${at}.name`,
        reason: 'FieldValueDuplicate',
        message: `Duplicate value: "${container.name}"`,
      });
    }
    seen.add(container.name);
  });

  const policy = spec.restartPolicy;
  if (policy !== undefined && !['Always', 'OnFailure', 'Never'].includes(policy)) {
    causes.push({
      field: 'spec.restartPolicy',
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${policy}": supported values: "Always", "OnFailure", "Never"`,
    });
  }
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (!Number.isInteger(deadline) || deadline <= 0)) {
    causes.push(
      badValue(
        'spec.activeDeadlineSeconds',
        deadline,
        'must be between 1 and 2147483647, inclusive',
      ),
    );
  }
  return causes;
}

function validateContainer(container: ContainerJson, at: string): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!container.name) causes.push(required(`${at}.name`));
  else if (container.name.length > MAX_LABEL_LENGTH) {
    causes.push(
      badValue(`${at}.name`, container.name, `must be no more than ${MAX_LABEL_LENGTH} characters`),
    );
  } else if (!LABEL.test(container.name))
    causes.push(badValue(`${at}.name`, container.name, LABEL_MESSAGE));

  if (!container.image) causes.push(required(`${at}.image`));
  causes.push(...validateResources(container, at));
  return causes;
}

function validateResources(container: ContainerJson, at: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};

  for (const [kind, values] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [resource, text] of Object.entries(values)) {
      const value = parseQuantity(String(text));
      if (Number.isNaN(value)) {
        causes.push(
          badValue(
            `${at}.resources.${kind}[${resource}]`,
            text,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          ),
        );
      } else if (value < 0) {
        causes.push(
          badValue(
            `${at}.resources.${kind}[${resource}]`,
            text,
            'must be greater than or equal to 0',
          ),
        );
      }
    }
  }
  for (const [resource, text] of Object.entries(requests)) {
    const limit = limits[resource];
    if (limit === undefined) continue;
    if (parseQuantity(String(text)) > parseQuantity(String(limit))) {
      causes.push(
        badValue(
          `${at}.resources.requests`,
          text,
          `must be less than or equal to ${resource} limit of ${limit}`,
        ),
      );
    }
  }
  return causes;
}

// ---- defaulting --------------------------------------------------------------------------------

/** Image pull policy default: Always for `:latest` or no tag, otherwise IfNotPresent. */
function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.split('/').pop() ?? image;
  const tag = lastPart.includes(':') ? lastPart.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The spec and status defaults and admission mutations a pod shows once stored. */
export function applyPodDefaults(pod: PodJson): void {
  const spec = pod.spec;
  // The ServiceAccount admission plugin mounts no token when the pod opts out.
  const tokenVolume =
    spec.automountServiceAccountToken === false ? undefined : `kube-api-access-${randomSuffix()}`;

  for (const container of spec.containers) defaultContainer(container, tokenVolume);
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= (spec.serviceAccount as string | undefined) ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  spec.tolerations = [
    ...((spec.tolerations as unknown[] | undefined) ?? []),
    ...defaultTolerations(),
  ];
  if (tokenVolume !== undefined) {
    spec.volumes = [...(spec.volumes ?? []), serviceAccountVolume(tokenVolume)];
  }

  pod.status = { phase: 'Pending', qosClass: qosClass(spec.containers) };
}

function defaultContainer(container: ContainerJson, tokenVolume: string | undefined): void {
  container.imagePullPolicy ??= defaultPullPolicy(container.image ?? '');
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.resources ??= {};
  const limits = container.resources.limits;
  // The apiserver copies a limit into a missing request, which is what makes limits-only
  // containers Guaranteed.
  if (limits) container.resources.requests = { ...limits, ...(container.resources.requests ?? {}) };
  if (tokenVolume === undefined) return;
  container.volumeMounts = [
    ...(container.volumeMounts ?? []),
    {
      name: tokenVolume,
      readOnly: true,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
    },
  ];
}

/** Added by the DefaultTolerationSeconds admission plugin: 300 s on a not-ready/unreachable node. */
function defaultTolerations(): object[] {
  return ['not-ready', 'unreachable'].map((condition) => ({
    key: `node.kubernetes.io/${condition}`,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 300,
  }));
}

/** The projected service-account token volume the ServiceAccount admission plugin adds. */
function serviceAccountVolume(name: string): VolumeJson {
  return {
    name,
    projected: {
      // One hour less a little: the kubelet's default bound token lifetime.
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [
              {
                path: 'namespace',
                fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
              },
            ],
          },
        },
      ],
      defaultMode: 420,
    },
  };
}

/** GetPodQOS: only cpu and memory count; Guaranteed needs both, with requests equal to limits. */
export function qosClass(containers: ContainerJson[]): string {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;

  for (const container of containers) {
    const found = new Set<string>();
    for (const resource of ['cpu', 'memory']) {
      const request = parseQuantity(container.resources?.requests?.[resource] ?? '0');
      const limit = parseQuantity(container.resources?.limits?.[resource] ?? '0');
      if (request > 0) requests.set(resource, (requests.get(resource) ?? 0) + request);
      if (limit > 0) {
        limits.set(resource, (limits.get(resource) ?? 0) + limit);
        found.add(resource);
      }
    }
    if (found.size < 2) guaranteed = false;
  }

  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  const equal = [...requests].every(([resource, value]) => limits.get(resource) === value);
  return guaranteed && equal && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

// ---- PodSecurity -------------------------------------------------------------------------------

interface Violation {
  reason: string;
  detail: string;
}

function quoted(names: string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}

function containersPhrase(names: string[]): string {
  return `${names.length === 1 ? 'container' : 'containers'} ${quoted(names)}`;
}

function allContainers(pod: PodJson): ContainerJson[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

function offenders(
  pod: PodJson,
  test: (context: SecurityContextJson, container: ContainerJson) => boolean,
): string[] {
  return allContainers(pod)
    .filter((container) => test(container.securityContext ?? {}, container))
    .map((container) => container.name);
}

// Capabilities a baseline pod may add (the container runtime's default set).
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

function checkHostNamespaces(pod: PodJson): Violation[] {
  const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter(
    (field) => pod.spec[field] === true,
  );
  if (set.length === 0) return [];
  return [{ reason: 'host namespaces', detail: set.map((field) => `${field}=true`).join(', ') }];
}

function checkPrivileged(pod: PodJson): Violation[] {
  const names = offenders(pod, (context) => context.privileged === true);
  if (names.length === 0) return [];
  return [
    {
      reason: 'privileged',
      detail: `${containersPhrase(names)} must not set securityContext.privileged=true`,
    },
  ];
}

function checkBaselineCapabilities(pod: PodJson): Violation[] {
  const parts = allContainers(pod).flatMap((container) => {
    const added = (container.securityContext?.capabilities?.add ?? []).filter(
      (cap) => !BASELINE_CAPABILITIES.has(cap),
    );
    if (added.length === 0) return [];
    return [
      `container "${container.name}" must not include ${quoted(added)} in securityContext.capabilities.add`,
    ];
  });
  return parts.length === 0
    ? []
    : [{ reason: 'non-default capabilities', detail: parts.join(', ') }];
}

function checkHostPath(pod: PodJson): Violation[] {
  const names = (pod.spec.volumes ?? [])
    .filter((volume) => volume.hostPath !== undefined)
    .map((v) => v.name);
  if (names.length === 0) return [];
  return [
    {
      reason: 'hostPath volumes',
      detail: `${names.length === 1 ? 'volume' : 'volumes'} ${quoted(names)}`,
    },
  ];
}

function checkHostPorts(pod: PodJson): Violation[] {
  const parts = allContainers(pod).flatMap((container) => {
    const ports = (container.ports ?? [])
      .map((port) => port.hostPort ?? 0)
      .filter((port) => port !== 0);
    if (ports.length === 0) return [];
    return [
      `container "${container.name}" uses ${ports.length === 1 ? 'hostPort' : 'hostPorts'} ${ports.join(', ')}`,
    ];
  });
  return parts.length === 0 ? [] : [{ reason: 'hostPort', detail: parts.join(', ') }];
}

function checkPrivilegeEscalation(pod: PodJson): Violation[] {
  const names = offenders(pod, (context) => context.allowPrivilegeEscalation !== false);
  if (names.length === 0) return [];
  return [
    {
      reason: 'allowPrivilegeEscalation != false',
      detail: `${containersPhrase(names)} must set securityContext.allowPrivilegeEscalation=false`,
    },
  ];
}

function checkRestrictedCapabilities(pod: PodJson): Violation[] {
  const parts: string[] = [];
  const noDrop = offenders(pod, (context) => !(context.capabilities?.drop ?? []).includes('ALL'));
  if (noDrop.length > 0)
    parts.push(`${containersPhrase(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);

  for (const container of allContainers(pod)) {
    const added = (container.securityContext?.capabilities?.add ?? []).filter(
      (cap) => cap !== 'NET_BIND_SERVICE',
    );
    if (added.length > 0) {
      parts.push(
        `container "${container.name}" must not include ${quoted(added)} in securityContext.capabilities.add`,
      );
    }
  }
  return parts.length === 0
    ? []
    : [{ reason: 'unrestricted capabilities', detail: parts.join('; ') }];
}

function checkRestrictedVolumes(pod: PodJson): Violation[] {
  const bad = (pod.spec.volumes ?? []).flatMap((volume) => {
    const type = Object.keys(volume).find((key) => key !== 'name');
    return type && !RESTRICTED_VOLUME_TYPES.has(type) ? [{ name: volume.name, type }] : [];
  });
  if (bad.length === 0) return [];
  const detail = bad
    .map((volume) => `volume "${volume.name}" uses restricted volume type "${volume.type}"`)
    .join(', ');
  return [{ reason: 'restricted volume types', detail }];
}

function checkRunAsNonRoot(pod: PodJson): Violation[] {
  const podValue = pod.spec.securityContext?.runAsNonRoot;
  const explicitFalse = offenders(pod, (context) => context.runAsNonRoot === false);
  if (explicitFalse.length > 0) {
    return [
      {
        reason: 'runAsNonRoot != true',
        detail: `${containersPhrase(explicitFalse)} must not set securityContext.runAsNonRoot=false`,
      },
    ];
  }
  if (podValue === true) return [];

  const unset = offenders(pod, (context) => context.runAsNonRoot !== true);
  if (unset.length === 0) return [];
  const who =
    podValue === false
      ? 'pod must not set securityContext.runAsNonRoot=false'
      : `pod or ${containersPhrase(unset)} must set securityContext.runAsNonRoot=true`;
  return [{ reason: 'runAsNonRoot != true', detail: who }];
}

function checkRunAsUser(pod: PodJson): Violation[] {
  const setters: string[] = [];
  if (pod.spec.securityContext?.runAsUser === 0) setters.push('pod');
  const names = offenders(pod, (context) => context.runAsUser === 0);
  if (names.length > 0) setters.push(containersPhrase(names));
  if (setters.length === 0) return [];
  return [{ reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` }];
}

function checkSeccompRestricted(pod: PodJson): Violation[] {
  const allowed = (type: string | undefined): boolean =>
    type === 'RuntimeDefault' || type === 'Localhost';
  const podType = pod.spec.securityContext?.seccompProfile?.type;
  const unconfined = offenders(pod, (context) => context.seccompProfile?.type === 'Unconfined');
  if (unconfined.length > 0) {
    return [
      {
        reason: 'seccompProfile',
        detail: `${containersPhrase(unconfined)} must not set securityContext.seccompProfile.type to "Unconfined"`,
      },
    ];
  }
  if (allowed(podType)) return [];

  const unset = offenders(pod, (context) => !allowed(context.seccompProfile?.type));
  if (unset.length === 0) return [];
  return [
    {
      reason: 'seccompProfile',
      detail: `pod or ${containersPhrase(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    },
  ];
}

/** Baseline checks first, then the restricted ones, which replace their baseline counterparts. */
function violations(pod: PodJson, level: PodSecurityLevel): Violation[] {
  if (level === 'privileged') return [];
  const restricted = level === 'restricted';
  return [
    ...(restricted ? [] : checkBaselineCapabilities(pod)),
    ...checkHostNamespaces(pod),
    ...(restricted ? [] : checkHostPath(pod)),
    ...checkHostPorts(pod),
    ...checkPrivileged(pod),
    ...(restricted
      ? [
          ...checkPrivilegeEscalation(pod),
          ...checkRestrictedCapabilities(pod),
          ...checkRestrictedVolumes(pod),
          ...checkRunAsNonRoot(pod),
          ...checkRunAsUser(pod),
          ...checkSeccompRestricted(pod),
        ]
      : []),
  ];
}

/** The PodSecurity admission plugin in enforce mode at `<level>:latest`. */
export function enforcePodSecurity(pod: PodJson, level: PodSecurityLevel): void {
  const found = violations(pod, level);
  if (found.length === 0) return;
  const list = found.map((violation) => `${violation.reason} (${violation.detail})`).join(', ');
  throw forbidden(
    'pods',
    pod.metadata.name ?? '',
    `violates PodSecurity "${level}:latest": ${list}`,
  );
}

// ---- ResourceQuota -----------------------------------------------------------------------------

export interface MemoryQuota {
  name: string;
  hardBytes: number;
}

const QUOTA_RESOURCES = ['limits.memory', 'requests.memory'] as const;

function podMemory(pod: PodJson, kind: 'limits' | 'requests'): number {
  return pod.spec.containers.reduce(
    (sum, c) => sum + parseQuantity(c.resources?.[kind]?.memory ?? '0'),
    0,
  );
}

function prettyPrint(values: Record<string, number>): string {
  return Object.keys(values)
    .sort()
    .map((key) => `${key}=${formatBytes(values[key] ?? 0)}`)
    .join(',');
}

/**
 * The ResourceQuota plugin for a quota on requests.memory and limits.memory: every container
 * must state both, and the namespace's non-terminal pods plus this one must fit.
 * Known gap: the "must specify" wording is 1.30's as best known; other quota resources
 * (cpu, pod count, ...) are not enforced.
 */
export function enforceMemoryQuota(pod: PodJson, quota: MemoryQuota, existing: PodJson[]): void {
  const name = pod.metadata.name ?? '';
  const missing = QUOTA_RESOURCES.filter((resource) => {
    const [kind] = resource.split('.') as ['limits' | 'requests'];
    return pod.spec.containers.some((c) => !c.resources?.[kind]?.memory);
  });
  if (missing.length > 0) {
    const names = pod.spec.containers.map((c) => c.name).join(',');
    const parts = missing.map((resource) => `${resource} for: ${names}`).join('; ');
    throw forbidden('pods', name, `failed quota: ${quota.name}: must specify ${parts}`);
  }

  const live = existing.filter(
    (p) => p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed',
  );
  const requested: Record<string, number> = {};
  const used: Record<string, number> = {};
  const limited: Record<string, number> = {};
  for (const resource of QUOTA_RESOURCES) {
    const kind = resource.split('.')[0] as 'limits' | 'requests';
    const usedBytes = live.reduce((sum, p) => sum + podMemory(p, kind), 0);
    const wanted = podMemory(pod, kind);
    if (usedBytes + wanted <= quota.hardBytes) continue;
    requested[resource] = wanted;
    used[resource] = usedBytes;
    limited[resource] = quota.hardBytes;
  }
  if (Object.keys(requested).length === 0) return;

  throw forbidden(
    'pods',
    name,
    `exceeded quota: ${quota.name}, requested: ${prettyPrint(requested)}, used: ${prettyPrint(used)}, limited: ${prettyPrint(limited)}`,
  );
}
