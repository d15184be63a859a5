/**
 * The codec service: the one path from a field to a stream and back, for every registered codec
 * (core/compressors). The API handlers, jobs, the cross-field service, the bench, the .fpk data reader and
 * the CLI (through the API) all call it.
 *
 *   encodeField(field, {codec, params, bound, anchors, ...})  -> { bytes, codec, bound, details, verification }
 *   decodeStream(bytes, {deps, rows, workers})                -> { field, header, rows }   (dependencies resolved)
 *   inspectStream(bytes)                                      -> header + codec + dependencies + summary
 *
 * workers: 0 = codec tasks in this thread; N >= 1 = a warm pool of N worker threads. threads: the same for
 * network inference on the reference path. The output bytes never depend on either.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import './zstd-backend.ts';
import { zstdBackend } from './zstd-backend.ts';
import { closePools, getPool, runningPool } from './pool.ts';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, binaryMask } from '../../core/field.ts';
import { packCoordinates } from '../../core/coordinates.ts';
import { type BoundSpec, type ResolvedBound, parseBound } from '../../core/codec/bound.ts';
import { type StreamHeader, type StreamMetadata, readHeader } from '../../core/codec/stream/format.ts';
import { type ErrorStats, errorStats } from '../../core/metrics/index.ts';
import type { NnSpec } from '../../core/nn/spec.ts';
import { DEFAULT_CHUNK_VALUES } from '../../core/compressors/classic/codec.ts';
import { resolveModelRef } from './models.ts';
import { BaseSpec } from '../../api/methods/compression.ts';
import {
  type Codec,
  type CodecEnv,
  type DecodePath,
  type DecodedField,
  type Dependency,
  type ResolvedDependencies,
  NO_DEPENDENCIES,
  codecOf,
  codecTask,
  describeDependency,
  listCodecs,
  resolveCodecChoice,
} from '../../core/compressors/index.ts';
import { type DependencySource, type FieldLoader, reconstructionHash, resolveDependencies, toReconstruction } from './dependencies.ts';
import { readRegularFile } from '../files/regular.ts';

export { closePools, reconstructionHash, toReconstruction };
export type { DecodedField, DependencySource, FieldLoader, StreamHeader };

export interface RunControl {
  /** codec tasks: 0 = this thread, N = N worker threads */
  workers?: number;
  /** network inference threads on the reference path (0 = this thread) */
  threads?: number;
  /** learned decoders: the path that runs the network (default 'fast'; both give the same bytes) */
  decodePath?: DecodePath;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

/**
 * What a door passes with one call: progress and cancellation (handlers/types.ts's CallContext, declared here for the
 * services below the handlers, which never import them).
 */
export type CallControl = Pick<RunControl, 'onProgress' | 'signal'>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
}

/** Reference-path inference of one network over many inputs, spread over `threads` workers. */
async function referenceOnThreads(spec: NnSpec, weights: Float32Array, inputs: Float32Array[], spatial: number[], threads: number, signal?: AbortSignal): Promise<Float32Array[]> {
  const { InferencePool } = await import('../inference/pool.ts');
  const pool = new InferencePool({ threads });
  const model = { manifest: { contentHash: sha256(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)) }, spec, weights, onnx: null };
  try {
    return await Promise.all(inputs.map(async (x) => {
      checkAbort(signal);
      return (await pool.predict(model as never, x, spatial, { backend: 'reference', signal })).output;
    }));
  } finally {
    await pool.close();
  }
}

/**
 * Starts the worker pool of this size now (its start then overlaps reading the field and planning), for a field of
 * more than one default chunk of float32 values: below that the classic codec makes one chunk, which runs in this
 * thread (runTask's `alone`), so a pool would only cost its start.
 */
export function warmWorkers(workers: number, fieldBytes: number): void {
  if (workers > 0 && fieldBytes > 4 * DEFAULT_CHUNK_VALUES) getPool(workers);
}

/** What codecs get from this process: zstd, sha256, the worker pool, threaded inference, progress. */
export function codecEnv(ctl: RunControl = {}): CodecEnv {
  const workers = ctl.workers ?? 0;
  const threads = ctl.threads ?? 0;
  return {
    backend: zstdBackend,
    hash: sha256,
    async runTask<T>(codecId: string, task: string, args: Record<string, unknown>, opts?: { alone?: boolean; ahead?: boolean }): Promise<T> {
      checkAbort(ctl.signal);
      if (workers > 0 && !opts?.alone) return getPool(workers).run<T>(codecId, task, args, { ahead: opts?.ahead });
      // a task of this thread holds it until it ends: a turn of the event loop first lets a Ctrl-C that came during
      // the last one cancel the rest (with --workers 0 the whole coding ran, and its stream was written, after it)
      if (ctl.signal) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        checkAbort(ctl.signal);
      }
      return codecTask(codecId, task)(args, zstdBackend).result as T;
    },
    // only a pool already running: starting one would compete with this thread for the field's own work
    idleWorker: () => (workers > 0 ? (runningPool(workers)?.idleWorker() ?? null) : null),
    recycle: (buffer) => (workers > 0 ? runningPool(workers)?.giveBack(buffer) : undefined),
    ...(threads > 0 ? { runReference: (spec, weights, inputs, spatial) => referenceOnThreads(spec, weights, inputs, spatial, threads, ctl.signal) } : {}),
    progress: (f, m) => ctl.onProgress?.(f, m),
    ...(workers > 0 && workers < availableParallelism() ? { spareThread: () => new Promise<void>((resolve) => setImmediate(resolve)) } : {}),
    parallelism: Math.max(1, workers),
    signal: ctl.signal,
    ...(ctl.decodePath ? { decodePath: ctl.decodePath } : {}),
  };
}

export interface EncodeOptions extends RunControl {
  /** a codec id or a preset name (classic's 'auto', 'lorenzo', ...); see codecCatalog() */
  codec: string;
  /** params over the preset's, validated by the codec's schema */
  params?: Record<string, unknown>;
  bound: BoundSpec;
  metadata?: StreamMetadata;
  /**
   * anchors (decoded reconstructions) for codecs that predict from other fields; `hash`, where given, is the
   * caller's reconstructionHash of that very field (not computed again)
   */
  anchors?: (Field & { hash?: string })[];
  /** decode again and check every valid point against the bound (default true) */
  verify?: boolean;
  /** model files to look in besides the model folders (codecs with a modelParam) */
  modelFiles?: string[];
  /** the decoded base a residual coder refines (another stream's reconstruction of this field) */
  base?: Field;
}

export interface EncodeResult {
  bytes: Uint8Array;
  codec: string;
  params: Record<string, unknown>;
  bound: ResolvedBound;
  details: Record<string, unknown>;
  compressionRatio: number;
  seconds: number;
  verification?: ErrorStats;
}

/** A codec's params from a preset or id plus overrides, validated by its schema (errors name the codec). */
export function codecParams(choice: string, overrides: Record<string, unknown> = {}): { codec: Codec; params: Record<string, unknown> } {
  const { codec, params } = resolveCodecChoice(choice);
  const parsed = codec.params.safeParse({ ...params, ...overrides });
  if (!parsed.success) {
    // a required param left out is said as such (the schema's own words are "expected array, received undefined")
    // (zod's issues do not carry the input: whether it was left out is read from the params given)
    const given = { ...params, ...overrides };
    const issues = parsed.error.issues.map((i) => {
      const path = i.path.join('.') || 'params';
      // a schema's own words for a param (the cross-field codec's anchors) stand; zod's default ones are reworded
      if (i.code !== 'invalid_type' || !/^Invalid input/.test(i.message)) return `${path}: ${i.message}`;
      const value = i.path.reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), given);
      const expected = i.expected === 'tuple' ? 'array' : i.expected;
      return value === undefined ? `${path} is needed (${expected})` : `${path} takes a${/^[aeiou]/.test(expected) ? 'n' : ''} ${expected}, not ${JSON.stringify(value)}`;
    });
    throw new FieldpackError('INVALID_ARGUMENT', `codec ${codec.id}: ${issues.join('; ')}`, { issues: parsed.error.issues });
  }
  return { codec, params: parsed.data };
}

/** Passes before a missed PSNR / NRMSE target falls back to a lossless stream. */
const TARGET_PASSES = 6;

function targetMet(bound: BoundSpec, st: ErrorStats): boolean {
  // no valid point: nothing to miss (its PSNR and NRMSE are NaN)
  if (st.validCount === 0) return true;
  if (bound.mode === 'psnr') return st.psnr >= bound.value;
  if (bound.mode === 'nrmse') return st.nrmse <= bound.value;
  return true;
}

/** Passes between a missed and a met tightening where the met one overshoots the target (overshoots). */
const REFINE_PASSES = 2;

/** Met with more than half a decibel to spare (NRMSE: the same ratio). */
function overshoots(bound: BoundSpec, st: ErrorStats): boolean {
  if (bound.mode === 'psnr') return st.psnr > bound.value + 0.5;
  if (bound.mode === 'nrmse') return st.nrmse < bound.value * Math.pow(10, -0.5 / 20);
  return false;
}

/** The next tightening after a miss: the shortfall (plus a margin) taken off the absolute bound. */
function nextTighten(bound: BoundSpec, st: ErrorStats, t: number): number {
  const ratio = bound.mode === 'psnr' ? Math.pow(10, -(bound.value - st.psnr) / 20) : bound.value / st.nrmse;
  return t * Math.min(0.97, Number.isFinite(ratio) && ratio > 0 ? ratio * 0.98 : 0.5);
}

export async function encodeField(given: Pick<Field, 'values' | 'shape' | 'mask'>, opts: EncodeOptions): Promise<EncodeResult> {
  const t0 = performance.now();
  checkAbort(opts.signal);
  const field = given.mask ? { ...given, mask: binaryMask(given.mask) } : given;
  const { codec, params } = codecParams(opts.codec, opts.params);
  const deps: ResolvedDependencies = { ...NO_DEPENDENCIES, anchors: Object.fromEntries((opts.anchors ?? []).map((a) => [a.name, toReconstruction(a, a.hash)])), models: {}, bases: {} };
  if (opts.base) {
    if (!codec.takesBase) throw new FieldpackError('INVALID_ARGUMENT', `codec ${codec.id} takes no base (residual coders do: ${listCodecs().filter((c) => c.takesBase).map((c) => c.id).join(', ')})`);
    // a residual coder's base: handed over as `base` and by its hash (as decoders resolve it)
    const b = toReconstruction(opts.base);
    deps.bases.base = b;
    deps.bases[b.hash] = b;
  }
  if (codec.modelParam && params[codec.modelParam.key] !== 'none') {
    // 'default', a path or a hash prefix -> the model's content hash, its bytes handed over ('none': no network)
    const m = resolveModelRef(codec.modelParam, String(params[codec.modelParam.key]), opts.modelFiles);
    params[codec.modelParam.key] = m.hash;
    deps.models[m.hash] = m.bytes;
  }
  const env = codecEnv(opts);
  // PSNR and NRMSE are targets to meet: measure the decoded field, tighten and compress again where missed
  const isTarget = opts.bound.mode === 'psnr' || opts.bound.mode === 'nrmse';
  /** one pass at a tightening: the stream, and (a target, not lossless) its measured errors and whether they meet it */
  const encodeAt = async (tighten: number) => {
    const r = await codec.encode({ field, bound: tighten < 1 ? { ...opts.bound, tighten } : opts.bound, params, metadata: opts.metadata ?? {}, deps }, env);
    checkAbort(opts.signal);
    if (!isTarget || r.bound.lossless) return { r, tighten, met: true };
    const d = await decodeStream(r.bytes, { ...opts, onProgress: undefined, resolved: deps });
    const stats = verifyBound(field, d.field, r.bound.abs);
    return { r, tighten, stats, met: targetMet(opts.bound, stats) };
  };
  let tighten = 1;
  let passes = 0;
  let missedAt = NaN;
  let missedRmse = NaN;
  let pass: Awaited<ReturnType<typeof encodeAt>>;
  for (;;) {
    passes++;
    pass = await encodeAt(tighten);
    if (pass.met) break;
    const { stats } = pass as { stats: ErrorStats };
    opts.onProgress?.(0, `${opts.bound.mode} target missed (${opts.bound.mode === 'psnr' ? `${stats.psnr.toFixed(3)} dB` : stats.nrmse.toExponential(3)}): tightening`);
    // the errors did not move (values on a grid: any bound from one step to two keeps the same points): halve it
    const stalled = Math.abs(stats.rmse - missedRmse) <= 1e-3 * stats.rmse;
    missedAt = tighten;
    missedRmse = stats.rmse;
    // the last pass is lossless: a target is always met
    tighten = passes >= TARGET_PASSES - 1 ? 0 : stalled ? tighten / 2 : nextTighten(opts.bound, stats, tighten);
  }
  // met after a miss, well past the target (on a grid the errors move in steps: a bound tightened by a quarter took
  // 59 dB to 62.5 where one between gave 60.7 in fewer bytes): bounds between the miss and it are tried, the smallest
  // stream meeting the target kept
  if (pass.stats && Number.isFinite(missedAt) && overshoots(opts.bound, pass.stats)) {
    let [met, missed] = [pass.tighten, missedAt];
    for (let k = 0; k < REFINE_PASSES; k++) {
      passes++;
      const between = await encodeAt((met + missed) / 2);
      if (!between.met) missed = between.tighten;
      else {
        met = between.tighten;
        if (between.r.bytes.length < pass.r.bytes.length) pass = between;
      }
    }
  }
  const { r, stats } = pass;
  const result: EncodeResult = {
    // the stream's own codec: a codec may keep another's smaller stream (the VQ-VAE's fallback, lossless bounds)
    bytes: r.bytes, codec: readHeader(r.bytes).codec, params, bound: r.bound,
    details: { ...r.details, ...(isTarget ? { targetPasses: passes, tighten: pass.tighten } : {}) },
    compressionRatio: (field.values.length * field.values.BYTES_PER_ELEMENT) / r.bytes.length,
    seconds: (performance.now() - t0) / 1000,
  };
  if (stats && (opts.verify ?? true)) result.verification = stats;
  else if (opts.verify ?? true) {
    const d = await decodeStream(r.bytes, { ...opts, onProgress: undefined, resolved: deps });
    result.verification = verifyBound(field, d.field, r.bound.abs);
  }
  return result;
}

/** A base compressed with a codec: CODEC:MODE:VALUE, or CODEC:MODEL[:MODE:VALUE] for a codec that takes a model. */
export interface CodecBaseSpec {
  codec: string;
  bound: BoundSpec;
  /** the codec's model param (e.g. the VQ-VAE's model: a sha256 prefix or 'default') */
  params: Record<string, unknown>;
}

/** The bound of a model base given without one (vqvae:HASH): where the issue's calibration put the VQ-VAE base. */
const MODEL_BASE_BOUND: BoundSpec = { mode: 'psnr', value: 40 };

/**
 * Parses a codec base: CODEC:MODE:VALUE (auto:rel:1e-2), or CODEC:MODEL[:MODE:VALUE] (vqvae:3fa9c2d1, vqvae:default:
 * psnr:46) where MODEL is a model's sha256 prefix (8+ hex digits) or 'default', for codecs that take a model;
 * null: not a codec base.
 */
export function parseCodecBase(spec: string): CodecBaseSpec | null {
  const s = spec.trim();
  const plain = /^([\w-]+):((?:abs|rel|psnr|nrmse):[^:]+)$/.exec(s);
  if (plain) return { codec: plain[1] === 'core' ? 'auto' : plain[1]!, bound: parseBound(plain[2]!), params: {} };
  const withModel = /^([\w-]+):([0-9a-fA-F]{8,64}|default)(?::((?:abs|rel|psnr|nrmse):[^:]+))?$/.exec(s);
  if (!withModel) return null;
  const { codec } = resolveCodecChoice(withModel[1]!);
  if (!codec.modelParam) throw new FieldpackError('INVALID_ARGUMENT', `base "${spec}": codec ${codec.id} takes no model (CODEC:MODE:VALUE)`);
  return { codec: withModel[1]!, bound: withModel[3] ? parseBound(withModel[3]) : MODEL_BASE_BOUND, params: { [codec.modelParam.key]: withModel[2]!.toLowerCase() } };
}

/**
 * The base a residual coder refines: the field compressed with a codec (parseCodecBase), and its reconstruction
 * (named as the field, as decoders find it). null for 'none' or no spec.
 */
export async function encodeBase(field: Field, spec: string | undefined, opts: RunControl & { metadata?: StreamMetadata } = {}): Promise<{ field: Field; bytes: Uint8Array; codec: string } | null> {
  if (!spec || spec === 'none') return null;
  const p = BaseSpec.safeParse(spec).success ? parseCodecBase(spec) : null;
  if (!p) throw new FieldpackError('INVALID_ARGUMENT', `base "${spec}": none, CODEC:MODE:VALUE such as auto:rel:1e-2, or CODEC:MODEL[:MODE:VALUE] such as vqvae:HASH`);
  const b = await encodeField(field, { ...opts, codec: p.codec, params: p.params, bound: p.bound, verify: false, onProgress: undefined });
  const d = await decodeStream(b.bytes, { ...opts, onProgress: undefined });
  return { field: { ...d.field, name: field.name }, bytes: b.bytes, codec: b.codec };
}

/** Error statistics of a decoded field; throws BOUND_VIOLATED when a point exceeds the bound or a non-finite value changed. */
export function verifyBound(original: Pick<Field, 'values' | 'mask'>, decoded: Pick<Field, 'values'>, absBound: number): ErrorStats {
  return boundChecked(errorStats(original.values, decoded.values, original.mask ?? null, absBound));
}

/** The stats of a decoded field, refused as BOUND_VIOLATED when a point exceeds the bound or a NaN/Inf changed. */
export function boundChecked(st: ErrorStats): ErrorStats {
  if (st.pointsOverBound > 0 || !st.nonFiniteExact) {
    throw new FieldpackError('BOUND_VIOLATED', `${st.pointsOverBound} points exceed the bound ${st.bound} after decompression`, st);
  }
  return st;
}

export interface DecodeOptions extends RunControl {
  /** decode only rows [start, end) along the first dimension */
  rows?: [number, number];
  /** where to find anchors and other dependencies */
  deps?: DependencySource;
  /** reads a variable of a data file given in deps.files (the data service's reader; .fpk files need none) */
  loadDataFile?: (path: string, variable: string, shape?: readonly number[]) => Promise<Field | null>;
  /** dependencies already resolved (skips the search) */
  resolved?: ResolvedDependencies;
  /** the files dependencies were decoded or read from, pushed as they are found (an output must not replace them) */
  usedFiles?: string[];
}

/** A loader that decodes .fpk files (their own dependencies beside them) and hands other files to `data`. */
function fileLoader(opts: DecodeOptions): FieldLoader {
  return async (path, variable, depth, shape) => {
    const bytes = new Uint8Array(await readRegularFile(path));
    if (bytes.length < 4 || bytes[0] !== 0x46 || bytes[1] !== 0x50 || bytes[2] !== 0x4b || bytes[3] !== 0x1a) {
      const field = opts.loadDataFile ? await opts.loadDataFile(path, variable, shape) : null;
      if (field) opts.usedFiles?.push(path);
      return field;
    }
    let h: StreamHeader;
    try {
      h = readHeader(bytes);
    } catch {
      return null; // an unreadable stream beside ours is not the anchor
    }
    if (h.metadata.variable !== variable) return null;
    const decoding = [...(opts.deps?.decoding ?? []), ...(opts.deps?.besidePath ? [opts.deps.besidePath] : [])];
    const d = await decodeStreamAt(bytes, { ...opts, onProgress: undefined, rows: undefined, resolved: undefined, deps: { besidePath: path, files: opts.deps?.files, decoding } }, depth);
    opts.usedFiles?.push(path);
    return d.field;
  };
}

export function decodeStream(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedField> {
  return decodeStreamAt(bytes, opts, 0);
}

async function decodeStreamAt(bytes: Uint8Array, opts: DecodeOptions, depth: number): Promise<DecodedField> {
  checkAbort(opts.signal);
  const header = readHeader(bytes);
  const codec = codecOf(header);
  const [start, end] = opts.rows ?? [0, header.shape[0]!];
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= header.shape[0]! && start < end)) {
    throw new FieldpackError('INVALID_ARGUMENT', `rows [${start}, ${end}) outside [0, ${header.shape[0]})`);
  }
  if (!opts.rows && bytes.length > header.totalBytes) {
    throw new FieldpackError('BAD_STREAM', `corrupted stream: ${bytes.length - header.totalBytes} unexpected bytes after the last chunk`);
  }
  // a base that was an external reconstruction file: said by name where it is missing or differs
  const file = header.metadata.baseFile;
  const source = { ...opts.deps, ...(typeof file === 'string' ? { baseFile: file } : {}) };
  const deps = opts.resolved ?? (await resolveDependencies(codec.dependencies(header), header.shape, source, fileLoader(opts), depth, codec.modelParam).catch((e: unknown) => {
    if (e instanceof FieldpackError && e.code === 'NOT_FOUND' && typeof file === 'string') {
      throw new FieldpackError('NOT_FOUND', `${e.message}. Its base is the reconstruction file ${file}: give the same file (--base file:PATH or --anchor PATH)`, e.details);
    }
    throw e;
  }));
  const d = await codec.decode({ header, bytes, rows: [start, end], deps }, codecEnv(opts));
  checkAbort(opts.signal);
  return d;
}

export interface StreamInfo {
  header: StreamHeader;
  codec: { id: string; label: string };
  dependencies: Dependency[];
  /** the dependencies in words */
  needs: string[];
  summary: Record<string, unknown>;
}

export function inspectStream(bytes: Uint8Array): StreamInfo {
  const header = readHeader(bytes);
  const codec = codecOf(header);
  const dependencies = codec.dependencies(header);
  let summary: Record<string, unknown> = {};
  try {
    summary = codec.summary?.(header, bytes) ?? {};
  } catch (e) {
    if (!(e instanceof FieldpackError)) throw e;
    summary = { unreadable: e.message };
  }
  return { header, codec: { id: codec.id, label: codec.label }, dependencies, needs: dependencies.map(describeDependency), summary };
}

/** Stream metadata of a field; its coordinates (lossless, core/coordinates.ts) unless opts.coordinates is false (the bench). */
export function metadataOf(field: Field, source?: string, opts: { coordinates?: boolean } = {}): StreamMetadata {
  const coordinates = opts.coordinates === false ? undefined : packCoordinates(field.coordinates);
  return {
    variable: field.name,
    ...(field.units ? { units: field.units } : {}),
    dims: field.dims,
    sourceDtype: field.sourceDtype,
    ...(source ? { source } : {}),
    attributes: field.attributes,
    ...(coordinates ? { coordinates } : {}),
  };
}

/** Codecs and their presets, for the API's codec list and the CLI's help. */
export function codecCatalog() {
  return listCodecs().map((c) => ({
    id: c.id, label: c.label, description: c.description, needsDependencies: c.needsDependencies, ...(c.boundModes ? { boundModes: [...c.boundModes] } : {}),
    presets: c.presets.map((p) => ({ name: p.name, label: p.label, description: p.description, params: p.params })),
  }));
}
