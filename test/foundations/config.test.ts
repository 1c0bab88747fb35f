import { loadConfig, DEFAULT_IMAGE } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const SLACK = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh' };

function problemsOf(env: Record<string, string>, role: 'bot' | 'worker' | 'run' = 'bot'): string {
  try {
    loadConfig(role, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the contract defaults when only the Slack settings are given', () => {
    const config = loadConfig('bot', SLACK);

    expect(config.port).toBe(3000);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.defaults.namespace).toBe('default');
    expect(config.allowedNamespaces).toEqual(['default']);
    expect(config.allowedUsers).toEqual([]);
    expect(config.defaults.maxMemoryBytes).toBe(4 * 1024 ** 3);
    expect(config.defaults.image).toBe(DEFAULT_IMAGE);
    expect(config.slack.appToken).toBeUndefined();
  });

  it('lets oomtest run start with no Slack settings at all', () => {
    expect(loadConfig('run', {}).slack.botToken).toBeUndefined();
  });

  it('needs no signing secret in Socket Mode', () => {
    const config = loadConfig('bot', { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });

    expect(config.slack.appToken).toBe('xapp-1');
  });

  it('names every bad variable at once and never echoes a secret', () => {
    const message = problemsOf({
      SLACK_BOT_TOKEN: 'xoxp-user-token-not-a-bot-token',
      PORT: '70000',
      OOMTEST_MAX_MEMORY: '4',
      OOMTEST_ALLOWED_USERS: 'U123,not-a-user',
      REDIS_URL: 'http://user:hunter2@redis',
      LOG_LEVEL: 'loud',
    });

    expect(message).toContain('SLACK_BOT_TOKEN must start with "xoxb-"');
    expect(message).toContain('SLACK_SIGNING_SECRET is required');
    expect(message).toContain('PORT="70000"');
    expect(message).toContain('OOMTEST_MAX_MEMORY');
    expect(message).toContain('"not-a-user" is not a valid Slack user id');
    expect(message).toContain('REDIS_URL is not a redis://');
    expect(message).toContain('LOG_LEVEL="loud"');
    expect(message).not.toContain('xoxp-user-token');
    expect(message).not.toContain('hunter2');
  });

  it('keeps the default namespace allowed when an allowlist is not given', () => {
    const config = loadConfig('worker', { ...SLACK, OOMTEST_NAMESPACE: 'game-day' });

    expect(config.allowedNamespaces).toEqual(['game-day']);
  });

  it('refuses a malformed cpu default and image', () => {
    const message = problemsOf({ OOMTEST_CPU: '-1', OOMTEST_IMAGE: 'busybox; rm -rf /' }, 'run');

    expect(message).toContain('OOMTEST_CPU');
    expect(message).toContain('OOMTEST_IMAGE');
  });

  it('adds the trailing slash Slack clients expect to SLACK_API_URL', () => {
    const config = loadConfig('bot', { ...SLACK, SLACK_API_URL: 'http://127.0.0.1:9/api' });

    expect(config.slack.apiUrl).toBe('http://127.0.0.1:9/api/');
  });
});
