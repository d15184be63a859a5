/**
 * What the exploration views need, one call each (open, read, close): a 2-D slice for the slice
 * viewer, a histogram, and the correlation matrix of fields on one grid (values and first-order
 * backward differences; staggered fields averaged onto the common grid).
 */
import { FieldpackError } from '../../core/errors.ts';
import type { Field, FieldValues } from '../../core/field.ts';
import { correlationMatrix, histogram, type CorrelationOptions, type CorrelationResult, type Histogram } from '../../core/stats/index.ts';
import { openDataFile } from './readers/index.ts';
import type { FieldSlice, OpenOptions } from './readers/types.ts';

export interface Slice2D {
  name: string;
  /** The two trailing dims shown (rows = dims[0]). */
  dims: [string, string];
  shape: [number, number];
  /** Indices chosen on the leading axes, in order. */
  at: Record<string, number>;
  values: FieldValues;
  /** 1 = valid; absent = all valid. */
  mask?: Uint8Array;
  units?: string;
  /** Over valid points of this slice; null when none. */
  min: number | null;
  max: number | null;
}

/**
 * The 2-D slab of the last two axes at `leading` indices of the other axes (missing ones: 0).
 * A 1-D variable gives a 1 x n slab.
 */
export async function readSlice2D(path: string, name: string, leading: number[] = [], options: { open?: OpenOptions; signal?: AbortSignal } = {}): Promise<Slice2D> {
  const file = await openDataFile(path, options.open);
  try {
    const v = file.variable(name);
    const nd = v.shape.length;
    if (nd === 0) throw new FieldpackError('INVALID_ARGUMENT', `${path}: "${name}" is a scalar, there is no slice to show`);
    const nLead = Math.max(0, nd - 2);
    if (leading.length > nLead) throw new FieldpackError('INVALID_ARGUMENT', `${path}: "${name}" has ${nLead} leading axes, got ${leading.length} indices`);
    const slice: FieldSlice = [];
    const at: Record<string, number> = {};
    for (let i = 0; i < nLead; i++) {
      const k = leading[i] ?? 0;
      slice.push([k, k + 1]);
      at[v.dims[i]!] = k;
    }
    const f = await file.readField(name, { slice, signal: options.signal });
    const shape: [number, number] = nd === 1 ? [1, v.shape[0]!] : [v.shape[nd - 2]!, v.shape[nd - 1]!];
    const dims: [string, string] = nd === 1 ? ['', v.dims[0]!] : [v.dims[nd - 2]!, v.dims[nd - 1]!];
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < f.values.length; i++) {
      const x = f.values[i]!;
      if ((f.mask && f.mask[i] !== 1) || !Number.isFinite(x)) continue;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return { name, dims, shape, at, values: f.values, ...(f.mask ? { mask: f.mask } : {}), ...(f.units !== undefined ? { units: f.units } : {}), min: min <= max ? min : null, max: min <= max ? max : null };
  } finally {
    file.close();
  }
}

export async function fieldHistogram(path: string, name: string, options: { bins?: number; range?: [number, number]; slice?: FieldSlice; open?: OpenOptions; signal?: AbortSignal } = {}): Promise<Histogram> {
  const file = await openDataFile(path, options.open);
  try {
    const f = await file.readField(name, { slice: options.slice, signal: options.signal });
    return histogram(f.values, f.mask, { bins: options.bins, range: options.range });
  } finally {
    file.close();
  }
}

/** Correlation matrix of fields (from one or more files) on one grid; see correlationMatrix for the result. */
export async function correlateFields(sources: Array<{ path: string; name: string; open?: OpenOptions }>, options: CorrelationOptions & { signal?: AbortSignal } = {}): Promise<CorrelationResult> {
  if (sources.length < 2) throw new FieldpackError('INVALID_ARGUMENT', 'correlation needs at least two fields');
  const fields: Field[] = [];
  const byPath = new Map<string, Awaited<ReturnType<typeof openDataFile>>>();
  try {
    for (const s of sources) {
      let f = byPath.get(s.path);
      if (!f) {
        f = await openDataFile(s.path, s.open);
        byPath.set(s.path, f);
      }
      fields.push(await f.readField(s.name, { signal: options.signal }));
    }
  } finally {
    for (const f of byPath.values()) f.close();
  }
  return correlationMatrix(fields, options);
}
