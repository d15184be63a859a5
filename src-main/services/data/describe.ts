/**
 * describeDataset(paths): what the store keeps about a dataset, as plain JSON. Every file is opened and
 * every numeric field read and summarised (stats, quantization step) before anything is returned, so
 * an import is all-or-nothing: the first bad file or variable throws a FieldpackError naming it.
 * Fields with the same dims and shape form a grid; grid axes are recognised from CF (axis, units
 * "since", positive, standard_name, degrees_north/east) or, failing that, from the dimension name.
 * Staggered grids (one more point along one axis) are linked to the grid they destagger onto.
 */
import { basename } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, fieldSize } from '../../core/field.ts';
import { fieldStats, matchGrid, undeclaredFill } from '../../core/stats/index.ts';
import { openDataFile } from './readers/index.ts';
import type { DataFile, OpenOptions } from './readers/types.ts';
import { checkAborted, emptyDimension, notAFieldReason } from './readers/util.ts';

export type { AxisDescription, AxisKind, AxisRecognisedBy, CoordinateDescription, DatasetDescription, DescribedFieldStats, FieldDescription, FileDescription, GridDescription, NonFiniteCounts } from '../../api/methods/description.ts';
import type { AxisDescription, AxisKind, AxisRecognisedBy, CoordinateDescription, DatasetDescription, DescribedFieldStats, FieldDescription, FileDescription, GridDescription, NonFiniteCounts } from '../../api/methods/description.ts';

/**
 * Variables larger than this are described from a central block of at most this many values (128 MiB of float32),
 * so that describing a file (inspect, import) needs bounded memory: a file of a few kilobytes can declare a variable
 * of 10 GB (unwritten chunks read as fill).
 */
export const DESCRIBE_MAX_VALUES = 1 << 25;

/**
 * The central block of a shape with at most `limit` values: whole trailing dims where they fit, the dim before them
 * cut to a centred range, single central indices before that.
 */
export function centralSlice(shape: number[], limit: number): [number, number][] {
  const slice: [number, number][] = shape.map((n) => [0, n]);
  let rest = fieldSize(shape);
  for (let d = 0; d < shape.length && rest > limit; d++) {
    const n = shape[d]!;
    const inner = rest / n;
    const keep = Math.max(1, Math.min(n, Math.floor(limit / inner)));
    const start = Math.floor((n - keep) / 2);
    slice[d] = [start, start + keep];
    rest = inner * keep;
  }
  return slice;
}

/** fieldStats with the non-finite valid values counted, and fillFraction counting masked points only. */
export function describeStats(field: Parameters<typeof fieldStats>[0], options: Parameters<typeof fieldStats>[1] = {}): DescribedFieldStats {
  const stats = fieldStats(field, options);
  const { values, mask } = field;
  const nonFinite: NonFiniteCounts = { nan: 0, posInf: 0, negInf: 0 };
  let masked = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask !== undefined && mask[i] !== 1) {
      masked++;
      continue;
    }
    const v = values[i]!;
    if (v !== v) nonFinite.nan++;
    else if (v === Infinity) nonFinite.posInf++;
    else if (v === -Infinity) nonFinite.negInf++;
  }
  const undeclared = undeclaredFill(values, mask);
  return { ...stats, fillFraction: values.length === 0 ? 0 : masked / values.length, nonFinite, ...(undeclared ? { undeclaredFill: undeclared } : {}) };
}

export interface DescribeOptions {
  name?: string;
  /** Per-path open options (raw binary shape/dtype). */
  open?: Record<string, OpenOptions>;
  /** Only these variable names (any file). */
  variables?: string[];
  distinctCap?: number;
  /** variables larger than this are described from a central block of this many values at most (DESCRIBE_MAX_VALUES) */
  maxValues?: number;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

const STANDARD_NAMES: Record<string, AxisKind> = {
  time: 'time',
  latitude: 'latitude',
  longitude: 'longitude',
  grid_latitude: 'y',
  grid_longitude: 'x',
  projection_y_coordinate: 'y',
  projection_x_coordinate: 'x',
  altitude: 'level',
  height: 'level',
  depth: 'level',
  air_pressure: 'level',
  model_level_number: 'level',
};

/**
 * A dataset's default name from its files: one file's name, two or three joined, or the first and how many more (two
 * files imported together were named after the first alone, and their fields listed under it).
 */
export function datasetName(paths: readonly string[]): string {
  const names = paths.map((p) => basename(p).replace(/\.[^.]+$/, ''));
  if (names.length <= 3) return names.join(' + ');
  return `${names[0]} + ${names.length - 1} more`;
}

export function recogniseAxis(dim: string, size: number, coord?: { name: string; attributes: Record<string, unknown>; units?: string }): AxisDescription {
  const base: AxisDescription = { dim, size, kind: 'other', recognisedBy: null };
  if (/_stag$/i.test(dim)) base.staggered = true;
  if (coord) {
    base.coordinate = coord.name;
    if (coord.units) base.units = coord.units;
    const a = coord.attributes;
    const axis = typeof a['axis'] === 'string' ? a['axis'].toUpperCase() : '';
    const units = (coord.units ?? '').toLowerCase();
    const std = typeof a['standard_name'] === 'string' ? a['standard_name'] : '';
    if (axis === 'T') return { ...base, kind: 'time', recognisedBy: 'cf-axis' };
    if (axis === 'Z') return { ...base, kind: 'level', recognisedBy: 'cf-axis' };
    if (axis === 'Y') return { ...base, kind: units.includes('degree') ? 'latitude' : 'y', recognisedBy: 'cf-axis' };
    if (axis === 'X') return { ...base, kind: units.includes('degree') ? 'longitude' : 'x', recognisedBy: 'cf-axis' };
    if (/\bsince\b/.test(units)) return { ...base, kind: 'time', recognisedBy: 'cf-units' };
    if (typeof a['positive'] === 'string' && /^(up|down)$/i.test(a['positive'])) return { ...base, kind: 'level', recognisedBy: 'cf-positive' };
    if (STANDARD_NAMES[std]) return { ...base, kind: STANDARD_NAMES[std]!, recognisedBy: 'cf-standard_name' };
    if (/^degrees?_?(north|n)$/.test(units)) return { ...base, kind: 'latitude', recognisedBy: 'cf-units' };
    if (/^degrees?_?(east|e)$/.test(units)) return { ...base, kind: 'longitude', recognisedBy: 'cf-units' };
    if (/^(pa|hpa|mbar|millibar|mb|bar)$/.test(units)) return { ...base, kind: 'level', recognisedBy: 'cf-units' };
  }
  const d = dim.toLowerCase().replace(/_stag$/, '');
  if (/^(time|times|t|date|month|record)$/.test(d)) return { ...base, kind: 'time', recognisedBy: 'name' };
  if (/^(lev|level|levels|plev|depth|height|z|bottom_top|soil_layers|sigma|isobaric)/.test(d)) return { ...base, kind: 'level', recognisedBy: 'name' };
  if (/^(lat|latitude)$/.test(d)) return { ...base, kind: 'latitude', recognisedBy: 'name' };
  if (/^(lon|long|longitude)$/.test(d)) return { ...base, kind: 'longitude', recognisedBy: 'name' };
  if (/^(y|south_north|rlat|nlat|j)$/.test(d)) return { ...base, kind: 'y', recognisedBy: 'name' };
  if (/^(x|west_east|rlon|nlon|i)$/.test(d)) return { ...base, kind: 'x', recognisedBy: 'name' };
  return base;
}

export async function describeDataset(paths: string[], options: DescribeOptions = {}): Promise<DatasetDescription> {
  const t0 = performance.now();
  if (paths.length === 0) throw new FieldpackError('INVALID_ARGUMENT', 'a dataset needs at least one file');
  if (new Set(paths).size !== paths.length) throw new FieldpackError('INVALID_ARGUMENT', 'the same file is listed twice');
  const opened: DataFile[] = [];
  try {
    // 1. open every file (headers validated, truncation checked) before reading any values
    for (const p of paths) {
      checkAborted(options.signal, 'opening files');
      opened.push(await openDataFile(p, options.open?.[p]));
    }
    const only = options.variables ? new Set(options.variables) : undefined;
    if (only) {
      for (const n of only) {
        if (!opened.some((f) => f.variables.some((v) => v.name === n))) {
          throw new FieldpackError('NOT_FOUND', `${paths.join(', ')}: no variable "${n}" (variables: ${[...new Set(opened.flatMap((f) => f.variables.map((v) => v.name)))].join(', ')})`, { variable: n });
        }
      }
    }
    const files: FileDescription[] = opened.map((f) => ({ path: f.path, name: basename(f.path), format: f.format, sizeBytes: f.sizeBytes, dimensions: { ...f.dimensions }, globalAttributes: f.globalAttributes }));
    const skipped: DatasetDescription['skipped'] = [];
    const coordinates: CoordinateDescription[] = [];
    type Todo = { file: number; name: string };
    const todo: Todo[] = [];
    const nameCount = new Map<string, number>();
    opened.forEach((f, fi) => {
      const auxNames = new Set<string>();
      for (const v of f.variables) {
        const c = v.attributes['coordinates'];
        if (typeof c === 'string') for (const n of c.split(/\s+/)) if (n) auxNames.add(n);
      }
      for (const v of f.variables) {
        if (!v.readable) {
          skipped.push({ file: fi, name: v.name, reason: notAFieldReason(v)! });
          continue;
        }
        if (v.isCoordinate) continue; // read below, in the coordinate pass
        const emptyDim = emptyDimension(v);
        if (emptyDim !== null) {
          skipped.push({ file: fi, name: v.name, reason: `no values yet: dimension ${emptyDim} has length 0` });
          continue;
        }
        if (only && !only.has(v.name)) continue;
        todo.push({ file: fi, name: v.name });
        nameCount.set(v.name, (nameCount.get(v.name) ?? 0) + 1);
      }
      (f as DataFile & { __aux?: Set<string> }).__aux = auxNames;
    });
    // a variable Fieldpack cannot read exactly (64-bit integers a double cannot hold) is left out with the reason, the
    // others kept; any other failure fails the import
    const skipUnreadable = (fi: number, name: string, e: unknown) => {
      if (!(e instanceof FieldpackError && e.code === 'UNSUPPORTED')) throw e;
      skipped.push({ file: fi, name, reason: e.message.replace(`${opened[fi]!.path}: `, '') });
    };
    // 2. coordinates (small)
    for (let fi = 0; fi < opened.length; fi++) {
      for (const v of opened[fi]!.variables) {
        if (!v.readable || !v.isCoordinate) continue;
        // an unlimited dimension with no records yet: its coordinate has no values to read; one Fieldpack cannot
        // read exactly (64-bit integers past 2^53) is left out, as a variable of an unread dtype is
        let c: { values: ArrayLike<number>; mask?: Uint8Array | null };
        try {
          c = fieldSize(v.shape) ? await opened[fi]!.readField(v.name, { signal: options.signal }) : { values: new Float64Array(0), mask: null };
        } catch (e) {
          skipUnreadable(fi, v.name, e);
          continue;
        }
        const vals = Array.from(c.values, (x, i) => (c.mask && c.mask[i] === 0 ? null : x));
        coordinates.push({
          file: fi,
          name: v.name,
          dims: v.dims,
          size: v.shape[0] ?? 1,
          ...(v.units ? { units: v.units } : {}),
          attributes: v.attributes,
          kind: recogniseAxis(v.dims[0] ?? v.name, v.shape[0] ?? 1, { name: v.name, attributes: v.attributes, ...(v.units ? { units: v.units } : {}) }).kind,
          first: vals[0] ?? null,
          last: vals[vals.length - 1] ?? null,
          ...(vals.length <= 4096 ? { values: vals.map((x) => x ?? NaN) } : {}),
        });
      }
    }
    // 3. every field read and summarised
    const total = todo.reduce((s, t) => s + fieldSize(opened[t.file]!.variable(t.name).shape), 0);
    let done = 0;
    const fields: FieldDescription[] = [];
    for (const t of todo) {
      checkAborted(options.signal, `importing ${t.name}`);
      const f = opened[t.file]!;
      const v = f.variable(t.name);
      const n = fieldSize(v.shape);
      const limit = options.maxValues ?? DESCRIBE_MAX_VALUES;
      const slice = n > limit ? centralSlice(v.shape, limit) : undefined;
      let field: Field;
      try {
        field = await f.readField(t.name, {
          signal: options.signal,
          ...(slice ? { slice, coordinates: false } : {}),
          onProgress: (fr) => options.onProgress?.(total ? (done + fr * n * 0.8) / total : 1, `${basename(f.path)}: ${t.name}`),
        });
      } catch (e) {
        skipUnreadable(t.file, t.name, e);
        done += n;
        continue;
      }
      const stats: DescribedFieldStats = describeStats(field, { distinctCap: options.distinctCap, scaleFactor: v.fill.packing?.scaleFactor });
      if (slice) stats.sample = { slice, values: field.values.length };
      done += n;
      options.onProgress?.(total ? done / total : 1, `${basename(f.path)}: ${t.name}`);
      const aux = (f as DataFile & { __aux?: Set<string> }).__aux!;
      fields.push({
        id: (nameCount.get(t.name) ?? 0) > 1 ? `${t.name}@${t.file}` : t.name,
        file: t.file,
        name: t.name,
        dims: v.dims,
        shape: v.shape,
        dtype: v.dtype,
        valuesDtype: field.values instanceof Float64Array ? 'float64' : 'float32',
        ...(v.units !== undefined ? { units: v.units } : {}),
        ...(v.longName !== undefined ? { longName: v.longName } : {}),
        attributes: v.attributes,
        fill: v.fill,
        gridId: '',
        role: aux.has(t.name) ? 'auxiliary-coordinate' : 'data',
        stats,
      });
    }
    // 4. grids
    const grids: GridDescription[] = [];
    const gridKey = (f: FieldDescription) => `${f.dims.join(',')}|${f.shape.join('x')}`;
    const byKey = new Map<string, GridDescription>();
    for (const fd of fields) {
      let g = byKey.get(gridKey(fd));
      if (!g) {
        const file = opened[fd.file]!;
        const axes = fd.dims.map((dim, i) => {
          const cv = file.variables.find((x) => x.isCoordinate && x.name === dim);
          return recogniseAxis(dim, fd.shape[i]!, cv ? { name: cv.name, attributes: cv.attributes, units: cv.units } : undefined);
        });
        g = { id: `g${grids.length + 1}`, dims: [...fd.dims], shape: [...fd.shape], axes, fields: [], staggeredFields: [] };
        grids.push(g);
        byKey.set(gridKey(fd), g);
      }
      g.fields.push(fd.id);
      fd.gridId = g.id;
    }
    for (const g of grids) {
      for (const h of grids) {
        if (g === h) continue;
        const m = matchGrid({ shape: g.shape, dims: g.dims }, { shape: h.shape, dims: h.dims });
        if (m.matchedBy === 'destagger-average') {
          g.destaggersTo = h.id;
          g.axes[m.axis!]!.staggered = true;
          h.staggeredFields.push(...g.fields);
        }
      }
    }
    return {
      name: options.name ?? datasetName(paths),
      files,
      grids,
      fields,
      coordinates,
      skipped,
      totalValues: total,
      elapsedMs: Math.round(performance.now() - t0),
    };
  } finally {
    for (const f of opened) f.close();
  }
}
