/**
 * describePod against the real kubectl binary, fixture by fixture: a minimal API server serves
 * exactly what kubectl describe asks for (discovery, the pod, its events), real kubectl prints it,
 * and our rendering of the same JSON must equal kubectl's text byte for byte at some instant of
 * the window kubectl ran in.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePod } from '../../src/kube/describe.js';
import {
  compareWithKubectl,
  fixtureNames,
  kubectlDescribe,
  loadFixture,
  type Fixture,
} from './fixtures/describe-support.js';

const fixtures = new Map(fixtureNames().map((name) => [name, loadFixture(name)]));

function send(res: ServerResponse, body: object, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function findPod(namespace: string, name: string): Fixture | undefined {
  return [...fixtures.values()].find(
    (f) => f.pod.metadata.namespace === namespace && f.pod.metadata.name === name,
  );
}

/** Discovery for the core group only: all kubectl needs to resolve `pod` and list events. */
const DISCOVERY: Record<string, object> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [] },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] },
      { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: ['list'] },
    ],
  },
};

function handle(path: string, query: URLSearchParams, res: ServerResponse): void {
  const discovery = DISCOVERY[path];
  if (discovery) return send(res, discovery);

  const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
  const fixture = pod ? findPod(pod[1]!, pod[2]!) : undefined;
  if (fixture) return send(res, { kind: 'Pod', apiVersion: 'v1', ...fixture.pod });

  const events = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(path);
  const involved = /involvedObject\.name=([^,]+)/.exec(query.get('fieldSelector') ?? '');
  if (events && involved) {
    const items = findPod(events[1]!, involved[1]!)?.events ?? [];
    return send(res, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items });
  }
  send(
    res,
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 },
    404,
  );
}

let server: Server;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    handle(url.pathname, url.searchParams, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  dir = mkdtempSync(join(tmpdir(), 'oomtest-describe-kubectl-'));
  kubeconfig = join(dir, 'kubeconfig');
  const config = [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: fixtures, cluster: {server: "http://127.0.0.1:${port}"}}]`,
    'users: [{name: fixtures, user: {token: fixture-token}}]',
    'contexts: [{name: fixtures, context: {cluster: fixtures, user: fixtures}}]',
    'current-context: fixtures',
  ];
  writeFileSync(kubeconfig, `${config.join('\n')}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('describePod compared with real kubectl describe pod', () => {
  it.each([...fixtures.keys()])('prints fixture %s exactly as kubectl does', async (name) => {
    const { pod, events } = fixtures.get(name)!;

    const run = await kubectlDescribe({ kubeconfig, ...pod.metadata });
    const result = compareWithKubectl(run, (now) => describePod({ pod, events, now }));

    expect(result.diff).toEqual([]);
    expect(result.equal).toBe(true);
  });
});
