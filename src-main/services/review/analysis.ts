/**
 * The error analysis of one finished compress run, behind the Compare view's charts and the reports: the error
 * map, SSIM map, spectra and derived quantities of one 2D slice, the error histogram and autocorrelation of the
 * whole field. Computed from the data file and the run's stored stream (or a baseline's reconstruction), then
 * cached beside the run's artifacts (a JSON file per slice), so a second look, an export and a report reuse it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import {
  divergence,
  errorAutocorrelationByLag,
  errorHistogram,
  errorStat,
  gradientMagnitude,
  radialPowerSpectrum,
  sizeStat,
  sliceOf,
  ssimMap,
  vectorPartner,
  vorticity,
} from '../../core/metrics/index.ts';
import type { CompressParams } from '../../api/methods/compression.ts';
import type { MapData, RunAnalysis } from '../../api/methods/review.ts';
import type { RunDetail } from '../../api/schemas.ts';
import type { Store } from '../store/store.ts';
import { runDir } from '../store/files.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { decodeStream, encodeField } from '../codecs/index.ts';
import { openDataFile } from '../data/readers/index.ts';
import { COMPRESS_KIND, CROSSFIELD_KIND, fieldRunParams, fieldRunResult, increasingCoordinate, readVariable, sourceChange, type CompressRunResult, type SourceIdentity } from '../compression/runs.ts';
import { EXTERNAL } from '../compression/baselines/external.ts';
import { makeFolder } from '../files/folders.ts';

/** Bump when what is computed changes: older cache files are then ignored. */
export const ANALYSIS_VERSION = 1;
/** Largest side of a map sent to the Compare view and the reports. */
const MAP_SIZE = 192;
/** Largest side of a slice given to the spectrum (a direct DFT: larger slices are sampled down first). */
const SPECTRUM_SIZE = 256;
const LAGS = 24;

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** A slice (h x w at offset) as a map of at most `size` a side (nearest sample: single-point errors stay visible). */
export function toMap(values: ArrayLike<number>, h: number, w: number, mask: Uint8Array | null, offset = 0, size = MAP_SIZE): MapData {
  const step = Math.max(1, Math.ceil(Math.max(h, w) / size));
  const oh = Math.ceil(h / step);
  const ow = Math.ceil(w / step);
  const out: (number | null)[] = new Array(oh * ow);
  let min = Infinity;
  let max = -Infinity;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const k = offset + y * step * w + x * step;
      const v = mask && mask[k] === 0 ? NaN : values[k]!;
      out[y * ow + x] = finiteOrNull(v);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { height: oh, width: ow, step, values: out, min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
}

/** Every step-th point of a slice along both axes (the spectrum's input for large slices). */
function sampled(values: ArrayLike<number>, h: number, w: number, offset: number, step: number): { data: Float64Array; h: number; w: number } {
  const oh = Math.ceil(h / step), ow = Math.ceil(w / step);
  const data = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) data[y * ow + x] = values[offset + y * step * w + x * step]!;
  return { data, h: oh, w: ow };
}

/** The cache file of a run's analysis of the slice at `index` (whole numbers: nothing else reaches the file name). */
function cachePath(store: Store, runId: number, index: number[]): string {
  if (!index.every((i) => Number.isSafeInteger(i) && i >= 0)) throw new FieldpackError('INVALID_ARGUMENT', `a slice index is whole numbers from 0, not ${JSON.stringify(index)}`);
  return join(runDir(store, runId), `analysis.v${ANALYSIS_VERSION}.${index.length ? index.join('_') : 'all'}.json`);
}

/** The cached analysis of a run's default slice, or null (exports carry it; the Compare view asks for it). */
export function cachedAnalysis(store: Store, runId: number): RunAnalysis | null {
  const dir = runDir(store, runId);
  if (!existsSync(dir)) return null;
  const run = store.getRun(runId);
  const shape = ((run.result ?? {}) as Partial<CompressRunResult>).shape;
  if (!shape) return null;
  const p = cachePath(store, runId, sliceOf(shape).index);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as RunAnalysis) : null;
}

/** Stores an analysis computed elsewhere (an imported run's) as this run's cache. */
export async function storeAnalysis(store: Store, runId: number, a: RunAnalysis): Promise<void> {
  makeFolder(runDir(store, runId));
  await writeFileAtomic(cachePath(store, runId, a.slice.index), JSON.stringify({ ...a, runId }));
}

/** A finished field run (compress or cross-field, FIELD_RUN_KINDS) that can have an error analysis. */
export function compressRunOf(store: Store, runId: number): RunDetail {
  const run = store.getRunDetail(runId);
  fieldRunResult(run, 'an error analysis');
  return run;
}

/** The whole reconstruction of a run, from its stream (decoded) or a baseline's raw float32 artifact. */
export async function reconstructionOfRun(run: RunDetail, signal?: AbortSignal): Promise<ArrayLike<number>> {
  const art = run.artifacts.find((a) => a.kind === 'fpk' || a.kind === 'reconstruction');
  if (!art) throw new FieldpackError('NOT_FOUND', `run ${run.id} has no stream or reconstruction artifact`, { runId: run.id });
  if (!existsSync(art.path)) throw new FieldpackError('NOT_FOUND', `run ${run.id}: its artifact ${art.path} is missing`, { runId: run.id, path: art.path });
  const bytes = new Uint8Array(readFileSync(art.path));
  if (art.kind === 'reconstruction') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return (await decodeStream(bytes, { deps: { besidePath: art.path }, signal })).field.values;
}

async function readOriginal(file: string, variable: string, runId: number, source: SourceIdentity | undefined): Promise<Field> {
  if (!existsSync(file)) {
    throw new FieldpackError('NOT_FOUND', `run ${runId}: its data file ${file} is not on this machine, so its analysis cannot be computed here (an exported run carries the analysis made where it ran)`, { runId, file });
  }
  // errors against other values than the run compressed would be wrong, beside its stored metrics
  const changed = sourceChange(file, source);
  if (changed) throw new FieldpackError('CONFLICT', `run ${runId}: its data file ${file} is not the one it compressed: ${changed}; its errors cannot be computed from it`, { runId, file });
  return readVariable(file, variable);
}

/**
 * The partner of a u or v component compressed as this run was: a finished run of the partner with the same file,
 * codec and bound when the project has one, else the partner encoded now with the same codec and bound (not for
 * external baselines or residual coders, which need their tool or base).
 */
async function partnerPair(store: Store, run: RunDetail, field: Field, recon: ArrayLike<number>): Promise<{ pair: { u: string; v: string }; before: [ArrayLike<number>, ArrayLike<number>]; after: [ArrayLike<number>, ArrayLike<number>] } | string> {
  const p = fieldRunParams(run);
  // a cross-field run's partner is coded with the core codec, as its anchors are
  const codec = run.kind === CROSSFIELD_KIND ? 'auto' : p.codec;
  const bound = p.bound!;
  const pair = vectorPartner(p.variable);
  if (!pair) return `vorticity and divergence: ${p.variable} is not one of a u/v pair`;
  const other = p.variable === pair.u ? pair.v : pair.u;
  const df = await openDataFile(resolve(p.file));
  let exists = false;
  try {
    exists = df.variables.some((v) => v.name === other && v.readable);
  } finally {
    df.close();
  }
  if (!exists) return `vorticity and divergence: the file has no ${other} beside ${p.variable}`;
  const otherField = await readVariable(resolve(p.file), other);
  if (otherField.values.length !== field.values.length) return `vorticity and divergence: ${other} is on another grid than ${p.variable}`;
  const same = store
    .listRuns({ projectId: run.projectId, kind: COMPRESS_KIND, statuses: ['finished'], limit: 1000 })
    .find((r) => {
      const q = fieldRunParams(r);
      return q.variable === other && resolve(q.file) === resolve(p.file) && q.codec === codec && q.bound?.mode === bound.mode && q.bound?.value === bound.value && (q.base ?? '') === (p.base ?? '');
    });
  let otherRecon: ArrayLike<number>;
  if (same) otherRecon = await reconstructionOfRun(store.getRunDetail(same.id));
  else if (codec in EXTERNAL || p.base) return `vorticity and divergence: compress ${other} with ${codec} at ${bound.mode}:${bound.value} too (a run of the pair is needed)`;
  else otherRecon = (await decodeStream((await encodeField(otherField, { codec, bound, ...(p.params ? { params: p.params } : {}), verify: false })).bytes)).field.values;
  const isU = p.variable === pair.u;
  return {
    pair,
    before: isU ? [field.values, otherField.values] : [otherField.values, field.values],
    after: isU ? [recon, otherRecon] : [otherRecon, recon],
  };
}

function derivedStat(name: string, from: string, before: Float64Array, after: Float64Array, h: number, w: number): RunAnalysis['derived'][number] {
  const s = errorStat(before, after);
  return {
    name,
    from,
    rmse: finiteOrNull(s.rmse),
    maxError: finiteOrNull(s.max_error),
    valueRange: finiteOrNull(s.value_range),
    nrmse: finiteOrNull(s.value_range > 0 ? s.rmse / s.value_range : NaN),
    psnr: finiteOrNull(s.psnr),
    before: toMap(before, h, w, null, 0, 96),
    after: toMap(after, h, w, null, 0, 96),
  };
}

/** The analysis of a run (cached unless `refresh`). */
export async function analyseRun(store: Store, runId: number, opts: { index?: number[]; refresh?: boolean; signal?: AbortSignal } = {}): Promise<RunAnalysis> {
  const run = compressRunOf(store, runId);
  const r = run.result as CompressRunResult;
  const p = fieldRunParams(run);
  const slice = sliceOf(r.shape, opts.index);
  const cache = cachePath(store, runId, slice.index);
  if (!opts.refresh && existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as RunAnalysis;

  const t0 = performance.now();
  const file = resolve(p.file);
  const field = await readOriginal(file, p.variable, runId, r.source);
  const recon = await reconstructionOfRun(run, opts.signal);
  if (recon.length !== field.values.length) throw new FieldpackError('INTERNAL', `run ${runId}: the reconstruction has ${recon.length} values, the field ${field.values.length}`);
  const mask = field.mask ?? null;
  if (!run.metrics.some((m) => m.key === 'max_pw_rel_error')) {
    // a run made before the error_stat metrics were stored: they are added now, from the same data
    const st: Record<string, number> = { ...errorStat(field.values, recon, mask) };
    if (r.originalBytes && r.compressedBytes) Object.assign(st, sizeStat(r.originalBytes, r.compressedBytes, field.values.length));
    for (const [k, v] of Object.entries(st)) store.logMetric(runId, k, v);
  }
  const { offset, h, w } = slice;
  const orig = field.values;

  const err = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) err[i] = recon[offset + i]! - orig[offset + i]!;
  const sliceMask = mask ? mask.subarray(offset, offset + h * w) : null;

  // spectra of the slice (sampled down when large; invalid points filled with the valid mean)
  const sstep = Math.max(1, Math.ceil(Math.max(h, w) / SPECTRUM_SIZE));
  const so = sampled(orig, h, w, offset, sstep), sr = sampled(recon, h, w, offset, sstep), se = sampled(err, h, w, 0, sstep);
  const sm = sliceMask ? Uint8Array.from(sampled(sliceMask, h, w, 0, sstep).data) : null;
  const spO = radialPowerSpectrum(so.data, so.h, so.w, sm);
  const spR = radialPowerSpectrum(sr.data, sr.h, sr.w, sm);
  const spE = radialPowerSpectrum(se.data, se.h, se.w, sm);

  const sm7 = ssimMap(orig, recon, h, w, mask, offset);
  const ac = errorAutocorrelationByLag(orig, recon, r.shape, mask, LAGS);
  const hist = errorHistogram(orig, recon, mask, 61, r.lossless ? 0 : r.absBound);

  const derived: RunAnalysis['derived'] = [];
  const derivedNotes: string[] = [];
  if (h > 2 && w > 2) {
    derived.push(derivedStat('gradient magnitude', p.variable, gradientMagnitude(orig, h, w, mask, offset), gradientMagnitude(recon, h, w, mask, offset), h, w));
    const pair = await partnerPair(store, run, field, recon);
    if (typeof pair === 'string') derivedNotes.push(pair);
    else {
      const from = `${pair.pair.u}, ${pair.pair.v}`;
      derived.push(derivedStat('vorticity', from, vorticity(...pair.before, h, w, mask, offset), vorticity(...pair.after, h, w, mask, offset), h, w));
      derived.push(derivedStat('divergence', from, divergence(...pair.before, h, w, mask, offset), divergence(...pair.after, h, w, mask, offset), h, w));
    }
  } else derivedNotes.push('derived quantities need a 2D slice of at least 3 x 3 points');

  const lead = r.dims.slice(0, Math.max(0, r.dims.length - 2));
  const a: RunAnalysis = {
    runId,
    version: ANALYSIS_VERSION,
    variable: p.variable,
    units: r.units ?? null,
    shape: r.shape,
    dims: r.dims,
    slice: { index: slice.index, dims: lead, height: h, width: w },
    absBound: r.lossless ? 0 : r.absBound,
    errorMap: toMap(err, h, w, sliceMask),
    flipY: await increasingCoordinate(file, r.dims[r.dims.length - 2]),
    histogram: hist,
    autocorrelation: { lags: ac.lags, x: ac.x.map(finiteOrNull), y: ac.y.map(finiteOrNull) },
    spectrum: { frequency: spO.frequency, original: spO.power, reconstruction: spR.power, error: spE.power },
    ssim: { mean: finiteOrNull(sm7.mean), win: sm7.win, stride: sm7.stride, map: toMap(sm7.values, sm7.height, sm7.width, null) },
    derived,
    derivedNotes,
    computedAt: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000,
  };
  makeFolder(runDir(store, runId));
  await writeFileAtomic(cache, JSON.stringify(a));
  return a;
}
