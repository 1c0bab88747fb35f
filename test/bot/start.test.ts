// Start-up: the bot checks its token once and refuses to run with one Slack rejects.
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { startBot } from '../../src/bot/index.js';
import { startFakeSlack } from '../fake-slack/index.js';
import { freePort } from '../support/processes.js';
import { TEST_SIGNING_SECRET } from '../support/slack-signing.js';
import { REDIS_URL } from './harness.js';

function config(env: Record<string, string>) {
  return loadConfig('bot', {
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    PORT: '0',
    REDIS_URL,
    ...env,
  });
}

test('a bot token Slack refuses stops start-up with a message naming SLACK_BOT_TOKEN', async () => {
  const slack = await startFakeSlack();
  try {
    const settings = config({ SLACK_BOT_TOKEN: 'xoxb-revoked', SLACK_API_URL: slack.url });

    await expect(startBot({ config: settings, logger: silentLogger() })).rejects.toMatchObject({
      code: 'config.invalid',
      message: 'SLACK_BOT_TOKEN was refused by Slack (invalid_auth)',
    });
  } finally {
    await slack.stop();
  }
});

test('an unreachable Slack does not stop start-up: the health routes come up', async () => {
  const unreachable = `http://127.0.0.1:${await freePort()}/api/`;
  const settings = config({ SLACK_BOT_TOKEN: 'xoxb-any', SLACK_API_URL: unreachable });

  const bot = await startBot({ config: settings, logger: silentLogger() });
  try {
    const live = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
    expect(live.status).toBe(200);
  } finally {
    await bot.close();
  }
});
