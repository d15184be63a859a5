/**
 * Data exploration methods on stored datasets (api/methods/data.ts DATA_METHODS; those on files are
 * handlers/data-files.ts) over the data service's explore helpers. Imports are jobs
 * of kind `dataset.import` (job-kinds/import.ts). Correlation matrices read every field of a grid, so
 * they are cached per dataset and grid (a dataset's fields never change after import).
 */
import { FieldpackError } from '../../core/errors.ts';
import type { Dataset, FieldRecord } from '../../api/contract.ts';
import type { CorrelationOut, DATA_METHODS, DataSliceOut, HistogramOut } from '../../api/methods/data.ts';
import { correlateFields, fieldHistogram, readSlice2D } from '../data/explore.ts';
import { axesOf } from '../data/axes.ts';
import type { CoordinateDescription, GridDescription } from '../data/describe.ts';
import type { FieldSlice, OpenOptions } from '../data/readers/types.ts';
import type { Store } from '../store/store.ts';
import type { HandlerDeps, Handlers } from './types.ts';

interface StoredDescription {
  files?: Array<{ path: string }>;
  grids?: GridDescription[];
  coordinates?: CoordinateDescription[];
  openOptions?: Record<string, OpenOptions>;
}

const describe = (d: Dataset) => d.description as StoredDescription;

function openOptionsOf(d: Dataset, path: string): OpenOptions | undefined {
  return describe(d).openOptions?.[path];
}

function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Leading indices clamped to the field's leading axes (the two trailing axes are the slice). */
function clampLeading(f: FieldRecord, leading: number[]): number[] {
  const nLead = Math.max(0, f.shape.length - 2);
  return f.shape.slice(0, nLead).map((n, k) => Math.min(Math.max(0, Math.trunc(leading[k] ?? 0)), n - 1));
}

/** Whether the slice's row axis runs northwards (draw row 0 at the bottom). */
function rowsIncreaseNorth(d: Dataset, f: FieldRecord): boolean {
  if (f.shape.length < 2) return false;
  const desc = describe(d);
  const grid = desc.grids?.find((g) => g.id === f.gridKey);
  const axis = grid?.axes[f.shape.length - 2];
  if (!axis || (axis.kind !== 'latitude' && axis.kind !== 'y')) return false;
  const fileIndex = desc.files?.findIndex((x) => x.path === f.file) ?? -1;
  const coord = axis.coordinate ? desc.coordinates?.find((c) => c.name === axis.coordinate && (fileIndex < 0 || c.file === fileIndex)) : undefined;
  if (coord && coord.first !== null && coord.last !== null) return coord.last > coord.first;
  // projection y (WRF south_north) without a coordinate variable: model grids are stored south first
  return axis.kind === 'y';
}

export async function sliceOfField(store: Store, fieldId: number, leading: number[], maxSize = 720): Promise<DataSliceOut> {
  const f = store.getField(fieldId);
  const d = store.getDataset(f.datasetId);
  if (f.shape.length === 0) throw new FieldpackError('INVALID_ARGUMENT', `${f.file}: "${f.name}" is a scalar, there is no slice to show`);
  const index = clampLeading(f, leading);
  const n = f.shape.length;
  const [h, w] = n === 1 ? [1, f.shape[0]!] : [f.shape[n - 2]!, f.shape[n - 1]!];
  const stride = Math.max(1, Math.ceil(Math.max(h, w) / maxSize));
  // every stride-th row and column, read in bands: a 50000 x 50000 slab is never in memory whole
  const s = await readSlice2D(f.file, f.name, index, { open: openOptionsOf(d, f.file), stride });
  const [oh, ow] = s.shape;
  const out = new Float32Array(oh * ow);
  for (let i = 0; i < out.length; i++) {
    const v = s.values[i]!;
    out[i] = (s.mask && s.mask[i] !== 1) || !Number.isFinite(v) ? NaN : v;
  }
  const nLead = index.length;
  return {
    fieldId,
    name: f.name,
    dims: s.dims,
    leadingDims: f.dims.slice(0, nLead),
    leadingShape: f.shape.slice(0, nLead),
    index,
    sourceHeight: h,
    sourceWidth: w,
    height: oh,
    width: ow,
    stride,
    data: toBase64(out),
    min: s.min,
    max: s.max,
    maskedFraction: h * w ? s.invalidCount / (h * w) : 0,
    units: f.units ?? s.units ?? null,
    flipY: rowsIncreaseNorth(d, f),
    axes: await axesOf(f.file, f.dims, f.shape, openOptionsOf(d, f.file)),
  };
}

export async function histogramOfField(store: Store, fieldId: number, bins: number, leading?: number[]): Promise<HistogramOut> {
  const f = store.getField(fieldId);
  const d = store.getDataset(f.datasetId);
  const index = leading ? clampLeading(f, leading).slice(0, leading.length) : [];
  const slice: FieldSlice = index.map((k) => [k, k + 1]);
  const h = await fieldHistogram(f.file, f.name, { bins, slice, open: openOptionsOf(d, f.file) });
  return { fieldId, name: f.name, units: f.units, index, edges: h.edges, counts: h.counts, validCount: h.validCount, ...(h.sampled ? { sampled: h.sampled } : {}) };
}

interface GridChoice {
  grid: GridDescription;
  members: FieldRecord[];
  staggered: number;
}

/** Data fields of each grid (auxiliary coordinates such as WRF's XLAT left out), staggered ones after. */
function gridsOf(d: Dataset, fields: FieldRecord[]): GridChoice[] {
  const desc = describe(d);
  const files = desc.files ?? [];
  const byDescId = new Map<string, FieldRecord>();
  const nameCount = new Map<string, number>();
  for (const f of fields) nameCount.set(f.name, (nameCount.get(f.name) ?? 0) + 1);
  for (const f of fields) {
    const fi = files.findIndex((x) => x.path === f.file);
    byDescId.set((nameCount.get(f.name) ?? 0) > 1 ? `${f.name}@${fi}` : f.name, f);
  }
  const isData = (f: FieldRecord | undefined): f is FieldRecord => !!f && f.stats['role'] !== 'auxiliary-coordinate' && f.shape.length > 0;
  return (desc.grids ?? []).map((grid) => {
    const same = grid.fields.map((id) => byDescId.get(id)).filter(isData);
    const stag = grid.staggeredFields.map((id) => byDescId.get(id)).filter(isData);
    return { grid, members: [...same, ...stag], staggered: stag.length };
  });
}

const correlationCache = new Map<string, CorrelationOut>();
const CACHE_MAX = 32;

export async function correlationOfDataset(store: Store, datasetId: number, gridKey?: string): Promise<CorrelationOut> {
  const d = store.getDataset(datasetId);
  const fields = store.listFields(datasetId);
  const choices = gridsOf(d, fields).filter((c) => c.members.length >= 2);
  // a normal state (one field per grid), said as such; details.reason lets a view show it as a note, not a failure
  if (!choices.length) throw new FieldpackError('INVALID_ARGUMENT', `nothing to correlate: "${d.name}" has no grid with two or more fields`, { reason: 'nothing-to-correlate', datasetId });
  const size = (g: GridDescription) => g.shape.reduce((a, b) => a * b, 1);
  let choice: GridChoice | undefined;
  if (gridKey) {
    choice = choices.find((c) => c.grid.id === gridKey);
    if (!choice) throw new FieldpackError('NOT_FOUND', `dataset ${datasetId}: no grid "${gridKey}" with two or more fields (grids: ${choices.map((c) => c.grid.id).join(', ')})`);
  } else {
    // the grid with the most data: fields x points (WRF's 3-D mass grid rather than its 2-D surface one)
    choice = [...choices].sort((a, b) => b.members.length * size(b.grid) - a.members.length * size(a.grid))[0]!;
  }
  const grids = choices.map((c) => ({ key: c.grid.id, dims: c.grid.dims, shape: c.grid.shape, fields: c.members.length - c.staggered, staggered: c.staggered }));
  const key = `${datasetId}|${d.createdAt}|${choice.grid.id}`;
  const hit = correlationCache.get(key);
  if (hit) return { ...hit, grids, cached: true };

  const t0 = performance.now();
  const r = await correlateFields(
    choice.members.map((f) => ({ path: f.file, name: f.name, open: openOptionsOf(d, f.file) })),
    { grid: { dims: choice.grid.dims, shape: choice.grid.shape } },
  );
  const out: CorrelationOut = {
    datasetId,
    gridKey: choice.grid.id,
    grids,
    grid: r.grid,
    fields: r.fields.map((x, i) => ({ fieldId: choice.members[i]!.id, name: x.name, matchedBy: x.matchedBy, note: x.note, destaggeredDim: x.destaggeredDim ?? null })),
    values: r.values,
    differences: r.differences,
    cached: false,
    elapsedMs: Math.round(performance.now() - t0),
  };
  correlationCache.set(key, out);
  if (correlationCache.size > CACHE_MAX) correlationCache.delete(correlationCache.keys().next().value!);
  return out;
}

export function dataHandlers({ store }: HandlerDeps): Handlers<keyof typeof DATA_METHODS> {
  return {
    'data.slice': ({ fieldId, leading, maxSize }) => sliceOfField(store, fieldId, leading, maxSize),
    'data.histogram': ({ fieldId, bins, leading }) => histogramOfField(store, fieldId, bins, leading),
    'data.correlation': ({ datasetId, gridKey }) => correlationOfDataset(store, datasetId, gridKey),
  };
}
