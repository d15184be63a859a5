/**
 * `fieldpack bench FILE --vars TARGET --anchors A,B --codec crossfield --bounds rel:1e-3 --json OUT.json`:
 * one row per target x bound, beside the core codec (measured here, same field and bound) and SZ3 (baselines.json).
 * Without anchors, automatic selection (ranking.ts). Anchors are compressed at the same bound; ratio = target bytes
 * (its stream, model embedded) / original; the anchors' own streams are reported apart (they are stored anyway).
 */
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import type { ApiOutput, ApiParsedInput } from '../../api/contract.ts';
import type { CrossfieldBenchRow } from '../../api/methods/bench.ts';
import type { CallControl as CallContext } from '../codecs/index.ts';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { type BoundSpec, formatBound } from '../../core/codec/bound.ts';
import { errorStats } from '../../core/metrics/index.ts';
import { benchVariables, loadField, variableNames } from '../compression/bench-input.ts';
import { bestOf, expandFiles, readBaselines } from '../compression/bench.ts';
import { compressCrossfield, decompressCrossfield, measuredCoreRatio, reconstructAnchors } from './index.ts';
import type { CrossfieldNetwork } from '../../core/compressors/crossfield/codec.ts';
import { fitLinearCfnn } from '../../core/compressors/crossfield/linear.ts';
import { autoAnchors } from './ranking.ts';

export interface CrossfieldBenchOptions {
  files: string[];
  vars: string[];
  anchors?: string[];
  bounds: BoundSpec[];
  network?: 'cfnn' | 'linear' | 'none' | 'best';
  /** the Python that trains a CFNN (default: the one found) */
  python?: string;
  ndim?: 2 | 3;
  /** baselines.json (default ../shared/reference/baselines.json when present) */
  reference?: string;
  threads?: number;
  /** worker threads for the candidates' full encodes (compressCrossfield's workers; default 0 here, 1 from the CLI) */
  workers?: number;
  /**
   * a network reused as an archive series does: the linear network fitted once on the target's first step along its
   * leading dim (the whole field when 2D), then given to the compression (its fit is not in compress MB/s)
   */
  reusedModel?: boolean;
  /**
   * with reusedModel: each row's compression and decompression repeated over at least this many seconds (default
   * 0.3, 2 runs or more; nothing is trained again) and the fastest run counts, as the core codec's bench times its rows
   * (the first run, on cold code, is reported apart)
   */
  minSeconds?: number;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

export type { CrossfieldBenchRow };

function sz3Table(path: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  const p = path ?? ['../shared/reference/baselines.json', '/work/shared/reference/baselines.json'].find((x) => existsSync(x));
  if (!p) return m;
  // a given reference that cannot be read is said (naming the file, not echoing what it holds)
  for (const r of readBaselines(p, 'reference')) {
    if (typeof r !== 'object' || r === null || typeof r.compressor !== 'string') continue;
    if (!/SZ3/.test(r.compressor)) continue;
    const k = `${basename(r.file.replace(/^.*:\s*/, ''))}|${r.variable}|${r.rel_bound}`;
    m.set(k, Math.max(m.get(k) ?? 0, r.compression_ratio));
  }
  return m;
}

/** The anchors' reconstructions at the bound and the linear network fitted on the first step along dim 0 of them. */
async function firstStepModel(target: Field, anchors: Field[], bound: BoundSpec, ndim: 2 | 3): Promise<{ net: CrossfieldNetwork; seconds: number; recons: Record<string, { recon: Field; bytes: Uint8Array }> }> {
  const recon = await reconstructAnchors(anchors, bound);
  const t0 = performance.now();
  const step = (f: Pick<Field, 'values' | 'shape' | 'mask' | 'name'>) => {
    if (f.shape.length <= ndim) return f;
    const n = f.shape.slice(1).reduce((a, b) => a * b, 1);
    return { name: f.name, shape: [1, ...f.shape.slice(1)], values: f.values.subarray(0, n), ...(f.mask ? { mask: f.mask.subarray(0, n) } : {}) };
  };
  const net = fitLinearCfnn(step(target), recon.map((a) => step({ ...a.recon, name: a.var })), ndim);
  return { net, seconds: (performance.now() - t0) / 1000, recons: Object.fromEntries(recon.map((a) => [a.var, { recon: a.recon, bytes: a.bytes }])) };
}

/** A row that could not be measured, with why. */
function failedRow(base: Pick<CrossfieldBenchRow, 'file' | 'variable' | 'codec' | 'anchors' | 'anchor_selection' | 'bound' | 'rel_bound' | 'values'>, e: unknown, reusedModel = false): CrossfieldBenchRow {
  return {
    ...base, abs_bound: NaN, compressed_bytes: NaN, compression_ratio: NaN, core_ratio: NaN, sz3_ratio: null, ratio_over_best: NaN, model_bytes: NaN,
    model_share: NaN, network: '', fusion: null, train_seconds: NaN, compress_mb_s: NaN, decompress_mb_s: NaN, first_compress_mb_s: NaN, runs: 0, max_error_over_bound: NaN,
    points_over_bound: NaN, psnr_db: NaN, fallback: null, reused_model: reusedModel, anchor_ratios: {}, error: e instanceof Error ? e.message : String(e),
  };
}

/** fn run once, timed (a row that trains online) */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(5)) : x);

/** bench.crossfield: the rows, and how they were measured. */
export async function crossfieldBench(input: ApiParsedInput<'bench.crossfield'>, call?: CallContext): Promise<ApiOutput<'bench.crossfield'>> {
  if (input.reusedModel && input.network && input.network !== 'linear') throw new FieldpackError('INVALID_ARGUMENT', 'a reused model is the linear network fitted once: leave the network out or give linear');
  const rows = await runCrossfieldBench({
    files: input.files, vars: input.variables, anchors: input.anchors, bounds: input.bounds, network: input.network, reference: input.reference, python: input.python,
    workers: input.workers, reusedModel: input.reusedModel, minSeconds: input.minSeconds, onProgress: call?.onProgress, signal: call?.signal,
  });
  const protocol = [
    'Target field whole as float32; anchors compressed first by the core codec at the same bound; only their reconstructions feed the network.',
    "compression_ratio = 4 x values / target stream bytes (network embedded, counted); anchors' own streams are not counted (stored anyway; anchor_ratios).",
    'core_ratio: the core codec (auto predictor) on the same field and bound, measured here; sz3_ratio: best SZ3 row of baselines.json; ratio_over_best = ratio / max(core, SZ3).',
    'train_seconds: online training (CFNN on CPU and/or least-squares linear CFNN) on the field; MB/s excludes training and anchors.',
    ...(input.reusedModel ? [`compress_mb_s / decompress_mb_s with a reused model: the fastest of runs repeated over ${input.minSeconds ?? 0.3} s (2 runs or more, as the core codec's rows; the same bytes each run); first_compress_mb_s: the first run, on cold code.`] : ['compress_mb_s: one run (first_compress_mb_s the same).']),
    `workers: ${input.workers} (the candidate networks near the smallest estimate encoded side by side; the network's inference and the core codec in the calling thread).`,
    ...(input.reusedModel ? ['reused_model: the linear network fitted once on the first step along the leading dim (the whole field when 2D) and given, as an archive series reuses it; its fit is train_seconds.'] : []),
  ];
  return { protocol, rows };
}

export async function runCrossfieldBench(opts: CrossfieldBenchOptions): Promise<CrossfieldBenchRow[]> {
  const sz3 = sz3Table(opts.reference);
  // anchors given that leave a target none but itself (its own anchor is dropped, and the rest was chosen silently)
  const alone = opts.anchors?.length ? opts.vars.filter((v) => opts.anchors!.every((a) => a === v)) : [];
  if (alone.length) throw new FieldpackError('INVALID_ARGUMENT', `${alone[0]} is the target: a field cannot be its own anchor; give other fields as anchors, or none to have them chosen`);
  const rows: CrossfieldBenchRow[] = [];
  // folders as bench.codecs takes them: their data files
  const files = expandFiles(opts.files);
  const total = files.length * opts.vars.length * opts.bounds.length;
  let done = 0;
  for (const file of files) {
    const cache = new Map<string, Field>();
    const get = async (v: string) => {
      if (!cache.has(v)) {
        // without coordinates: the streams' sizes stay comparable with SZ3's files (same protocol as the core bench)
        const { coordinates: _coordinates, ...f } = await loadField(file, v);
        cache.set(v, f.values instanceof Float32Array ? f : { ...f, values: Float32Array.from(f.values) });
      }
      return cache.get(v)!;
    };
    // a file of a folder without the target is passed over (a file given alone says so below, as before)
    const names = files.length > opts.files.length ? new Set(await variableNames(file)) : null;
    for (const variable of opts.vars) {
      if (names && !names.has(variable)) {
        done += opts.bounds.length;
        continue;
      }
      const target = await get(variable);
      let anchors = opts.anchors?.filter((a) => a !== variable) ?? [];
      let selection: 'given' | 'auto' = 'given';
      const ndim = opts.ndim ?? (target.shape.length >= 4 ? 3 : 2);
      // a row's first columns, with the anchors as chosen by then
      const rowBase = (bound: BoundSpec) => ({
        file: basename(file), variable, codec: 'crossfield' as const, anchors, anchor_selection: selection, bound: formatBound(bound),
        ...(bound.mode === 'rel' ? { rel_bound: bound.value } : {}), values: target.values.length,
      });
      if (!anchors.length) {
        selection = 'auto';
        const cands: Field[] = [];
        for (const v of await benchVariables(file)) {
          if (v === variable) continue;
          const f = await get(v);
          if (f.shape.length === target.shape.length && f.shape.every((x, i) => x === target.shape[i])) cands.push(f);
        }
        try {
          anchors = autoAnchors(target, cands, { ndim, quickGain: true }).anchors;
        } catch (e) {
          // no field worth its bytes as this target's anchor: its rows say so, the other targets are still benched
          if (!(e instanceof FieldpackError) || e.code !== 'NOT_FOUND') throw e;
          for (const bound of opts.bounds) rows.push(failedRow(rowBase(bound), e, !!opts.reusedModel));
          done += opts.bounds.length;
          continue;
        }
      }
      const anchorFields = await Promise.all(anchors.map(get));
      for (const bound of opts.bounds) {
        if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'bench cancelled');
        opts.onProgress?.(done / total, `${basename(file)} ${variable} <- ${anchors.join(',')} ${formatBound(bound)}`);
        const base = rowBase(bound);
        try {
          const reused = opts.reusedModel ? await firstStepModel(target, anchorFields, bound, ndim) : null;
          const compress = () => compressCrossfield({
            target, bound, ndim, threads: opts.threads, workers: opts.workers ?? 0, verify: false,
            ...(reused ? { anchors: [], anchorRecons: reused.recons, model: { net: reused.net, trainSeconds: reused.seconds } } : { anchors: anchorFields, network: opts.network, ...(opts.python ? { train: { python: opts.python, pythonFallback: false } } : {}) }),
          });
          // a reused model trains nothing: its rows are timed as the core codec's are (bestOf: repeated, the fastest
          // run); a row that trains online runs once
          const minSeconds = opts.minSeconds ?? 0.3;
          const sameBytes = (x: { bytes: Uint8Array }, first: { bytes: Uint8Array }) => {
            if (!Buffer.from(x.bytes).equals(first.bytes)) throw new FieldpackError('INTERNAL', 'a repeated compression gave other bytes');
          };
          const c = reused ? await bestOf(minSeconds, compress, (x) => x.compressSeconds, sameBytes) : await compress().then((x) => ({ first: x, runs: 1, seconds: x.compressSeconds }));
          const r = c.first;
          const decompress = () => decompressCrossfield(r.bytes, r.anchors.map((a) => a.recon), { threads: opts.threads });
          const dd = reused ? await bestOf(minSeconds, decompress) : await timed(decompress);
          const d = dd.value;
          const ds = dd.seconds;
          const st = errorStats(target.values, d.field.values, target.mask ?? null, r.absBound);
          const s3 = bound.mode === 'rel' ? sz3.get(`${basename(file)}|${variable}|${bound.value}`) ?? null : null;
          // the core codec measured apart when the compression skipped it (the sample showed the hybrid clearly smaller)
          const coreRatio = await measuredCoreRatio(r, target, bound);
          const best = Math.max(coreRatio, s3 ?? 0);
          const mb = (target.values.length * 4) / 1e6;
          rows.push({
            ...base, abs_bound: r.absBound, compressed_bytes: r.bytes.length, compression_ratio: r4(r.compressionRatio), core_ratio: r4(coreRatio),
            sz3_ratio: s3, ratio_over_best: r4(r.compressionRatio / best), model_bytes: r.modelBytes, model_share: r4(r.modelShare),
            network: r.codec === 'crossfield' ? r.network : 'core codec (fallback)', fusion: r.mode, train_seconds: r4(r.trainSeconds),
            compress_mb_s: r4(mb / c.seconds), decompress_mb_s: r4(mb / ds), first_compress_mb_s: r4(mb / r.compressSeconds), runs: c.runs, max_error_over_bound: r4(st.maxErrorOverBound),
            points_over_bound: st.pointsOverBound, psnr_db: r4(st.psnr), fallback: r.fallback, reused_model: !!reused,
            anchor_ratios: Object.fromEntries(r.anchors.map((a) => [a.var, r4(a.ratio)])),
          });
        } catch (e) {
          if (e instanceof FieldpackError && e.code === 'CANCELLED') throw e;
          rows.push(failedRow(base, e, !!opts.reusedModel));
        }
        done++;
      }
    }
  }
  if (!rows.length) throw new FieldpackError('NOT_FOUND', `no file of ${opts.files.join(', ')} has ${opts.vars.join(', ')}`);
  opts.onProgress?.(1, 'done');
  return rows;
}
