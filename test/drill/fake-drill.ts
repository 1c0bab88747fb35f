/**
 * Runs real drills (real client, real shared watch, real runDrill) against the fake API
 * server, with per-pod kubelet behaviour and a record of the progress each drill reported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDrill, type RunDrillOptions } from '../../src/drill/run.js';
import type { DrillOutcome, DrillProgress } from '../../src/drill/types.js';
import {
  createKubeClients,
  PodWatchHub,
  type KubeClient,
  type WatchHubOptions,
} from '../../src/kube/index.js';
import type { DrillRequest } from '../../src/request/types.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../src/stress/index.js';
import {
  startFakeKube,
  type FakeKube,
  type FakeKubeOptions,
  type KubeletBehaviour,
} from '../fake-kube/index.js';
import { drillRequest } from '../support/drill-job.js';

export interface DrillBench {
  fake: FakeKube;
  kube: KubeClient;
  /** Kubelet behaviour per pod name (default: the fake's standard kubelet). */
  behaviours: Map<string, Partial<KubeletBehaviour>>;
  hub(options?: WatchHubOptions): PodWatchHub;
  drill(
    request: Partial<DrillRequest>,
    options?: Partial<RunDrillOptions> & { hub?: PodWatchHub },
  ): Promise<Drilled>;
  close(): Promise<void>;
}

export interface Drilled {
  outcome: DrillOutcome;
  progress: DrillProgress[];
}

let counter = 0;

/** A unique DNS-1123 name, so suites and tests never share a pod. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid % 10_000}-${counter}`;
}

export async function startBench(options: FakeKubeOptions = {}): Promise<DrillBench> {
  const behaviours = new Map<string, Partial<KubeletBehaviour>>();
  const fake = await startFakeKube({
    timeScale: 0.01,
    ...options,
    kubelet: (pod) => behaviours.get(pod.metadata?.name ?? '') ?? {},
  });
  const dir = mkdtempSync(join(tmpdir(), 'oomtest-drill-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  fake.writeKubeconfig(kubeconfigPath);
  const kube = createKubeClients({ kubeconfigPath }).forContext();
  const hubs: PodWatchHub[] = [];

  const hub = (hubOptions: WatchHubOptions = {}): PodWatchHub => {
    const created = new PodWatchHub({
      labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
      ...hubOptions,
    });
    hubs.push(created);
    return created;
  };
  const shared = hub();

  return {
    fake,
    kube,
    behaviours,
    hub,
    async drill(request, drillOptions = {}) {
      const progress: DrillProgress[] = [];
      const { hub: chosen, onProgress, ...rest } = drillOptions;
      const outcome = await runDrill(
        drillRequest({ timeoutSeconds: 20, ...request }),
        {
          drillId: uniqueName('drill'),
          ...rest,
          onProgress: (update) => {
            progress.push(update);
            onProgress?.(update);
          },
        },
        { kube, watches: chosen ?? shared, tuning: { deleteWaitMs: 5_000 } },
      );
      return { outcome, progress };
    },
    async close() {
      for (const created of hubs) created.close();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pods of that name left in the namespace. */
export function podsNamed(bench: DrillBench, name: string, namespace = 'default') {
  return bench.fake.pods(namespace).filter((pod) => pod.metadata.name === name);
}
