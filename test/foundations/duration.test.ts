import { InvalidRequestError } from '../../src/errors.js';
import { formatSeconds, parseDuration } from '../../src/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['5m', 300],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2m30s', 150],
    ['1h0m5s', 3605],
    ['1.5m', 90],
    ['0.5h', 1800],
    ['.5m', 30],
    ['10s', 10],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text, '--timeout')).toBe(seconds);
  });

  it.each([
    ['', /--timeout is empty/],
    ['90', /"90" has no unit: write 90s, 90m or 90h/],
    ['1.5', /has no unit/],
    ['0s', /"0s" is zero/],
    ['0h0m', /is zero/],
    ['-5m', /"-5m" is negative/],
    ['soon', /"soon" is not a duration/],
    ['5 m', /is not a duration/],
    ['m5', /is not a duration/],
    ['5x', /unknown unit "x": use h, m or s/],
    ['500ms', /unknown unit "ms"/],
    ['5M', /unknown unit "M"/],
    ['2d', /unknown unit "d"/],
    ['1.5s', /not a whole number of seconds/],
    ['200h', /longer than a week/],
    ['1'.repeat(40) + 's', /too long/],
  ])('refuses %j, saying %s', (text, message) => {
    let caught: unknown;
    try {
      parseDuration(text, '--timeout');
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidRequestError);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('formatSeconds', () => {
  it.each([
    [90, '1m30s'],
    [3600, '1h'],
    [3661, '1h1m1s'],
    [7200, '2h'],
    [45, '45s'],
    [0, '0s'],
    [59.6, '1m'],
    [-90, '-1m30s'],
  ])('prints %d seconds as %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it('prints what parseDuration reads back', () => {
    for (const seconds of [1, 59, 60, 61, 599, 3599, 3600, 3601, 86_399]) {
      expect(parseDuration(formatSeconds(seconds), 'x')).toBe(seconds);
    }
  });

  it('throws on values that are not numbers of seconds', () => {
    expect(() => formatSeconds(Number.NaN)).toThrow(RangeError);
  });
});
