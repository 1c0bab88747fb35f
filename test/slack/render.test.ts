import { WebClient } from '@slack/web-api';
import {
  renderQueued,
  renderProgress,
  renderOutcome,
  renderThreadDetails,
  renderStatus,
  STOP_ACTION_ID,
  type KnownBlock,
  type SlackMessage,
} from '../../src/slack/render.js';
import type { DrillProgress } from '../../src/drill/types.js';
import { startFakeSlack, type FakeSlack } from '../fake-slack/index.js';
import { ctx, request, kill, describeText, outcome } from './fixtures.js';

/** Slack's limits, restated here so the test does not trust the renderer's own constants. */
const SECTION_LIMIT = 3_000;
const BLOCK_LIMIT = 50;

function texts(blocks: KnownBlock[]): string[] {
  return blocks.flatMap((block) => {
    if (block.type === 'section') return [block.text?.text ?? ''];
    if (block.type === 'context') return block.elements.map((e) => ('text' in e ? e.text : ''));
    return [];
  });
}

function expectWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(BLOCK_LIMIT);
  for (const text of texts(message.blocks)) expect(text.length).toBeLessThanOrEqual(SECTION_LIMIT);
}

/** The describe text as Slack shows it: code blocks joined, entities decoded. */
function shownDescribe(message: SlackMessage): string {
  return texts(message.blocks)
    .filter((text) => text.startsWith('```'))
    .map((text) => text.slice(4, -4))
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function stopButtons(message: SlackMessage): Array<{ action_id?: string; value?: string }> {
  return message.blocks.flatMap((block) =>
    block.type === 'actions'
      ? (block.elements as Array<{ action_id?: string; value?: string }>)
      : [],
  );
}

function progress(overrides: Partial<DrillProgress>): DrillProgress {
  return {
    drillId: ctx.drillId,
    phase: 'running',
    message: 'filling memory',
    at: '2026-12-03T19:00:05Z',
    kills: [],
    restartCount: 0,
    ...overrides,
  };
}

describe('renderQueued and renderProgress', () => {
  test('the queued message names the pod and limit and carries the Stop button', () => {
    const message = renderQueued(ctx);

    expect(message.text).toContain('default/mem-nginx');
    expect(message.text).toContain('200Mi');
    expect(stopButtons(message)).toEqual([
      expect.objectContaining({ action_id: STOP_ACTION_ID, value: ctx.drillId }),
    ]);
  });

  test('every progress phase keeps the Stop button', () => {
    const phases = ['applied', 'scheduled', 'pulling', 'running', 'killed', 'backoff', 'restarted'];

    for (const phase of phases) {
      const message = renderProgress(ctx, progress({ phase: phase as DrillProgress['phase'] }));
      expect(stopButtons(message)).toHaveLength(1);
    }
  });

  test('back-off shows the kubelet wait in seconds and the kills so far', () => {
    const message = renderProgress(
      ctx,
      progress({
        phase: 'backoff',
        kills: [kill(1)],
        restartCount: 1,
        backoffSeconds: 20,
        node: 'node-a',
        message: 'back-off 20s restarting failed container',
      }),
    );
    const body = texts(message.blocks).join('\n');

    expect(body).toContain('OOM kill 1 of 2 (exit 137, filled ~198Mi)');
    expect(body).toContain('back-off 20s before restart 2');
    expect(body).toContain('Scheduled on `node-a`');
  });

  test('user-controlled text is escaped so it cannot ping or link', () => {
    const hostile = { ...ctx, request: { ...request, image: 'x<!channel>&<http://evil|y>' } };
    const message = renderProgress(hostile, progress({ message: '<!here> fill' }));
    const body = JSON.stringify(message.blocks);

    expect(body).not.toContain('<!channel>');
    expect(body).not.toContain('<!here>');
    expect(body).toContain('x&lt;!channel&gt;&amp;&lt;http://evil|y&gt;');
  });
});

describe('renderOutcome', () => {
  test('a full describe (~3,500 chars) fits in the message within Slack limits, verdict first', () => {
    const full = describeText();
    expect(full.length).toBeGreaterThan(3_400);

    const { message, file } = renderOutcome(ctx, outcome());

    expectWithinLimits(message);
    expect(file).toBeUndefined();
    expect(texts(message.blocks)[0]).toContain('OOM-killed 2 of 2 times at 200Mi');
    expect(shownDescribe(message)).toBe(full.trimEnd());
    expect(stopButtons(message)).toEqual([]);
  });

  test('a describe too long for the message goes to a file and the message keeps head and tail', () => {
    const long = describeText(120);
    expect(long.length).toBeGreaterThan(15_000);

    const { message, file } = renderOutcome(ctx, outcome({ describe: long }));

    expectWithinLimits(message);
    expect(file).toEqual({
      filename: `mem-nginx-${ctx.drillId}-describe.txt`,
      title: expect.stringContaining('kubectl describe pod mem-nginx'),
      content: long,
    });
    const shown = shownDescribe(message);
    expect(shown).toContain('Name:             mem-nginx');
    expect(shown).toContain('Back-off restarting failed container');
    expect(texts(message.blocks).join('\n')).toContain('attached file');
  });

  test('a failure gives its cause in plain words and no code block when no pod existed', () => {
    const failed = outcome({
      status: 'failed',
      verdict: 'The drill could not start: the namespace refuses privileged pods',
      kills: [],
      restartCount: 0,
      describe: '',
      deleted: false,
      failure: {
        code: 'kube.pod-security',
        message: 'PodSecurity "baseline" forbids privileged containers; use --method emptydir',
      },
    });

    const { message } = renderOutcome(ctx, failed);
    const body = texts(message.blocks).join('\n');

    expect(body).toContain('*Cause:* PodSecurity "baseline" forbids privileged containers');
    expect(body).toContain('no pod created');
    expect(body).not.toContain('```');
  });

  test('unreadable start or finish times leave the duration out instead of failing', () => {
    const { message } = renderOutcome(ctx, outcome({ startedAt: '', finishedAt: 'garbage' }));

    expect(texts(message.blocks).join('\n')).not.toContain('took');
  });

  test('a stopped drill says who stopped it', () => {
    const stopped = outcome({ status: 'stopped', verdict: 'Stopped after 1 of 2 OOM kills' });

    const { message } = renderOutcome(ctx, stopped, { stoppedBy: 'U0STOPPER1' });

    expect(texts(message.blocks).join('\n')).toContain('Stopped by <@U0STOPPER1>.');
  });

  test('the fake Slack Web API accepts every rendered message as it would in a workspace', async () => {
    const slack: FakeSlack = await startFakeSlack();
    const client = new WebClient(slack.token, {
      slackApiUrl: slack.url,
      retryConfig: { retries: 0 },
    });
    try {
      const posted = await client.chat.postMessage({ channel: 'C1', ...renderQueued(ctx) });
      const messages = [
        renderProgress(ctx, progress({ phase: 'backoff', kills: [kill(1)], backoffSeconds: 10 })),
        renderOutcome(ctx, outcome()).message,
        renderOutcome(ctx, outcome({ describe: describeText(300) })).message,
      ];
      for (const message of messages)
        await client.chat.update({ channel: 'C1', ts: posted.ts!, ...message });
      for (const text of renderThreadDetails(outcome({ describe: describeText(300) })))
        await client.chat.postMessage({ channel: 'C1', thread_ts: posted.ts!, text });

      expect(slack.calls.every((call) => call.status === 200 && call.error === undefined)).toBe(
        true,
      );
    } finally {
      await slack.stop();
    }
  });
});

describe('renderThreadDetails', () => {
  test('gives the kills, the events and the log tail, each within a section', () => {
    const details = renderThreadDetails(outcome());

    expect(details).toHaveLength(3);
    expect(details[0]).toContain('OOM kill 2 of 2 (exit 137');
    expect(details[1]).toContain('*Events*');
    expect(details[1]).toContain('BackOff');
    expect(details[2]).toContain('oomtest: filled bytes=207618048');
  });

  test('long events and logs are split or trimmed to the newest lines, never over 3,000 chars', () => {
    const log = Array.from({ length: 2_000 }, (_, i) => `line ${i} <tag>`).join('\n');

    const details = renderThreadDetails(outcome({ describe: describeText(200), logTail: log }));

    for (const detail of details) expect(detail.length).toBeLessThanOrEqual(SECTION_LIMIT);
    expect(details.length).toBeGreaterThan(3);
    const logPart = details.at(-1)!;
    expect(logPart).toContain('line 1999 &lt;tag&gt;');
    expect(logPart).not.toContain('line 0 ');
    expect(logPart).toContain('last lines');
  });
});

describe('renderStatus', () => {
  test('says so when nothing is running', () => {
    expect(renderStatus([])).toBe('No drills are running or queued.');
  });

  test('lists each drill with its target, state and who asked, and caps a long list', () => {
    const drills = Array.from({ length: 40 }, (_, i) => ({
      drillId: `d-${i}`,
      request: { ...request, pod: `pod-${i}` },
      requestedBy: 'U012ABCDEF',
      state: i === 0 ? 'active' : 'waiting',
    }));

    const text = renderStatus(drills);

    expect(text).toContain('*40 drills active*');
    expect(text).toContain('`default/pod-0` at 200Mi: active, asked by <@U012ABCDEF>');
    expect(text).toContain('… and 15 more');
    expect(text.length).toBeLessThanOrEqual(SECTION_LIMIT);
  });
});
