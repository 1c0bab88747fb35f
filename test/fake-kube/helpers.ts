/**
 * Helpers for tests that drive the fake API server: real kubectl, a raw watch client, waiting
 * on the fake's state, and pod manifests shaped like oomtest's drill pods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeKube, KubeconfigOptions, PodJson } from './types.js';

const KUBECTL = process.env.OOMTEST_KUBECTL ?? join(process.cwd(), '.tools/kubectl/kubectl');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch directory with a kubeconfig for the fake, used as HOME so ~/.kube is never touched. */
export class KubectlSandbox {
  readonly dir: string;
  readonly kubeconfig: string;

  constructor(kube: FakeKube, options?: KubeconfigOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'oomtest-fake-kube-'));
    this.kubeconfig = join(this.dir, 'kubeconfig');
    kube.writeKubeconfig(this.kubeconfig, options);
  }

  /** Runs kubectl to completion. */
  run(args: string[], stdin?: string): Promise<CommandResult> {
    const child = this.spawn(args);
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();

    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Starts a long-running kubectl (e.g. `get -w`); output accumulates in the returned object. */
  start(args: string[]): { child: ChildProcess; output: CommandResult; stop(): Promise<void> } {
    const child = this.spawn(args);
    const output: CommandResult = { code: null, stdout: '', stderr: '' };
    child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    return {
      child,
      output,
      stop: async () => {
        child.kill('SIGTERM');
        await closed;
      },
    };
  }

  writeFile(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(args: string[]): ChildProcess {
    return spawn(
      KUBECTL,
      ['--kubeconfig', this.kubeconfig, '--cache-dir', join(this.dir, 'cache'), ...args],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
  }
}

/** Polls `check` until it returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // Short enough to catch a 30 ms (scaled) state, long enough not to spin.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function findPod(kube: FakeKube, name: string, namespace = 'default'): PodJson | undefined {
  return kube.pods(namespace).find((pod) => pod.metadata.name === name);
}

export function restartCount(pod: PodJson | undefined): number {
  return pod?.status.containerStatuses?.[0]?.restartCount ?? -1;
}

export interface DrillPodOptions {
  name: string;
  namespace?: string;
  limit?: string;
  method?: 'tmpfs' | 'emptydir' | 'anon';
  privileged?: boolean;
  restricted?: boolean;
  image?: string;
  activeDeadlineSeconds?: number;
  labels?: Record<string, string>;
}

/** A pod like the ones oomtest creates: requests = limits, a stress script as the command. */
export function drillPod(options: DrillPodOptions): PodJson {
  const limit = options.limit ?? '200Mi';
  const method = options.method ?? 'tmpfs';
  const fill = 2 * 200 * 2 ** 20;
  const script =
    method === 'tmpfs'
      ? `echo "oomtest: start method=tmpfs fill_bytes=${fill}"; mkdir -p /fill; mount -t tmpfs -o size=${fill} tmpfs /fill || exit 32; dd if=/dev/zero of=/fill/block bs=1M`
      : `echo "oomtest: start method=${method} fill_bytes=${fill}"; dd if=/dev/zero of=/dev/null bs=1M`;
  const securityContext = options.restricted
    ? {
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        runAsUser: 65_534,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      }
    : (options.privileged ?? method === 'tmpfs')
      ? { privileged: true, runAsUser: 0 }
      : {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'oomtest', ...(options.labels ?? {}) },
    },
    spec: {
      restartPolicy: 'Always',
      ...(options.activeDeadlineSeconds
        ? { activeDeadlineSeconds: options.activeDeadlineSeconds }
        : {}),
      containers: [
        {
          name: 'stress',
          image: options.image ?? 'busybox:1.36',
          command: ['sh', '-c', script],
          resources: {
            requests: { memory: limit, cpu: '100m' },
            limits: { memory: limit, cpu: '100m' },
          },
          securityContext,
        },
      ],
    },
    status: { phase: '' },
  };
}

// ---- raw HTTP ------------------------------------------------------------------------------------

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: unknown;
}

/** One request with a JSON body (or none); the response parsed as JSON when it is. */
export async function http(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: { 'Content-Type': 'application/json', ...(options.headers ?? {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const body = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body, json };
}

export interface WatchEventJson {
  type: string;
  object: {
    kind?: string;
    metadata?: { name?: string; resourceVersion?: string };
    code?: number;
    reason?: string;
    message?: string;
    [key: string]: unknown;
  };
}

export interface RawWatch {
  events: WatchEventJson[];
  /** Resolves when the stream ends: 'end' when the server finished it, 'error' when it was cut. */
  ended: Promise<'end' | 'error'>;
  close(): void;
}

/** A bare watch client: newline-delimited JSON events over a chunked response. */
export function rawWatch(url: string, headers: Record<string, string> = {}): RawWatch {
  const events: WatchEventJson[] = [];
  let close = (): void => undefined;
  const ended = new Promise<'end' | 'error'>((resolve) => {
    const req = request(url, { headers }, (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEventJson);
          newline = buffer.indexOf('\n');
        }
      });
      res.on('end', () => resolve('end'));
      res.on('error', () => resolve('error'));
      res.on('aborted', () => resolve('error'));
    });
    req.on('error', () => resolve('error'));
    req.end();
    close = () => req.destroy();
  });
  return { events, ended, close: () => close() };
}
