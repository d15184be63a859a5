/** Histogram of a field's valid values. Pure. */
import { isValidAt } from './stats.ts';

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
  /** Valid values outside [edges[0], edges[bins]] when a range was given. */
  below: number;
  above: number;
  validCount: number;
}

export function histogram(values: ArrayLike<number>, mask?: Uint8Array, options: { bins?: number; range?: [number, number] } = {}): Histogram {
  const bins = Math.max(1, Math.floor(options.bins ?? 64));
  let lo = options.range?.[0];
  let hi = options.range?.[1];
  const n = values.length;
  if (lo === undefined || hi === undefined) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < n; i++) {
      if (!isValidAt(values, mask, i)) continue;
      const v = values[i]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    lo ??= mn;
    hi ??= mx;
  }
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  let valid = 0;
  if (!(lo <= hi)) return { edges: [], counts: [], below: 0, above: 0, validCount: 0 };
  const width = hi > lo ? (hi - lo) / bins : 1;
  for (let i = 0; i < n; i++) {
    if (!isValidAt(values, mask, i)) continue;
    valid++;
    const v = values[i]!;
    if (v < lo) below++;
    else if (v > hi) above++;
    else counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, k) => (k === bins ? hi! : lo! + k * width));
  return { edges, counts, below, above, validCount: valid };
}
