import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helm.js';

// No Docker engine here: the image cannot be built in tests, so its invariants are read from
// the Dockerfile itself.

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const [from = '', as, name] = rest;
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(text);
const runtime = stages.at(-1)!;
const runtimeArgs = (keyword: string) =>
  runtime.instructions.filter((item) => item.keyword === keyword).map((item) => item.args);

describe('Dockerfile', () => {
  it('builds in one stage and ships another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]!.instructions.some((item) => /npm ci\b/.test(item.args))).toBe(true);
    expect(stages[0]!.instructions.some((item) => /npm run build/.test(item.args))).toBe(true);
  });

  it('ships a Node 20 runtime with production dependencies only', () => {
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1] ?? runtime.from;

    expect(nodeImage).toMatch(/^node:20[-.\w]*(slim|alpine)/);
    expect(runtimeArgs('RUN').join('\n')).toMatch(/npm ci [^\n]*--omit=dev/);
    expect(runtimeArgs('COPY')).toContain(`--from=${stages[0]!.name} /src/dist ./dist`);
  });

  it('runs as a numeric non-root user', () => {
    const user = runtimeArgs('USER').at(-1);

    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user!.split(':')[0])).toBeGreaterThan(0);
  });

  it('starts the oomtest binary with the subcommand as argument, "all" by default', () => {
    expect(runtimeArgs('ENTRYPOINT')).toEqual(['["node", "/app/dist/main.js"]']);
    expect(runtimeArgs('CMD')).toEqual(['["all"]']);
    expect(runtimeArgs('EXPOSE')).toEqual(['3000']);
  });

  it('points at the entry file that the build produces', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };

    expect(pkg.bin.oomtest).toBe('dist/main.js');
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('keeps secrets, local builds and dependencies out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['.env', '.git', 'node_modules', 'dist']));
  });

  it('keeps what the build copies', () => {
    const copied = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
    ];

    expect(ignored.filter((pattern) => copied.includes(pattern))).toEqual([]);
  });
});
