// `npm test`: everything the suites need, then jest.
//  1. kubectl and helm at pinned versions (scripts/tools.mjs);
//  2. a Redis (scripts/redis.mjs): REDIS_URL, or 127.0.0.1:6379, or a private redis-server;
//  3. the compiled CLI in dist/ (process-level tests run it) and a type check of the tests;
//  4. jest, with ES modules enabled. Extra arguments go to jest: `npm test -- test/request`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './tools.mjs';
import { ensureRedis } from './redis.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const tools = ensureTools();
const redis = await ensureRedis();
console.log(
  `tests use Redis at ${redis.url}, kubectl ${tools.kubectlPath}, helm ${tools.helmPath}`,
);

const tsc = join(root, 'node_modules/typescript/bin/tsc');
let status = run(process.execPath, [tsc, '-p', 'tsconfig.build.json']);
if (status === 0) status = run(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json']);
if (status === 0) {
  const jest = join(root, 'node_modules/jest/bin/jest.js');
  status = run(process.execPath, ['--experimental-vm-modules', jest, ...process.argv.slice(2)], {
    ...process.env,
    REDIS_URL: redis.url,
    OOMTEST_KUBECTL: tools.kubectlPath,
    OOMTEST_HELM: tools.helmPath,
    NODE_NO_WARNINGS: '1',
  });
}
redis.stop();
process.exit(status);
