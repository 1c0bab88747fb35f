import { spawnSync } from 'node:child_process';
import { isOomtestError } from '../../src/errors.js';
import { STRESS_METHODS } from '../../src/request/types.js';
import {
  DEFAULT_STRESS_DIR,
  defaultChunkBytes,
  parseStressLog,
  stressScript,
  type StressScriptOptions,
} from '../../src/stress/script.js';
import { which } from '../support/cgroup.js';

const MIB = 1_048_576;

describe('stressScript', () => {
  it.each(STRESS_METHODS)('writes a %s script that announces its method and fill', (method) => {
    const script = stressScript({ method, fillBytes: 400 * MIB });

    expect(script).toContain(`fill_bytes=${400 * MIB}`);
    expect(script).toContain(`'oomtest: start method=%s fill_bytes=%s\\n' ${method}`);
  });

  it('mounts a tmpfs sized to the fill rounded up to whole MiB, at the default directory', () => {
    const script = stressScript({ method: 'tmpfs', fillBytes: 500_000_000 });

    expect(script).toContain(`dir='${DEFAULT_STRESS_DIR}'`);
    expect(script).toContain(`mount -t tmpfs -o size=${477 * MIB} tmpfs "$dir"`);
  });

  it('removes the file of an earlier run before filling an emptyDir', () => {
    const script = stressScript({ method: 'emptydir', fillBytes: 400 * MIB, dir: '/data' });
    const lines = script.split('\n');

    const removal = lines.findIndex((line) => line.includes('rm -f "$file"'));
    const fill = lines.findIndex((line) => line.startsWith('if ! fill_file'));
    expect(removal).toBeGreaterThan(0);
    expect(fill).toBeGreaterThan(removal);
  });

  it('never mounts anything for the unprivileged methods', () => {
    for (const method of ['emptydir', 'anon'] as const) {
      expect(stressScript({ method, fillBytes: 400 * MIB })).not.toMatch(/\bmount -t/);
    }
  });

  const shells = [
    ['dash', which('dash'), ['-n']],
    ['busybox sh', which('busybox'), ['sh', '-n']],
  ] as const;

  it.each(STRESS_METHODS)('writes a %s script that dash and busybox sh both parse', (method) => {
    const script = stressScript({ method, fillBytes: 10 * 1024 * MIB, dir: '/var/lib/x.y_z-1' });

    for (const [name, path, args] of shells) {
      if (path === undefined) throw new Error(`${name} is not installed (apt-get install busybox)`);
      const result = spawnSync(path, [...args, '-c', script], { encoding: 'utf8' });
      expect({ shell: name, status: result.status, stderr: result.stderr }).toEqual({
        shell: name,
        status: 0,
        stderr: '',
      });
    }
  });

  it.each<[string, Partial<StressScriptOptions>, RegExp]>([
    ['an unknown method', { method: 'swap' as 'anon' }, /unknown stress method "swap"/],
    ['a zero fill', { fillBytes: 0 }, /fill must be a whole, positive number of bytes, got 0/],
    ['a negative fill', { fillBytes: -5 }, /got -5/],
    ['a fractional fill', { fillBytes: 1.5 }, /got 1.5/],
    ['a relative directory', { dir: 'oomtest' }, /stress directory "oomtest" must be an absolute/],
    ['a directory with a quote', { dir: "/tmp/a'b" }, /must be an absolute path/],
    ['a directory with a space', { dir: '/tmp/a b' }, /must be an absolute path/],
    ['a directory climbing out', { dir: '/tmp/../etc' }, /must be an absolute path/],
    ['the root directory', { dir: '/' }, /must be an absolute path/],
    ['a chunk that is not whole MiB', { chunkBytes: MIB + 1 }, /whole, positive number of MiB/],
  ])('refuses %s with a message naming it', (_, override, message) => {
    const options = { method: 'tmpfs' as const, fillBytes: 400 * MIB, ...override };

    let thrown: unknown;
    try {
      stressScript(options);
    } catch (error) {
      thrown = error;
    }
    expect(isOomtestError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as { code: string }).code).toBe('request.invalid');
  });
});

describe('defaultChunkBytes', () => {
  it.each([
    [1, MIB],
    [64 * MIB, MIB],
    [64 * MIB + 1, 2 * MIB],
    [400 * MIB, 7 * MIB],
    [4096 * MIB, 64 * MIB],
    [10 * 1024 * MIB, 64 * MIB],
  ])('steps a fill of %d bytes by %d bytes', (fillBytes, chunkBytes) => {
    expect(defaultChunkBytes(fillBytes)).toBe(chunkBytes);
  });
});

describe('parseStressLog', () => {
  it('reads the last progress of a run that was killed', () => {
    const log = parseStressLog(
      [
        'oomtest: start method=tmpfs fill_bytes=419430400',
        'oomtest: filled bytes=16777216 elapsed_ms=40',
        'oomtest: filled bytes=33554432 elapsed_ms=85',
        'Killed',
        '',
      ].join('\n'),
    );

    expect(log).toEqual({
      method: 'tmpfs',
      full: false,
      filledBytes: 33_554_432,
      elapsedMs: 85,
    });
  });

  it('reads a fill that completed without a kill', () => {
    const log = parseStressLog(
      'oomtest: start method=anon fill_bytes=1048576\noomtest: full bytes=1048576 elapsed_ms=3\n',
    );

    expect(log).toMatchObject({ method: 'anon', full: true, filledBytes: MIB, elapsedMs: 3 });
  });

  it('reads an error line with spaces and equals signs in its detail', () => {
    const log = parseStressLog(
      'oomtest: start method=tmpfs fill_bytes=1\n' +
        'oomtest: error reason=mount-denied detail="mount: /oomtest: permission denied. a=b"\n',
    );

    expect(log.error).toEqual({
      reason: 'mount-denied',
      detail: 'mount: /oomtest: permission denied. a=b',
    });
    expect(log.filledBytes).toBeUndefined();
  });

  it('reads where an emptyDir ran out of space before anonymous memory took over', () => {
    const log = parseStressLog(
      'oomtest: start method=emptydir fill_bytes=9\n' +
        'oomtest: volume-full bytes=200 elapsed_ms=5\n' +
        'oomtest: filled bytes=300 elapsed_ms=6\n',
    );

    expect(log).toMatchObject({ volumeFullBytes: 200, filledBytes: 300, elapsedMs: 6 });
  });

  it('reads lines behind kubectl --timestamps prefixes and Windows line ends', () => {
    const log = parseStressLog(
      '2026-12-03T18:00:00.000000001Z oomtest: start method=anon fill_bytes=9\r\n' +
        '2026-12-03T18:00:00.100000001Z oomtest: filled bytes=7 elapsed_ms=100\r\n',
    );

    expect(log).toMatchObject({ method: 'anon', filledBytes: 7, elapsedMs: 100 });
  });

  it('describes only the last run when several are concatenated', () => {
    const log = parseStressLog(
      'oomtest: start method=tmpfs fill_bytes=9\noomtest: full bytes=9 elapsed_ms=1\n' +
        'oomtest: start method=tmpfs fill_bytes=9\noomtest: filled bytes=4 elapsed_ms=1\n',
    );

    expect(log).toMatchObject({ full: false, filledBytes: 4 });
  });

  it('ignores lines outside the protocol and malformed numbers', () => {
    const log = parseStressLog(
      'hello\nnot-oomtest: filled bytes=5 elapsed_ms=1\noomtest: filled bytes=x elapsed_ms=-1\n',
    );

    expect(log).toEqual({ full: false, filledBytes: undefined, elapsedMs: undefined });
  });

  it('reads an empty log as nothing filled', () => {
    expect(parseStressLog('')).toEqual({ full: false });
  });
});
