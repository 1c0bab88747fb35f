/**
 * The real client against a tiny HTTP server that answers what a real API server answers
 * when it refuses: every refusal must become a ClusterError with the right code and a
 * message that names the problem, and none may echo the bearer token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createKubeClients, isExpired, type KubeClient } from '../../src/kube/index.js';
import { ClusterError } from '../../src/errors.js';

const TOKEN = 'sekret-bearer-token-do-not-print';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Canned {
  server: Server;
  url: string;
  seen: { method: string; url: string; body: string; authorization?: string }[];
  handler: Handler;
}

async function startCanned(): Promise<Canned> {
  const canned = { seen: [], handler: () => undefined } as unknown as Canned;
  canned.server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      canned.seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        authorization: req.headers.authorization,
      });
      canned.handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => canned.server.listen(0, '127.0.0.1', resolve));
  canned.url = `http://127.0.0.1:${(canned.server.address() as AddressInfo).port}`;
  return canned;
}

function status(res: ServerResponse, code: number, fields: Record<string, unknown>): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, ...fields }));
}

function writeKubeconfig(dir: string, server: string): string {
  const path = join(dir, 'config');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: canned',
      '  cluster:',
      `    server: ${server}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: canned-user',
      '  user:',
      `    token: ${TOKEN}`,
      'contexts:',
      '- name: canned',
      '  context: { cluster: canned, user: canned-user }',
      'current-context: canned',
      '',
    ].join('\n'),
  );
  return path;
}

async function failure(promise: Promise<unknown>): Promise<ClusterError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ClusterError);
    const clusterError = error as ClusterError;
    expect(clusterError.message).not.toContain(TOKEN);
    return clusterError;
  }
  throw new Error('expected the call to fail');
}

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'mem-nginx', namespace: 'drills' },
  spec: { containers: [{ name: 'stress', image: 'busybox:1.36.1' }] },
};

describe('kube client errors', () => {
  let canned: Canned;
  let dir: string;
  let kube: KubeClient;

  beforeAll(async () => {
    canned = await startCanned();
    dir = mkdtempSync(join(tmpdir(), 'oomtest-client-errors-'));
    const kubeconfigPath = writeKubeconfig(dir, canned.url);
    kube = createKubeClients({ kubeconfigPath, requestTimeoutMs: 300 }).forContext();
  });

  afterAll(async () => {
    await new Promise((resolve) => canned.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    canned.seen.length = 0;
  });

  it('names the Pod Security profile and field, and suggests another method, when PodSecurity refuses', async () => {
    canned.handler = (_req, res) =>
      status(res, 403, {
        reason: 'Forbidden',
        message:
          'pods "mem-nginx" is forbidden: violates PodSecurity "baseline:latest": privileged ' +
          '(container "stress" must not set securityContext.privileged=true)',
      });

    const error = await failure(kube.createPod({ namespace: 'drills', pod }));

    expect(error.code).toBe('kube.pod-security');
    expect(error.transient).toBe(false);
    expect(error.message).toContain('"baseline:latest"');
    expect(error.message).toContain('securityContext.privileged=true');
    expect(error.message).toContain('--method emptydir');
    expect(error.message).toContain('pod-security.kubernetes.io/enforce=privileged');
  });

  it('reports a quota refusal as kube.quota with the quota text', async () => {
    canned.handler = (_req, res) =>
      status(res, 403, {
        reason: 'Forbidden',
        message:
          'pods "mem-nginx" is forbidden: exceeded quota: mem, requested: limits.memory=200Mi, ' +
          'used: limits.memory=1Gi, limited: limits.memory=1Gi',
      });

    const error = await failure(kube.createPod({ namespace: 'drills', pod }));

    expect(error.code).toBe('kube.quota');
    expect(error.message).toContain('exceeded quota: mem');
    expect(error.message).toContain('namespace "drills"');
  });

  it('says which account lacks which verb on which resource when RBAC refuses', async () => {
    canned.handler = (_req, res) =>
      status(res, 403, {
        reason: 'Forbidden',
        message:
          'pods is forbidden: User "system:serviceaccount:oomtest:oomtest" cannot create ' +
          'resource "pods" in API group "" in the namespace "drills"',
      });

    const error = await failure(kube.createPod({ namespace: 'drills', pod }));

    expect(error.code).toBe('kube.forbidden');
    expect(error.message).toContain('"system:serviceaccount:oomtest:oomtest" may not create pods');
    expect(error.message).toContain('namespace "drills"');
  });

  it('reports rejected credentials (401) as kube.forbidden without the token', async () => {
    canned.handler = (_req, res) =>
      status(res, 401, { reason: 'Unauthorized', message: 'Unauthorized' });

    const error = await failure(kube.listPods({ namespace: 'drills' }));

    expect(error.code).toBe('kube.forbidden');
    expect(error.message).toContain('401');
    expect(canned.seen[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('reports an existing pod (409 AlreadyExists) as kube.conflict', async () => {
    canned.handler = (_req, res) =>
      status(res, 409, {
        reason: 'AlreadyExists',
        message: 'pods "mem-nginx" already exists',
        details: { name: 'mem-nginx', kind: 'pods' },
      });

    const error = await failure(kube.createPod({ namespace: 'drills', pod }));

    expect(error.code).toBe('kube.conflict');
    expect(error.message).toBe('a pod named "mem-nginx" already exists in namespace "drills"');
  });

  it('lists the causes of a 422 as kube.invalid', async () => {
    canned.handler = (_req, res) =>
      status(res, 422, {
        reason: 'Invalid',
        message:
          'Pod "mem-nginx" is invalid: spec.containers[0].resources.limits.memory: Invalid value',
        details: {
          causes: [
            { field: 'spec.containers[0].resources.limits.memory', message: 'Invalid value: "0"' },
          ],
        },
      });

    const error = await failure(kube.createPod({ namespace: 'drills', pod }));

    expect(error.code).toBe('kube.invalid');
    expect(error.message).toContain(
      'spec.containers[0].resources.limits.memory: Invalid value: "0"',
    );
  });

  it('returns undefined for a missing pod but fails for a missing namespace', async () => {
    canned.handler = (req, res) =>
      req.url?.includes('/namespaces/ghost/')
        ? status(res, 404, {
            reason: 'NotFound',
            message: 'namespaces "ghost" not found',
            details: { name: 'ghost', kind: 'namespaces' },
          })
        : status(res, 404, {
            reason: 'NotFound',
            message: 'pods "mem-nginx" not found',
            details: { name: 'mem-nginx', kind: 'pods' },
          });

    await expect(kube.readPod({ namespace: 'drills', name: 'mem-nginx' })).resolves.toBeUndefined();
    const error = await failure(kube.createPod({ namespace: 'ghost', pod }));

    expect(error.code).toBe('kube.not-found');
    expect(error.message).toBe('namespace "ghost" does not exist');
  });

  it('marks 503 and 429 answers as transient kube.unreachable', async () => {
    canned.handler = (_req, res) =>
      status(res, 503, { reason: 'ServiceUnavailable', message: 'etcd leader changed' });
    const unavailable = await failure(kube.listPods({ namespace: 'drills' }));

    canned.handler = (_req, res) =>
      status(res, 429, { reason: 'TooManyRequests', message: 'slow down' });
    const throttled = await failure(kube.listPods({ namespace: 'drills' }));

    expect([unavailable.code, unavailable.transient]).toEqual(['kube.unreachable', true]);
    expect(unavailable.message).toContain('etcd leader changed');
    expect([throttled.code, throttled.transient]).toEqual(['kube.unreachable', true]);
  });

  it('times out a request the server never answers, as transient kube.unreachable', async () => {
    canned.handler = () => undefined;

    const error = await failure(kube.readPod({ namespace: 'drills', name: 'mem-nginx' }));

    expect([error.code, error.transient]).toEqual(['kube.unreachable', true]);
    expect(error.message).toContain('timed out');
  });

  it('sends the uid precondition and grace period when deleting, and says "gone" on 404', async () => {
    canned.handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(pod));
    };
    await expect(
      kube.deletePod({
        namespace: 'drills',
        name: 'mem-nginx',
        uid: 'uid-1',
        gracePeriodSeconds: 2,
      }),
    ).resolves.toBe('deleted');

    const sent = JSON.parse(canned.seen[0]?.body ?? '{}') as Record<string, unknown>;
    expect(canned.seen[0]?.method).toBe('DELETE');
    expect(sent.preconditions).toEqual({ uid: 'uid-1' });
    expect(sent.gracePeriodSeconds).toBe(2);

    canned.handler = (_req, res) =>
      status(res, 404, { reason: 'NotFound', message: 'pods "mem-nginx" not found' });
    await expect(
      kube.deletePod({ namespace: 'drills', name: 'mem-nginx', uid: 'uid-1' }),
    ).resolves.toBe('gone');
  });

  it('selects events the way kubectl describe does', async () => {
    canned.handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [] }));
    };

    await kube.listPodEvents({ namespace: 'drills', name: 'mem-nginx', uid: 'uid-1' });

    const url = new URL(canned.seen[0]?.url ?? '', canned.url);
    expect(url.pathname).toBe('/api/v1/namespaces/drills/events');
    expect(url.searchParams.get('fieldSelector')).toBe(
      'involvedObject.name=mem-nginx,involvedObject.namespace=drills,involvedObject.uid=uid-1',
    );
  });

  it('reads a 410 on a watch as expired and a 403 on a watch as kube.forbidden', async () => {
    const signal = new AbortController().signal;
    const watch = {
      namespace: 'drills',
      resourceVersion: '5',
      timeoutSeconds: 5,
      signal,
      onEvent: () => undefined,
    };

    canned.handler = (_req, res) =>
      status(res, 410, { reason: 'Expired', message: 'too old resource version: 5 (90)' });
    const expired = await failure(kube.watchPods(watch));

    canned.handler = (_req, res) =>
      status(res, 403, {
        reason: 'Forbidden',
        message:
          'pods is forbidden: User "alice" cannot watch resource "pods" in API group "" in the namespace "drills"',
      });
    const forbidden = await failure(kube.watchPods(watch));

    expect(isExpired(expired)).toBe(true);
    expect(forbidden.code).toBe('kube.forbidden');
    expect(forbidden.message).toContain('"alice" may not watch pods');
    const url = new URL(canned.seen[0]?.url ?? '', canned.url);
    expect(url.searchParams.get('allowWatchBookmarks')).toBe('true');
    expect(url.searchParams.get('resourceVersion')).toBe('5');
    expect(canned.seen[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });
});

describe('kube client when the server is unreachable', () => {
  it('reports a refused connection as transient kube.unreachable naming the server', async () => {
    const canned = await startCanned();
    const url = canned.url;
    await new Promise((resolve) => canned.server.close(resolve));
    const dir = mkdtempSync(join(tmpdir(), 'oomtest-client-down-'));
    try {
      const kube = createKubeClients({ kubeconfigPath: writeKubeconfig(dir, url) }).forContext();

      const error = await failure(kube.listPods({ namespace: 'drills' }));

      expect([error.code, error.transient]).toEqual(['kube.unreachable', true]);
      expect(error.message).toContain(url);
      expect(error.message).toContain('connection refused');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
