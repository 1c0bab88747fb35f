import { escapeMrkdwn, codeBlocks, mention, tail } from '../../src/slack/mrkdwn.js';

test('escapeMrkdwn escapes the three characters Slack gives meaning to', () => {
  expect(escapeMrkdwn('a & <b> <!channel>')).toBe('a &amp; &lt;b&gt; &lt;!channel&gt;');
});

test('mention makes a mention only of a Slack user id', () => {
  expect(mention('U012ABCDEF')).toBe('<@U012ABCDEF>');
  expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
});

test('codeBlocks keeps every block within the limit and loses no line', () => {
  const text = Array.from({ length: 500 }, (_, i) => `line ${i} <none> & more`).join('\n');

  const blocks = codeBlocks(text, 1_000);

  for (const block of blocks) expect(block.length).toBeLessThanOrEqual(1_000);
  const joined = blocks.map((block) => block.slice(4, -4)).join('\n');
  expect(joined).toBe(escapeMrkdwn(text));
});

test('codeBlocks cuts an over-long line without splitting an entity', () => {
  const line = '<'.repeat(3_000);

  const blocks = codeBlocks(line, 1_000);

  for (const block of blocks) {
    expect(block.length).toBeLessThanOrEqual(1_000);
    expect(block.slice(4, -4)).toMatch(/^(&lt;)+$/);
  }
});

test('codeBlocks cannot be closed early by backticks in the text', () => {
  const [block] = codeBlocks('a ``` b');

  expect(block).toBe("```\na ''' b\n```");
});

test('tail keeps the last characters from a line boundary', () => {
  expect(tail('one\ntwo\nthree', 9)).toEqual({ text: 'three', cut: true });
  expect(tail('short', 9)).toEqual({ text: 'short', cut: false });
});
