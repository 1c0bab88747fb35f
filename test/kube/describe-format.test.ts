/**
 * The pieces under describePod: the Go tabwriter layout (expected layouts are what Go's
 * text/tabwriter printed for the same input with kubectl's settings), kubectl's human durations, canonical
 * quantities (expected values are what kubectl v1.30 printed, see fixtures/odd-values), and the
 * port of Go's sort.Sort.
 */
import {
  canonicalQuantity,
  formatRfc1123z,
  humanDuration,
} from '../../src/kube/describe-format.js';
import { goSort } from '../../src/kube/describe-gosort.js';
import { PrefixWriter, TabWriter } from '../../src/kube/describe-tabwriter.js';

function laidOut(text: string): string {
  const tabs = new TabWriter();
  tabs.write(text);
  tabs.flush();
  return tabs.text();
}

describe('TabWriter', () => {
  it('pads a column to its widest cell plus two spaces across a block of lines', () => {
    expect(laidOut('a:\t1\nlonger:\t2\n')).toBe('a:       1\nlonger:  2\n');
  });

  it('ends a block at a line without a tab, so the next block aligns on its own', () => {
    expect(laidOut('a:\t1\nbreak\nlonger:\t2\n')).toBe('a:  1\nbreak\nlonger:  2\n');
  });

  it('never pads the last cell of a line, and pads an empty leading cell to the column', () => {
    expect(laidOut('key:\tvalue \n\tmore\n')).toBe('key:  value \n      more\n');
  });

  it('aligns nested columns only across consecutive lines that have them', () => {
    // Go's tabwriter prints exactly this: "long\tb" has no second column, so it splits it.
    expect(laidOut('a\tb\tc\nlong\tb\nx\tlonger\tc\n')).toBe(
      'a     b  c\nlong  b\nx     longer  c\n',
    );
  });

  it('counts width in code points, as Go counts runes', () => {
    expect(laidOut('zürich:\t1\nab:\t2\n')).toBe('zürich:  1\nab:      2\n');
  });

  it('keeps an unterminated last line without adding a newline', () => {
    expect(laidOut('a:\t1\nb:\t2')).toBe('a:  1\nb:  2');
  });
});

describe('PrefixWriter', () => {
  it('indents by two spaces per level and escapes ESC and CR', () => {
    const w = new PrefixWriter();
    w.write(0, 'Top:\n');
    w.write(2, 'Key:\tx\x1b[0m\r\n');

    expect(w.finish()).toBe('Top:\n    Key:  x^[[0m\\r\n');
  });
});

describe('humanDuration', () => {
  it.each([
    [-2_000, '<invalid>'],
    [-1_500, '0s'],
    [0, '0s'],
    [59_999, '59s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [192_000, '3m12s'],
    [599_000, '9m59s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [5 * 3_600_000 + 3 * 60_000, '5h3m'],
    [8 * 3_600_000, '8h'],
    [47 * 3_600_000, '47h'],
    [48 * 3_600_000, '2d'],
    [52 * 3_600_000, '2d4h'],
    [8 * 24 * 3_600_000, '8d'],
    [800 * 24 * 3_600_000, '2y70d'],
    [3_000 * 24 * 3_600_000, '8y'],
  ])('formats %d ms as %s', (elapsedMs, text) => {
    expect(humanDuration(elapsedMs)).toBe(text);
  });
});

describe('canonicalQuantity', () => {
  it.each([
    ['2000m', '2'],
    ['0.25', '250m'],
    ['1500m', '1500m'],
    ['204800Ki', '200Mi'],
    ['1.5Gi', '1536Mi'],
    ['1024Gi', '1Ti'],
    ['1023Ki', '1023Ki'],
    ['0.5Ki', '512'],
    ['1024', '1024'],
    ['100000000', '100M'],
    ['12e6', '12e6'],
    ['2.5e-3', '2500e-6'],
    ['1.0001m', '1000100n'],
    ['0.000000001', '1n'],
    ['1E', '1E'],
    ['0', '0'],
    ['1000k', '1M'],
  ])('prints %s as %s', (input, output) => {
    expect(canonicalQuantity(input)).toBe(output);
  });

  it('returns text that is not a quantity unchanged', () => {
    expect(canonicalQuantity('lots')).toBe('lots');
  });
});

describe('formatRfc1123z', () => {
  it('prints Go zero time for an unset timestamp', () => {
    expect(formatRfc1123z(undefined)).toBe('Mon, 01 Jan 0001 00:00:00 +0000');
  });

  it('follows daylight saving time in the requested zone', () => {
    const summer = new Date('2026-07-01T12:00:00Z');
    expect(formatRfc1123z(summer, 'Europe/Berlin')).toBe('Wed, 01 Jul 2026 14:00:00 +0200');
  });
});

describe('goSort', () => {
  it('is stable up to 12 elements, as Go insertion sort is', () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ key: i % 3, id: i }));

    const ids = goSort(items, (a, b) => a.key < b.key).map((item) => item.id);

    expect(ids).toEqual([0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });

  it('sorts longer lists and leaves ties where Go sort.Sort leaves them', () => {
    // Expected order printed by Go's sort.Sort for keys i*7 % 5 over 20 items.
    const items = Array.from({ length: 20 }, (_, i) => ({ key: (i * 7) % 5, id: i }));

    const sorted = goSort(items, (a, b) => a.key < b.key);

    expect(sorted.map((item) => item.key)).toEqual([...items.map((item) => item.key)].sort());
    expect(sorted.map((item) => item.id)).toEqual(GO_ORDER_20);
  });
});

/** What a Go program running sort.Sort on the same 20 items printed (Go 1.19, same pdqsort). */
const GO_ORDER_20 = [10, 5, 15, 0, 13, 3, 8, 18, 1, 6, 16, 11, 19, 14, 9, 4, 12, 2, 7, 17];
