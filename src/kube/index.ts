/**
 * Cluster access: kubeconfig contexts, the narrow client a drill uses, the shared pod
 * watch, error mapping and the describe-style renderer.
 */
export {
  createKubeClient,
  createKubeClients,
  toWire,
  type EventJson,
  type KubeClient,
  type KubeClientOptions,
  type KubeClientSet,
  type PodJson,
  type PodList,
  type WatchEvent,
  type WatchPodsOptions,
  type Wire,
} from './client.js';
export {
  contextNames,
  loadKubeconfig,
  selectContext,
  SERVICE_ACCOUNT_DIR,
  type KubeconfigOptions,
  type LoadedKubeconfig,
} from './kubeconfig.js';
export {
  fromStatus,
  isExpired,
  parseStatus,
  toClusterError,
  type CallContext,
  type KubeStatus,
} from './errors.js';
export {
  PodWatchHub,
  sleep,
  systemClock,
  type Clock,
  type PodSubscription,
  type PodUpdate,
  type SubscribeOptions,
  type WatchHubOptions,
  type WatchStats,
} from './watch.js';
export { describePod, type DescribePodOptions } from './describe.js';
