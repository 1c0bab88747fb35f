/**
 * Kubeconfig precedence and context selection, with real files in a temp directory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  contextNames,
  createKubeClients,
  loadKubeconfig,
  selectContext,
  SERVICE_ACCOUNT_DIR,
} from '../../src/kube/index.js';
import { ClusterError } from '../../src/errors.js';

function kubeconfig(contexts: { name: string; server: string }[], current?: string): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
  for (const { name, server } of contexts) {
    lines.push(`- name: ${name}-cluster`, '  cluster:', `    server: ${server}`);
  }
  lines.push('users:');
  for (const { name } of contexts)
    lines.push(`- name: ${name}-user`, '  user:', `    token: t-${name}`);
  lines.push('contexts:');
  for (const { name } of contexts) {
    lines.push(`- name: ${name}`, `  context: { cluster: ${name}-cluster, user: ${name}-user }`);
  }
  if (current !== undefined) lines.push(`current-context: ${current}`);
  return `${lines.join('\n')}\n`;
}

function thrown(run: () => unknown): ClusterError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ClusterError);
    return error as ClusterError;
  }
  throw new Error('expected a ClusterError');
}

describe('kubeconfig loading', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oomtest-kubeconfig-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('prefers the explicit path over ~/.kube/config', () => {
    const explicit = write(
      'explicit',
      kubeconfig([{ name: 'explicit', server: 'https://a:6443' }], 'explicit'),
    );
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    writeFileSync(
      join(dir, 'home', '.kube', 'config'),
      kubeconfig([{ name: 'home', server: 'https://b:6443' }], 'home'),
    );

    const loaded = loadKubeconfig({ kubeconfigPath: explicit, homeDir: join(dir, 'home') });

    expect(loaded.source).toBe(explicit);
    expect(loaded.config.getCurrentContext()).toBe('explicit');
  });

  it('falls back to ~/.kube/config when no path is given', () => {
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    writeFileSync(
      join(dir, 'home', '.kube', 'config'),
      kubeconfig([{ name: 'home', server: 'https://b:6443' }], 'home'),
    );

    const loaded = loadKubeconfig({
      homeDir: join(dir, 'home'),
      serviceAccountDir: join(dir, 'none'),
    });

    expect(loaded.config.getCurrentContext()).toBe('home');
  });

  it('merges a KUBECONFIG list so the first file to define a name or current context wins', () => {
    const first = write(
      'first',
      kubeconfig([{ name: 'shared', server: 'https://first:6443' }], 'shared'),
    );
    const second = write(
      'second',
      kubeconfig(
        [
          { name: 'shared', server: 'https://second:6443' },
          { name: 'staging', server: 'https://staging:6443' },
        ],
        'staging',
      ),
    );

    const { config } = loadKubeconfig({ kubeconfigPath: [first, second].join(delimiter) });

    expect(contextNames(config)).toEqual(['shared', 'staging']);
    expect(config.getCurrentContext()).toBe('shared');
    expect(selectContext(config, 'shared').getCurrentCluster()?.server).toBe('https://first:6443');
    expect(selectContext(config, 'staging').getCurrentCluster()?.server).toBe(
      'https://staging:6443',
    );
  });

  it('uses the in-cluster service account when there is no kubeconfig', () => {
    const accountDir = join(dir, 'root', SERVICE_ACCOUNT_DIR);
    mkdirSync(accountDir, { recursive: true });
    writeFileSync(join(accountDir, 'token'), 'in-cluster-token');
    writeFileSync(join(accountDir, 'ca.crt'), '');
    const saved = {
      host: process.env.KUBERNETES_SERVICE_HOST,
      port: process.env.KUBERNETES_SERVICE_PORT,
    };
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    try {
      const loaded = loadKubeconfig({
        homeDir: join(dir, 'nohome'),
        serviceAccountDir: accountDir,
      });

      expect(loaded.source).toBe('in-cluster service account');
      expect(loaded.config.getCurrentCluster()?.server).toBe('https://10.96.0.1:443');
    } finally {
      restore('KUBERNETES_SERVICE_HOST', saved.host);
      restore('KUBERNETES_SERVICE_PORT', saved.port);
    }
  });

  it('fails with kube.config naming every place it looked when nothing is found', () => {
    const error = thrown(() =>
      loadKubeconfig({ homeDir: join(dir, 'nohome'), serviceAccountDir: join(dir, 'none') }),
    );

    expect(error.code).toBe('kube.config');
    expect(error.message).toContain('KUBECONFIG is not set');
    expect(error.message).toContain(join(dir, 'nohome', '.kube', 'config'));
  });

  it('names a missing or unparsable file without quoting its contents', () => {
    const missing = thrown(() => loadKubeconfig({ kubeconfigPath: join(dir, 'absent') }));
    const garbled = write('garbled', 'clusters: [ {token: super-secret-token\n');
    const unparsable = thrown(() => loadKubeconfig({ kubeconfigPath: garbled }));

    expect(missing.message).toBe(`kubeconfig file ${join(dir, 'absent')} does not exist`);
    expect(unparsable.code).toBe('kube.config');
    expect(unparsable.message).not.toContain('super-secret-token');
  });

  it('refuses an unknown --cluster context and lists the available ones', () => {
    const path = write(
      'config',
      kubeconfig(
        [
          { name: 'prod', server: 'https://p:6443' },
          { name: 'staging', server: 'https://s:6443' },
        ],
        'staging',
      ),
    );
    const clients = createKubeClients({ kubeconfigPath: path });

    const error = thrown(() => clients.forContext('qa'));

    expect(error.code).toBe('kube.config');
    expect(error.message).toBe('unknown cluster context "qa" (available: prod, staging)');
  });

  it('builds one client per context and reuses it', () => {
    const path = write(
      'config',
      kubeconfig(
        [
          { name: 'prod', server: 'https://p:6443' },
          { name: 'staging', server: 'https://s:6443' },
        ],
        'staging',
      ),
    );
    const clients = createKubeClients({ kubeconfigPath: path });

    const current = clients.forContext();
    const prod = clients.forContext('prod');

    expect(current.cluster).toBe('staging');
    expect(prod.cluster).toBe('prod');
    expect(clients.forContext('prod')).toBe(prod);
    expect(clients.contexts()).toEqual(['prod', 'staging']);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
