/**
 * Finds and loads the kubeconfig, and narrows it to one context.
 *
 * Precedence, as kubectl documents it:
 *   1. an explicit path (`kubeconfigPath` option; the config module passes KUBECONFIG here),
 *      which may list several files separated by ':' (';' on Windows), merged so the
 *      first file to define a cluster, user, context or current-context wins;
 *   2. ~/.kube/config;
 *   3. the in-cluster service account (token, CA and the API server's address that the
 *      kubelet puts in every pod).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { ClusterError } from '../errors.js';

/** Where the kubelet mounts a pod's service account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeconfigOptions {
  /** KUBECONFIG, or an explicit path: one file or a list joined by the path delimiter. */
  kubeconfigPath?: string;
  /** Home directory for ~/.kube/config; default os.homedir(). */
  homeDir?: string;
  /** Service account directory checked last; default SERVICE_ACCOUNT_DIR. */
  serviceAccountDir?: string;
}

/** A loaded kubeconfig and where it came from (for messages; never its contents). */
export interface LoadedKubeconfig {
  config: KubeConfig;
  source: string;
}

/** Loads the kubeconfig by the precedence above; a kube.config ClusterError if none works. */
export function loadKubeconfig(options: KubeconfigOptions = {}): LoadedKubeconfig {
  const explicit = options.kubeconfigPath?.split(delimiter).filter((path) => path !== '') ?? [];
  if (explicit.length > 0) return { config: loadFiles(explicit), source: explicit.join(delimiter) };

  const homeConfig = join(options.homeDir ?? homedir(), '.kube', 'config');
  if (existsSync(homeConfig)) return { config: loadFiles([homeConfig]), source: homeConfig };

  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (existsSync(join(serviceAccountDir, 'token'))) {
    return { config: loadInCluster(serviceAccountDir), source: 'in-cluster service account' };
  }

  throw new ClusterError(
    'kube.config',
    `no Kubernetes credentials found: KUBECONFIG is not set, ${homeConfig} does not exist, ` +
      'and this is not running in a pod with a service account',
  );
}

/** Names of every context in the kubeconfig, in file order. */
export function contextNames(config: KubeConfig): string[] {
  return config.getContexts().map((context) => context.name);
}

/**
 * A KubeConfig restricted to one context: the named one, or the current context when
 * `name` is undefined. Unknown names fail with a kube.config error listing the known ones.
 */
export function selectContext(config: KubeConfig, name?: string): KubeConfig {
  const wanted = name ?? config.getCurrentContext();
  const available = contextNames(config);
  if (wanted === undefined || wanted === '') {
    throw new ClusterError(
      'kube.config',
      'the kubeconfig sets no current context; ' +
        `name one with --cluster (available: ${listOf(available)})`,
    );
  }

  const context = config.getContextObject(wanted);
  if (context === null) {
    throw new ClusterError(
      'kube.config',
      `unknown cluster context "${wanted}" (available: ${listOf(available)})`,
    );
  }
  return narrow(config, context);
}

function narrow(config: KubeConfig, context: Context): KubeConfig {
  const cluster = config.getCluster(context.cluster);
  const user = config.getUser(context.user);
  if (cluster === null) {
    throw new ClusterError(
      'kube.config',
      `context "${context.name}" refers to cluster "${context.cluster}", ` +
        'which the kubeconfig does not define',
    );
  }

  const narrowed = new KubeConfig();
  narrowed.loadFromOptions({
    clusters: [cluster],
    users: user === null ? [] : [user],
    contexts: [context],
    currentContext: context.name,
  });
  return narrowed;
}

/** Loads and merges kubeconfig files; the first file to define a name wins, as in kubectl. */
function loadFiles(paths: string[]): KubeConfig {
  const merged = { clusters: [] as Cluster[], users: [] as User[], contexts: [] as Context[] };
  let currentContext: string | undefined;

  for (const path of paths) {
    const single = loadFile(path);
    addNew(merged.clusters, single.getClusters());
    addNew(merged.users, single.getUsers());
    addNew(merged.contexts, single.getContexts());
    if (!currentContext) currentContext = single.getCurrentContext() || undefined;
  }

  const config = new KubeConfig();
  config.loadFromOptions({ ...merged, currentContext: currentContext ?? '' });
  return config;
}

function loadFile(path: string): KubeConfig {
  if (!existsSync(path)) {
    throw new ClusterError('kube.config', `kubeconfig file ${path} does not exist`);
  }

  const config = new KubeConfig();
  try {
    config.loadFromFile(path);
  } catch (error) {
    // The parser's message may quote the file's lines, and those may hold a token.
    throw new ClusterError('kube.config', `kubeconfig file ${path} cannot be read or parsed`, {
      cause: error,
    });
  }
  return config;
}

function loadInCluster(serviceAccountDir: string): KubeConfig {
  const config = new KubeConfig();
  // loadFromCluster reads KUBERNETES_SERVICE_HOST/PORT, which the kubelet sets in every pod,
  // and the token file through client-node's FileAuth, which re-reads it every minute so
  // that rotated (bound) service account tokens keep working.
  const prefix =
    serviceAccountDir === SERVICE_ACCOUNT_DIR ? '' : serviceAccountPrefix(serviceAccountDir);
  config.loadFromCluster(prefix);
  if (config.getCurrentCluster()?.server.includes('undefined')) {
    throw new ClusterError(
      'kube.config',
      'a service account is mounted but KUBERNETES_SERVICE_HOST/PORT are not set, ' +
        'so the API server is unknown',
    );
  }
  return config;
}

/** loadFromCluster takes a prefix put in front of the standard path (tests use a temp dir). */
function serviceAccountPrefix(serviceAccountDir: string): string {
  if (!serviceAccountDir.endsWith(SERVICE_ACCOUNT_DIR)) {
    throw new ClusterError(
      'kube.config',
      `service account directory ${serviceAccountDir} must end with ${SERVICE_ACCOUNT_DIR}`,
    );
  }
  return serviceAccountDir.slice(0, -SERVICE_ACCOUNT_DIR.length);
}

function addNew<T extends { name: string }>(into: T[], items: T[]): void {
  for (const item of items) {
    if (!into.some((existing) => existing.name === item.name)) into.push(item);
  }
}

function listOf(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}
