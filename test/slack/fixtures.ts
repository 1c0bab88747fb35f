// Drill values for render tests: a request, kills, and a describe text shaped like
// `kubectl describe pod` for a drill pod after two OOM kills (about 3,500 characters).
import type { DrillRequest } from '../../src/request/types.js';
import { drillRequest } from '../support/drill-job.js';
import type { DrillOutcome, KillRecord } from '../../src/drill/types.js';
import type { DrillContext } from '../../src/slack/render.js';

export const request: DrillRequest = drillRequest();

export const ctx: DrillContext = {
  drillId: 'mia3k2x1-9f3c0a1b',
  request,
  requestedBy: 'U012ABCDEF',
};

export function kill(ordinal: number, exitCode: number | null = 137): KillRecord {
  return {
    ordinal,
    container: 'stress',
    instance: ordinal - 1,
    exitCode,
    startedAt: `2026-12-03T19:0${ordinal}:00Z`,
    finishedAt: `2026-12-03T19:0${ordinal}:02Z`,
    inferred: false,
    filledBytes: 207_600_000,
    fillMs: 1_900,
  };
}

const EVENT_LINES = [
  '  Normal   Scheduled  40s                default-scheduler  Successfully assigned default/mem-nginx to node-a',
  '  Normal   Pulled     38s                kubelet            Container image "busybox:1.36.1" already present on machine',
  '  Normal   Pulling    39s                kubelet            Pulling image "busybox:1.36.1" for container stress in pod mem-nginx',
  '  Normal   SandboxChanged  36s           kubelet            Pod sandbox changed, it will be killed and re-created.',
  '  Normal   Created    8s (x3 over 38s)   kubelet            Created container stress',
  '  Normal   Started    8s (x3 over 38s)   kubelet            Started container stress',
  '  Warning  BackOff    20s (x2 over 30s)  kubelet            Back-off restarting failed container stress in pod mem-nginx_default(0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0)',
];

/** A describe text; `extraEvents` repeats event lines to make it longer. */
export function describeText(extraEvents = 0): string {
  const head = `Name:             mem-nginx
Namespace:        default
Priority:         0
Service Account:  default
Node:             node-a/10.0.0.12
Start Time:       Thu, 03 Dec 2026 19:00:00 +0000
Labels:           app.kubernetes.io/managed-by=oomtest
                  oomtest.dev/drill-id=mia3k2x1-9f3c0a1b
                  oomtest.dev/requested-by=U012ABCDEF
Annotations:      oomtest.dev/fill=400Mi
                  oomtest.dev/method=tmpfs
Status:           Running
IP:               10.244.0.17
IPs:
  IP:  10.244.0.17
Containers:
  stress:
    Container ID:  containerd://4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c
    Image:         busybox:1.36.1
    Image ID:      docker.io/library/busybox@sha256:5eef5ed34e1e1ff0a4ae850395cbf665c4de6b4b83a32a0bc7bcb998e24e7bbb
    Port:          <none>
    Host Port:     <none>
    Command:
      /bin/sh
      -c
    Args:
      set -eu; dir=/oomtest/fill; mkdir -p "$dir"; mount -t tmpfs -o size=400Mi tmpfs "$dir"; rm -f "$dir/block"; dd if=/dev/zero of="$dir/block" bs=1M count=400; sleep 3600
    State:          Running
      Started:      Thu, 03 Dec 2026 19:02:10 +0000
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Thu, 03 Dec 2026 19:02:00 +0000
      Finished:     Thu, 03 Dec 2026 19:02:02 +0000
    Ready:          True
    Restart Count:  2
    Limits:
      cpu:     500m
      memory:  200Mi
    Requests:
      cpu:        500m
      memory:     200Mi
    Environment:  <none>
    Mounts:
      /oomtest from scratch (rw)
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-7xq2p (ro)
Conditions:
  Type                        Status
  PodReadyToStartContainers   True
  Initialized                 True
  Ready                       True
  ContainersReady             True
  PodScheduled                True
Volumes:
  scratch:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:
    SizeLimit:  <unset>
  kube-api-access-7xq2p:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    ConfigMapOptional:       <nil>
    DownwardAPI:             true
QoS Class:                   Guaranteed
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                From               Message
  ----     ------     ----               ----               -------
`;
  const events = [...EVENT_LINES];
  for (let i = 0; i < extraEvents; i += 1) events.push(EVENT_LINES[i % EVENT_LINES.length]!);
  return `${head}${events.join('\n')}\n`;
}

export function outcome(overrides: Partial<DrillOutcome> = {}): DrillOutcome {
  return {
    drillId: ctx.drillId,
    request,
    status: 'done',
    verdict: 'OOM-killed 2 of 2 times at 200Mi: the kernel enforced the limit',
    kills: [kill(1), kill(2)],
    restartCount: 2,
    describe: describeText(),
    logTail:
      'oomtest: start method=tmpfs fill_bytes=419430400\noomtest: filled bytes=207618048 elapsed_ms=1900\n',
    deleted: true,
    startedAt: '2026-12-03T19:00:00Z',
    finishedAt: '2026-12-03T19:02:15Z',
    ...overrides,
  };
}
