/**
 * The benchmark harness: files x variables x bounds x codecs, one row per combination, with the columns of
 * ../shared/reference/baselines.json. Protocol (written into every result):
 *  - each variable whole, as float32 in C order; range, bound and every metric over valid points only;
 *  - Fieldpack codecs take the mask natively (fill points are neither predicted nor coded; the mask is stored);
 *    external baselines get the fill points replaced by the mean of the valid points (baselines.json protocol), and
 *    their rows count the mask they would need to restore them apart (mask_bytes, ratio_with_mask);
 *  - compression_ratio = 4 x values / whole output bytes (our .fpk includes header, metadata, mask, checksums);
 *    self_description_bytes says how many of ours are the field's name, units, dims, attributes and source;
 *  - MB/s = 4 x values / 1e6 / seconds, best of several repetitions (external tools: as many whole runs), with a warm worker pool for ours
 *    (verification pass off while timing; the bound is checked on the decompressed values of every row).
 */
import type { ApiOutput, ApiParsedInput } from '../../api/contract.ts';
import type { BenchRow, BenchSummaryRow, TrainedBenchModel } from '../../api/methods/bench.ts';
import type { CallControl as CallContext } from '../codecs/index.ts';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { type BoundSpec, formatBound, resolveBound, validRange } from '../../core/codec/bound.ts';
import { allPresets, listCodecs, resolveCodecChoice } from '../../core/compressors/index.ts';
import { resolveModelRef } from '../codecs/models.ts';
import { pinPython } from '../system/python-env.ts';
import { bitsByPart } from './runs.ts';
import { errorStats, ssimMiddleSlice } from '../../core/metrics/index.ts';
import { decodeStream, encodeField, metadataOf, warmWorkers } from '../codecs/index.ts';
import { zstdBackend } from '../codecs/zstd-backend.ts';
import { selfDescriptionBytes } from '../../core/codec/stream/format.ts';
import { type PrepareOptions, prepareBase } from './base.ts';
import { EXTERNAL, externalLabel, fillWithMean, startToolRunner } from './baselines/external.ts';
import { benchVariables, loadField, variableNames } from './bench-input.ts';
import { basename } from 'node:path';
import { availableParallelism } from 'node:os';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFileSync } from '../files/regular.ts';

export type { BenchRow };

/** Codec presets that compress a field alone (the registry's), then the external baselines. */
export function benchCodecs(): string[] {
  return [...allPresets().filter((p) => !p.codec.needsDependencies).map((p) => p.preset.name), ...Object.keys(EXTERNAL)];
}

export interface BenchOptions {
  files: string[];
  /** variables to take (default: bench-input.ts benchVariables: float or packed, 2+ dims longer than 1 or 1-D data) */
  vars?: string[];
  /** codec names: auto | lorenzo | dq-lorenzo | interp-linear | interp-cubic | zfp | sz3 (default: auto, best, zfp, sz3 when on PATH) */
  codecs?: string[];
  bounds: BoundSpec[];
  workers?: number;
  entropy?: 'range' | 'huffman' | 'auto';
  /** model reference for codecs that take one (VQ-VAE, NGLR): 'default', 'none', a file, a sha256 prefix; files of several kinds comma-separated */
  model?: string;
  /** learned codecs: put the model inside each stream */
  embedModel?: boolean;
  /** residual coders: the base: none, auto, CODEC:MODE:VALUE (auto:rel:1e-2, vqvae:psnr:40) or file:PATH (base.ts) */
  base?: string;
  /** codec params (--param KEY=VALUE), each given to the benched codecs whose params take it */
  params?: Record<string, unknown>;
  /** minimum seconds of repeated timing per row (default 0.3; at least 2 runs, at most 200) */
  minSeconds?: number;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
  /** field loader (default: the private loader; the data service plugs in here) */
  load?: (file: string, variable: string) => Promise<Field>;
  listVars?: (file: string) => Promise<string[]>;
}

/**
 * Params of a bench codec, once per run: the model for codecs that take one (resolved once: its file, found by the
 * encoder and the decoder, and its size for the ratio with the model), the entropy coder for those that have the choice.
 */
function benchSetup(codec: string, opts: BenchOptions): { params: Record<string, unknown>; model: { path: string; bytes: number } | null } {
  const { codec: c } = resolveCodecChoice(codec);
  const params: Record<string, unknown> = {};
  let model: { path: string; bytes: number } | null = null;
  // --model may list one file per learned codec (a.fpvq,b.fpnl): each codec takes the file of its kind; a ref that is
  // not a file of another kind (default, none, a hash) applies to all
  const refs = (opts.model ?? 'default').split(',').map((r) => r.trim()).filter(Boolean);
  const ext = c.modelParam?.extension ?? '';
  const ref = refs.find((r) => r.toLowerCase().endsWith(ext)) ?? refs.find((r) => !/\.fp[a-z]+$/i.test(r)) ?? 'default';
  if (c.modelParam && ref === 'none') params[c.modelParam.key] = 'none';
  else if (c.modelParam) {
    const m = resolveModelRef(c.modelParam, ref);
    model = { path: m.path, bytes: m.bytes.length };
    params[c.modelParam.key] = m.path;
    if (opts.embedModel) params.embedModel = true;
  }
  if (opts.entropy && c.params.safeParse({ entropy: opts.entropy }).success) params.entropy = opts.entropy;
  for (const [k, v] of Object.entries(opts.params ?? {})) if (c.params.safeParse({ [k]: v }).success) params[k] = v;
  return { params, model };
}

/** Bits per value by part and the model's share, from a learned codec's details. */
function learnedColumns(details: Record<string, unknown>, storedBytes: number, n: number, modelBytes: number, origBytes: number, baseBytes = 0): Partial<BenchRow> {
  const inner = (details.vqvae ?? details) as { embedded?: boolean; trainingSeconds?: number };
  const fellBack = details.fellBack === true;
  const bits = bitsByPart(details, storedBytes, n);
  const cols: Partial<BenchRow> = { fell_back: fellBack };
  if (bits) {
    cols.bits_latents = r4(bits.latents ?? 0);
    cols.bits_residual = r4(bits.residual ?? 0);
    cols.bits_mask = r4(bits.mask ?? 0);
    if (bits.side !== undefined) cols.bits_side = r4(bits.side);
  }
  cols.model_bytes = modelBytes;
  cols.model_embedded = inner.embedded === true;
  if (typeof inner.trainingSeconds === 'number') cols.training_seconds = inner.trainingSeconds;
  // a stream that fell back, or whose chunks all left the model out, needs none; the base counts as it does in
  // compression_ratio (the ratio with the model read higher than the one without it)
  cols.model_used = !fellBack && details.modelUnused !== true;
  cols.compression_ratio_with_model = r4(origBytes / (storedBytes + baseBytes + (!cols.model_used || inner.embedded ? 0 : modelBytes)));
  return cols;
}

/** The files given and the data files of the folders given; a missing path or a folder without one is said. */
export function expandFiles(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    let folder: boolean;
    try {
      folder = statSync(f).isDirectory();
    } catch (e) {
      throw new FieldpackError('NOT_FOUND', `${f}: no such file or folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: f });
    }
    if (!folder) {
      out.push(f);
      continue;
    }
    const inside = readdirSync(f).sort().filter((e) => /\.(nc|cdf|nc4|h5)$/i.test(e));
    if (!inside.length) throw new FieldpackError('NOT_FOUND', `no NetCDF or HDF5 file (.nc, .cdf, .nc4, .h5) in the folder ${f}`, { path: f });
    out.push(...inside.map((e) => join(f, e)));
  }
  return [...new Set(out)];
}

/**
 * Why a float64 field cannot be benched as float32, or null: values past float32's range would become infinite, and
 * values below its normal range lose their digits or become 0 (a field of 1e-50 values was benched as all zeros,
 * every tool's row "constant", exact).
 */
function float32Problem(values: Field['values'], mask: Uint8Array | undefined): string | null {
  if (values instanceof Float32Array) return null;
  let largest = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let smallest = Infinity;
  let rounding = 0;
  for (let i = 0; i < values.length; i++) {
    if (mask && mask[i] === 0) continue;
    const x = values[i]!;
    if (!Number.isFinite(x)) continue;
    const a = Math.abs(x);
    if (a > largest) largest = a;
    if (a !== 0 && a < smallest) smallest = a;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (a <= F32_MAX) rounding = Math.max(rounding, Math.abs(Math.fround(x) - x));
  }
  const why = ': the bench runs every codec on float32 (fieldpack compress codes a float64 field as it is)';
  if (largest > F32_MAX) return `values up to ${largest.toPrecision(3)}, past float32's range${why}`;
  // below float32's normal range values lose their digits: refused where that changes the field at float32's own
  // precision of its range (a field of 1e-50 values became all zeros, every row "constant", exact)
  if (smallest < F32_MIN_NORMAL && rounding > F32_EPSILON * (hi - lo)) return `values as small as ${smallest.toPrecision(3)}, below float32's normal range (as float32 they lose their digits or become 0)${why}`;
  return null;
}

const F32_MAX = 3.4028234663852886e38;
const F32_MIN_NORMAL = 1.1754943508222875e-38;
const F32_EPSILON = 2 ** -23;

/**
 * Most runs bestOf makes of a row. It made at most 5, so `--min-seconds 2` timed a 0.18 s cross-field row for 0.9 s,
 * on code not yet warm (COADS SST <- AIRT with a reused model: 4.4 MB/s, 8.8 after 10 runs).
 */
const MAX_TIMED_RUNS = 200;

/**
 * fn run at least twice, and until its runs took minSeconds (at most MAX_TIMED_RUNS times): the first run's value and
 * the last's, how many runs, and the fastest run's seconds (wall time, or as `secondsOf` reads them from a run's
 * value: the cross-field bench's own timing). `each` sees every run's value beside the first's as it comes (a check,
 * a running minimum): only those two are kept, not one decoded field a run.
 */
export async function bestOf<T>(minSeconds: number, fn: () => Promise<T>, secondsOf?: (x: T) => number, each?: (x: T, first: T) => void): Promise<{ first: T; value: T; runs: number; seconds: number }> {
  let best = Infinity;
  let first!: T;
  let value!: T;
  let total = 0;
  let runs = 0;
  while (runs < MAX_TIMED_RUNS) {
    const t0 = performance.now();
    value = await fn();
    const s = secondsOf ? secondsOf(value) : (performance.now() - t0) / 1000;
    if (runs++ === 0) first = value;
    each?.(value, first);
    best = Math.min(best, s);
    total += s;
    if (total >= minSeconds && runs >= 2) break;
  }
  return { first, value, runs, seconds: best };
}

const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);

/**
 * The mask an external tool's file lacks (the points fillWithMean replaces by the valid mean, not restored: fill
 * points and NaN or infinite values), where the field has such points and an external tool is benched: one bit a
 * point through zstd, the lossless stage ours use
 */
function externalMaskColumns(values: ArrayLike<number>, mask: Uint8Array | null, codecs: readonly string[]): { bytes: number } | null {
  if (!codecs.some((c) => EXTERNAL[c])) return null;
  const bits = new Uint8Array((values.length + 7) >>> 3);
  let replaced = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((mask === null || mask[i]) && v - v === 0) bits[i >>> 3]! |= 0x80 >>> (i & 7);
    else replaced++;
  }
  return replaced ? { bytes: zstdBackend.compress(bits).length } : null;
}

/** A row that could not be measured: what it is, why, and NaN in every measurement. */
function failedRow(r: { file: string; variable: string; codec: string; bound: BoundSpec; values: number; workers: number }, error: string): BenchRow {
  return {
    file: r.file, variable: r.variable, codec: r.codec, bound: formatBound(r.bound), bound_mode: r.bound.mode, bound_value: r.bound.value,
    ...(r.bound.mode === 'rel' ? { rel_bound: r.bound.value } : {}), abs_bound: NaN, values: r.values, valid_values: NaN, workers: r.workers,
    compressed_bytes: NaN, compression_ratio: NaN, bit_rate: NaN, psnr_db: NaN, nrmse: NaN, max_abs_error: NaN,
    max_error_over_bound: NaN, points_over_bound: NaN, ssim: NaN, compress_mb_s: NaN, decompress_mb_s: NaN,
    fills_handling: EXTERNAL[r.codec] ? 'replaced by valid mean' : 'native mask',
    error,
  };
}

/** How bench.codecs measures, written into every result. */
export const BENCH_PROTOCOL = [
  'Each variable whole as float32 in C order; range, bound and metrics over valid points only.',
  'Fieldpack codecs handle fill points natively (mask stored, fills neither predicted nor coded); external baselines get fills replaced by the mean of the valid points.',
  'compression_ratio = 4 x values / whole output bytes. PSNR = 20 log10(range / RMSE).',
  'self_description_bytes: of our output bytes, the field\'s name, units, dims, attributes and source in the stream header (an SZ3 file has none; coordinates are left out of both).',
  'mask_bytes, ratio_with_mask (external baselines on fields with fill points): the mask their files lack to restore those points, one bit a point through zstd, and the ratio with it counted.',
  'MB/s = 4 x values / 1e6 / seconds, best of repetitions (as many for the external tools, each a whole process), warm worker pool.',
];

/**
 * The protocol with the environment the speeds depend on: glibc's huge pages for large allocations (the launcher
 * turns them on for this process, and the external tools it starts inherit them: SZ3 compressed etopo5 at 64-66 MB/s
 * without them and 89-171 with them on this VM, session 36), the kernel's transparent huge page mode, Node and cores.
 */
export function benchProtocol(): string[] {
  let thp = 'unknown';
  try {
    thp = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? thp;
  } catch {
    // not Linux, or not readable
  }
  const hugetlb = /glibc\.malloc\.hugetlb=([12])/.test(process.env.GLIBC_TUNABLES ?? '');
  return [
    ...BENCH_PROTOCOL,
    `Environment: Node ${process.version}, ${availableParallelism()} cores; glibc huge pages for large allocations ${hugetlb ? 'on' : 'off'} (GLIBC_TUNABLES, also for the external tools); transparent huge pages: ${thp}.`,
  ];
}

/**
 * bench.codecs: with `train`, each benched learned codec's model trained on the benched fields first (the VQ-VAE when
 * none is benched; kept as PREFIX.fpvq / PREFIX.fpnl) and benched in place of `model`; then the rows.
 */
export async function benchCodecsWithModels(input: ApiParsedInput<'bench.codecs'>, call?: CallContext): Promise<ApiOutput<'bench.codecs'>> {
  const trained: TrainedBenchModel[] = [];
  if (input.train && !input.codecs.some((c) => benchCodecs().includes(c) && resolveCodecChoice(c).codec.modelParam)) {
    throw new FieldpackError('INVALID_ARGUMENT', `train makes a model for the learned codecs (vqvae, nglr); none of ${input.codecs.join(', ') || 'the default codecs'} takes one`);
  }
  if (input.train) {
    const { trainBenchModel } = await import('./bench-train.ts');
    // the interpreter named is the one used: one that is not there is said, not replaced by another Python
    if (input.train.python) pinPython(input.train.python);
    const networks = input.codecs.includes('nglr') ? (input.codecs.includes('vqvae') ? ['vqvae', 'nglr'] as const : ['nglr'] as const) : ['vqvae'] as const;
    for (const network of networks) {
      if (call?.signal?.aborted) throw new FieldpackError('CANCELLED', 'bench cancelled');
      const t = await trainBenchModel({
        files: input.files, vars: input.variables, epochs: input.train.epochs, out: `${input.train.modelPrefix}.${network === 'vqvae' ? 'fpvq' : 'fpnl'}`, network,
        bounds: input.bounds, base: input.base, python: input.train.python, onProgress: (f, m) => call?.onProgress?.(f, m), signal: call?.signal,
      });
      trained.push({ network, path: t.path, seconds: t.seconds, samples: t.maps });
    }
  }
  const rows = await runBench({
    files: input.files, vars: input.variables, codecs: input.codecs, bounds: input.bounds, workers: input.workers, entropy: input.entropy,
    model: trained.length ? trained.map((t) => t.path).join(',') : input.model, embedModel: input.embedModel, params: input.params, base: input.base,
    minSeconds: input.minSeconds, onProgress: call?.onProgress, signal: call?.signal,
  });
  return { protocol: benchProtocol(), rows, summary: benchSummary(rows), trained };
}

/** Per benched codec, in the rows' order: its median speeds, its ratios' geometric mean, and against SZ3's (BenchSummaryRow). */
export function benchSummary(rows: readonly BenchRow[]): BenchSummaryRow[] {
  const measured = rows.filter((r) => !r.error && r.compressed_bytes > 0);
  const sz3 = new Map(measured.filter((r) => r.codec === 'sz3').map((r) => [rowKey(r), r.ratio_with_mask ?? r.compression_ratio]));
  const codecs = [...new Set(measured.map((r) => r.codec))];
  return codecs.map((codec) => {
    const own = measured.filter((r) => r.codec === codec);
    const paired = codec === 'sz3' ? [] : own.filter((r) => sz3.has(rowKey(r)));
    const below = paired.filter((r) => r.compression_ratio < sz3.get(rowKey(r))!);
    // SZ3's ratio as bytes of the same values (its mask counted), against ours without the field's self-description
    const belowWithoutSelfDescription = below.filter((r) => r.compressed_bytes - (r.self_description_bytes ?? 0) > (4 * r.values) / sz3.get(rowKey(r))!);
    return {
      codec, rows: own.length,
      median_compress_mb_s: r4(median(own.map((r) => r.compress_mb_s))), median_decompress_mb_s: r4(median(own.map((r) => r.decompress_mb_s))),
      geomean_ratio: r4(geometricMean(own.map((r) => r.compression_ratio))),
      ...(paired.length ? {
        rows_with_sz3: paired.length,
        geomean_ratio_over_sz3: r4(geometricMean(paired.map((r) => r.compression_ratio / sz3.get(rowKey(r))!))),
        rows_below_sz3: below.length,
        rows_below_sz3_by_self_description: below.length - belowWithoutSelfDescription.length,
      } : {}),
    };
  });
}

const rowKey = (r: BenchRow) => `${r.file}|${r.variable}|${r.bound}`;

/** The median (the mean of the middle two of an even count), NaN for none. */
function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function geometricMean(xs: readonly number[]): number {
  return xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : NaN;
}

/**
 * A codec param, a model or a base that none of the benched codecs takes is refused, named, as compress refuses it
 * (a model or a base was left out silently: an NGLR file benched the default VQ-VAE).
 */
function checkTakenByBenchedCodecs(codecs: string[], opts: Pick<BenchOptions, 'params' | 'model' | 'base'>): void {
  const ours = codecs.filter((c) => !EXTERNAL[c]).map((c) => resolveCodecChoice(c).codec);
  for (const [k, v] of Object.entries(opts.params ?? {})) {
    if (!ours.some((c) => c.params.safeParse({ [k]: v }).success)) {
      throw new FieldpackError('INVALID_ARGUMENT', `no benched codec takes the param ${k}=${JSON.stringify(v)} (codecs: ${codecs.join(', ')})`);
    }
  }
  const learned = ours.filter((c) => c.modelParam);
  for (const ref of (opts.model ?? 'default').split(',').map((r) => r.trim()).filter((r) => r && r !== 'default' && r !== 'none')) {
    if (!learned.length) throw new FieldpackError('INVALID_ARGUMENT', `no benched codec takes the model ${ref} (codecs: ${codecs.join(', ')}; vqvae and nglr take one)`);
    const kind = /\.fp[a-z]+$/i.exec(ref)?.[0].toLowerCase();
    if (kind && !learned.some((c) => c.modelParam!.extension === kind)) {
      throw new FieldpackError('INVALID_ARGUMENT', `no benched codec takes the model ${ref}, a ${kind} file (${learned.map((c) => `${c.id} takes ${c.modelParam!.extension}`).join(', ')})`);
    }
  }
  if (opts.base && opts.base !== 'none' && !ours.some((c) => c.takesBase)) {
    throw new FieldpackError('INVALID_ARGUMENT', `no benched codec takes the base ${opts.base} (codecs: ${codecs.join(', ')}; residual coders do: ${listCodecs().filter((c) => c.takesBase).map((c) => c.id).join(', ')})`);
  }
}

export async function runBench(opts: BenchOptions): Promise<BenchRow[]> {
  const files = expandFiles(opts.files);
  const load = opts.load ?? loadField;
  const listVars = opts.listVars ?? benchVariables;
  const workers = opts.workers ?? 1;
  const minSeconds = opts.minSeconds ?? 0.3;
  // each codec, variable and bound once (a name given twice gave its rows twice)
  // (the default preset beside the best effort: the speed the default gives and the bytes the search saves)
  const codecs = opts.codecs?.length ? [...new Set(opts.codecs)] : ['auto', 'best', 'zfp', ...(EXTERNAL.sz3!.available() ? ['sz3'] : [])];
  opts = { ...opts, ...(opts.vars ? { vars: [...new Set(opts.vars)] } : {}), bounds: [...new Map(opts.bounds.map((b) => [formatBound(b), b])).values()] };
  for (const c of codecs) {
    if (!benchCodecs().includes(c)) throw new FieldpackError('INVALID_ARGUMENT', `unknown codec "${c}" (known: ${benchCodecs().join(', ')})`);
    if (EXTERNAL[c] && !EXTERNAL[c].available()) throw new FieldpackError('NOT_FOUND', `${c} is not on PATH`);
  }
  checkTakenByBenchedCodecs(codecs, opts);
  // SZ3 and zfp run from a helper process started while this one is small (startToolRunner: a fork of this process
  // slowed the rows after it)
  if (codecs.some((c) => EXTERNAL[c])) startToolRunner();
  // the workers from the start, as a long job has them: a field of one chunk then overlaps its planning with its
  // encoding in a free worker (classic codec), whatever the fields before it
  warmWorkers(workers, Infinity);
  const warmed = new Set<string>();
  // a model that cannot be found fails each of its rows (as an encoder would), not the whole bench
  const setups = new Map(codecs.filter((c) => !EXTERNAL[c]).map((c): [string, ReturnType<typeof benchSetup> | Error] => {
    try {
      return [c, benchSetup(c, opts)];
    } catch (e) {
      return [c, e instanceof Error ? e : new Error(String(e))];
    }
  }));
  // a listed variable no file has is a mistake to say before any work, not an empty table
  if (opts.vars?.length && !opts.load) {
    const names = new Set((await Promise.all(files.map(variableNames))).flat());
    const missing = opts.vars.filter((v) => !names.has(v));
    if (missing.length) throw new FieldpackError('NOT_FOUND', `no variable ${missing.map((v) => `"${v}"`).join(', ')} in ${files.map((f) => basename(f)).join(', ')} (variables: ${[...names].join(', ')})`);
  }
  const jobs: { file: string; variable: string }[] = [];
  for (const file of files) {
    const vars = opts.vars?.length ? opts.vars : await listVars(file);
    for (const v of vars) jobs.push({ file, variable: v });
  }
  const total = jobs.length * opts.bounds.length * codecs.length;
  const rows: BenchRow[] = [];
  let done = 0;
  for (const job of jobs) {
    let field: Field;
    try {
      field = await load(job.file, job.variable);
    } catch (e) {
      if (opts.vars?.length && e instanceof FieldpackError && e.code === 'NOT_FOUND') {
        done += opts.bounds.length * codecs.length; // a listed variable this file does not have
        continue;
      }
      throw e;
    }
    const overflow = float32Problem(field.values, field.mask);
    if (overflow) {
      rows.push(...opts.bounds.flatMap((bound) => codecs.map((codec) => failedRow({ file: basename(job.file), variable: job.variable, codec, bound, values: field.values.length, workers: EXTERNAL[codec] ? 1 : workers }, overflow))));
      done += opts.bounds.length * codecs.length;
      continue;
    }
    const f32: Field = field.values instanceof Float32Array ? field : { ...field, values: Float32Array.from(field.values) };
    const baseCache: NonNullable<PrepareOptions['cache']> = new Map();
    const mask = f32.mask ?? null;
    const withMask = externalMaskColumns(f32.values, mask, codecs);
    const vr = validRange(f32.values, mask);
    const n = f32.values.length;
    const origBytes = 4 * n;
    for (const bound of opts.bounds) {
      const rb = resolveBound(bound, vr.max - vr.min);
      for (const codec of codecs) {
        if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'bench cancelled');
        opts.onProgress?.(done / total, `${basename(job.file)} ${job.variable} ${formatBound(bound)} ${codec}`);
        const base = {
          file: basename(job.file),
          variable: job.variable,
          codec,
          bound: formatBound(bound),
          bound_mode: bound.mode,
          bound_value: bound.value,
          ...(bound.mode === 'rel' ? { rel_bound: bound.value } : {}),
          abs_bound: rb.abs,
          values: n,
          valid_values: vr.count,
          workers: EXTERNAL[codec] ? 1 : workers,
        };
        try {
          let recon: ArrayLike<number>;
          let bytes: number;
          let cs: number;
          let ds: number;
          let predictor: string | undefined;
          let extra: Partial<BenchRow> = {};
          let streamBound: number | undefined;
          if (EXTERNAL[codec]) {
            const filled = fillWithMean(f32.values, mask);
            // as many whole-process runs as ours get (bestOf), the fastest of each way: a tool's run on a large field
            // varies as much as ours (SZ3 on etopo5 with huge pages: 89-171 MB/s from one run to the next)
            let fastest = { compress: Infinity, decompress: Infinity };
            const r = (await bestOf(minSeconds, () => EXTERNAL[codec]!.run(filled, f32.shape, rb.abs), (x) => x.compressSeconds + x.decompressSeconds, (x) => {
              fastest = { compress: Math.min(fastest.compress, x.compressSeconds), decompress: Math.min(fastest.decompress, x.decompressSeconds) };
            })).value;
            recon = r.recon;
            bytes = r.compressedBytes;
            cs = fastest.compress;
            ds = fastest.decompress;
            predictor = externalLabel(codec, r);
            if (withMask) extra = { mask_bytes: withMask.bytes, ratio_with_mask: r4(origBytes / (bytes + withMask.bytes)) };
          } else {
            const metadata = metadataOf(f32, basename(job.file), { coordinates: false }); // sizes comparable with SZ3 files: no coordinates
            const setup = setups.get(codec)!;
            if (setup instanceof Error) throw setup;
            // residual coders: the base first (its bytes count in the row), the residual over its reconstruction
            // (auto: chosen per field, codec and target from samples; codec bases encoded once per field)
            const tb = performance.now();
            const prepared = resolveCodecChoice(codec).codec.takesBase
              ? await prepareBase(f32, opts.base, { codec, params: setup.params, bound, workers, metadata, cache: baseCache })
              : null;
            const baseSeconds = (performance.now() - tb) / 1000;
            const base = prepared?.field ? { field: prepared.field, bytes: prepared.bytes } : null;
            const encode = () => encodeField(f32, { codec, params: setup.params, bound, workers, verify: false, metadata: { ...metadata, ...prepared?.metadata }, ...(base ? { base: base.field } : {}) });
            const modelFiles = setup.model ? [setup.model.path] : [];
            const decode = (bytes: Uint8Array) => decodeStream(bytes, { workers, deps: { files: modelFiles, ...(base ? { fields: [base.field] } : {}) } });
            // a codec's first row runs once untimed: this thread's and the workers' code warms up there, not in the
            // first timed rows (Levitus SALT at rel 1e-2 as the bench's first row: 69 MB/s for auto, 99 for fast
            // right after it, the same planning and bytes)
            if (!warmed.has(codec)) {
              warmed.add(codec);
              await decode((await encode()).bytes);
            }
            const c = await bestOf(minSeconds, encode);
            if (setup.model) extra = learnedColumns(c.value.details, c.value.bytes.length, n, setup.model.bytes, origBytes, base?.bytes ?? 0);
            const d = await bestOf(minSeconds, () => decode(c.value.bytes));
            recon = d.value.field.values;
            streamBound = c.value.bound.lossless ? rb.abs : c.value.bound.abs;
            if (streamBound !== rb.abs) extra = { ...extra, abs_bound: streamBound };
            bytes = c.value.bytes.length + (base?.bytes ?? 0);
            extra = { ...extra, self_description_bytes: selfDescriptionBytes(c.value.bytes) };
            if (prepared) {
              extra = {
                ...extra, base: prepared.requested, base_choice: prepared.spec, base_bytes: prepared.bytes, base_seconds: r4(baseSeconds),
                ...(prepared.file ? { base_bits: prepared.file.bits } : {}),
                ...(prepared.choice ? { base_estimates: Object.fromEntries(Object.entries(prepared.choice.estimates).map(([k, e]) => [k, e.bytes])), base_reason: prepared.choice.reason } : {}),
              };
            }
            cs = c.seconds;
            ds = d.seconds;
            predictor = typeof c.value.details.choice === 'string' ? c.value.details.choice : c.value.codec;
          }
          // every point is checked against the bound its stream declares: the resolved one, tighter where a PSNR or
          // NRMSE target was tightened, or (coders that meet an NRMSE target without a point-wise bound) the largest
          // error the stream has
          const st = errorStats(f32.values, recon, mask, streamBound ?? rb.abs);
          rows.push({
            ...base,
            compressed_bytes: bytes,
            compression_ratio: r4(origBytes / bytes),
            bit_rate: r4((8 * bytes) / n),
            psnr_db: r4(st.psnr),
            nrmse: r4(st.nrmse),
            max_abs_error: r4(st.maxAbsError),
            max_error_over_bound: r4(st.maxErrorOverBound),
            points_over_bound: st.pointsOverBound,
            ssim: r4(ssimMiddleSlice(f32.values, recon, f32.shape, mask)),
            compress_mb_s: r4(origBytes / 1e6 / cs),
            decompress_mb_s: r4(origBytes / 1e6 / ds),
            predictor,
            fills_handling: EXTERNAL[codec] ? 'replaced by valid mean' : 'native mask',
            ...extra,
          });
        } catch (e) {
          if (e instanceof FieldpackError && e.code === 'CANCELLED') throw e;
          rows.push({ ...failedRow({ ...base, bound }, e instanceof Error ? e.message : String(e)), ...base });
        }
        done++;
      }
    }
  }
  opts.onProgress?.(1, 'done');
  return rows;
}

export const BENCH_COLUMNS: (keyof BenchRow)[] = [
  'file', 'variable', 'codec', 'bound', 'rel_bound', 'abs_bound', 'values', 'valid_values', 'compressed_bytes', 'compression_ratio', 'self_description_bytes', 'mask_bytes', 'ratio_with_mask',
  'bit_rate', 'psnr_db', 'nrmse', 'max_abs_error', 'max_error_over_bound', 'points_over_bound', 'ssim', 'compress_mb_s',
  'decompress_mb_s', 'workers', 'predictor', 'fills_handling', 'base', 'base_choice', 'base_bytes', 'error',
];

export function benchCsv(rows: BenchRow[]): string {
  const esc = (v: unknown) => {
    if (v === undefined || v === null) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [BENCH_COLUMNS.join(','), ...rows.map((r) => BENCH_COLUMNS.map((c) => esc(r[c])).join(','))].join('\n') + '\n';
}

/** SZ3 default ratios from a baselines.json, keyed "file|variable|rel_bound" (file without the "ferret-datasets: " prefix). */
/** A row of ../shared/reference/baselines.json. */
export interface BaselineRow {
  file: string;
  variable: string;
  rel_bound: number;
  compressor: string;
  compression_ratio: number;
}

/**
 * A baselines.json read and checked (its rows an array): a file that cannot be read or is not one is named with
 * `label` (the flag or param that gave it), its content never echoed.
 */
export function readBaselines(path: string, label: string): BaselineRow[] {
  try {
    const json = JSON.parse(readRegularFileSync(path, label).toString('utf8')) as { rows?: unknown; protocol?: unknown };
    if (!Array.isArray(json.rows)) throw new Error('no rows');
    // rows of another shape are passed over (a ratio that is no number was printed as "[object Object]"), but a file
    // with none of its shape is not one: a bench result given here was read as no reference at all, without a word
    const rows = json.rows.filter(isBaselineRow);
    if (json.rows.length && !rows.length) {
      const bench = json.protocol !== undefined && json.rows.some((r) => typeof r === 'object' && r !== null && 'codec' in r);
      throw new FieldpackError('INVALID_ARGUMENT', `${label} ${path}: ${bench ? 'a fieldpack bench result' : 'none of its rows is a baselines.json row'}, not a baselines.json (rows of file, variable, rel_bound, compressor, compression_ratio, such as ../shared/reference/baselines.json)`, { path });
    }
    return rows;
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FieldpackError(code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `${label} ${path}: ${code ? `cannot read it (${code})` : 'not a baselines.json (JSON with rows of file, variable, rel_bound, compressor, compression_ratio)'}`, { path });
  }
}

/** A row as baselines.json holds them: the names as strings, the bound and the ratio as finite numbers. */
function isBaselineRow(r: unknown): r is BaselineRow {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Record<string, unknown>;
  return typeof x.file === 'string' && typeof x.variable === 'string' && typeof x.compressor === 'string'
    && typeof x.compression_ratio === 'number' && Number.isFinite(x.compression_ratio) && (x.rel_bound === undefined || typeof x.rel_bound === 'number');
}

export function referenceRatios(json: { rows: { file: string; variable: string; rel_bound: number; compressor: string; compression_ratio: number }[] }): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of json.rows) {
    if (!/SZ3.*default/.test(r.compressor)) continue;
    m.set(`${basename(r.file.replace(/^.*:\s*/, ''))}|${r.variable}|${r.rel_bound}`, r.compression_ratio);
  }
  return m;
}
