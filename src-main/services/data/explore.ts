/**
 * What the exploration views need, one call each (open, read, close): a 2-D slice for the slice
 * viewer, a histogram, and the correlation matrix of fields on one grid (values and first-order
 * backward differences; staggered fields averaged onto the common grid).
 */
import { FieldpackError } from '../../core/errors.ts';
import { type Field, type FieldValues, fieldSize } from '../../core/field.ts';
import { correlationMatrix, histogram, type CorrelationOptions, type CorrelationResult, type Histogram } from '../../core/stats/index.ts';
import { centralSlice, DESCRIBE_MAX_VALUES } from './describe.ts';
import { openDataFile } from './readers/index.ts';
import type { FieldSlice, OpenOptions } from './readers/types.ts';
import { checkNotEmpty } from './readers/util.ts';

export interface Slice2D {
  name: string;
  /** The two trailing dims shown (rows = dims[0]). */
  dims: [string, string];
  /** of the values returned: the slab's, or every stride-th row and column of it */
  shape: [number, number];
  /** the whole slab's */
  sourceShape: [number, number];
  stride: number;
  /** Indices chosen on the leading axes, in order. */
  at: Record<string, number>;
  values: FieldValues;
  /** 1 = valid; absent = all valid. */
  mask?: Uint8Array;
  units?: string;
  /** Over the valid finite points of the whole slab (not only those returned); null when none. */
  min: number | null;
  max: number | null;
  /** points of the whole slab that are masked or not finite */
  invalidCount: number;
}

/** Most values read at once when a slab is read in bands (every stride-th row and column kept): 64 MiB of float32. */
const SLAB_BAND_VALUES = 1 << 24;

/**
 * The 2-D slab of the last two axes at `leading` indices of the other axes (missing ones: 0).
 * A 1-D variable gives a 1 x n slab. With `stride` > 1, every stride-th row and column of it, read a band of rows
 * at a time (memory bounded by the band and the result, not the slab: a slab can be 50000 x 50000); min, max and
 * the invalid count still cover the whole slab.
 */
export async function readSlice2D(path: string, name: string, leading: number[] = [], options: { open?: OpenOptions; signal?: AbortSignal; stride?: number; bandValues?: number } = {}): Promise<Slice2D> {
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
    const [h, w]: [number, number] = nd === 1 ? [1, v.shape[0]!] : [v.shape[nd - 2]!, v.shape[nd - 1]!];
    const dims: [string, string] = nd === 1 ? ['', v.dims[0]!] : [v.dims[nd - 2]!, v.dims[nd - 1]!];
    checkNotEmpty(path, v);
    const stride = Math.max(1, Math.floor(options.stride ?? 1));
    const oh = Math.ceil(h / stride);
    const ow = Math.ceil(w / stride);
    // bands of whole rows (a 1-D variable: of its one row), each a multiple of the stride
    const along = nd === 1 ? w : h;
    const perStep = nd === 1 ? 1 : w;
    const band = Math.max(stride, Math.floor(Math.max(1, Math.floor((options.bandValues ?? SLAB_BAND_VALUES) / perStep)) / stride) * stride);
    let values: FieldValues | null = null;
    let mask: Uint8Array | null = null;
    let units: string | undefined;
    let min = Infinity;
    let max = -Infinity;
    let invalid = 0;
    for (let a = 0; a < along; a += band) {
      const b = Math.min(along, a + band);
      const f = await file.readField(name, { slice: nd === 1 ? [[a, b]] : [...slice, [a, b]], signal: options.signal, coordinates: false });
      units = f.units;
      const rows = nd === 1 ? 1 : b - a;
      const cols = nd === 1 ? b - a : w;
      if (stride === 1 && a === 0 && b === along) {
        values = f.values;
        mask = f.mask ?? null;
      } else {
        values ??= f.values instanceof Float64Array ? new Float64Array(oh * ow) : new Float32Array(oh * ow);
        if (f.mask) mask ??= new Uint8Array(oh * ow).fill(1);
      }
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          const x = f.values[i]!;
          const ok = !(f.mask && f.mask[i] !== 1) && Number.isFinite(x);
          if (!ok) invalid++;
          else {
            if (x < min) min = x;
            if (x > max) max = x;
          }
          if (values === f.values) continue;
          const row = nd === 1 ? 0 : a + r;
          const col = nd === 1 ? a + c : c;
          if (row % stride !== 0 || col % stride !== 0) continue;
          const o = (row / stride) * ow + col / stride;
          values![o] = x;
          if (mask && f.mask) mask[o] = f.mask[i]!;
        }
      }
    }
    return {
      name, dims, shape: [oh, ow], sourceShape: [h, w], stride, at, values: values!, ...(mask ? { mask } : {}), ...(units !== undefined ? { units } : {}),
      min: min <= max ? min : null, max: min <= max ? max : null, invalidCount: invalid,
    };
  } finally {
    file.close();
  }
}

/**
 * The histogram of a field's valid values (or of a slice of it). A block larger than DESCRIBE_MAX_VALUES is
 * represented by its central part of that many values (`sampled` says how many of how many), as describing a file
 * is: bounded memory whatever size a file declares.
 */
export async function fieldHistogram(path: string, name: string, options: { bins?: number; range?: [number, number]; slice?: FieldSlice; open?: OpenOptions; signal?: AbortSignal; maxValues?: number } = {}): Promise<Histogram & { sampled?: { values: number; of: number } }> {
  const file = await openDataFile(path, options.open);
  try {
    const v = file.variable(name);
    const asked = v.shape.map((n, i): [number, number] => options.slice?.[i] ?? [0, n]);
    const counts = asked.map(([a, b]) => b - a);
    const central = centralSlice(counts, options.maxValues ?? DESCRIBE_MAX_VALUES);
    const slice = asked.map(([a], i): [number, number] => [a + central[i]![0], a + central[i]![1]]);
    const f = await file.readField(name, { slice, signal: options.signal, coordinates: false });
    const h = histogram(f.values, f.mask, { bins: options.bins, range: options.range });
    const of = fieldSize(counts);
    return f.values.length < of ? { ...h, sampled: { values: f.values.length, of } } : h;
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
