/**
 * describePod on hand-built pods: the drill's states (OOM-killed twice with exit 137 or 0,
 * crash-loop back-off, pending, image pull error), events with and without counts, both input
 * forms (raw JSON and client-node models), and byte-for-byte equality with outputs that real
 * kubectl v1.30 printed for the same fixtures (see fixtures/describe-support.ts).
 */
import { loadYaml, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { describePod, qosClass } from '../../src/kube/describe.js';
import { fixtureNames, kubectlGolden, loadFixture } from './fixtures/describe-support.js';

/** Two minutes after the OOM fixture's pod was created (10:00:00Z). */
const NOW = new Date('2026-12-03T10:02:00Z');

function lines(text: string): string[] {
  return text.split('\n');
}

/** The line that starts with `prefix` (after trimming indentation), or a clear failure. */
function lineStarting(text: string, prefix: string): string {
  const found = lines(text).find((line) => line.trimStart().startsWith(prefix));
  if (found === undefined) throw new Error(`no line starting with "${prefix}" in:\n${text}`);
  return found;
}

/** A table row laid out with explicit column widths, as tabwriter pads them. */
function row(widths: number[], cells: string[]): string {
  return cells.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('');
}

describe('describePod against real kubectl output', () => {
  it.each(fixtureNames())('prints %s exactly as kubectl v1.30 did', (name) => {
    const { pod, events } = loadFixture(name);
    const golden = kubectlGolden(name);

    expect(describePod({ pod, events, now: golden.capturedAt })).toBe(golden.text);
  });
});

describe('describePod of a drill pod killed twice', () => {
  it('shows the last OOM kill, the restart count, limits and QoS, aligned as kubectl does', () => {
    const { pod, events } = loadFixture('oom-killed-twice');

    const text = describePod({ pod, events, now: NOW });

    expect(lines(text)).toEqual(
      expect.arrayContaining([
        '    State:          Running',
        '      Started:      Thu, 03 Dec 2026 10:01:11 +0000',
        '    Last State:     Terminated',
        '      Reason:       OOMKilled',
        '      Exit Code:    137',
        '      Started:      Thu, 03 Dec 2026 10:00:41 +0000',
        '      Finished:     Thu, 03 Dec 2026 10:00:50 +0000',
        '    Ready:          True',
        '    Restart Count:  2',
        '    Limits:',
        '      cpu:     2',
        '      memory:  200Mi',
        'QoS Class:                   Guaranteed',
      ]),
    );
  });

  it('prints exit code 0 when the kernel killed a child and PID 1 survived', () => {
    const { pod, events } = loadFixture('oom-killed-twice');
    pod.status!.containerStatuses![0]!.lastState!.terminated!.exitCode = 0;

    const text = describePod({ pod, events, now: NOW });

    expect(lineStarting(text, 'Reason:')).toBe('      Reason:       OOMKilled');
    expect(lineStarting(text, 'Exit Code:')).toBe('      Exit Code:    0');
  });

  it('canonicalises quantities as kubectl does (2000m -> 2, 204800Ki -> 200Mi)', () => {
    const { pod, events } = loadFixture('oom-killed-twice');

    const text = describePod({ pod, events, now: NOW });

    const requests = lines(text).slice(lines(text).indexOf('    Requests:') + 1);
    expect(requests.slice(0, 2)).toEqual(['      cpu:     2', '      memory:  200Mi']);
  });

  it('sorts events by last timestamp and writes ages with (xN over first) for repeats', () => {
    const { pod, events } = loadFixture('oom-killed-twice');

    const text = describePod({ pod, events, now: NOW });

    const widths = [11, 16, 20, 19];
    const table = lines(text).slice(lines(text).indexOf('Events:') + 1, -1);
    const backOff =
      'Back-off restarting failed container stress in pod ' +
      'mem-nginx_game-day(5f0c7d5e-1c7a-4d8e-9a55-3b1f0f6f2a10)';
    const scheduled = 'Successfully assigned game-day/mem-nginx to worker-1';
    const pulled = 'Container image "busybox:1.36" already present on machine';
    const sandbox = 'Pod sandbox changed, it will be killed and re-created.';
    expect(table).toEqual([
      row(widths, ['  Type', 'Reason', 'Age', 'From', 'Message']),
      row(widths, ['  ----', '------', '----', '----', '-------']),
      row(widths, ['  Normal', 'Scheduled', '119s', 'default-scheduler', scheduled]),
      row(widths, ['  Normal', 'SandboxChanged', '100s', 'kubelet', sandbox]),
      row(widths, ['  Warning', 'BackOff', '69s (x2 over 99s)', 'kubelet', backOff]),
      row(widths, ['  Normal', 'Pulled', '49s (x3 over 118s)', 'kubelet', pulled]),
      row(widths, [
        '  Normal',
        'Created',
        '49s (x3 over 118s)',
        'kubelet',
        'Created container stress',
      ]),
      row(widths, [
        '  Normal',
        'Started',
        '49s (x3 over 117s)',
        'kubelet',
        'Started container stress',
      ]),
    ]);
  });

  it('aligns the volume fields, QoS Class, Node-Selectors and Tolerations as one block', () => {
    const { pod, events } = loadFixture('oom-killed-twice');

    const text = describePod({ pod, events, now: NOW });

    // The widest key in the block is "TokenExpirationSeconds:" (23) + 4 indent + 2 padding.
    expect(lineStarting(text, 'TokenExpirationSeconds:')).toBe('    TokenExpirationSeconds:  3607');
    expect(lineStarting(text, 'QoS Class:')).toBe(`${'QoS Class:'.padEnd(29)}Guaranteed`);
    expect(lineStarting(text, 'Tolerations:')).toBe(
      `${'Tolerations:'.padEnd(29)}node.kubernetes.io/not-ready:NoExecute op=Exists for 300s`,
    );
    // The Medium line belongs to the emptyDir block, which ends at the next volume's name.
    expect(lineStarting(text, 'Medium:')).toBe('    Medium:     Memory');
  });
});

describe('describePod of a container in crash-loop back-off', () => {
  it('prints the waiting reason but, like kubectl, not the waiting message', () => {
    const { pod, events } = loadFixture('kitchen-sink');

    const text = describePod({ pod, events, now: NOW });

    expect(text).toContain(
      '    State:               Waiting\n      Reason:            CrashLoopBackOff\n',
    );
    expect(text).not.toContain('back-off 2m40s restarting failed container');
  });

  it('prints a terminated message and signal, keeping a multi-line message as kubectl does', () => {
    const { pod, events } = loadFixture('kitchen-sink');

    const text = describePod({ pod, events, now: NOW });

    expect(text).toContain(
      '      Message:           panic: boom\ngoroutine 1\n      Exit Code:    1\n',
    );
    expect(lineStarting(text, 'Signal:')).toBe('      Signal:       9');
  });
});

describe('describePod of a pod that has not started', () => {
  it('prints a pending pod with no node, no IP and Events: <none>', () => {
    const { pod, events } = loadFixture('pending');

    const text = describePod({ pod, events, now: NOW });

    expect(lines(text)).toEqual(
      expect.arrayContaining([
        'Node:         <none>',
        'Status:       Pending',
        'IP:           ',
        'IPs:          <none>',
        'Tolerations:     <none>',
        'Events:          <none>',
      ]),
    );
    expect(text).not.toContain('Start Time:');
    expect(text).not.toContain('Container ID:');
  });

  it('prints the image pull back-off as the waiting reason', () => {
    const { pod, events } = loadFixture('image-pull-error');

    const text = describePod({ pod, events, now: new Date('2026-12-03T10:03:00Z') });

    expect(text).toContain('    State:          Waiting\n      Reason:       ImagePullBackOff\n');
    const widths = [11, 11, 21, 19];
    expect(lines(text)).toContainEqual(
      row(widths, [
        '  Warning',
        'Failed',
        '50s (x6 over 2m56s)',
        'kubelet',
        'Error: ImagePullBackOff',
      ]),
    );
  });

  it('leaves the Events section out when no events are given', () => {
    const { pod } = loadFixture('pending');

    const text = describePod({ pod, now: NOW });

    expect(text).not.toContain('Events:');
    expect(text.endsWith('Tolerations:     <none>\n')).toBe(true);
  });

  it('accepts an EventList object as well as an array', () => {
    const { pod, events } = loadFixture('image-pull-error');

    expect(describePod({ pod, events: { items: events }, now: NOW })).toBe(
      describePod({ pod, events, now: NOW }),
    );
  });
});

describe('describePod input forms and options', () => {
  it('renders client-node model objects (Date timestamps) exactly like the raw JSON', () => {
    const { pod, events } = loadFixture('oom-killed-twice');
    const model = loadYaml<V1Pod>(JSON.stringify(pod));
    // client-node turns core/v1 timestamps into Date; MicroTime (eventTime) stays as it came.
    const modelEvents: CoreV1Event[] = events.map((e) => ({
      ...(e as CoreV1Event),
      firstTimestamp: e.firstTimestamp ? new Date(e.firstTimestamp) : undefined,
      lastTimestamp: e.lastTimestamp ? new Date(e.lastTimestamp) : undefined,
    }));
    expect(model.status?.startTime).toBeInstanceOf(Date);
    expect(model.status?.containerStatuses?.[0]?.lastState?.terminated?.finishedAt).toBeInstanceOf(
      Date,
    );

    expect(describePod({ pod: model, events: modelEvents, now: NOW })).toBe(
      describePod({ pod, events, now: NOW }),
    );
  });

  it('prints times in the requested zone with its numeric offset', () => {
    const { pod, events } = loadFixture('oom-killed-twice');

    const text = describePod({ pod, events, now: NOW, timeZone: 'America/St_Johns' });

    expect(lineStarting(text, 'Start Time:')).toBe(
      'Start Time:       Thu, 03 Dec 2026 06:30:01 -0330',
    );
  });

  it('escapes terminal control characters from cluster data', () => {
    const { pod, events } = loadFixture('kitchen-sink');

    const text = describePod({ pod, events, now: NOW });

    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\r');
    expect(lineStarting(text, 'c.example.com/esc:')).toBe(
      '                           c.example.com/esc: bell^[[31mred\\rcr',
    );
  });
});

describe('qosClass', () => {
  const pod = (resources: object[]): Parameters<typeof qosClass>[0] => ({
    spec: { containers: resources.map((r, i) => ({ name: `c${i}`, resources: r })) },
  });

  it('is Guaranteed when every container has equal cpu and memory requests and limits', () => {
    const both = {
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '1000m', memory: '1024Mi' },
    };
    expect(qosClass(pod([both, both]))).toBe('Guaranteed');
  });

  it('is Burstable when a container lacks a limit or the values differ', () => {
    expect(qosClass(pod([{ limits: { memory: '64Mi' } }]))).toBe('Burstable');
    expect(
      qosClass(
        pod([{ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } }]),
      ),
    ).toBe('Burstable');
  });

  it('is BestEffort without any cpu or memory figures, and trusts status.qosClass when set', () => {
    expect(qosClass(pod([{}]))).toBe('BestEffort');
    expect(qosClass({ ...pod([{}]), status: { qosClass: 'Guaranteed' } })).toBe('Guaranteed');
  });
});

describe('describePod with maxCommandLines', () => {
  it('cuts a long inline script to its first lines and says how many were left out', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'stress', command: ['/bin/sh', '-c', 'a\nb\nc\nd'] }] },
      status: { phase: 'Running' },
    };

    const text = describePod({ pod, events: [], now: new Date(0), maxCommandLines: 1 });

    expect(text).toMatch(/^ {6}-c$/m);
    expect(text).toMatch(/^ {6}a$/m);
    expect(text).toContain('... (3 more lines: kubectl get pod -o yaml shows them)');
    expect(text).not.toMatch(/^ {6}d$/m);
  });
});
