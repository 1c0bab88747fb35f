/**
 * `oomtest run` as a real process (dist/main.js, built by `npm test`) against the fake
 * Kubernetes API server, reached through a kubeconfig file like any cluster.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKube, type FakeKube } from '../fake-kube/index.js';

const MAIN = join(process.cwd(), 'dist', 'main.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function oomtest(args: string[], env: Record<string, string>, onStderr?: (text: string) => void) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr);
  });
  const done = new Promise<Result>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

describe('oomtest run as a process', () => {
  let fake: FakeKube;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startFakeKube({
      timeScale: 0.01,
      namespaces: [{ name: 'locked', podSecurity: 'baseline' }, { name: 'slow' }],
      kubelet: (pod) => (pod.metadata?.namespace === 'slow' ? { neverOom: true } : {}),
    });
    dir = mkdtempSync(join(tmpdir(), 'oomtest-cli-'));
    const kubeconfig = join(dir, 'kubeconfig');
    fake.writeKubeconfig(kubeconfig, { contexts: ['fake', 'other'], currentContext: 'fake' });
    env = { KUBECONFIG: kubeconfig };
  });

  afterAll(async () => {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 and prints the verdict and describe summary after two OOM kills', async () => {
    const { code, stdout, stderr } = await oomtest(['run', 'mem-nginx', '200Mi'], env).done;

    expect(code).toBe(0);
    expect(stdout).toMatch(/^OOMKilled 2 times/);
    expect(stdout).toMatch(/^Name:\s+mem-nginx$/m);
    expect(stdout).toMatch(/^\s+Reason:\s+OOMKilled$/m);
    expect(stdout).toMatch(/^\s+Restart Count:\s+2$/m);
    expect(stdout).toMatch(/^QoS Class:\s+Guaranteed$/m);
    expect(stdout).toMatch(/^\s+memory:\s+200Mi$/m);
    expect(stderr).toMatch(/killed/);
    expect(fake.pods('default').filter((pod) => pod.metadata?.name === 'mem-nginx')).toEqual([]);
  });

  it('keeps the pod with --keep', async () => {
    const { code } = await oomtest(['run', 'kept', '64Mi', '--kills', '1', '--keep'], env).done;

    expect(code).toBe(0);
    expect(fake.pods('default').map((pod) => pod.metadata?.name)).toContain('kept');
  });

  it('exits 2 naming the problem for bad input, before touching the cluster', async () => {
    const before = fake.requests.length;
    const { code, stderr } = await oomtest(['run', 'mem-nginx', '200'], env).done;

    expect(code).toBe(2);
    expect(stderr).toMatch(/200/);
    expect(stderr).toMatch(/unit/i);
    expect(fake.requests.length).toBe(before);
  });

  it('exits 1 with the PodSecurity reason when the namespace refuses privileged pods', async () => {
    const { code, stdout, stderr } = await oomtest(
      ['run', 'mem-nginx', '200Mi', '--namespace', 'locked'],
      env,
    ).done;

    expect(code).toBe(1);
    expect(`${stdout}${stderr}`).toMatch(/PodSecurity/);
    expect(fake.pods('locked')).toEqual([]);
  });

  it('exits 3 when no OOM kill happens within --timeout, and cleans up', async () => {
    const { code, stdout } = await oomtest(
      ['run', 'big', '64Mi', '--namespace', 'slow', '--timeout', '10s'],
      env,
    ).done;

    expect(code).toBe(3);
    expect(stdout).toMatch(/no OOM kill/i);
    expect(fake.pods('slow')).toEqual([]);
  });

  it('stops on SIGINT, deletes the pod and exits 130', async () => {
    const run = oomtest(['run', 'interrupted', '64Mi', '--kills', '10'], env, (text) => {
      if (/OOM kill 1 of/.test(text) && !run.child.killed) run.child.kill('SIGINT');
    });
    const { code } = await run.done;

    expect(code).toBe(130);
    expect(fake.pods('default').map((pod) => pod.metadata?.name)).not.toContain('interrupted');
  });

  it('exits 1 naming the known contexts for an unknown --cluster', async () => {
    const { code, stderr } = await oomtest(['run', 'mem-nginx', '64Mi', '--cluster', 'nope'], env)
      .done;

    expect(code).toBe(1);
    expect(stderr).toMatch(/nope/);
    expect(stderr).toMatch(/fake/);
  });

  it('exits 78 for a configuration problem', async () => {
    const { code, stderr } = await oomtest(['run', 'x', '64Mi'], {
      ...env,
      OOMTEST_MAX_MEMORY: 'lots',
    }).done;

    expect(code).toBe(78);
    expect(stderr).toMatch(/OOMTEST_MAX_MEMORY/);
  });
});
