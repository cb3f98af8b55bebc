/**
 * Merges sorted async sequences into one sorted sequence with a binary min-heap: O(log k) per item,
 * and only the current head of each source in memory (plus whatever page each source buffers).
 * Equal items come out in source order, so the merge is stable.
 */

interface Head<T> {
  readonly value: T;
  readonly source: number;
  readonly iterator: AsyncIterator<T>;
}

/** Yields the items of all `sources`, each sorted by `compare`, as one sequence sorted by `compare`. */
export async function* mergeSorted<T>(
  sources: readonly AsyncIterable<T>[],
  compare: (a: T, b: T) => number,
): AsyncGenerator<T> {
  const before = (a: Head<T>, b: Head<T>): boolean => {
    const c = compare(a.value, b.value);
    return c < 0 || (c === 0 && a.source < b.source);
  };
  const heap: Head<T>[] = [];
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  try {
    const firsts = await Promise.all(iterators.map((it) => it.next()));
    firsts.forEach((result, source) => {
      if (!result.done) push(heap, { value: result.value, source, iterator: iterators[source]! }, before);
    });
    let previous: T | undefined;
    let hasPrevious = false;
    while (heap.length > 0) {
      const top = heap[0]!;
      if (hasPrevious && compare(previous as T, top.value) > 0) {
        throw new RangeError(`source ${top.source} is not sorted`);
      }
      yield top.value;
      previous = top.value;
      hasPrevious = true;
      const next = await top.iterator.next();
      if (next.done) {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          siftDown(heap, 0, before);
        }
      } else {
        heap[0] = { value: next.value, source: top.source, iterator: top.iterator };
        siftDown(heap, 0, before);
      }
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return?.()));
  }
}

function push<T>(heap: T[], item: T, before: (a: T, b: T) => boolean): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function siftDown<T>(heap: T[], start: number, before: (a: T, b: T) => boolean): void {
  let i = start;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
    if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
    if (smallest === i) return;
    [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
    i = smallest;
  }
}
