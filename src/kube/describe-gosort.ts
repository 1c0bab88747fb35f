/**
 * Go's sort.Sort / sort.Slice (pattern-defeating quicksort, Go 1.19+), step for step.
 *
 * Why not Array.prototype.sort: Go's sort is not stable. kubectl sorts events by lastTimestamp,
 * which has one-second resolution and is unset for events.k8s.io events, so ties are common;
 * above 12 elements the order Go leaves ties in depends on its exact partitioning steps. To print
 * events in kubectl's order we must make the same swaps.
 */

type Less = (i: number, j: number) => boolean;

interface Data {
  less: Less;
  swap: (i: number, j: number) => void;
}

/** Go's bits.Len: the number of bits needed to represent n. */
function bitLength(n: number): number {
  return n === 0 ? 0 : Math.floor(Math.log2(n)) + 1;
}

const UINT64_MASK = (1n << 64n) - 1n;

/** Sorts `items` as Go's sort.Slice(items, less) would, returning a new array. */
export function goSort<T>(items: readonly T[], less: (a: T, b: T) => boolean): T[] {
  const out = [...items];
  const data: Data = {
    less: (i, j) => less(out[i]!, out[j]!),
    swap: (i, j) => {
      [out[i], out[j]] = [out[j]!, out[i]!];
    },
  };
  pdqsort(data, 0, out.length, bitLength(out.length));
  return out;
}

function insertionSort(data: Data, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) {
    for (let j = i; j > a && data.less(j, j - 1); j--) data.swap(j, j - 1);
  }
}

function siftDown(data: Data, lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) return;
    if (child + 1 < hi && data.less(first + child, first + child + 1)) child++;
    if (!data.less(first + root, first + child)) return;
    data.swap(first + root, first + child);
    root = child;
  }
}

function heapSort(data: Data, a: number, b: number): void {
  const hi = b - a;
  for (let i = Math.floor((hi - 1) / 2); i >= 0; i--) siftDown(data, i, hi, a);
  for (let i = hi - 1; i >= 0; i--) {
    data.swap(a, a + i);
    siftDown(data, 0, i, a);
  }
}

/** Below this length Go sorts by insertion (which is stable). */
const MAX_INSERTION = 12;

type Hint = 'unknown' | 'increasing' | 'decreasing';

function pdqsort(data: Data, start: number, end: number, badPivotsAllowed: number): void {
  let a = start;
  let b = end;
  let limit = badPivotsAllowed;
  let wasBalanced = true;
  let wasPartitioned = true;

  for (;;) {
    const length = b - a;
    if (length <= MAX_INSERTION) return insertionSort(data, a, b);
    if (limit === 0) return heapSort(data, a, b);
    if (!wasBalanced) {
      breakPatterns(data, a, b);
      limit--;
    }

    let [pivot, hint] = choosePivot(data, a, b);
    if (hint === 'decreasing') {
      reverseRange(data, a, b);
      pivot = b - 1 - (pivot - a);
      hint = 'increasing';
    }
    if (
      wasBalanced &&
      wasPartitioned &&
      hint === 'increasing' &&
      partialInsertionSort(data, a, b)
    ) {
      return;
    }
    if (a > 0 && !data.less(a - 1, pivot)) {
      a = partitionEqual(data, a, b, pivot);
      continue;
    }

    const [mid, alreadyPartitioned] = partition(data, a, b, pivot);
    wasPartitioned = alreadyPartitioned;
    const balanceThreshold = Math.floor(length / 8);
    if (mid - a < b - mid) {
      wasBalanced = mid - a >= balanceThreshold;
      pdqsort(data, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = b - mid >= balanceThreshold;
      pdqsort(data, mid + 1, b, limit);
      b = mid;
    }
  }
}

function partition(data: Data, a: number, b: number, pivot: number): [number, boolean] {
  data.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  while (i <= j && data.less(i, a)) i++;
  while (i <= j && !data.less(j, a)) j--;
  if (i > j) {
    data.swap(j, a);
    return [j, true];
  }
  data.swap(i, j);
  i++;
  j--;

  for (;;) {
    while (i <= j && data.less(i, a)) i++;
    while (i <= j && !data.less(j, a)) j--;
    if (i > j) break;
    data.swap(i, j);
    i++;
    j--;
  }
  data.swap(j, a);
  return [j, false];
}

function partitionEqual(data: Data, a: number, b: number, pivot: number): number {
  data.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !data.less(a, i)) i++;
    while (i <= j && data.less(a, j)) j--;
    if (i > j) return i;
    data.swap(i, j);
    i++;
    j--;
  }
}

/** Go's constants: at most 5 shifted pairs, and no shifting in slices shorter than 50. */
const PARTIAL_MAX_STEPS = 5;
const PARTIAL_SHORTEST_SHIFTING = 50;

function partialInsertionSort(data: Data, a: number, b: number): boolean {
  let i = a + 1;
  for (let step = 0; step < PARTIAL_MAX_STEPS; step++) {
    while (i < b && !data.less(i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < PARTIAL_SHORTEST_SHIFTING) return false;

    data.swap(i, i - 1);
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1 && data.less(j, j - 1); j--) data.swap(j, j - 1);
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b && data.less(j, j - 1); j++) data.swap(j, j - 1);
    }
  }
  return false;
}

function breakPatterns(data: Data, a: number, b: number): void {
  const length = b - a;
  if (length < 8) return;

  let random = BigInt(length);
  const modulus = 2 ** bitLength(length);
  for (
    let idx = a + Math.floor(length / 4) * 2 - 1;
    idx <= a + Math.floor(length / 4) * 2 + 1;
    idx++
  ) {
    // Go 1.19-1.22's xorshift (later Go releases changed the shifts to 13, 7, 17).
    random ^= (random << 13n) & UINT64_MASK;
    random ^= random >> 17n;
    random ^= (random << 5n) & UINT64_MASK;
    let other = Number(random & BigInt(modulus - 1));
    if (other >= length) other -= length;
    data.swap(idx, a + other);
  }
}

/** Go's constants: Tukey's ninther from 50 elements; 12 swaps means strictly decreasing. */
const SHORTEST_NINTHER = 50;
const MAX_SWAPS = 4 * 3;

function choosePivot(data: Data, a: number, b: number): [number, Hint] {
  const l = b - a;
  const swaps = { count: 0 };
  let i = a + Math.floor(l / 4) * 1;
  let j = a + Math.floor(l / 4) * 2;
  let k = a + Math.floor(l / 4) * 3;
  if (l >= 8) {
    if (l >= SHORTEST_NINTHER) {
      i = median(data, i - 1, i, i + 1, swaps);
      j = median(data, j - 1, j, j + 1, swaps);
      k = median(data, k - 1, k, k + 1, swaps);
    }
    j = median(data, i, j, k, swaps);
  }
  if (swaps.count === 0) return [j, 'increasing'];
  return [j, swaps.count === MAX_SWAPS ? 'decreasing' : 'unknown'];
}

function order2(data: Data, a: number, b: number, swaps: { count: number }): [number, number] {
  if (data.less(b, a)) {
    swaps.count++;
    return [b, a];
  }
  return [a, b];
}

function median(data: Data, x: number, y: number, z: number, swaps: { count: number }): number {
  const [low, high] = order2(data, x, y, swaps);
  const [middle] = order2(data, high, z, swaps);
  return order2(data, low, middle, swaps)[1];
}

function reverseRange(data: Data, a: number, b: number): void {
  for (let i = a, j = b - 1; i < j; i++, j--) data.swap(i, j);
}
