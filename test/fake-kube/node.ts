/**
 * The fake's one node and the scheduler's decision about it.
 *
 * Known gap: the fit check compares one pod's requests with the node's allocatable and its
 * nodeSelector with the node's labels; it does not add up the pods already bound (so any number
 * of drills fit at once, which the scale benchmark relies on), nor look at affinity, taints or
 * topology spread.
 */
import type { KubeObject, PodJson } from './types.js';
import { newUid, parseQuantity, rfc3339 } from './util.js';

/** A kind worker on a small VM: 2 CPUs, about 7.7 GiB allocatable. */
export const NODE_CPU_MILLIS = 2_000;
export const NODE_MEMORY_BYTES = 8_039_784 * 1024;

export function nodeLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
  };
}

/**
 * Why the scheduler cannot place the pod on the node, worded as default-scheduler's
 * FailedScheduling message, or undefined when it fits.
 */
export function unschedulableReason(pod: PodJson, nodeName: string): string | undefined {
  const labels = nodeLabels(nodeName);
  const selector = (pod.spec.nodeSelector ?? {}) as Record<string, string>;
  if (Object.entries(selector).some(([key, value]) => labels[key] !== value)) {
    return (
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. " +
      'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'
    );
  }

  const sum = (resource: string): number =>
    pod.spec.containers.reduce(
      (total, c) => total + (parseQuantity(c.resources?.requests?.[resource] ?? '0') || 0),
      0,
    );
  const short: string[] = [];
  if (sum('cpu') * 1000 > NODE_CPU_MILLIS) short.push('1 Insufficient cpu');
  if (sum('memory') > NODE_MEMORY_BYTES) short.push('1 Insufficient memory');
  if (short.length === 0) return undefined;
  return (
    `0/1 nodes are available: ${short.join(', ')}. ` +
    'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'
  );
}

/** The one node, shaped like a kind worker: Ready, 2 CPUs, 8 GiB, containerd. */
export function nodeObject(name: string, hostIp: string): KubeObject {
  const capacity = {
    cpu: String(NODE_CPU_MILLIS / 1000),
    memory: `${NODE_MEMORY_BYTES / 1024}Ki`,
    pods: '110',
    'ephemeral-storage': '61202244Ki',
  };
  const at = rfc3339(Date.now());
  const condition = (type: string, status: string, reason: string, message: string): object => ({
    type,
    status,
    lastHeartbeatTime: at,
    lastTransitionTime: at,
    reason,
    message,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: newUid(),
      creationTimestamp: at,
      labels: nodeLabels(name),
    },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition(
          'DiskPressure',
          'False',
          'KubeletHasNoDiskPressure',
          'kubelet has no disk pressure',
        ),
        condition(
          'PIDPressure',
          'False',
          'KubeletHasSufficientPID',
          'kubelet has sufficient PID available',
        ),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: hostIp },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        machineID: 'f0a5e0c0ffee4b1d9e0d6c3a2b1f0e9d',
        systemUUID: 'f0a5e0c0-ffee-4b1d-9e0d-6c3a2b1f0e9d',
        bootID: 'b0071d00-0000-4000-8000-000000000001',
        kernelVersion: '6.1.0-18-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.15',
        kubeletVersion: 'v1.30.0',
        kubeProxyVersion: 'v1.30.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}
