/**
 * Runs the real helm (v3.17, from OOMTEST_HELM or .tools/) against helm/oomtest and parses what
 * it renders.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const chartDir = join(repoRoot, 'helm/oomtest');

export const helmPath = process.env.OOMTEST_HELM ?? join(repoRoot, '.tools/helm/helm');

/** The namespace every test renders the release into. */
export const RELEASE_NAMESPACE = 'oomtest-system';
export const RELEASE_NAME = 'gameday';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  if (!existsSync(helmPath)) {
    throw new Error(
      `helm not found at ${helmPath}: run "node scripts/tools.mjs" or set OOMTEST_HELM`,
    );
  }
  const result = spawnSync(helmPath, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    // helm writes caches and repository config under HOME; keep it away from the user's.
    env: {
      ...process.env,
      HELM_CACHE_HOME: '/tmp/oomtest-helm-cache',
      HELM_CONFIG_HOME: '/tmp/oomtest-helm-config',
      HELM_DATA_HOME: '/tmp/oomtest-helm-data',
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** The scenario files under helm/oomtest/ci/, by path relative to the repository. */
export function scenarioFiles(): string[] {
  return readdirSync(join(chartDir, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .sort()
    .map((file) => `helm/oomtest/ci/${file}`);
}

export interface RenderOptions {
  /** Values files, relative to the repository. */
  values?: string[];
  /** `--set` expressions. */
  set?: string[];
}

function renderArgs(options: RenderOptions): string[] {
  const args = ['template', RELEASE_NAME, chartDir, '--namespace', RELEASE_NAMESPACE];
  for (const file of options.values ?? []) args.push('--values', join(repoRoot, file));
  for (const expression of options.set ?? []) args.push('--set', expression);
  return args;
}

/** `helm template`, raw: for tests that expect it to fail. */
export function renderRaw(options: RenderOptions = {}): HelmResult {
  return helm(renderArgs(options));
}

/** `helm template`, parsed into objects; throws with helm's message when rendering fails. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const result = renderRaw(options);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return loadAll(result.stdout).filter(
    (doc): doc is K8sObject => typeof doc === 'object' && doc !== null,
  );
}

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

export function one(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) {
    const names = byKind(objects, kind).map((object) => object.metadata.name);
    throw new Error(`no ${kind} named ${name}; rendered: ${names.join(', ') || 'none'}`);
  }
  return found;
}
