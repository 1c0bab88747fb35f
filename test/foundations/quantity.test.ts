import { InvalidRequestError } from '../../src/errors.js';
import {
  formatBytesApprox,
  formatCpu,
  formatMemory,
  parseCpu,
  parseMemory,
} from '../../src/quantity.js';

const KI = 1024;
const MI = 1024 ** 2;
const GI = 1024 ** 3;
const PI = 1024 ** 5;

function refusal(run: () => unknown): InvalidRequestError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
  throw new Error('expected a refusal, but the value was accepted');
}

describe('parseMemory', () => {
  it.each([
    ['200Mi', 200 * MI, '200Mi'],
    ['1024Mi', GI, '1Gi'],
    ['1048576Ki', GI, '1Gi'],
    ['1536Mi', 1536 * MI, '1536Mi'],
    ['1.5Gi', 1536 * MI, '1536Mi'],
    ['.5Mi', 512 * KI, '512Ki'],
    ['1.Mi', MI, '1Mi'],
    ['+1Gi', GI, '1Gi'],
    ['0.5Ki', 512, '512'],
    ['7Pi', 7 * PI, '7Pi'],
    ['500M', 500_000_000, '500M'],
    ['1000M', 1_000_000_000, '1G'],
    ['0.5G', 500_000_000, '500M'],
    ['1500k', 1_500_000, '1500k'],
    ['1.5k', 1500, '1500'],
    ['9P', 9_000_000_000_000_000, '9P'],
  ])('reads %s as %d bytes, canonical %s', (text, bytes, canonical) => {
    expect(parseMemory(text, 'memory limit')).toEqual({ bytes, text: canonical });
  });

  it.each([
    ['', /memory limit is empty/],
    ['200', /"200" has no unit: write 200Mi \(mebibytes\) or 200M \(megabytes\)/],
    ['0.1', /"0.1" has no unit/],
    ['2e8', /"2e8" has no unit: write it as 200M$/],
    ['128974848e0', /has no unit: write it as 123Mi$/],
    ['1e400', /"1e400" has no unit: write e.g. 200Mi/],
    ['1e400Mi', /"1e400Mi" has both an exponent and a unit/],
    ['1e3M', /"1e3M" has both an exponent and a unit/],
    ['0Mi', /"0Mi" is zero/],
    ['0.0Gi', /is zero/],
    ['-200Mi', /"-200Mi" is negative/],
    ['-0.5Gi', /is negative/],
    ['1.1Ki', /"1.1Ki" is not a whole number of bytes/],
    ['0.1', /no unit/],
    ['99999999999999999999Mi', /is too large \(more than 9007199254740991 bytes\)/],
    ['8Pi', /"8Pi" is too large/],
    ['1Ei', /is too large/],
    ['10P', /is too large/],
    ['NaN', /"NaN" is not a Kubernetes quantity/],
    ['Infinity', /is not a Kubernetes quantity/],
    ['Mi', /is not a Kubernetes quantity/],
    [' 200Mi', /is not a Kubernetes quantity/],
    ['200MB', /unknown unit: Kubernetes writes Mi \(powers of 1024\) or M \(powers of 1000\)/],
    ['1kb', /unknown unit: Kubernetes writes ki .*or k/i],
    ['200mi', /units are case-sensitive, write Mi/],
    ['200K', /write Ki \(1024 bytes\) or k/],
    ['200m', /millibytes/],
    ['0x10Mi', /unknown unit/],
    ['1.2.3Mi', /unknown unit/],
    ['1'.repeat(41) + 'Mi', /is too long/],
  ])('refuses %j, saying %s', (text, message) => {
    const error = refusal(() => parseMemory(text, 'memory limit'));

    expect(error.code).toBe('request.invalid');
    expect(error.message).toMatch(message);
  });

  it('names the value it was given in the message', () => {
    expect(refusal(() => parseMemory('0Mi', '--fill')).message).toBe(
      '--fill "0Mi" is zero: it must be above zero',
    );
  });

  it('shortens a long value in the message', () => {
    const long = '9'.repeat(60);
    const message = refusal(() => parseMemory(long, 'memory limit')).message;

    expect(message).toContain('…');
    expect(message.length).toBeLessThan(120);
  });

  it('accepts the largest safe byte count and refuses one more', () => {
    const largestKi = Math.floor(Number.MAX_SAFE_INTEGER / KI);

    expect(parseMemory(`${largestKi}Ki`, 'x').bytes).toBe(largestKi * KI);
    expect(refusal(() => parseMemory(`${largestKi + 1}Ki`, 'x')).message).toMatch(/too large/);
  });
});

describe('formatMemory', () => {
  it.each([
    [209_715_200, '200Mi'],
    [GI, '1Gi'],
    [3 * GI, '3Gi'],
    [1536 * MI, '1536Mi'],
    [1024, '1Ki'],
    [1_000_000_000, '1G'],
    [10_000_000_000, '10G'],
    [1000, '1k'],
    [1500, '1500'],
    [0, '0'],
  ])('prints %d bytes as %s', (bytes, text) => {
    expect(formatMemory(bytes)).toBe(text);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 60])('throws on %d, which is not a byte count', (bytes) => {
    expect(() => formatMemory(bytes)).toThrow(RangeError);
  });

  it('prints text that parses back to the same bytes', () => {
    // Products of small primes land on both binary and decimal boundaries.
    for (let twos = 10; twos < 40; twos += 3) {
      for (let fives = 0; fives < 8; fives += 1) {
        const bytes = 2 ** twos * 5 ** fives;
        if (bytes > Number.MAX_SAFE_INTEGER) continue;
        expect(parseMemory(formatMemory(bytes), 'x').bytes).toBe(bytes);
      }
    }
  });
});

describe('formatBytesApprox', () => {
  it.each([
    [200 * MI, '200Mi'],
    [207_700_000, '~198Mi'],
    [1536 * MI, '1.5Gi'],
    [1.55 * GI, '~1.6Gi'],
    [GI - 1, '~1Gi'],
    [512, '512B'],
    [0, '0B'],
    [3 * KI + 100, '~3.1Ki'],
  ])('prints %d bytes as %s', (bytes, text) => {
    expect(formatBytesApprox(bytes)).toBe(text);
  });

  it('throws on negative byte counts', () => {
    expect(() => formatBytesApprox(-1)).toThrow(RangeError);
  });
});

describe('parseCpu', () => {
  it.each([
    ['100m', 100, '100m'],
    ['0.5', 500, '500m'],
    ['.25', 250, '250m'],
    ['1', 1000, '1'],
    ['2', 2000, '2'],
    ['2000m', 2000, '2'],
    ['1500m', 1500, '1500m'],
    ['5e-1', 500, '500m'],
    ['1e0', 1000, '1'],
    ['0.001', 1, '1m'],
  ])('reads %s as %d millicores, canonical %s', (text, millicores, canonical) => {
    expect(parseCpu(text)).toEqual({ millicores, text: canonical });
  });

  it.each([
    ['', /--cpu is empty/],
    ['0', /"0" is zero/],
    ['0m', /is zero/],
    ['-1', /"-1" is negative/],
    ['0.0001', /finer than one millicore/],
    ['1.5m', /finer than one millicore/],
    ['1Gi', /not a cpu quantity: write cores \(0.5, 2\) or millicores \(500m\)/],
    ['1k', /not a cpu quantity/],
    ['two', /not a Kubernetes quantity/],
    ['1e400', /exponent out of range/],
    ['99999999999999999', /too large/],
  ])('refuses %j, saying %s', (text, message) => {
    expect(refusal(() => parseCpu(text)).message).toMatch(message);
  });

  it('formats millicores canonically', () => {
    expect(formatCpu(250)).toBe('250m');
    expect(formatCpu(3000)).toBe('3');
    expect(() => formatCpu(0.5)).toThrow(RangeError);
  });
});
