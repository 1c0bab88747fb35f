/**
 * GET /healthz, /readyz and /metrics. The bot mounts these on Bolt's HTTP receiver; the
 * worker, and the bot in Socket Mode, serve them from `startHealthServer`.
 *
 * /healthz answers 200 while the process runs (liveness: restart only a wedged process).
 * /readyz runs every readiness check (Redis, Kubernetes) and answers 503 naming the
 * failing ones, so a pod that lost Redis stops receiving Slack traffic without restarting.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when ready; a rejection or a timeout counts as not ready. */
  check: () => Promise<boolean>;
}

export interface HealthOptions {
  checks: ReadinessCheck[];
  metrics?: Metrics;
  /** How long one readiness check may take before it counts as failed (default 2 s). */
  checkTimeoutMs?: number;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The three routes as plain node:http handlers, keyed by path. */
export function healthRoutes(options: HealthOptions): Record<string, RouteHandler> {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;

  return {
    '/healthz': (_req, res) => send(res, 200, 'ok\n'),
    '/readyz': (_req, res) => {
      void runChecks(options.checks, timeoutMs).then((failing) => {
        if (failing.length === 0) send(res, 200, 'ready\n');
        else send(res, 503, `not ready: ${failing.join(', ')}\n`);
      });
    },
    '/metrics': (_req, res) => {
      if (options.metrics === undefined) return send(res, 404, 'metrics disabled\n');
      const { registry } = options.metrics;
      void registry.metrics().then((text) => send(res, 200, text, registry.contentType));
    },
  };
}

/** Names of the checks that failed or did not answer within `timeoutMs`. */
export async function runChecks(checks: ReadinessCheck[], timeoutMs: number): Promise<string[]> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => ((await withTimeout(check(), timeoutMs)) ? null : name)),
  );
  return results.filter((name): name is string => name !== null);
}

async function withTimeout(promise: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.catch(() => false), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves the health routes alone on `port` (0 picks a free one). */
export async function startHealthServer(
  options: HealthOptions & { port: number; logger: Logger },
): Promise<HealthServer> {
  const routes = healthRoutes(options);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = req.method === 'GET' ? routes[path] : undefined;
    if (route === undefined) return send(res, 404, 'not found\n');
    route(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'health server listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
