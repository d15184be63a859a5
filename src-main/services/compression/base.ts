/**
 * The base a residual coder (any codec with `takesBase`) refines, from the spec the user gives — the one service
 * function behind the API's compress, the compress job, the bench and the CLI:
 *
 *   none                     no base (the residual is the field itself)
 *   CODEC:MODE:VALUE         the field compressed first with CODEC at that bound (auto:rel:1e-2 is the classic
 *                            codec's `auto` preset, core:rel:1e-2 the same, vqvae:psnr:40 the VQ-VAE); its stream
 *                            is kept beside the output
 *   CODEC:MODEL[:MODE:VALUE] the same with a chosen model (vqvae:HASH: a trained VQ-VAE by sha256 prefix, psnr:40
 *                            unless a bound follows)
 *   auto                     chosen per field from samples: each candidate (none, the core codec at looser bounds,
 *                            the VQ-VAE with the shipped model on 2D+ fields) is tried on a few bands of rows along
 *                            the first dimension, base bytes + residual bytes at the user's target, scaled to the
 *                            field; the smallest estimate wins (ties: the earlier candidate)
 *   file:PATH[#var=V,bits=N] an external reconstruction: the residual-modeling code's .npz (recons_data, latent_bit),
 *                            an .npy array, a NetCDF/HDF5 file holding variable V (default: the field's name) on the
 *                            same grid, or raw little-endian float32/float64 values; its declared size in bits
 *                            (bits=N, the .npz's latent_bit or a latent_bit / base_bits attribute) counts in the ratio
 *
 * A base is named in the residual stream by the sha256 of its reconstruction; decoding needs the same base (the
 * stream written beside the output, or the same file given again).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, fieldSize } from '../../core/field.ts';
import { type BoundSpec, parseBound, resolveBound, validRange } from '../../core/codec/bound.ts';
import { type StreamMetadata, readHeader } from '../../core/codec/stream/format.ts';
import { decodeStream, encodeBase, encodeField, parseCodecBase, type RunControl } from '../codecs/index.ts';
import { openDataFile } from '../data/readers/index.ts';
import { findHdf5Signature, isNetcdf3 } from '../files/magic.ts';
import { listCodecs, resolveCodecChoice } from '../../core/compressors/index.ts';
import { isNpy, isZip, npyNumbers, parseNpy, parseNpz, type NpyArray } from '../files/npy.ts';
import { readRegularFile } from '../files/regular.ts';

export type ParsedBase =
  | { kind: 'none' }
  | { kind: 'auto' }
  | { kind: 'codec'; codec: string; bound: BoundSpec; params: Record<string, unknown> }
  | { kind: 'file'; path: string; var?: string; bits?: number };

const SPEC_HELP = 'none, auto, CODEC:MODE:VALUE (e.g. auto:rel:1e-2, vqvae:psnr:40), CODEC:MODEL[:MODE:VALUE] (vqvae:HASH) or file:PATH[#var=NAME,bits=N]';

export function parseBaseSpec(spec: string): ParsedBase {
  const s = spec.trim();
  if (s === '' || s === 'none') return { kind: 'none' };
  if (s === 'auto') return { kind: 'auto' };
  if (s.startsWith('file:')) {
    let path = s.slice(5);
    const out: { kind: 'file'; path: string; var?: string; bits?: number } = { kind: 'file', path };
    const hash = path.lastIndexOf('#');
    if (hash >= 0 && /^\w+=[^,#]*(,\w+=[^,#]*)*$/.test(path.slice(hash + 1))) {
      for (const kv of path.slice(hash + 1).split(',')) {
        const [k, v] = [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
        if (k === 'var' && v) out.var = v;
        else if (k === 'bits' && /^\d+$/.test(v)) out.bits = Number(v);
        else throw new FieldpackError('INVALID_ARGUMENT', `base "${spec}": unknown option ${kv} (file:PATH#var=NAME,bits=N, bits a whole number)`);
      }
      path = path.slice(0, hash);
      out.path = path;
    }
    if (!path) throw new FieldpackError('INVALID_ARGUMENT', `base "${spec}": file: needs a path`);
    return out;
  }
  const c = parseCodecBase(s);
  if (!c) throw new FieldpackError('INVALID_ARGUMENT', `base "${spec}": ${SPEC_HELP}`);
  return { kind: 'codec', ...c };
}

/** What auto estimated for one candidate (bytes scaled from the sample to the whole field). */
export interface BaseEstimate {
  /** base + residual; null: the candidate could not be used (skipped says why) */
  bytes: number | null;
  baseBytes?: number;
  residualBytes?: number;
  /** the codec of the base's stream (the VQ-VAE keeps the classic codec's stream where that is smaller) */
  baseCodec?: string;
  skipped?: string;
}

export interface BaseChoice {
  chosen: string;
  candidates: string[];
  estimates: Record<string, BaseEstimate>;
  /** the sample: values coded per candidate, their share of the field, the bands of rows [start, end) */
  sample: { values: number; fraction: number; rows: [number, number][] };
  seconds: number;
  reason: string;
}

export interface PreparedBase {
  /** the spec given (auto, none, CODEC:MODE:VALUE, file:PATH...) */
  requested: string;
  /** the base used: CODEC:MODE:VALUE, file:PATH or none (what auto chose) */
  spec: string;
  /** the reconstruction handed to the residual coder (named as the field); null: no base */
  field: Field | null;
  /** a codec base's stream, kept beside the output; null for none and file bases */
  stream: Uint8Array | null;
  /** what the base counts in the ratio: its stream's bytes, or a file's declared bits / 8 */
  bytes: number;
  /** codec of the base stream, or 'file' */
  codec: string;
  /** file bases: the file and where its size came from */
  file?: { path: string; format: string; bits: number; bitsFrom: string };
  /** auto: what was estimated and why this one */
  choice?: BaseChoice;
  /** to merge into the residual stream's metadata (a file base's name, for the decoder's message) */
  metadata?: StreamMetadata;
}

export interface PrepareOptions extends RunControl {
  /** the residual coder and its target (auto estimates with them) */
  codec: string;
  bound: BoundSpec;
  params?: Record<string, unknown>;
  metadata?: StreamMetadata;
  /** auto: values coded per candidate (default 2^18) */
  sampleValues?: number;
  /** codec bases already encoded for this field, by spec (the bench reuses them across rows) */
  cache?: Map<string, { field: Field; bytes: Uint8Array; codec: string }>;
}

/** The base for `spec` (null: none given). */
export async function prepareBase(field: Field, spec: string | undefined, opts: PrepareOptions): Promise<PreparedBase | null> {
  if (spec === undefined) return null;
  const p = parseBaseSpec(spec);
  if (p.kind === 'none') return null;
  const { codec } = resolveCodecChoice(opts.codec);
  if (!codec.takesBase) throw new FieldpackError('INVALID_ARGUMENT', `codec ${codec.id} takes no base (residual coders do: ${listCodecs().filter((c) => c.takesBase).map((c) => c.id).join(', ')})`);
  if (p.kind === 'file') return fileBase(field, spec.trim(), p);
  if (p.kind === 'codec') return codecBase(field, spec.trim(), spec.trim(), opts);
  const choice = await chooseBase(field, opts);
  if (choice.chosen === 'none') return { requested: 'auto', spec: 'none', field: null, stream: null, bytes: 0, codec: 'none', choice };
  return { ...(await codecBase(field, 'auto', choice.chosen, opts)), choice };
}

async function codecBase(field: Field, requested: string, spec: string, opts: PrepareOptions): Promise<PreparedBase> {
  let b = opts.cache?.get(spec);
  if (!b) {
    const e = await encodeBase(field, formatCodecSpec(spec), { workers: opts.workers, threads: opts.threads, signal: opts.signal, ...(opts.metadata ? { metadata: opts.metadata } : {}) });
    b = e!;
    opts.cache?.set(spec, b);
  }
  return { requested, spec, field: b.field, stream: b.bytes, bytes: b.bytes.length, codec: b.codec };
}

// ---------------------------------------------------------------- auto

const fmt = (x: number) => String(Number(x.toPrecision(6)));

/**
 * The candidates for a field and target: none, the core codec at rel 1e-2 and 1e-3 and at 100 x the target (psnr:
 * 40 dB less), and the VQ-VAE (shipped model, psnr 40) where the field has 2D maps.
 */
export function baseCandidates(shape: readonly number[], bound: BoundSpec): string[] {
  const out = ['none', 'auto:rel:1e-2', 'auto:rel:1e-3'];
  const derived = bound.mode === 'psnr' ? (Number.isFinite(bound.value) && bound.value > 40 ? `auto:psnr:${fmt(bound.value - 40)}` : null)
    : bound.value > 0 && (bound.mode !== 'rel' || bound.value * 100 < 0.5) ? `auto:${bound.mode}:${fmt(bound.value * 100)}` : null;
  if (derived && !out.some((c) => formatCodecSpec(c) === formatCodecSpec(derived))) out.push(derived);
  if (shape.filter((d) => d > 1).length >= 2) out.push('vqvae:psnr:40');
  return out;
}

/** The codec id a codec base's spec names (auto:rel:1e-2 -> classic). */
function baseCodecId(spec: string): string | null {
  const p = parseBaseSpec(spec);
  return p.kind === 'codec' ? resolveCodecChoice(p.codec).codec.id : null;
}

function formatCodecSpec(spec: string): string {
  const p = parseBaseSpec(spec);
  if (p.kind !== 'codec') return spec;
  const model = Object.values(p.params)[0];
  return `${p.codec}:${model === undefined ? '' : `${String(model)}:`}${p.bound.mode}:${p.bound.value}`;
}

/** Bands of rows along the first dimension that make the sample: the whole field when small, else up to 4 bands. */
export function sampleRows(shape: readonly number[], maxValues: number): [number, number][] {
  const rows = shape[0]!;
  const n = fieldSize(shape);
  const rowSize = n / rows;
  if (n <= maxValues) return [[0, rows]];
  const want = Math.max(1, Math.floor(maxValues / rowSize));
  // 2D maps cut in bands of at least 16 rows (the predictors and the VQ-VAE's tiles need some height)
  const minBand = shape.length <= 2 ? Math.min(16, want) : 1;
  const bands = Math.max(1, Math.min(4, Math.floor(want / minBand)));
  const per = Math.floor(want / bands);
  const out: [number, number][] = [];
  for (let k = 0; k < bands; k++) {
    const s = Math.min(rows - per, Math.max(0, Math.floor(((k + 0.5) * rows) / bands - per / 2)));
    if (out.length && s < out[out.length - 1]![1]) continue;
    out.push([s, s + per]);
  }
  return out;
}

/** A bound of the whole field restated for a part of it (abs units: rel of the whole range, NRMSE / PSNR rescaled). */
export function boundOnPart(b: BoundSpec, fullRange: number, partRange: number): BoundSpec {
  if (b.value === 0 || (b.mode === 'psnr' && b.value === Infinity)) return b;
  if (b.mode === 'abs') return b;
  if (b.mode === 'rel') return { mode: 'abs', value: resolveBound(b, fullRange).abs || b.value };
  // a constant band or field: the target kept as it is (lossless there, which a constant costs little), since
  // an absolute bound would be refused by the coders of NRMSE targets only (gae)
  if (!(partRange > 0) || !(fullRange > 0)) return b;
  if (b.mode === 'nrmse') return { mode: 'nrmse', value: (b.value * fullRange) / partRange };
  return { mode: 'psnr', value: b.value - 20 * Math.log10(fullRange / partRange) };
}

const payload = (bytes: Uint8Array) => bytes.length - readHeader(bytes).headerBytes;

/**
 * auto: base bytes + residual bytes of each candidate on a sample of the field (bands of rows, at most
 * sampleValues values; the target restated for each band so that the whole field would meet it), scaled to the
 * whole field. Deterministic: the same field, codec and target give the same choice.
 */
export async function chooseBase(field: Field, opts: PrepareOptions): Promise<BaseChoice> {
  const t0 = performance.now();
  const n = fieldSize(field.shape);
  const rowSize = n / field.shape[0]!;
  const rows = sampleRows(field.shape, opts.sampleValues ?? 1 << 18);
  const full = validRange(field.values, field.mask ?? null);
  const parts = rows.map(([a, b]) => {
    const part: Field = {
      name: field.name, dims: field.dims, sourceDtype: field.sourceDtype, attributes: {}, shape: [b - a, ...field.shape.slice(1)],
      values: field.values.subarray(a * rowSize, b * rowSize), ...(field.mask ? { mask: field.mask.subarray(a * rowSize, b * rowSize) } : {}),
    };
    const r = validRange(part.values, part.mask ?? null);
    return { part, range: r.max - r.min };
  });
  const ns = parts.reduce((s, p) => s + p.part.values.length, 0);
  const scale = n / ns;
  const candidates = baseCandidates(field.shape, opts.bound);
  const estimates: Record<string, BaseEstimate> = {};
  const control = { workers: opts.workers, threads: opts.threads, signal: opts.signal };
  for (const [k, c] of candidates.entries()) {
    opts.onProgress?.(k / candidates.length, `choosing the base: ${c}`);
    const p = parseBaseSpec(c);
    let baseBytes = 0, residualBytes = 0, baseHead = 0, residualHead = 0;
    const baseCodecs = new Set<string>();
    try {
      for (const { part, range } of parts) {
        let base: Field | undefined;
        if (p.kind === 'codec') {
          const b = await encodeField(part, { ...control, codec: p.codec, params: p.params, bound: boundOnPart(p.bound, full.max - full.min, range), verify: false });
          base = { ...(await decodeStream(b.bytes, control)).field, name: field.name };
          baseBytes += payload(b.bytes);
          baseHead = readHeader(b.bytes).headerBytes;
          baseCodecs.add(b.codec);
        }
        const r = await encodeField(part, {
          ...control, codec: opts.codec, params: opts.params, bound: boundOnPart(opts.bound, full.max - full.min, range), verify: false, ...(base ? { base } : {}),
        });
        residualBytes += payload(r.bytes);
        residualHead = readHeader(r.bytes).headerBytes;
      }
      // payloads scale with the field; each stream has one header
      const bb = p.kind === 'codec' ? Math.round(baseBytes * scale) + baseHead : 0;
      const rb = Math.round(residualBytes * scale) + residualHead;
      estimates[c] = { bytes: bb + rb, baseBytes: bb, residualBytes: rb, ...(baseCodecs.size ? { baseCodec: [...baseCodecs].join('+') } : {}) };
    } catch (e) {
      if (e instanceof FieldpackError && e.code === 'CANCELLED') throw e;
      // the residual coder itself failing without a base is the caller's error, not a candidate's
      if (p.kind === 'none') throw e;
      estimates[c] = { bytes: null, skipped: e instanceof Error ? e.message : String(e) };
    }
  }
  let chosen = 'none';
  for (const c of candidates) if (estimates[c]!.bytes !== null && estimates[c]!.bytes! < estimates[chosen]!.bytes!) chosen = c;
  const e = estimates[chosen]!;
  const none = estimates.none!.bytes!;
  const others = candidates.filter((c) => c !== 'none').map((c) => {
    const x = estimates[c]!;
    return x.bytes === null ? `${c} skipped` : `${c} ${x.bytes} (base ${x.baseBytes}${x.baseCodec && x.baseCodec !== baseCodecId(c) ? `, a ${x.baseCodec} stream` : ''})`;
  });
  const reason = chosen === 'none'
    ? `no base: the residual alone is estimated at ${none} bytes; every base's bytes + residual came out larger (${others.join(', ')})`
    : `${chosen}: estimated ${e.bytes} bytes (base ${e.baseBytes} + residual ${e.residualBytes}) against ${none} with no base (${((1 - e.bytes! / none) * 100).toFixed(1)} % less; ${others.join(', ')})`;
  return { chosen, candidates, estimates, sample: { values: ns, fraction: Number((ns / n).toPrecision(4)), rows }, seconds: (performance.now() - t0) / 1000, reason };
}

// ---------------------------------------------------------------- file bases

const squeeze = (s: readonly number[]) => s.filter((d) => d !== 1);
const sameSqueezed = (a: readonly number[], b: readonly number[]) => {
  const x = squeeze(a), y = squeeze(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
};

function wrongShape(path: string, got: readonly number[], want: readonly number[]): never {
  throw new FieldpackError('INVALID_ARGUMENT', `base file ${path}: its reconstruction is [${got.join(', ')}], the field is [${want.join(', ')}] (the same grid is needed)`);
}

function npyValues(a: NpyArray): Float32Array | Float64Array {
  if (a.values instanceof Float32Array || a.values instanceof Float64Array) return a.values;
  return Float64Array.from(npyNumbers(a));
}

export interface ReconstructionFile {
  field: Field;
  format: 'npz' | 'npy' | 'netcdf' | 'raw';
  /** the declared size in bits, when the file declares one (.npz latent_bit, a latent_bit / base_bits attribute) */
  bits?: number;
  bitsFrom?: string;
}

async function readBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readRegularFile(path, 'base file'));
}

/**
 * A stream's external base given again (file:PATH[#var=NAME], as when compressing), read as the encoder read it so that
 * its hash agrees; decompress and export take it so.
 */
export async function externalBaseField(base: string, header: { shape: readonly number[]; metadata: StreamMetadata }): Promise<Field> {
  const p = parseBaseSpec(base);
  if (p.kind !== 'file') throw new FieldpackError('INVALID_ARGUMENT', 'base: file:PATH[#var=NAME] (a stream base is found beside the stream)');
  const variable = typeof header.metadata.variable === 'string' ? header.metadata.variable : '';
  return (await readReconstructionFile(p.path, header.shape, variable, p.var ?? variable)).field;
}

/**
 * A reconstruction read from a file, on the grid `shape` and named `name` (as decoders look it up): an .npz's
 * recons_data, an .npy array or raw float32/float64 values (reshaped when only axes of length 1 differ), or
 * variable `variable` of a NetCDF / HDF5 file (the same shape). The same reading on both sides, so the hash agrees.
 */
export async function readReconstructionFile(path: string, shape: readonly number[], name: string, variable = name): Promise<ReconstructionFile> {
  const bytes = await readBytes(path);
  const n = fieldSize(shape);
  const make = (values: Float32Array | Float64Array, extra: Partial<Field> = {}): Field => ({
    name, shape: [...shape], dims: shape.map((_, i) => `dim${i}`), values, sourceDtype: values instanceof Float32Array ? 'float32' : 'float64', attributes: {}, ...extra,
  });
  if (isZip(bytes)) {
    const arrays = parseNpz(bytes, `base file ${path}`);
    const recon = arrays.get('recons_data');
    if (!recon) throw new FieldpackError('UNSUPPORTED', `base file ${path}: an .npz without recons_data (the residual-modeling format: original_data, recons_data, latent_bit); it holds ${[...arrays.keys()].join(', ') || 'no arrays'}`);
    const a = recon();
    if (!sameSqueezed(a.shape, shape)) wrongShape(path, a.shape, shape);
    const orig = arrays.get('original_data');
    if (orig) {
      const o = orig();
      if (!sameSqueezed(o.shape, a.shape)) throw new FieldpackError('INVALID_ARGUMENT', `base file ${path}: original_data [${o.shape.join(', ')}] and recons_data [${a.shape.join(', ')}] differ in shape`);
    }
    const lb = arrays.get('latent_bit');
    let bits: number | undefined;
    if (lb) {
      const v = npyNumbers(lb());
      if (v.length !== 1 || !(Number(v[0]) >= 0)) throw new FieldpackError('INVALID_ARGUMENT', `base file ${path}: latent_bit is not one number >= 0`);
      bits = Math.round(Number(v[0]));
    }
    return { field: make(npyValues(a)), format: 'npz', ...(bits !== undefined ? { bits, bitsFrom: 'latent_bit' } : {}) };
  }
  if (isNpy(bytes)) {
    const a = parseNpy(bytes, `base file ${path}`);
    if (!sameSqueezed(a.shape, shape)) wrongShape(path, a.shape, shape);
    return { field: make(npyValues(a)), format: 'npy' };
  }
  if (isNetcdf3(bytes) || findHdf5Signature(bytes.subarray(0, 4096)) >= 0) {
    const df = await openDataFile(path);
    try {
      if (!df.variables.some((v) => v.name === variable)) throw new FieldpackError('NOT_FOUND', `base file ${path}: no variable ${variable} (give another with file:PATH#var=NAME)`);
      const f = await df.readField(variable, { coordinates: false });
      if (f.shape.length !== shape.length || f.shape.some((d, i) => d !== shape[i])) wrongShape(path, f.shape, shape);
      const attr = (k: string) => f.attributes[k] ?? df.globalAttributes[k];
      const declared = ['latent_bit', 'base_bits'].find((k) => Number(attr(k)) >= 0);
      return {
        field: { ...f, name }, format: 'netcdf',
        ...(declared ? { bits: Math.round(Number(attr(declared))), bitsFrom: `attribute ${declared}` } : {}),
      };
    } finally {
      df.close();
    }
  }
  // raw little-endian values: float32 or float64 by the extension, else by the size
  const ext = /\.(f32|f64)$/i.exec(path)?.[1]?.toLowerCase();
  const width = ext === 'f32' ? 4 : ext === 'f64' ? 8 : bytes.length === 4 * n ? 4 : bytes.length === 8 * n ? 8 : 0;
  if (!width || bytes.length !== width * n) {
    throw new FieldpackError('INVALID_ARGUMENT', `base file ${path}: ${bytes.length} bytes is not ${n} float32 or float64 values (the field [${shape.join(', ')}]), nor an .npz, .npy, NetCDF or HDF5 file`);
  }
  const copy = bytes.slice().buffer;
  return { field: make(width === 4 ? new Float32Array(copy) : new Float64Array(copy)), format: 'raw' };
}

async function fileBase(field: Field, requested: string, p: Extract<ParsedBase, { kind: 'file' }>): Promise<PreparedBase> {
  const r = await readReconstructionFile(p.path, field.shape, field.name, p.var ?? field.name);
  const bits = p.bits ?? r.bits;
  if (bits === undefined) {
    throw new FieldpackError('INVALID_ARGUMENT', `base file ${p.path}: its size in bits counts in the ratio: declare it (file:${p.path}#bits=N, an .npz latent_bit, or a latent_bit attribute)`);
  }
  // the base must be a number wherever the field has one
  const v = r.field.values;
  const fm = field.mask, bm = r.field.mask;
  let bad = 0, first = -1;
  for (let i = 0; i < v.length; i++) {
    const x = field.values[i]!;
    if ((fm && !fm[i]) || x - x !== 0) continue;
    const b = v[i]!;
    if (b - b !== 0 || (bm && !bm[i])) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad) throw new FieldpackError('INVALID_ARGUMENT', `base file ${p.path}: NaN, Inf or fill in the base at ${bad} points where the field has values (first at flat index ${first})`, { points: bad, first });
  return {
    requested, spec: requested, field: r.field, stream: null, bytes: bits / 8, codec: 'file',
    file: { path: p.path, format: r.format, bits, bitsFrom: p.bits !== undefined ? 'bits=' : r.bitsFrom! },
    metadata: { baseFile: basename(p.path) },
  };
}

/**
 * The files a decoder is given (--anchor, --model) read as a file base would be, when they are .npz, .npy or raw
 * values on the stream's grid; null for NetCDF / HDF5 (the data reader's) and for anything else (not this base).
 */
export async function reconstructionIfFile(path: string, variable: string, shape: readonly number[] | undefined): Promise<Field | null> {
  if (!shape) return null;
  const head = new Uint8Array(4096);
  try {
    const fh = await open(path, 'r');
    try {
      await fh.read(head, 0, 4096, 0);
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
  if (isNetcdf3(head) || findHdf5Signature(head) >= 0) return null;
  try {
    return (await readReconstructionFile(path, shape, variable)).field;
  } catch (e) {
    if (e instanceof FieldpackError) return null; // another grid, or not a reconstruction at all
    throw e;
  }
}
