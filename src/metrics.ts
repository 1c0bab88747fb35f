/**
 * Prometheus metrics, served at GET /metrics by the bot and the worker. One registry per
 * process so tests that start several bots in one jest worker do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Slash commands by subcommand and result (accepted, refused, error). */
  commands: Counter<'command' | 'result'>;
  /** Finished drills by status (done, failed, timedout, stopped). */
  drills: Counter<'status'>;
  /** Drills running in this process now. */
  drillsActive: Gauge;
  /** OOM kills observed, by exit code (137 or 0). */
  oomKills: Counter<'exit_code'>;
  /** Slack Web API calls by method and outcome (ok, rate_limited, error). */
  slackCalls: Counter<'method' | 'outcome'>;
  /** Time from a command reaching the bot to its acknowledgement, seconds. */
  ackSeconds: Histogram;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'oomtest_' });

  return {
    registry,
    commands: new Counter({
      name: 'oomtest_commands_total',
      help: 'Slash commands handled, by subcommand and result.',
      labelNames: ['command', 'result'],
      registers: [registry],
    }),
    drills: new Counter({
      name: 'oomtest_drills_total',
      help: 'Drills finished, by status.',
      labelNames: ['status'],
      registers: [registry],
    }),
    drillsActive: new Gauge({
      name: 'oomtest_drills_active',
      help: 'Drills running in this process.',
      registers: [registry],
    }),
    oomKills: new Counter({
      name: 'oomtest_oom_kills_total',
      help: 'OOM kills observed in drill pods, by container exit code.',
      labelNames: ['exit_code'],
      registers: [registry],
    }),
    slackCalls: new Counter({
      name: 'oomtest_slack_calls_total',
      help: 'Slack Web API calls, by method and outcome.',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'oomtest_ack_seconds',
      help: 'Time from a slash command arriving to its acknowledgement.',
      // Slack gives up after 3 s; the buckets resolve the range that matters below it.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
      registers: [registry],
    }),
  };
}
