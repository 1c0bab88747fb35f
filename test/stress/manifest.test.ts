import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { isOomtestError } from '../../src/errors.js';
import type { DrillRequest, StressMethod } from '../../src/request/types.js';
import {
  ANNOTATION_KILLS,
  ANNOTATION_METHOD,
  ANNOTATION_REQUESTED_BY,
  LABEL_DRILL_ID,
  LABEL_MANAGED_BY,
  STRESS_CONTAINER,
  STRESS_VOLUME,
  activeDeadlineSeconds,
  backoffScheduleSeconds,
  buildPod,
} from '../../src/stress/manifest.js';
import { DEFAULT_STRESS_DIR, stressScript } from '../../src/stress/script.js';

const MIB = 1_048_576;

function request(overrides: Partial<DrillRequest> = {}): DrillRequest {
  return {
    pod: 'mem-nginx',
    namespace: 'game-day',
    memoryLimit: '200Mi',
    memoryLimitBytes: 200 * MIB,
    kills: 2,
    method: 'tmpfs',
    fill: '400Mi',
    fillBytes: 400 * MIB,
    image: 'docker.io/library/busybox:1.36.1',
    cpu: '100m',
    timeoutSeconds: 600,
    keep: false,
    ...overrides,
  };
}

function container(pod: V1Pod): V1Container {
  const only = pod.spec?.containers[0];
  if (only === undefined) throw new Error('pod has no container');
  return only;
}

/**
 * The Pod Security Standards' `restricted` checks (latest) that a drill pod could trip, one
 * finding per violated field, written from the published rules.
 */
function restrictedViolations(pod: V1Pod): string[] {
  const spec = pod.spec!;
  const podContext = spec.securityContext ?? {};
  const findings: string[] = [];
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) findings.push('host namespaces');

  const allowedVolumes = ['emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI', 'csi'];
  for (const volume of spec.volumes ?? []) {
    const kinds = Object.keys(volume).filter((key) => key !== 'name');
    if (!kinds.every((kind) => allowedVolumes.includes(kind)))
      findings.push(`volume ${volume.name}`);
  }

  for (const each of [...spec.containers, ...(spec.initContainers ?? [])]) {
    const context = each.securityContext ?? {};
    if (context.privileged === true) findings.push('privileged');
    if (context.allowPrivilegeEscalation !== false)
      findings.push('allowPrivilegeEscalation != false');
    if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true)
      findings.push('runAsNonRoot != true');
    if ((context.runAsUser ?? podContext.runAsUser) === 0) findings.push('runAsUser=0');

    const seccomp = (context.seccompProfile ?? podContext.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') findings.push('seccompProfile');
    if (!(context.capabilities?.drop ?? []).includes('ALL')) findings.push('capabilities.drop');
    const added = context.capabilities?.add ?? [];
    if (added.some((cap) => cap !== 'NET_BIND_SERVICE')) findings.push('capabilities.add');
    if ((each.ports ?? []).some((port) => port.hostPort)) findings.push('hostPort');
  }

  return findings;
}

describe('buildPod', () => {
  it('names the pod exactly as asked, in the asked namespace, labelled as managed', () => {
    const pod = buildPod(request(), { drillId: 'd-42', requestedBy: 'U123' });

    expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    expect(pod.metadata).toMatchObject({ name: 'mem-nginx', namespace: 'game-day' });
    expect(pod.metadata?.labels).toEqual({
      [LABEL_MANAGED_BY]: 'oomtest',
      'app.kubernetes.io/name': 'oomtest-drill',
      [LABEL_DRILL_ID]: 'd-42',
    });
    expect(pod.metadata?.annotations).toMatchObject({
      [ANNOTATION_METHOD]: 'tmpfs',
      [ANNOTATION_KILLS]: '2',
      [ANNOTATION_REQUESTED_BY]: 'U123',
    });
  });

  it('leaves out requested-by when nobody is named', () => {
    const pod = buildPod(request(), { drillId: 'd-42' });

    expect(pod.metadata?.annotations).not.toHaveProperty(ANNOTATION_REQUESTED_BY);
  });

  it('exports the label keys the rest of oomtest selects on', () => {
    expect(LABEL_MANAGED_BY).toBe('app.kubernetes.io/managed-by');
    expect(LABEL_DRILL_ID).toBe('oomtest.dev/drill-id');
    expect(STRESS_CONTAINER).toBe('stress');
  });

  it.each<StressMethod>(['tmpfs', 'emptydir', 'anon'])(
    'runs the %s stress script as the one container, with requests equal to limits (Guaranteed)',
    (method) => {
      const drill = request({ method, cpu: '2', memoryLimit: '200Mi' });
      const pod = buildPod(drill, { drillId: 'd-1' });

      expect(pod.spec?.containers).toHaveLength(1);
      expect(container(pod)).toMatchObject({
        name: 'stress',
        image: 'docker.io/library/busybox:1.36.1',
        command: ['/bin/sh', '-c', stressScript({ method, fillBytes: 400 * MIB })],
      });
      expect(container(pod).resources).toEqual({
        requests: { memory: '200Mi', cpu: '2' },
        limits: { memory: '200Mi', cpu: '2' },
      });
    },
  );

  it('restarts always, carries no API token or service links, and has a deadline', () => {
    const pod = buildPod(request(), { drillId: 'd-1' });

    expect(pod.spec).toMatchObject({
      restartPolicy: 'Always',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      activeDeadlineSeconds: activeDeadlineSeconds(request()),
    });
    expect(pod.spec?.terminationGracePeriodSeconds).toBeLessThanOrEqual(10);
  });

  it('makes tmpfs a privileged root container, which the baseline profile refuses', () => {
    const pod = buildPod(request({ method: 'tmpfs' }), { drillId: 'd-1' });

    expect(container(pod).securityContext).toEqual({ privileged: true, runAsUser: 0 });
    expect(restrictedViolations(pod)).toContain('privileged');
    expect(pod.spec?.volumes).toBeUndefined();
  });

  it.each<StressMethod>(['emptydir', 'anon'])(
    'gives %s every field the restricted profile requires',
    (method) => {
      const pod = buildPod(request({ method }), { drillId: 'd-1' });
      const context = container(pod).securityContext;

      expect(context?.privileged).toBeUndefined();
      expect(context?.allowPrivilegeEscalation).toBe(false);
      expect(context?.runAsNonRoot).toBe(true);
      expect(context?.runAsUser).toBeGreaterThan(0);
      expect(Number.isInteger(context?.runAsUser)).toBe(true);
      expect(context?.capabilities).toEqual({ drop: ['ALL'] });
      expect(context?.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(restrictedViolations(pod)).toEqual([]);
    },
  );

  it('backs emptydir with a memory emptyDir the size of the fill, mounted where the script fills', () => {
    const pod = buildPod(request({ method: 'emptydir' }), { drillId: 'd-1' });

    expect(pod.spec?.volumes).toEqual([
      { name: STRESS_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '400Mi' } },
    ]);
    expect(container(pod).volumeMounts).toEqual([
      { name: STRESS_VOLUME, mountPath: DEFAULT_STRESS_DIR },
    ]);
  });

  it('gives anon no volume at all', () => {
    const pod = buildPod(request({ method: 'anon' }), { drillId: 'd-1' });

    expect(pod.spec?.volumes).toBeUndefined();
    expect(container(pod).volumeMounts).toBeUndefined();
  });

  it.each(['', 'has space', '-leading', 'x'.repeat(64), 'a/b'])(
    'refuses the drill id "%s", which cannot be a label value',
    (drillId) => {
      let thrown: unknown;
      try {
        buildPod(request(), { drillId });
      } catch (error) {
        thrown = error;
      }

      expect(isOomtestError(thrown)).toBe(true);
      expect((thrown as Error).message).toContain('is not a valid label value');
    },
  );

  it('survives a JSON round trip unchanged, as it does on its way to the API server', () => {
    const pod = buildPod(request({ method: 'emptydir' }), { drillId: 'd-1' });

    expect(JSON.parse(JSON.stringify(pod))).toEqual(pod);
  });
});

describe('backoffScheduleSeconds', () => {
  it.each([
    [0, []],
    [1, [10]],
    [2, [10, 20]],
    [7, [10, 20, 40, 80, 160, 300, 300]],
  ])('waits for %d kills: %j', (kills, schedule) => {
    expect(backoffScheduleSeconds(kills)).toEqual(schedule);
  });

  it.each([-1, 1.5, Number.NaN])('refuses %d kills', (kills) => {
    expect(() => backoffScheduleSeconds(kills)).toThrow(RangeError);
  });
});

describe('activeDeadlineSeconds', () => {
  it('adds the full back-off budget of the requested kills to the timeout, plus a margin', () => {
    const twoKills = activeDeadlineSeconds(request({ kills: 2, timeoutSeconds: 600 }));
    const tenKills = activeDeadlineSeconds(request({ kills: 10, timeoutSeconds: 600 }));

    expect(twoKills).toBeGreaterThan(600 + 10 + 20);
    expect(tenKills).toBeGreaterThan(600 + 10 + 20 + 40 + 80 + 160 + 300 * 5);
    // Each kill adds its back-off and restart slack, never less.
    expect(tenKills - twoKills).toBeGreaterThanOrEqual(40 + 80 + 160 + 300 * 5);
  });

  it('grows one for one with the timeout', () => {
    const base = activeDeadlineSeconds(request({ timeoutSeconds: 60 }));

    expect(activeDeadlineSeconds(request({ timeoutSeconds: 3600 }))).toBe(base + 3540);
  });
});
