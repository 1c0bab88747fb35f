import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { repoRoot } from './helm.js';
import { loadConfig } from '../../src/config.js';

/** Debian's docker-compose (1.29); .ci/run installs it on a fresh machine. */
const dockerCompose = process.env.OOMTEST_DOCKER_COMPOSE ?? 'docker-compose';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  user?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

let dir: string;

/** A project directory holding docker-compose.yml and .env made from .env.example. */
function project(envOverrides: Record<string, string> = {}): string {
  const env = readFileSync(join(repoRoot, '.env.example'), 'utf8')
    .replace(/^SLACK_BOT_TOKEN=.*$/m, 'SLACK_BOT_TOKEN=xoxb-compose-test')
    .replace(/^SLACK_SIGNING_SECRET=.*$/m, 'SLACK_SIGNING_SECRET=compose-test');
  const extra = Object.entries(envOverrides).map(([key, value]) => `${key}=${value}`);
  writeFileSync(join(dir, '.env'), [env, ...extra].join('\n'));
  copyFileSync(join(repoRoot, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  return dir;
}

function compose(directory: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(
    dockerCompose,
    ['--project-directory', directory, '-f', join(directory, 'docker-compose.yml'), 'config'],
    {
      encoding: 'utf8',
      cwd: directory,
    },
  );
  if (result.error) {
    throw new Error(
      `${dockerCompose} could not run (apt-get install docker-compose): ${result.error.message}`,
    );
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

function resolved(directory: string): ComposeFile {
  const result = compose(directory);
  if (result.status !== 0) throw new Error(`docker-compose config failed:\n${result.stderr}`);
  return load(result.stdout) as ComposeFile;
}

/** Every variable src/config.ts reads, by the name it passes to its reader. */
function variablesReadByConfig(): string[] {
  const source = readFileSync(join(repoRoot, 'src/config.ts'), 'utf8');
  return [...new Set([...source.matchAll(/\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1]!))];
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'oomtest-compose-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose config', () => {
    const result = compose(project());

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('is refused by docker-compose config when broken, so the check above means something', () => {
    const directory = project();
    const broken = readFileSync(join(directory, 'docker-compose.yml'), 'utf8').replace(
      'condition: service_healthy',
      'condition: when_it_feels_like_it',
    );
    writeFileSync(join(directory, 'docker-compose.yml'), broken);

    expect(compose(directory).status).not.toBe(0);
  });

  it('keeps Redis data in a volume with append-only persistence and no eviction', () => {
    const { services, volumes } = resolved(project());

    expect(services.redis!.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(services.redis!.volumes).toEqual(['redis-data:/data:rw']);
    expect(Object.keys(volumes ?? {})).toContain('redis-data');
    expect(services.redis!.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs bot and worker from the image built here, after Redis is healthy', () => {
    const { services } = resolved(project());

    for (const [name, command] of [
      ['bot', 'bot'],
      ['worker', 'worker'],
    ] as const) {
      const service = services[name]!;

      expect(service.image).toBe('oomtest:local');
      expect(service.build).toBeDefined();
      expect(service.command).toEqual([command]);
      expect(service.depends_on?.redis).toEqual({ condition: 'service_healthy' });
      expect(service.environment?.REDIS_URL).toBe('redis://redis:6379');
      expect(service.environment?.SLACK_BOT_TOKEN).toBe('xoxb-compose-test');
      expect(service.healthcheck?.test.join(' ')).toContain('/readyz');
      expect(service.read_only).toBe(true);
    }
  });

  it('mounts the kubeconfig read-only into the worker and points KUBECONFIG at it', () => {
    const { services } = resolved(project({ OOMTEST_UID: '1000', OOMTEST_GID: '1000' }));
    const worker = services.worker!;

    expect(worker.environment?.KUBECONFIG).toBe('/kube/config');
    expect(worker.volumes).toEqual([`${join(dir, 'kubeconfig')}:/kube/config:ro`]);
    expect(worker.user).toBe('1000:1000');
    expect(services.bot!.environment?.KUBECONFIG).toBeUndefined();
  });

  it('gives bot and worker settings their configuration accepts', () => {
    const { services } = resolved(project());

    expect(() => loadConfig('bot', services.bot!.environment ?? {})).not.toThrow();
    expect(() => loadConfig('worker', services.worker!.environment ?? {})).not.toThrow();
  });
});

describe('.env.example', () => {
  const text = readFileSync(join(repoRoot, '.env.example'), 'utf8');
  const lines = text.split('\n');

  it('names every variable src/config.ts reads', () => {
    const documented = new Set(
      [...text.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!),
    );
    // Set by docker-compose.yml itself rather than by the operator.
    const setByCompose = new Set(['REDIS_URL', 'KUBECONFIG']);

    const missing = variablesReadByConfig().filter(
      (name) => !documented.has(name) && !setByCompose.has(name),
    );

    expect(missing).toEqual([]);
  });

  it('explains every variable in a comment directly above it', () => {
    const unexplained = lines
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => /^#?\s?[A-Z][A-Z0-9_]+=/.test(line))
      .filter(({ index }) => {
        const above = lines[index - 1] ?? '';
        return !above.startsWith('# ') || /^#\s?[A-Z][A-Z0-9_]+=/.test(above);
      })
      .map(({ line }) => line);

    expect(unexplained).toEqual([]);
  });

  it('holds no credential', () => {
    expect(text).not.toMatch(/^SLACK_[A-Z_]+=\S+/m);
  });
});
