/**
 * The coordinates of a field's axes as the views show them: for each dimension its kind (recogniseAxis), the
 * coordinate variable's values and their labels (dates decoded from CF time units and calendars, degrees,
 * numbers with units; core/axis-labels.ts), or the index when the dimension has no coordinate variable.
 * Read once per file version (slider moves ask again and again).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { axisTicks, coordinateLabels } from '../../core/axis-labels.ts';
import { parseTimeUnits } from '../../core/cf-time.ts';
import type { SliceAxis } from '../../api/schemas.ts';
import { recogniseAxis } from './describe.ts';
import { openDataFile } from './readers/index.ts';
import type { DataFile, OpenOptions } from './readers/types.ts';

const cache = new Map<string, SliceAxis>();
const CACHE_MAX = 128;

/** One axis from an open file: its coordinate variable when the file has one (1-D, named like the dimension). */
async function axisOf(file: DataFile, dim: string, size: number): Promise<SliceAxis> {
  const along = (x: DataFile['variables'][number]) => x.readable && x.shape.length === 1 && x.dims[0] === dim && x.shape[0] === size;
  // the coordinate variable, else a CF time variable along the dimension (WRF's XTIME over Time)
  const v = file.variables.find((x) => x.name === dim && x.isCoordinate && along(x)) ?? file.variables.find((x) => along(x) && parseTimeUnits(x.units, x.attributes['calendar']) !== undefined);
  if (!v) {
    return indexAxis(dim, size, recogniseAxis(dim, size).kind);
  }
  const kind = recogniseAxis(dim, size, { name: v.name, attributes: v.attributes, ...(v.units !== undefined ? { units: v.units } : {}) }).kind;
  const f = await file.readField(v.name, { coordinates: false });
  const values = Array.from(f.values, (x, i) => (f.mask && f.mask[i] !== 1 ? NaN : x));
  const l = coordinateLabels(values, kind, { ...v.attributes, ...(v.units !== undefined ? { units: v.units } : {}) });
  const finite = values.map((x) => (Number.isFinite(x) ? x : null));
  return { dim, kind, coordinate: v.name, units: l.units, labels: l.labels, values: finite, climatology: l.climatology, ticks: axisTicks(finite, l.labels, kind, l.units) };
}

/** An axis without a coordinate variable: labelled by index. */
function indexAxis(dim: string, size: number, kind: SliceAxis['kind'] = 'other'): SliceAxis {
  const labels = Array.from({ length: size }, (_, i) => String(i));
  return { dim, kind, coordinate: null, units: null, labels, values: null, climatology: false, ticks: axisTicks(null, labels, kind, null) };
}

/**
 * The axes of `dims` (with sizes `shape`) in `path`, in order. A dimension without a coordinate variable gets
 * index labels ("0", "1", ...) and coordinate null, so the view can say so.
 */
export async function axesOf(path: string, dims: readonly string[], shape: readonly number[], open?: OpenOptions): Promise<SliceAxis[]> {
  const abs = resolve(path);
  let version = '';
  try {
    const st = statSync(abs);
    version = `${st.size}:${st.mtimeMs}`;
  } catch {
    /* a missing file fails below, in the reader, with its own message */
  }
  const key = (dim: string, size: number) => `${abs}\u0000${version}\u0000${dim}\u0000${size}`;
  const missing = dims.map((d, i) => [d, shape[i]!] as const).filter(([d, n]) => d && !cache.has(key(d, n)));
  if (missing.length) {
    const file = await openDataFile(abs, open);
    try {
      for (const [d, n] of missing) {
        cache.set(key(d, n), await axisOf(file, d, n));
        if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
      }
    } finally {
      file.close();
    }
  }
  return dims.map((d, i) => cache.get(key(d, shape[i]!)) ?? indexAxis(d, shape[i]!));
}
