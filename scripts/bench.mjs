// `npm run bench`: runs each benchmark in bench/ (never part of `npm test`) with tsx, one
// after another so they do not compete for the two cores. Each prints a Markdown table and
// writes it to bench/results/<name>.md. Pass names to run a subset: `npm run bench -- scale`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './tools.mjs';
import { ensureRedis } from './redis.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'bench'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.replace(/\.ts$/, ''));
const selected = wanted.length === 0 ? all : all.filter((name) => wanted.includes(name));

const tools = ensureTools();
const redis = await ensureRedis();
const tsc = join(root, 'node_modules/typescript/bin/tsc');
spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

let failed = 0;
for (const name of selected) {
  console.log(`\n## ${name}\n`);
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'bench', `${name}.ts`)],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        OOMTEST_KUBECTL: tools.kubectlPath,
        OOMTEST_HELM: tools.helmPath,
      },
    },
  );
  if (result.status !== 0) {
    failed += 1;
    console.error(`benchmark ${name} failed (exit ${result.status})`);
  }
}
redis.stop();
process.exit(failed === 0 ? 0 : 1);
