/**
 * Correlation matrices between fields on one grid: of values, and of first-order backward differences
 * along each axis (d[i] = x[i] - x[i - 1] along that axis: the signal cross-field prediction uses).
 * Pearson r over valid points, masks intersected pair by pair. Fields on a staggered grid (one more
 * point along one axis, as WRF's U on west_east_stag) are averaged onto the common grid
 * (x[i] = (s[i] + s[i+1]) / 2); fields that match neither way are marked not comparable. Pure.
 */
import { fieldSize, sameShape, stridesOf } from '../field.ts';

export type MatchedBy = 'same-grid' | 'destagger-average' | 'not-comparable';

export interface CorrelationField {
  name: string;
  shape: number[];
  dims: string[];
  values: ArrayLike<number>;
  mask?: Uint8Array;
}

export interface CorrelationMatrix {
  /** r[i][j]; null where fewer than 3 common valid points or a constant field. */
  r: (number | null)[][];
  /** Common valid points per pair. */
  n: number[][];
}

export interface CorrelationResult {
  grid: { dims: string[]; shape: number[] };
  /** Same order as the input; rows/columns of every matrix follow it (not-comparable ones are null rows). */
  fields: Array<{ name: string; matchedBy: MatchedBy; note: string; destaggeredDim?: string }>;
  values: CorrelationMatrix;
  differences: Array<{ axis: number; dim: string } & CorrelationMatrix>;
}

export interface CorrelationOptions {
  /** The common grid; default the most frequent shape among the fields. */
  grid?: { dims: string[]; shape: number[] };
  /** Also correlate first-order backward differences along each axis of length > 1. Default true. */
  differences?: boolean;
}

interface Prepared {
  values: Float64Array;
  mask: Uint8Array;
}

/** Average neighbours along `axis` (size n+1 -> n); a point is valid when both neighbours are. */
export function destagger(f: CorrelationField, axis: number): { values: Float64Array; mask: Uint8Array; shape: number[] } {
  const shape = [...f.shape];
  shape[axis] = shape[axis]! - 1;
  const inStrides = stridesOf(f.shape);
  const outStrides = stridesOf(shape);
  const n = fieldSize(shape);
  const values = new Float64Array(n);
  const mask = new Uint8Array(n);
  const s = inStrides[axis]!;
  for (let o = 0; o < n; o++) {
    let rem = o;
    let inIdx = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(rem / outStrides[d]!);
      rem -= c * outStrides[d]!;
      inIdx += c * inStrides[d]!;
    }
    const a = f.values[inIdx]!;
    const b = f.values[inIdx + s]!;
    const ok = (!f.mask || (f.mask[inIdx] === 1 && f.mask[inIdx + s] === 1)) && Number.isFinite(a) && Number.isFinite(b);
    values[o] = ok ? (a + b) / 2 : NaN;
    mask[o] = ok ? 1 : 0;
  }
  return { values, mask, shape };
}

function prepare(f: CorrelationField): Prepared {
  const n = f.values.length;
  const values = new Float64Array(n);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = f.values[i]!;
    const ok = (!f.mask || f.mask[i] === 1) && Number.isFinite(v);
    values[i] = ok ? v : NaN;
    mask[i] = ok ? 1 : 0;
  }
  return { values, mask };
}

/** First-order backward differences along `axis`; undefined (masked) at index 0 of that axis. */
export function backwardDifferences(p: Prepared, shape: readonly number[], axis: number): Prepared {
  const n = p.values.length;
  const strides = stridesOf(shape);
  const s = strides[axis]!;
  const len = shape[axis]!;
  const values = new Float64Array(n);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / s) % len;
    if (c === 0 || p.mask[i] !== 1 || p.mask[i - s] !== 1) {
      values[i] = NaN;
      continue;
    }
    values[i] = p.values[i]! - p.values[i - s]!;
    mask[i] = 1;
  }
  return { values, mask };
}

function pearson(a: Prepared, b: Prepared): { r: number | null; n: number } {
  // shift by the first common value for numerical stability, then one pass of sums
  const len = a.values.length;
  let n = 0;
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  let a0 = NaN, b0 = NaN;
  for (let i = 0; i < len; i++) {
    if (a.mask[i] !== 1 || b.mask[i] !== 1) continue;
    if (n === 0) {
      a0 = a.values[i]!;
      b0 = b.values[i]!;
    }
    const x = a.values[i]! - a0;
    const y = b.values[i]! - b0;
    n++;
    sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
  }
  if (n < 3) return { r: null, n };
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  if (!(va > 0) || !(vb > 0)) return { r: null, n };
  const r = (sab - (sa * sb) / n) / Math.sqrt(va * vb);
  return { r: Math.max(-1, Math.min(1, r)), n };
}

function matrix(items: (Prepared | null)[]): CorrelationMatrix {
  const k = items.length;
  const r: (number | null)[][] = Array.from({ length: k }, () => new Array<number | null>(k).fill(null));
  const n: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    const a = items[i];
    if (!a) continue;
    for (let j = i; j < k; j++) {
      const b = items[j];
      if (!b) continue;
      const p = i === j ? selfCount(a) : pearson(a, b);
      r[i]![j] = r[j]![i] = p.r;
      n[i]![j] = n[j]![i] = p.n;
    }
  }
  return { r, n };
}

function selfCount(a: Prepared): { r: number | null; n: number } {
  let n = 0;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.mask.length; i++) {
    if (a.mask[i] !== 1) continue;
    n++;
    const v = a.values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { r: n >= 3 && hi > lo ? 1 : null, n };
}

/** The grid most fields match (same shape, or one staggered point more): the mass grid of a WRF file. */
export function commonGrid(fields: readonly Pick<CorrelationField, 'shape' | 'dims'>[]): { dims: string[]; shape: number[] } {
  let best: { score: number; f: Pick<CorrelationField, 'shape' | 'dims'> } | undefined;
  const tried = new Set<string>();
  for (const f of fields) {
    const key = f.shape.join('x');
    if (tried.has(key)) continue;
    tried.add(key);
    const grid = { dims: f.dims, shape: f.shape };
    let score = 0;
    for (const g of fields) if (matchGrid(g, grid).matchedBy !== 'not-comparable') score++;
    if (!best || score > best.score) best = { score, f };
  }
  return best ? { dims: [...best.f.dims], shape: [...best.f.shape] } : { dims: [], shape: [] };
}

/** How a field's grid relates to the common grid. */
export function matchGrid(f: Pick<CorrelationField, 'shape' | 'dims'>, grid: { dims: string[]; shape: number[] }): { matchedBy: MatchedBy; axis?: number; note: string } {
  if (sameShape(f.shape, grid.shape)) return { matchedBy: 'same-grid', note: 'on the common grid' };
  if (f.shape.length === grid.shape.length) {
    const off = f.shape.map((s, i) => s - grid.shape[i]!);
    const axes = off.map((d, i) => (d === 0 ? -1 : i)).filter((i) => i >= 0);
    if (axes.length === 1 && off[axes[0]!] === 1) {
      const a = axes[0]!;
      return { matchedBy: 'destagger-average', axis: a, note: `staggered along ${f.dims[a] ?? `axis ${a}`} (${f.shape[a]} points): averaged pairwise onto ${grid.dims[a] ?? `axis ${a}`} (${grid.shape[a]})` };
    }
  }
  return { matchedBy: 'not-comparable', note: `shape [${f.shape.join(', ')}] does not match the common grid [${grid.shape.join(', ')}] nor differs by one staggered point` };
}

export function correlationMatrix(fields: readonly CorrelationField[], options: CorrelationOptions = {}): CorrelationResult {
  const grid = options.grid ?? commonGrid(fields);
  const infos: CorrelationResult['fields'] = [];
  const prepared: (Prepared | null)[] = [];
  for (const f of fields) {
    if (f.values.length !== fieldSize(f.shape)) throw new Error(`correlation: field ${f.name} has ${f.values.length} values for shape [${f.shape.join(', ')}]`);
    const m = matchGrid(f, grid);
    if (m.matchedBy === 'same-grid') prepared.push(prepare(f));
    else if (m.matchedBy === 'destagger-average') {
      const d = destagger(f, m.axis!);
      prepared.push({ values: d.values, mask: d.mask });
    } else prepared.push(null);
    infos.push({ name: f.name, matchedBy: m.matchedBy, note: m.note, ...(m.axis !== undefined ? { destaggeredDim: f.dims[m.axis] } : {}) });
  }
  const values = matrix(prepared);
  const differences: CorrelationResult['differences'] = [];
  if (options.differences !== false) {
    grid.shape.forEach((len, axis) => {
      if (len < 2) return;
      const diffs = prepared.map((p) => (p ? backwardDifferences(p, grid.shape, axis) : null));
      differences.push({ axis, dim: grid.dims[axis] ?? `axis ${axis}`, ...matrix(diffs) });
    });
  }
  return { grid: { dims: [...grid.dims], shape: [...grid.shape] }, fields: infos, values, differences };
}
