/**
 * A fake Kubernetes API server for tests: the real REST + watch protocol on /api/v1 (pods,
 * pods/log, events, namespaces, resourcequotas), Table output for kubectl, Pod Security and
 * quota admission, and a simulated scheduler + kubelet that takes pods through OOM kills and
 * crash-loop back-off with the status shapes and events of a real node.
 *
 *   const kube = await startFakeKube({ namespaces: [{ name: 'drills', podSecurity: 'baseline' }] });
 *   kube.writeKubeconfig(path);            // then kubectl --kubeconfig path get pods -w
 *   ...
 *   await kube.stop();                     // closes watches, cancels every kubelet timer
 */
import { writeFileSync } from 'node:fs';
import { FakeApiServer } from './server.js';
import type { EventJson, FakeKube, FakeKubeOptions, KubeconfigOptions, PodJson } from './types.js';

export type * from './types.js';
export { DEFAULT_BEHAVIOUR } from './kubelet.js';

/** Starts the fake on 127.0.0.1 with a free port. timeScale defaults to 0.01. */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const server = new FakeApiServer(options);
  const url = await server.listen();

  return {
    url,
    requests: server.requests,
    writeKubeconfig: (path, opts) =>
      writeFileSync(path, kubeconfigText(url, opts), { mode: 0o600 }),
    faults: {
      dropWatches: () => server.dropWatches(),
      expireWatchHistory: () => server.store.compact(),
      failNext: (count, status) => server.failNext(count, status),
    },
    pods: (namespace) => server.store.list<PodJson>('pods', namespace),
    events: (namespace) => server.store.list<EventJson>('events', namespace),
    putPod: (pod) => server.putPod(pod),
    stop: () => server.stop(),
  };
}

/** A kubeconfig whose contexts all point at this server, with a dummy bearer token. */
export function kubeconfigText(url: string, opts: KubeconfigOptions = {}): string {
  const contexts = opts.contexts && opts.contexts.length > 0 ? opts.contexts : ['fake-kube'];
  const current = opts.currentContext ?? contexts[0] ?? 'fake-kube';
  const namespace = opts.namespace ?? 'default';
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'preferences: {}',
    'clusters:',
    // client-node refuses a plain-http server unless TLS verification is marked skipped.
    ...contexts.flatMap((name) => [
      `- name: ${name}`,
      '  cluster:',
      `    server: ${url}`,
      '    insecure-skip-tls-verify: true',
    ]),
    'users:',
    ...contexts.flatMap((name) => [`- name: ${name}`, '  user:', '    token: fake-kube-token']),
    'contexts:',
    ...contexts.flatMap((name) => [
      `- name: ${name}`,
      '  context:',
      `    cluster: ${name}`,
      `    user: ${name}`,
      `    namespace: ${namespace}`,
    ]),
    `current-context: ${current}`,
  ];
  return `${lines.join('\n')}\n`;
}
