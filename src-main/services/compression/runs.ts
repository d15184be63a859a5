/**
 * Compress runs: the service logic behind the `compress` job kind and the compression.* API methods.
 *
 *   runCompress(store, params, ctx)   read the field -> compress (progress, cancellation) -> decompress (timed)
 *                                     -> bound check on every valid point -> full metrics as run metrics,
 *                                     the stream (.fpk) as an artifact, tags and a result
 *   listCompressRuns(store, filter)   compress runs with their metrics flattened (tables, RD charts, Compare)
 *   sliceOfRun(store, runId, index)   original / reconstruction / error of one 2D slice, downsampled
 *   resolveFieldBound(store, ref, b)  the absolute bound a mode gives on a field (valid-point range)
 *   codecInfos()                      our predictors and the external baselines, with availability
 *
 * One run = one codec x one bound on one field. External baselines (zfp, sz3) go through the bench adapters
 * (fill points replaced by the mean of the valid points, as in the bench protocol); their reconstruction is
 * kept as a raw float32 artifact so that slices can be drawn for them too.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { baseStreamPath } from '../codecs/dependencies.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field, FieldValues } from '../../core/field.ts';
import { resolveBound, validRange, type BoundSpec } from '../../core/codec/bound.ts';
import { fieldStats } from '../../core/stats/stats.ts';
import { ERROR_STAT_NAMES, SIZE_STAT_NAMES, errorStat, fullMetrics, sizeStat, type FullMetrics } from '../../core/metrics/index.ts';
import {
  CompressParams,
  type CodecInfo,
  type CompressRunRow,
  type ResolvedBoundOut,
  type SliceOut,
} from '../../api/methods/compression.ts';
import type { Metric } from '../../api/schemas.ts';
import { openDataFile } from '../data/readers/index.ts';
import type { OpenOptions } from '../data/readers/types.ts';
import { checkIsField } from '../data/readers/util.ts';
import { axesOf } from '../data/axes.ts';
import type { Store } from '../store/store.ts';
import { runDir } from '../store/files.ts';
import type { JobContext } from '../jobs/types.ts';
import { allPresets, resolveCodecChoice } from '../../core/compressors/index.ts';
import { decodeStream, encodeField, metadataOf } from '../codecs/index.ts';
import { prepareBase } from './base.ts';
import { EXTERNAL, externalLabel, fillWithMean } from './baselines/external.ts';
import { tuneToPsnr } from './baselines/match-psnr.ts';
import { errorStats } from '../../core/metrics/index.ts';
import { makeFolder } from '../files/folders.ts';

export const COMPRESS_KIND = 'compress';
export const CROSSFIELD_KIND = 'crossfield';
/**
 * The kinds of run that compress one field of a file into a stored stream and record a CompressRunResult: listed in
 * Compare, analysed, shown and reported alike.
 */
export const FIELD_RUN_KINDS: readonly string[] = [COMPRESS_KIND, CROSSFIELD_KIND];

/** What a field run compressed and how, whichever its kind: a cross-field run's variable is its target, its codec `crossfield`. */
export interface FieldRunParams {
  file: string;
  variable: string;
  codec: string;
  bound: { mode: BoundSpec['mode']; value: number } | undefined;
  params?: Record<string, unknown>;
  base?: string;
  datasetId?: number;
  /** a cross-field run's anchors as given (none: chosen by the ranking) */
  anchors?: string[];
}

export function fieldRunParams(run: { kind: string; params: unknown }): FieldRunParams {
  const p = (run.params ?? {}) as Record<string, unknown>;
  const bound = p['bound'] && typeof p['bound'] === 'object' ? (p['bound'] as FieldRunParams['bound']) : undefined;
  const common = { file: String(p['file'] ?? ''), bound, ...(typeof p['datasetId'] === 'number' ? { datasetId: p['datasetId'] } : {}) };
  if (run.kind === CROSSFIELD_KIND) return { ...common, variable: String(p['target'] ?? ''), codec: 'crossfield', anchors: Array.isArray(p['anchors']) ? (p['anchors'] as string[]) : [] };
  return {
    ...common,
    variable: String(p['variable'] ?? ''),
    codec: String(p['codec'] ?? ''),
    ...(p['params'] && typeof p['params'] === 'object' ? { params: p['params'] as Record<string, unknown> } : {}),
    ...(typeof p['base'] === 'string' ? { base: p['base'] } : {}),
  };
}

/** A field run's result, refused where the run is of another kind, not finished, or recorded before it had one. */
export function fieldRunResult(run: { id: number; kind: string; status: string; result: unknown }, what: string): CompressRunResult {
  if (!FIELD_RUN_KINDS.includes(run.kind)) throw invalid(`run ${run.id} is a ${run.kind} run: only compress and cross-field runs have ${what}`, { runId: run.id });
  if (run.status !== 'finished') throw new FieldpackError('CONFLICT', `run ${run.id} is ${run.status}: only finished runs have ${what}`, { runId: run.id });
  const r = run.result as Partial<CompressRunResult> | null;
  if (!r || !Array.isArray(r.shape)) throw new FieldpackError('NOT_FOUND', `run ${run.id} was recorded before ${run.kind} runs kept their field's grid: run it again to see ${what}`, { runId: run.id });
  return r as CompressRunResult;
}

/** Metric keys stored on every finished compress run (SQLite metrics, step 0). */
export const COMPRESS_METRIC_KEYS = [
  'compression_ratio',
  'bit_rate',
  'psnr_db',
  'nrmse',
  'rmse',
  'max_abs_error',
  'max_rel_error',
  'max_error_over_bound',
  'points_over_bound',
  'ssim',
  'error_autocorr_lag1',
  'compress_mb_s',
  'decompress_mb_s',
  ...ERROR_STAT_NAMES,
  ...SIZE_STAT_NAMES,
] as const;

/**
 * A finished run's metrics under COMPRESS_METRIC_KEYS: fullMetrics's, then libpressio's error_stat and size metrics
 * under their names (docs/review.md; the names both have agree). Compress and cross-field runs store the same keys,
 * so that they stand side by side in Compare.
 */
export function runMetrics(m: FullMetrics, d: { orig: ArrayLike<number>; recon: ArrayLike<number>; mask: Uint8Array | null; originalBytes: number; compressedBytes: number }): Record<string, number> {
  const metrics: Record<string, number> = {
    compression_ratio: m.compressionRatio,
    bit_rate: m.bitRate,
    psnr_db: m.psnr,
    nrmse: m.nrmse,
    rmse: m.rmse,
    max_abs_error: m.maxAbsError,
    max_rel_error: m.maxRelError,
    max_error_over_bound: m.maxErrorOverBound,
    points_over_bound: m.pointsOverBound,
    ssim: m.ssim,
    error_autocorr_lag1: m.errorLag1Autocorrelation,
    compress_mb_s: m.compressMBs ?? NaN,
    decompress_mb_s: m.decompressMBs ?? NaN,
  };
  return Object.assign(metrics, errorStat(d.orig, d.recon, d.mask), sizeStat(d.originalBytes, d.compressedBytes, d.orig.length));
}

export interface CompressRunResult {
  codec: string;
  file: string;
  variable: string;
  shape: number[];
  dims: string[];
  units: string | null;
  dtype: 'float32' | 'float64';
  bound: BoundSpec;
  absBound: number;
  boundLabel: string;
  lossless: boolean;
  /** predictor chosen (auto resolves to one), or "zfp 1.0.1" for a baseline */
  predictor: string;
  autoScores?: Record<string, number>;
  values: number;
  validValues: number;
  originalBytes: number;
  compressedBytes: number;
  compressSeconds: number;
  decompressSeconds: number;
  workers: number;
  fillsHandling: 'native mask' | 'replaced by valid mean';
  errorHistogram: { edges: number[]; counts: number[] };
  metrics: Record<string, number>;
  artifact: { kind: 'fpk' | 'reconstruction'; path: string; sizeBytes: number };
  /** the data file as the run read it (absent in runs made before it): an analysis refuses the file changed since */
  source?: SourceIdentity;
}

/** A data file's size and modification time, as a run read it. */
export interface SourceIdentity {
  sizeBytes: number;
  modifiedMs: number;
}

/** A data file's identity, or undefined where there is no such file (its reader then says so, as for any file). */
export function sourceIdentity(file: string): SourceIdentity | undefined {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? { sizeBytes: st.size, modifiedMs: st.mtimeMs } : undefined;
}

/**
 * How `file` differs from the one a run read (`source`: its size or modification time), or null where it is the
 * same, the run did not record it, or the file is not there (its reader says so).
 */
export function sourceChange(file: string, source: SourceIdentity | undefined): string | null {
  const now = source && sourceIdentity(file);
  if (!source || !now) return null;
  if (now.sizeBytes === source.sizeBytes && now.modifiedMs === source.modifiedMs) return null;
  const at = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
  return `its size or modification time changed since the run read it (${source.sizeBytes} bytes, modified ${at(source.modifiedMs)}; now ${now.sizeBytes} bytes, modified ${at(now.modifiedMs)})`;
}

function invalid(message: string, details?: unknown): FieldpackError {
  return new FieldpackError('INVALID_ARGUMENT', message, details);
}

function cancelled(where: string): FieldpackError {
  return new FieldpackError('CANCELLED', `cancelled ${where}`);
}

/** Validates compress params with messages a person can act on. */
export function parseCompressParams(raw: Record<string, unknown>): CompressParams {
  const b = raw.bound as { mode?: unknown; value?: unknown } | undefined;
  if (b && typeof b === 'object' && 'value' in b) {
    const v = b.value;
    if (v === null || (typeof v === 'number' && Number.isNaN(v))) throw invalid('compress: the bound value is not a number (NaN): give a number >= 0 (0 = lossless)', { bound: b });
    if (typeof v === 'number' && v < 0) throw invalid(`compress: the bound value must be >= 0 (0 = lossless), got ${v}`, { bound: b });
    if (typeof v === 'number' && !Number.isFinite(v) && b.mode !== 'psnr') throw invalid(`compress: the bound value must be finite, got ${v}`, { bound: b });
  }
  const parsed = CompressParams.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const path = i.path.join('.') || 'params';
      return `${path}: ${i.message}`;
    });
    throw invalid(`compress: ${issues.join('; ')}`, { issues: parsed.error.issues });
  }
  const known = codecInfos().map((c) => c.id);
  if (!known.includes(parsed.data.codec)) throw invalid(`compress: codec: unknown codec ${JSON.stringify(parsed.data.codec)} (known: ${known.join(', ')})`, { codec: parsed.data.codec });
  if (parsed.data.match === 'psnr' && !(parsed.data.codec in EXTERNAL)) throw invalid(`compress: match: psnr tunes a baseline (${Object.keys(EXTERNAL).join(', ')}), not ${parsed.data.codec}`, { codec: parsed.data.codec });
  return parsed.data;
}

function workersFor(store: Store, requested: number | undefined): number {
  if (requested !== undefined) return requested;
  const setting = store.getSettings().workers;
  return setting > 0 ? setting : Math.max(1, availableParallelism());
}

/** Reads one variable (or a hyperslab of it) with the data service's readers. */
export async function readVariable(
  file: string,
  variable: string,
  opts: { slice?: Array<[number, number] | undefined>; onProgress?: (f: number, m?: string) => void; signal?: AbortSignal; open?: OpenOptions } = {},
): Promise<Field> {
  const df = await openDataFile(resolve(file), opts.open);
  try {
    const info = df.variable(variable); // NOT_FOUND with the list of variables
    checkIsField(file, info);
    return await df.readField(variable, { slice: opts.slice, onProgress: opts.onProgress, signal: opts.signal });
  } finally {
    df.close();
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return createHash('sha256').update(bytes).digest('hex');
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The `compress` job's work (see job-kinds/compress.ts). */
export async function runCompress(store: Store, rawParams: Record<string, unknown>, ctx: JobContext): Promise<CompressRunResult> {
  const params = parseCompressParams(rawParams);
  const { codec, bound, variable } = params;
  const file = resolve(params.file);
  const isBaseline = codec in EXTERNAL;
  if (isBaseline && !EXTERNAL[codec]!.available()) {
    throw new FieldpackError('NOT_FOUND', `compress: ${codec} is not on PATH (install it, or choose another codec)`);
  }
  const workers = isBaseline ? 1 : workersFor(store, params.workers);
  const runId = ctx.runId;
  const step = (from: number, to: number) => (f: number, m?: string) => ctx.progress(from + (to - from) * f, m);

  // 1. read
  ctx.progress(0, `reading ${variable} from ${basename(file)}`);
  const source = sourceIdentity(file);
  const field = await readVariable(file, variable, { onProgress: step(0, 0.1), signal: ctx.signal });
  if (ctx.signal.aborted) throw cancelled('after reading the field');
  const n = field.values.length;
  const mask = field.mask ?? null;
  const originalBytes = n * field.values.BYTES_PER_ELEMENT;
  const vr = validRange(field.values, mask);
  const rb = resolveBound(bound, vr.max - vr.min);
  ctx.log(`field ${variable} [${field.shape.join(' x ')}] (${field.dims.join(', ')}), ${vr.count} valid of ${n} points, range ${vr.min} .. ${vr.max}${field.units ? ` ${field.units}` : ''}`);
  ctx.log(`bound: ${rb.label}${rb.lossless ? ': lossless, values come back bit for bit' : ''}`);
  if (runId !== undefined) {
    store.setTag(runId, 'codec', codec);
    store.setTag(runId, 'variable', variable);
    store.setTag(runId, 'file', basename(file));
    store.setTag(runId, 'bound', `${bound.mode}:${bound.value}`);
    store.setTag(runId, 'abs_bound', String(rb.abs));
    if (rb.lossless) store.setTag(runId, 'lossless', 'yes');
  }

  let recon: FieldValues;
  let compressedBytes: number;
  let compressSeconds: number;
  let decompressSeconds: number;
  let predictor: string;
  let autoScores: Record<string, number> | undefined;
  let artifactBytes: Uint8Array;
  let artifactKind: 'fpk' | 'reconstruction';
  let partsOfStream: Record<string, number> | null = null;
  let baseBytes: Uint8Array | null = null;
  /** what the base counts in the ratio (its stream's bytes, or a file's declared bits / 8) */
  let baseCounted = 0;
  let baseTag: string | null = null;
  let absBound = rb.abs;
  let boundLabel = rb.label;
  let lossless = rb.lossless;

  if (!isBaseline) {
    // 2. compress (verification is done below on the timed decompression, point by point)
    ctx.progress(0.1, `compressing with ${codec}`);
    const t0 = performance.now();
    // residual coders: the base first (its stream is kept beside and its bytes count), the residual over it
    // (auto: chosen per field from samples; file:PATH: an external reconstruction, its declared bits counted)
    const prepared = params.base && resolveCodecChoice(codec).codec.takesBase
      ? await prepareBase(field, params.base, { codec, ...(params.params ? { params: params.params } : {}), bound, workers, signal: ctx.signal, metadata: metadataOf(field, basename(file)), onProgress: step(0.1, 0.3) })
      : null;
    if (prepared?.choice) {
      const ch = prepared.choice;
      ctx.log(`base auto: ${ch.reason}; estimates on ${(ch.sample.fraction * 100).toFixed(1)} % of the field: ${Object.entries(ch.estimates).map(([k, e]) => `${k} ${e.bytes ?? `skipped (${e.skipped})`}`).join(', ')}`);
      if (runId !== undefined) store.setTag(runId, 'base_choice', ch.chosen);
    }
    const base = prepared?.field ? prepared : null;
    if (base) {
      baseBytes = base.stream;
      baseCounted = base.bytes;
      baseTag = `${base.requested === 'auto' ? `auto: ${base.spec}` : base.spec} (${base.bytes} bytes${base.file ? `, declared ${base.file.bits} bits` : ''})`;
      ctx.log(`base ${baseTag}: ${base.codec}, counted in the ratio`);
    } else if (prepared) baseTag = 'auto: none';
    const c = await encodeField(field, {
      codec,
      ...(params.params ? { params: params.params } : {}),
      ...(base ? { base: base.field! } : {}),
      bound,
      workers,
      verify: false,
      signal: ctx.signal,
      onProgress: step(0.1, 0.6),
      metadata: { ...metadataOf(field, basename(file)), ...base?.metadata },
    });
    compressSeconds = (performance.now() - t0) / 1000;
    if (ctx.signal.aborted) throw cancelled('after compressing');
    absBound = c.bound.abs;
    boundLabel = c.bound.label;
    lossless = c.bound.lossless;
    predictor = typeof c.details.choice === 'string' ? c.details.choice : c.codec;
    partsOfStream = bitsByPart(c.details, c.bytes.length, field.values.length);
    // a residual coder's base is part of what the run costs: its bits beside the stream's parts
    if (partsOfStream && baseCounted > 0) partsOfStream = { base: (8 * baseCounted) / field.values.length, ...partsOfStream };
    autoScores = (c.details.plan as { autoScores?: Record<string, number> } | undefined)?.autoScores;
    if (typeof c.details.targetPasses === 'number' && c.details.targetPasses > 1) {
      ctx.log(`${bound.mode} target: met after ${c.details.targetPasses} passes (absolute bound tightened to ${c.bound.abs.toPrecision(6)}${c.bound.lossless ? ', lossless' : ''})`);
    }
    compressedBytes = c.bytes.length + baseCounted;
    artifactBytes = c.bytes;
    artifactKind = 'fpk';
    ctx.log(`compressed with ${codec}${predictor !== codec ? ` (chose ${predictor})` : ''}: ${originalBytes} -> ${compressedBytes} bytes in ${compressSeconds.toFixed(3)} s (${workers} worker${workers === 1 ? '' : 's'})`);
    // 3. decompress, timed
    ctx.progress(0.6, 'decompressing');
    const t1 = performance.now();
    const d = await decodeStream(c.bytes, { workers, signal: ctx.signal, onProgress: step(0.6, 0.85), ...(base ? { deps: { fields: [base.field!] } } : {}) });
    decompressSeconds = (performance.now() - t1) / 1000;
    recon = d.field.values;
  } else {
    ctx.progress(0.1, `compressing with ${codec}`);
    const ext = EXTERNAL[codec]!;
    const filled = fillWithMean(field.values, mask);
    if (ctx.signal.aborted) throw cancelled('before running ' + codec);
    let r: Awaited<ReturnType<typeof ext.run>>;
    // a lossless bound (0, or a field with no range: constant, or no valid value) has no PSNR to match: the run would
    // repeat the equal-bound row under another name
    if (params.match === 'psnr' && rb.lossless) {
      throw new FieldpackError('INVALID_ARGUMENT', `nothing to match: ${rb.label} is lossless on ${field.name} (${vr.count === 0 ? 'it has no valid value' : vr.max === vr.min ? 'it is constant' : 'a bound of 0'}), so there is no PSNR to tune ${codec} to; the equal-bound row compares the two`);
    }
    if (params.match === 'psnr') {
      // the PSNR Fieldpack's auto codec reaches at this bound, then the tool's tolerance tuned to it
      ctx.progress(0.1, `Fieldpack (auto) at ${rb.label}: the PSNR for ${codec} to match`);
      const ours = await encodeField(field, { codec: 'auto', bound, workers: workersFor(store, params.workers), verify: false, signal: ctx.signal, metadata: metadataOf(field, basename(file)) });
      const back = await decodeStream(ours.bytes, { workers: workersFor(store, params.workers), signal: ctx.signal });
      const target = errorStats(field.values, back.field.values, mask, ours.bound.abs).psnr;
      if (target === Infinity) {
        throw new FieldpackError('INVALID_ARGUMENT', `nothing to match: Fieldpack (auto) reconstructs ${field.name} exactly at ${rb.label} (PSNR infinite: the values lie on a grid, or at a float resolution, that this bound keeps), so only a lossless ${codec} would reach the same PSNR; the equal-bound row compares the two`);
      }
      ctx.log(`target: PSNR ${target.toFixed(3)} dB (Fieldpack auto at ${rb.label}, ${ours.bytes.length} bytes)`);
      const m = await tuneToPsnr(ext, field.values, filled, field.shape, mask, rb.abs, target, {
        signal: ctx.signal,
        onTry: (tol, psnr, bytes) => {
          ctx.log(`${codec} tolerance ${tol.toPrecision(4)}: PSNR ${psnr.toFixed(3)} dB, ${bytes} bytes`);
          ctx.progress(0.3, `${codec}: tuning the tolerance to PSNR ${target.toFixed(2)} dB`);
        },
      });
      r = m.result;
      absBound = m.tolerance;
      boundLabel = `${codec} tolerance ${m.tolerance.toPrecision(4)}, tuned to PSNR ${target.toFixed(2)} dB (Fieldpack auto at ${rb.label}; ${m.tries} tries)`;
      if (runId !== undefined) {
        store.setTag(runId, 'baseline_match', 'psnr');
        store.setTag(runId, 'target_psnr', target.toFixed(3));
        store.setTag(runId, 'tolerance', String(m.tolerance));
      }
    } else {
      r = await ext.run(filled, field.shape, rb.abs, ctx.signal);
      if (runId !== undefined) store.setTag(runId, 'baseline_match', 'bound');
    }
    if (ctx.signal.aborted) throw cancelled('after running ' + codec);
    recon = r.recon;
    compressedBytes = r.compressedBytes;
    compressSeconds = r.compressSeconds;
    decompressSeconds = r.decompressSeconds;
    predictor = externalLabel(codec, r);
    artifactBytes = new Uint8Array(r.recon.buffer, r.recon.byteOffset, r.recon.byteLength);
    artifactKind = 'reconstruction';
    ctx.log(`${predictor}: ${originalBytes} -> ${compressedBytes} bytes; fill points replaced by the valid mean; times are whole tool processes`);
  }

  // 4. bound check and metrics
  ctx.progress(0.85, 'checking the bound and computing metrics');
  const m: FullMetrics = fullMetrics(field.values, recon, field.shape, mask, absBound, originalBytes, compressedBytes, {
    compressSeconds: Math.max(compressSeconds, 1e-9),
    decompressSeconds: Math.max(decompressSeconds, 1e-9),
  });
  if (m.pointsOverBound > 0 || (!isBaseline && !m.nonFiniteExact)) {
    const what = m.pointsOverBound > 0 ? `${m.pointsOverBound} valid points exceed the bound ${absBound} (max error ${m.maxAbsError})` : 'NaN/Inf points were not reproduced exactly';
    if (!isBaseline) throw new FieldpackError('BOUND_VIOLATED', `compress: ${what} after decompression`, { pointsOverBound: m.pointsOverBound, maxAbsError: m.maxAbsError, bound: absBound });
    ctx.log(`warning: ${codec} broke the bound: ${what}`);
    // said where the run is listed, not only in its log: a zfp row of a float64 field read "lossless" beside ours
    // (zfp and SZ3 run on float32: the field's values are rounded first) and looked 3 x smaller
    if (m.pointsOverBound > 0) {
      const why = field.values instanceof Float64Array ? `: it codes float32, and this float64 field's values are rounded to float32 first` : '';
      boundLabel = `${boundLabel}, not met by ${codec}${why}`;
      lossless = false;
      if (runId !== undefined) store.setTag(runId, 'bound_met', 'no');
    }
  }
  const metrics = runMetrics(m, { orig: field.values, recon, mask, originalBytes, compressedBytes });
  // 5. the results, metrics and artifact: from here a cancel is too late (a run called cancelled that kept them all)
  if (ctx.signal.aborted) throw cancelled('before saving the results');
  ctx.saving?.();
  for (const [k, v] of Object.entries(metrics)) ctx.metric?.(k, v, 0);
  let artifact: CompressRunResult['artifact'];
  if (runId !== undefined) {
    const dir = runDir(store, runId);
    makeFolder(dir);
    const name = artifactKind === 'fpk' ? `${safeName(variable)}.fpk` : `${safeName(variable)}.${codec}.recon.f32`;
    const path = join(dir, name);
    await writeFileAtomic(path, artifactBytes);
    store.addArtifact(runId, { name, path, kind: artifactKind, sizeBytes: artifactBytes.length, sha256: await sha256(artifactBytes) });
    if (baseBytes) {
      // beside the stream, where its decoder finds it by hash
      const basePath = baseStreamPath(path);
      await writeFileAtomic(basePath, baseBytes);
      store.addArtifact(runId, { name: basename(basePath), path: basePath, kind: 'fpk-base', sizeBytes: baseBytes.length, sha256: await sha256(baseBytes) });
    }
    if (baseTag) store.setTag(runId, 'base', baseTag);
    artifact = { kind: artifactKind, path, sizeBytes: artifactBytes.length };
  } else {
    artifact = { kind: artifactKind, path: '', sizeBytes: artifactBytes.length };
  }
  if (runId !== undefined) store.setTag(runId, 'predictor', predictor);
  if (runId !== undefined && partsOfStream) {
    // learned codecs: where the bits go (indices, residual, mask), shown apart in the results
    store.setTag(runId, 'bits_by_part', Object.entries(partsOfStream).map(([k, v]) => `${k} ${v.toPrecision(3)}`).join(', '));
    for (const [k, v] of Object.entries(partsOfStream)) store.logMetric(runId, `bits_${k}`, v);
  }

  const fmt = (x: number, p = 4) => (Number.isFinite(x) ? x.toPrecision(p) : String(x));
  ctx.progress(1, `${codec}: ratio ${fmt(m.compressionRatio)}, ${fmt(m.bitRate, 3)} bits/value, PSNR ${Number.isFinite(m.psnr) ? m.psnr.toFixed(2) + ' dB' : Number.isNaN(m.psnr) ? '- (no valid point)' : 'lossless'}, max err/bound ${fmt(m.maxErrorOverBound, 3)}`);
  return {
    codec,
    file,
    variable,
    shape: field.shape,
    dims: field.dims,
    units: field.units ?? null,
    dtype: field.values instanceof Float64Array ? 'float64' : 'float32',
    bound,
    absBound,
    boundLabel,
    lossless,
    predictor,
    ...(autoScores ? { autoScores } : {}),
    values: n,
    validValues: vr.count,
    originalBytes,
    compressedBytes,
    compressSeconds,
    decompressSeconds,
    workers,
    fillsHandling: isBaseline ? 'replaced by valid mean' : 'native mask',
    errorHistogram: m.histogram,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : (String(v) as unknown as number)])),
    artifact,
    source,
  };
}

// ---------------------------------------------------------------- codecs

let codecCache: { at: number; infos: CodecInfo[] } | null = null;

/** The codec choices of the Compress view: registry presets that compress a field alone, then the external baselines. */
export function codecInfos(): CodecInfo[] {
  if (codecCache && Date.now() - codecCache.at < 30_000) return codecCache.infos;
  const ours: CodecInfo[] = allPresets()
    .filter((p) => !p.codec.needsDependencies)
    .map((p) => ({ id: p.preset.name, label: p.preset.label, kind: 'fieldpack', available: true, description: p.preset.description, ...(p.codec.modelParam ? { modelParam: p.codec.modelParam.key } : {}), ...(p.codec.takesBase ? { takesBase: true } : {}), ...(p.codec.boundModes ? { boundModes: [...p.codec.boundModes] } : {}) }));
  const baselines: CodecInfo[] = Object.entries(EXTERNAL).map(([id, ext]) => ({
    id, label: ext.label, kind: 'baseline', available: ext.available(), description: ext.description + (ext.available() ? '' : ' — not on PATH'),
  }));
  const infos = [...ours, ...baselines];
  codecCache = { at: Date.now(), infos };
  return infos;
}

// ---------------------------------------------------------------- bounds

interface RangeInfo {
  min: number;
  max: number;
  count: number;
  units: string | null;
  /** the step the values already lie on (packed, rounded), as the Data view shows it; null where none */
  quantizationStep: number | null;
}
const rangeCache = new Map<string, RangeInfo>();

export async function fieldValidRange(file: string, variable: string): Promise<RangeInfo> {
  const path = resolve(file);
  let key: string;
  try {
    const st = statSync(path);
    key = `${path}\u0000${variable}\u0000${st.size}\u0000${st.mtimeMs}`;
  } catch {
    throw new FieldpackError('NOT_FOUND', `${path}: no such file`, { path });
  }
  const hit = rangeCache.get(key);
  if (hit) return hit;
  const f = await readVariable(path, variable);
  const vr = validRange(f.values, f.mask ?? null);
  const info = { min: vr.min, max: vr.max, count: vr.count, units: f.units ?? null, quantizationStep: fieldStats(f).quantization.step };
  if (rangeCache.size > 64) rangeCache.delete(rangeCache.keys().next().value!);
  rangeCache.set(key, info);
  return info;
}

export function fieldRef(store: Store, ref: { fieldId?: number; file?: string; variable?: string }): { file: string; variable: string } {
  if (ref.fieldId !== undefined) {
    const f = store.getField(ref.fieldId);
    return { file: f.file, variable: f.name };
  }
  if (!ref.file || !ref.variable) throw invalid('give a fieldId, or a file and a variable');
  return { file: ref.file, variable: ref.variable };
}

export async function resolveFieldBound(store: Store, ref: { fieldId?: number; file?: string; variable?: string }, bound: BoundSpec): Promise<ResolvedBoundOut> {
  const { file, variable } = fieldRef(store, ref);
  const r = await fieldValidRange(file, variable);
  const rb = resolveBound(bound, r.max - r.min); // INVALID_ARGUMENT for NaN / negative values
  return { mode: rb.mode, value: rb.value, abs: rb.abs, lossless: rb.lossless, label: rb.label, range: rb.range, validMin: r.min, validMax: r.max, validCount: r.count, units: r.units, quantizationStep: r.quantizationStep };
}

// ---------------------------------------------------------------- runs

function metricValue(m: Metric): number | 'NaN' | 'Infinity' | '-Infinity' {
  return m.value;
}

export function listCompressRuns(
  store: Store,
  filter: { projectId: number | null; variable?: string; file?: string; limit?: number; query?: string; tags?: Record<string, string>; archived?: 'exclude' | 'include' | 'only'; experiment?: string },
): CompressRunRow[] {
  const experiments = filter.projectId ? store.listExperiments(filter.projectId) : [];
  const experimentId = filter.experiment ? (experiments.find((e) => e.name === filter.experiment)?.id ?? -1) : undefined;
  const experimentName = new Map(experiments.map((e) => [e.id, e.name]));
  const runs = store.listRuns({ projectId: filter.projectId, kind: FIELD_RUN_KINDS, limit: filter.limit ?? 500, query: filter.query, tags: filter.tags, archived: filter.archived, experimentId });
  const rows: CompressRunRow[] = [];
  for (const run of runs) {
    const p = fieldRunParams(run);
    if (filter.variable && p.variable !== filter.variable) continue;
    if (filter.file && resolve(p.file) !== resolve(filter.file)) continue;
    const detail = store.getRunDetail(run.id);
    const metrics: CompressRunRow['metrics'] = {};
    for (const m of detail.metrics) metrics[m.key] = metricValue(m);
    const r = (run.result ?? null) as Partial<CompressRunResult> | null;
    const bound = p.bound && typeof p.bound === 'object' ? { mode: p.bound.mode, value: Number(p.bound.value) } : { mode: 'abs' as const, value: NaN };
    rows.push({
      runId: run.id,
      name: run.name,
      status: run.status,
      createdAt: run.createdAt,
      file: p.file,
      variable: p.variable,
      codec: p.codec,
      bound: { mode: (bound.mode ?? 'abs') as CompressRunRow['bound']['mode'], value: Number.isFinite(bound.value) ? bound.value : -1 },
      boundText: `${bound.mode}:${bound.value}`,
      absBound: typeof r?.absBound === 'number' ? r.absBound : null,
      lossless: typeof r?.lossless === 'boolean' ? r.lossless : null,
      predictor: r?.predictor ?? null,
      compressedBytes: typeof r?.compressedBytes === 'number' ? r.compressedBytes : null,
      shape: r?.shape ?? null,
      dims: r?.dims ?? null,
      error: run.error?.message ?? null,
      metrics,
      params: run.params,
      tags: detail.tags,
      note: run.note,
      archived: run.archivedAt !== null,
      experiment: run.experimentId !== null ? (experimentName.get(run.experimentId) ?? null) : null,
      origin: run.origin,
    });
  }
  return rows;
}

// ---------------------------------------------------------------- slices

function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function finiteMinMax(a: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 0 };
}

/** Whether the coordinate variable of `dim` increases (latitude stored south first: draw row 0 at the bottom). */
export async function increasingCoordinate(file: string, dim: string | undefined): Promise<boolean> {
  if (!dim) return false;
  try {
    const df = await openDataFile(file);
    try {
      const v = df.variables.find((x) => x.name === dim && x.isCoordinate && x.readable);
      if (!v) return false;
      const c = await df.readField(dim);
      const n = c.values.length;
      return n > 1 && c.values[n - 1]! > c.values[0]!;
    } finally {
      df.close();
    }
  } catch {
    return false;
  }
}

export async function sliceOfRun(store: Store, runId: number, index: number[], maxSize = 512): Promise<SliceOut> {
  const run = store.getRunDetail(runId);
  const r = fieldRunResult(run, 'images');
  const p = fieldRunParams(run);
  const file = resolve(p.file);
  const shape = r.shape.length >= 2 ? r.shape : [1, ...r.shape];
  const dims = r.dims.length >= 2 ? r.dims : ['', ...r.dims];
  const lead = shape.length - 2;
  const leadingShape = shape.slice(0, lead);
  const idx = leadingShape.map((s, k) => Math.min(Math.max(0, Math.trunc(index[k] ?? 0)), s - 1));
  const h = shape[lead]!;
  const w = shape[lead + 1]!;
  const plane = h * w;

  // original (only the slice is read), of the file the run compressed
  const changed = sourceChange(file, r.source);
  if (changed) throw new FieldpackError('CONFLICT', `run ${run.id}: its data file ${file} is not the one it compressed: ${changed}; its error map cannot be drawn from it`, { runId: run.id, file });
  const orig = r.shape.length >= 2 ? await readVariable(file, p.variable, { slice: idx.map((i) => [i, i + 1] as [number, number]) }) : await readVariable(file, p.variable);
  if (orig.values.length !== plane) throw new FieldpackError('INTERNAL', `slice of ${p.variable}: read ${orig.values.length} values, expected ${plane}`);

  // reconstruction
  const art = run.artifacts.find((a) => a.kind === 'fpk' || a.kind === 'reconstruction');
  if (!art) throw new FieldpackError('NOT_FOUND', `run ${runId} has no stream or reconstruction artifact`);
  let reconPlane: FieldValues;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(art.path));
  } catch {
    throw new FieldpackError('NOT_FOUND', `run ${runId}: artifact ${art.path} is missing`);
  }
  // offset of the plane inside the block that was decoded
  const strides: number[] = [];
  let s = plane;
  for (let k = lead - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k]!;
  }
  if (art.kind === 'fpk') {
    if (lead >= 1) {
      const d = await decodeStream(bytes, { rows: [idx[0]!, idx[0]! + 1], deps: { besidePath: art.path } });
      let off = 0;
      for (let k = 1; k < lead; k++) off += idx[k]! * strides[k]!;
      reconPlane = d.field.values.subarray(off, off + plane);
    } else {
      reconPlane = (await decodeStream(bytes, { deps: { besidePath: art.path } })).field.values;
    }
  } else {
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    let off = 0;
    for (let k = 0; k < lead; k++) off += idx[k]! * strides[k]!;
    reconPlane = all.subarray(off, off + plane);
  }

  // downsample by a common step (nearest sample, so single-point errors are not averaged away in value images)
  const step = Math.max(1, Math.ceil(Math.max(h, w) / maxSize));
  const oh = Math.ceil(h / step);
  const ow = Math.ceil(w / step);
  const o = new Float32Array(oh * ow);
  const rc = new Float32Array(oh * ow);
  const e = new Float32Array(oh * ow);
  const mask = orig.mask ?? null;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const k = y * step * w + x * step;
      const t = y * ow + x;
      if (mask && mask[k] === 0) {
        o[t] = NaN;
        rc[t] = NaN;
        e[t] = NaN;
        continue;
      }
      const a = orig.values[k]!;
      const b = reconPlane[k]!;
      o[t] = a;
      rc[t] = b;
      e[t] = b - a;
    }
  }
  return {
    runId,
    index: idx,
    leadingShape,
    leadingDims: dims.slice(0, lead),
    sourceHeight: h,
    sourceWidth: w,
    height: oh,
    width: ow,
    step,
    flipY: await increasingCoordinate(file, dims[lead]),
    units: r.units ?? null,
    original: { data: toBase64(o), ...finiteMinMax(o) },
    reconstruction: { data: toBase64(rc), ...finiteMinMax(rc) },
    error: { data: toBase64(e), ...finiteMinMax(e) },
    absBound: r.absBound,
    axes: await axesOf(file, r.dims, r.shape),
  };
}

/** Bits per value by part of a learned codec's stream (its payload shares scaled to the stored size), or null. */
export function bitsByPart(details: Record<string, unknown>, storedBytes: number, values: number): Record<string, number> | null {
  const parts = details.parts as Record<string, number> | undefined;
  if (!parts || details.fellBack) return null;
  const raw = Object.values(parts).reduce((a, b) => a + b, 0);
  if (!(raw > 0)) return null;
  return Object.fromEntries(Object.entries(parts).filter(([, v]) => v > 0).map(([k, v]) => [k, (8 * storedBytes * v) / raw / values]));
}
