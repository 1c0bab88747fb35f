import { helpText, parseCommand, type RequestDefaults } from '../../src/request/index.js';

// Slack's limit on the text of one section block.
const SLACK_SECTION_MAX_CHARS = 3000;

const DEFAULTS: RequestDefaults = {
  namespace: 'game-day',
  image: 'registry.example.com/tools/stress:1.0',
  cpu: '250m',
  kills: 3,
  timeoutSeconds: 600,
  maxMemoryBytes: 2 * 1024 ** 3,
};

describe('helpText', () => {
  it('fits one Slack section block even with the longest defaults', () => {
    const longest = {
      ...DEFAULTS,
      namespace: 'n'.repeat(63),
      image: `${'r'.repeat(200)}/${'p'.repeat(54)}:${'t'.repeat(128)}@sha256:${'a'.repeat(64)}`,
    };

    expect(helpText({ defaults: longest }).length).toBeLessThanOrEqual(SLACK_SECTION_MAX_CHARS);
    expect(helpText().length).toBeLessThanOrEqual(SLACK_SECTION_MAX_CHARS);
  });

  it('shows the Slack prefix, the stop and status commands and a code block by default', () => {
    const text = helpText();

    expect(text).toContain('/oomtest mem-nginx 200Mi');
    expect(text).toContain('/oomtest stop mem-nginx');
    expect(text).toContain('/oomtest status');
    expect(text).toContain('```');
  });

  it('shows the CLI prefix and no Slack-only commands for the terminal', () => {
    const text = helpText({ target: 'terminal' });

    expect(text).toContain('oomtest run mem-nginx 200Mi');
    expect(text).not.toContain('/oomtest');
    expect(text).not.toContain('stop mem-nginx');
    expect(text).not.toContain('```');
  });

  it('takes a custom prefix', () => {
    expect(helpText({ prefix: '/oomtest-staging' })).toContain('/oomtest-staging mem-nginx 200Mi');
  });

  it('shows the configured defaults and cap when given them', () => {
    const text = helpText({ defaults: DEFAULTS });

    expect(text).toContain('default: game-day');
    expect(text).toContain('default: 3');
    expect(text).toContain('default: 250m');
    expect(text).toContain('default: 10m');
    expect(text).toContain('at most 2Gi');
    expect(text).toContain('default: registry.example.com/tools/stress:1.0');
  });

  it('explains which methods need privilege', () => {
    const text = helpText();

    expect(text).toMatch(/tmpfs .*privileged/);
    expect(text).toMatch(/emptydir .*no privilege/);
    expect(text).toMatch(/anon .*no privilege/);
    expect(text).toContain('restricted Pod Security');
  });

  it('holds nothing Slack would read as markup (< > &)', () => {
    expect(helpText({ defaults: DEFAULTS })).not.toMatch(/[<>&]/);
  });

  it('gives examples that the parser accepts', () => {
    const examples = helpText({ target: 'terminal' })
      .split('\n')
      .filter((line) => line.trim().startsWith('oomtest run mem-nginx'))
      .map((line) => line.trim().slice('oomtest run '.length));

    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) {
      expect(parseCommand(example, DEFAULTS).kind).toBe('drill');
    }
  });
});
