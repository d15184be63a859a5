/**
 * The hierarchical VQ-VAE codec (codec id "vqvae"; docs/vqvae.md). Pure: no Node, no DOM.
 *
 *   each 2D map (the last two dims) -> standardised (mean, std per map, float32, stored) -> padded by reflection to
 *   a multiple of 16 -> encoder -> z and y codebook indices -> range-coded, z as y's context (latent-coder.ts)
 *   -> decoder on the reference path -> x̂ (bit-exact everywhere) -> de-standardised
 *   x -> the core's multilevel interpolation, every pass corrected by x̂'s detail with weights fitted per pass and
 *   stored (crossfield/interp-hybrid.ts; a pass where x̂ does not pay keeps plain interpolation) -> linear quantizer
 *   at the user's bound -> range coder -> lossless stage.
 * The bound holds by construction (the quantizer escapes what it cannot code); x̂ only changes the size.
 *
 * Chunk payload: u8 flags (1 mask, 2 non-finite list, 4 fill exceptions, 8 latents, 16 embedded model, 32 std as
 *   bfloat16) | [varint len + model bytes, chunk 0 only] | varint n | [mask] | [lists]
 *   | [latents: per map f32 mean, then the std as f32, or as bfloat16 with flag 32;
 *   varint len + range-coded indices; u32 CRC-32 of x̂] | u8 level-bound tuning
 *   | varint len + per-pass models | u8 entropy coder | codes | varint escapes | raw escapes. Chunks with nothing
 *   masked or non-finite may use the line context (entropy coder 4, interpHybridCodeLines); earlier readers refuse it.
 */
import { FieldpackError } from '../../errors.ts';
import { type FieldValues, fieldSize } from '../../field.ts';
import { ByteReader, ByteWriter } from '../../codec/bytes.ts';
import { crc32 } from '../../codec/crc32.ts';
import { fromBfloat16Bits, roundBfloat16, toBfloat16Bits } from '../../codec/half.ts';
import {
  chunkHeadFlags, finishChunk, readChunkHead, readCodes, readEscapes, scanChunk, writeChunkHead, writeCodes, writeEscapes,
} from '../../codec/envelope.ts';
import type { LosslessBackend } from '../../codec/lossless.ts';
import { DEFAULT_RADIUS, LinearQuantizer } from '../../codec/quantizer.ts';
import { scratchTyped } from '../../codec/scratch.ts';
import { INTERP_TUNINGS } from '../../codec/predictors/interp.ts';
import { type StreamHeader, chunkPayload } from '../../codec/stream/format.ts';
import { predictorShape } from '../classic/codec.ts';
import type { DecodePath, DecodedChunk } from '../contract.ts';
import { decodeInterpHybrid, encodeInterpHybrid, interpHybridCodeLines } from '../crossfield/interp-hybrid.ts';
import { detPow10 } from '../../nn/det-math.ts';
import { type VqvaeModel, parseVqvaeModel } from '../../nn/vqvae/model.ts';
import { type Latents, VQVAE_STRIDE, decodeMap, encodeMap } from '../../nn/vqvae/network.ts';
import { type NnKernels, nnKernels } from '../../nn/wasm-kernels.ts';
import { readLatents, writeLatents } from '../../nn/vqvae/latent-coder.ts';

export const VQVAE_CODEC_ID = 'vqvae';

export const F_LATENTS = 8;
export const F_MODEL = 16;
/**
 * A map's std as bfloat16 (2 bytes instead of 4; its mean stays a float32). x̂ reaches the residual coder only through
 * its detail, whose scale per pass the fitted weights absorb, so 8 significant bits of the std cost nothing there,
 * while the maps' means do matter (passes across maps see their differences). On WRF's 48 x 48 maps: 1-3.5 % smaller.
 */
export const F_MOMENTS16 = 32;

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
}

/** Map geometry of a chunk: maps of h x w (the last two dims), padded to multiples of 16. */
export function mapsOf(shape: readonly number[]): { maps: number; h: number; w: number; ph: number; pw: number } {
  if (shape.length < 2) throw new FieldpackError('UNSUPPORTED', `the VQ-VAE codec compresses 2D maps; a field of shape [${shape.join(', ')}] has none`);
  const h = shape[shape.length - 2]!, w = shape[shape.length - 1]!;
  const up = (v: number) => Math.ceil(v / VQVAE_STRIDE) * VQVAE_STRIDE;
  return { maps: fieldSize(shape) / (h * w), h, w, ph: up(h), pw: up(w) };
}

/** Index of a reflected coordinate (period 2 (n - 1)) for padding. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * (n - 1);
  const m = i % p;
  return m < n ? m : p - m;
}

/** Mean and standard deviation of the valid points of one map, as float32 (std 1 when the map is constant). */
function mapMoments(values: ArrayLike<number>, skip: Uint8Array, a: number, n: number): [number, number] {
  let s = 0, c = 0;
  for (let i = a; i < a + n; i++) if (!skip[i]) { s += values[i]!; c++; }
  const mean = c ? s / c : 0;
  let v = 0;
  for (let i = a; i < a + n; i++) if (!skip[i]) { const d = values[i]! - mean; v += d * d; }
  const std = c ? Math.sqrt(v / c) : 0;
  const m32 = Math.fround(mean), s32 = Math.fround(std);
  return [Number.isFinite(m32) ? m32 : 0, s32 > 0 && Number.isFinite(s32) ? s32 : 1];
}

/**
 * The standardised map, padded by reflection, or periodically along the last axis for a grid global in longitude
 * (`wrap`: the padding continues across the date line instead of mirroring it). Invalid points are 0. Only the
 * encoder reads the padding: the decoder's x̂ there is never used.
 */
function standardisedPadded(values: ArrayLike<number>, skip: Uint8Array, a: number, g: ReturnType<typeof mapsOf>, mean: number, std: number, wrap: boolean): Float32Array {
  const out = new Float32Array(g.ph * g.pw);
  for (let y = 0; y < g.ph; y++) {
    const sy = reflect(y, g.h);
    for (let x = 0; x < g.pw; x++) {
      const i = a + sy * g.w + (wrap ? x % g.w : reflect(x, g.w));
      out[y * g.pw + x] = skip[i] ? 0 : (values[i]! - mean) / std;
    }
  }
  return out;
}

/**
 * Log scaling of a skewed field (docs/vqvae.md): the network sees log10(x + offset), offset >= 0 chosen per field so
 * that every valid x + offset is at least the absolute bound; x̂ = clamp(10^ŷ - offset, lo, hi) with lo, hi the
 * field's valid range (the header's), which also keeps 10^ŷ's overflow out of x̂.
 */
export interface LogScaling {
  offset: number;
  lo: number;
  hi: number;
}

export type ScalingMode = 'auto' | 'linear' | 'log';

/**
 * `auto` takes log scaling when the model learned log-scaled maps (its description's training.logScaledSets > 0: a
 * network trained on linear maps does worse on log maps, measured in docs/vqvae.md) and the field is non-negative
 * (valid values >= -LOG_AUTO_MIN_FRACTION x range: round-off below 0 is absorbed by the offset) and strongly
 * right-skewed (skewness, the third standardised moment of the valid values, >= LOG_AUTO_SKEWNESS).
 */
export const LOG_AUTO_MIN_FRACTION = 1e-6;
export const LOG_AUTO_SKEWNESS = 2;

/** Whether a model was trained on log-scaled maps (some of its training sets), from its description. */
export function modelLearnedLog(training: Record<string, unknown>): boolean {
  return typeof training.logScaledSets === 'number' && training.logScaledSets > 0;
}

/** Skewness of the valid finite values (0 when fewer than 2 or constant). */
export function skewness(values: ArrayLike<number>, mask: Uint8Array | null): number {
  let s = 0, c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((!mask || mask[i] !== 0) && v - v === 0) { s += v; c++; }
  }
  if (c < 2) return 0;
  const mean = s / c;
  let m2 = 0, m3 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((!mask || mask[i] !== 0) && v - v === 0) { const d = v - mean; m2 += d * d; m3 += d * d * d; }
  }
  m2 /= c;
  return m2 > 0 ? m3 / c / (m2 * Math.sqrt(m2)) : 0;
}

/**
 * The scaling a field gets: null (linear) or log with its offset. `range` is the valid range (validRange: the
 * header's validMin/validMax), `absBound` the resolved absolute bound (> 0), `learnedLog` modelLearnedLog(model).
 */
export function chooseScaling(
  mode: ScalingMode, values: ArrayLike<number>, mask: Uint8Array | null, range: { min: number; max: number; count: number }, absBound: number, learnedLog: boolean,
): LogScaling | null {
  if (mode === 'linear' || range.count === 0) return null;
  if (mode === 'auto') {
    if (!learnedLog) return null;
    const span = range.max - range.min;
    if (!(span > 0) || range.min < -LOG_AUTO_MIN_FRACTION * span || skewness(values, mask) < LOG_AUTO_SKEWNESS) return null;
  }
  const offset = range.min >= absBound ? 0 : absBound - range.min;
  if (!Number.isFinite(offset) || !Number.isFinite(range.max + offset)) {
    throw new FieldpackError('INVALID_ARGUMENT', `log scaling needs a finite offset for the valid range [${range.min}, ${range.max}] at bound ${absBound}; use scaling=linear`);
  }
  return { offset, lo: range.min, hi: range.max };
}

/** The values the network sees: log10(x + offset) at the coded points (0 at the others). Encoder side only. */
function logValues(values: ArrayLike<number>, skip: Uint8Array, offset: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) if (!skip[i]) out[i] = Math.log10(Math.max(values[i]! + offset, Number.MIN_VALUE));
  return out;
}

/**
 * x̂ in the field's units on the unpadded map, written at out[a..]: f32(f32(x̂ * std) + mean); with log scaling,
 * ŷ = that, then f32(min(max(detPow10(ŷ) - offset, lo), hi)) (only IEEE double operations: the same bits everywhere).
 */
function destandardise(xhat: Float32Array, g: ReturnType<typeof mapsOf>, mean: number, std: number, out: Float32Array, a: number, log: LogScaling | null): void {
  if (!log) {
    for (let y = 0; y < g.h; y++) {
      for (let x = 0; x < g.w; x++) out[a + y * g.w + x] = Math.fround(xhat[y * g.pw + x]! * std) + mean;
    }
    return;
  }
  const { offset, lo, hi } = log;
  for (let y = 0; y < g.h; y++) {
    for (let x = 0; x < g.w; x++) {
      const ly = Math.fround(Math.fround(xhat[y * g.pw + x]! * std) + mean);
      out[a + y * g.w + x] = Math.min(Math.max(detPow10(ly) - offset, lo), hi);
    }
  }
}

/** The log scaling a stream's header declares (older streams, without `scaling`, are linear). */
export function logScalingOf(h: StreamHeader): LogScaling | null {
  const s = h.params.scaling;
  if (s === undefined || s === 'linear') return null;
  const offset = h.params.offset;
  if (s !== 'log' || typeof offset !== 'number' || !Number.isFinite(offset) || offset < 0) {
    bad(`corrupted header: VQ-VAE scaling ${JSON.stringify(s)} with offset ${JSON.stringify(offset)}`);
  }
  return { offset, lo: h.validMin, hi: h.validMax };
}

export interface ChunkEncodeArgs {
  model: Uint8Array;
  values: FieldValues;
  mask: Uint8Array | null;
  shape: number[];
  absBound: number;
  fillValue: number | null;
  tune: number;
  /** pad periodically along the last axis (global longitude) */
  wrap: boolean;
  /** false: plain interpolation, no latents (the codec's per-chunk fallback) */
  latents: boolean;
  /** chunk 0 of a stream that embeds its model */
  embedModel: boolean;
  /** log scaling (null: linear) */
  log: LogScaling | null;
}

export interface ChunkEncoded {
  stored: Uint8Array;
  raw: boolean;
  rawBytes: number;
  crc: number;
  /** bytes before the lossless stage, by part */
  parts: { latents: number; mask: number; residual: number; model: number };
  escapes: number;
}

const modelCache = new Map<Uint8Array, VqvaeModel>();

/** A parsed model, kept for the worker's next task with the same bytes object. */
export function modelOf(bytes: Uint8Array, code: 'BAD_FILE' | 'BAD_STREAM' = 'BAD_FILE'): VqvaeModel {
  let m = modelCache.get(bytes);
  if (!m) {
    m = parseVqvaeModel(bytes, code);
    if (modelCache.size > 4) modelCache.clear();
    modelCache.set(bytes, m);
  }
  return m;
}

export function encodeChunk(a: ChunkEncodeArgs, backend: LosslessBackend): ChunkEncoded {
  const n = fieldSize(a.shape);
  const f32 = a.values instanceof Float32Array;
  const { skip, mask, nonfinite, fillExc } = scanChunk(a.values, a.mask, a.fillValue);
  const w = new ByteWriter(Math.max(1024, n >>> 1));
  const g = a.latents ? mapsOf(a.shape) : null;
  const seen = a.latents && a.log ? logValues(a.values, skip, a.log.offset) : a.values;
  const moments = g ? Array.from({ length: g.maps }, (_, k) => mapMoments(seen, skip, k * g.h * g.w, g.h * g.w)) : [];
  // the std as bfloat16 where every map's survives it (neither 0 nor, near float32's largest, rounded up to Inf);
  // x̂ is made with the moments the decoder reads
  const compact = moments.every(([, std]) => {
    const stored = roundBfloat16(std);
    return stored > 0 && Number.isFinite(stored);
  });
  w.u8(chunkHeadFlags(mask, nonfinite, fillExc) | (a.latents ? F_LATENTS | (compact ? F_MOMENTS16 : 0) : 0) | (a.embedModel ? F_MODEL : 0));
  let modelPart = 0;
  if (a.embedModel) {
    w.varint(a.model.length);
    w.bytes(a.model);
    modelPart = w.pos;
  }
  w.varint(n);
  const maskPart = writeChunkHead(w, mask, a.shape, nonfinite, fillExc, a.values, f32, 2);
  let sources: { values: Float32Array; valid: null }[] = [];
  let latentPart = 0;
  if (g) {
    const model = modelOf(a.model);
    const xhat = new Float32Array(n);
    const lats: Latents[] = [];
    const l0 = w.pos;
    for (let k = 0; k < g.maps; k++) {
      const off = k * g.h * g.w;
      const [mean, std] = moments[k]!;
      w.f32(mean);
      if (compact) w.u16(toBfloat16Bits(std));
      else w.f32(std);
      const lat = encodeMap(model, standardisedPadded(seen, skip, off, g, mean, std, a.wrap), g.ph, g.pw);
      lats.push(lat);
      destandardise(decodeMap(model, lat), g, mean, compact ? roundBfloat16(std) : std, xhat, off, a.log);
    }
    writeLatents(w, lats, model.config.codesZ, model.config.codesY);
    // the decoder checks that its x̂ is this one (the decoding contract), before it decodes a value from it
    w.u32(xhatChecksum(xhat));
    latentPart = w.pos - l0;
    sources = [{ values: xhat, valid: null }];
  }
  let nValid = 0;
  for (let i = 0; i < n; i++) if (!skip[i]) nValid++;
  const qz = new LinearQuantizer(a.absBound, f32, 0, DEFAULT_RADIUS);
  // the thread's codes memory, as the classic codec's chunks (written out below before anything else runs)
  qz.codes = scratchTyped('codes', Uint32Array, Math.max(1, nValid));
  const models = new ByteWriter(256);
  const pshape = predictorShape(a.shape);
  encodeInterpHybrid(a.values, skip, pshape, qz, a.tune, sources, models);
  w.u8(a.tune);
  w.block(models.finish());
  const lines = nValid === n ? interpHybridCodeLines(pshape) : null;
  writeCodes(w, qz, { entropy: 'range', bareCount: false, largeBinaryTry: false, lines }, (cap) => new ByteWriter(cap));
  writeEscapes(w, qz, f32);
  const payload = w.finish();
  const packed = backend.compress(payload);
  const raw = packed.length >= payload.length;
  const stored = raw ? payload : packed;
  return {
    stored, raw, rawBytes: payload.length, crc: crc32(stored), escapes: qz.nEscapes,
    parts: { latents: latentPart, mask: maskPart, model: modelPart, residual: payload.length - latentPart - maskPart - modelPart },
  };
}

/** CRC-32 of x̂'s float32 bytes. */
function xhatChecksum(xhat: Float32Array): number {
  return crc32(new Uint8Array(xhat.buffer, xhat.byteOffset, xhat.byteLength));
}

/** The embedded model of a stream (chunk 0), or null. */
export function embeddedModel(h: StreamHeader, stored0: Uint8Array): Uint8Array | null {
  const payload = chunkPayload(h, 0, stored0);
  const r = new ByteReader(payload, 'chunk 0');
  const flags = r.u8('chunk flags');
  if (!(flags & F_MODEL)) return null;
  return r.bytes(r.varint('model length'), 'embedded model').slice();
}

/**
 * path 'fast': x̂ through the WebAssembly kernels where this engine has them; a chunk whose x̂ then misses the
 * stream's CRC is decoded again on the reference path, and refused only if that misses too.
 */
export function decodeChunk(h: StreamHeader, index: number, stored: Uint8Array, model: Uint8Array | null, path: DecodePath = 'fast'): DecodedChunk {
  const c = h.chunks[index]!;
  const payload = chunkPayload(h, index, stored);
  const what = `chunk ${index}`;
  const r = new ByteReader(payload, what);
  const shape = [c.rows, ...h.shape.slice(1)];
  const n = fieldSize(shape);
  const f32 = h.dtype === 'float32';
  const flags = r.u8('chunk flags');
  if (flags > 63 || (flags & F_MODEL && index !== 0) || (flags & F_MOMENTS16 && !(flags & F_LATENTS))) bad(`corrupted stream: bad flags ${flags} in ${what}`);
  if (flags & F_MODEL) r.bytes(r.varint('model length'), 'embedded model');
  const nn = r.varint('value count');
  if (nn !== n) bad(`corrupted stream: ${what} holds ${nn} values, its rows need ${n}`);
  const { mask, skip, nonfinite, fillExc } = readChunkHead(r, flags, shape, n, f32, what, 2);
  let sources: { values: Float32Array; valid: null }[] = [];
  if (flags & F_LATENTS) {
    if (!model) bad(`corrupted stream: ${what} holds latents but the stream names no model`);
    const m = modelOf(model, 'BAD_STREAM');
    const g = mapsOf(shape);
    const moments: [number, number][] = [];
    const compact = (flags & F_MOMENTS16) !== 0;
    const log = logScalingOf(h);
    for (let k = 0; k < g.maps; k++) {
      const mean = r.f32('map mean');
      const std = compact ? fromBfloat16Bits(r.u16('map std')) : r.f32('map std');
      if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std)) bad(`corrupted stream: map ${k} of ${what} has mean ${mean}, std ${std}`);
      moments.push([mean, std]);
    }
    const lats = readLatents(r, Array.from({ length: g.maps }, () => ({ h: g.ph, w: g.pw })), m.config.codesZ, m.config.codesY);
    const xhat = new Float32Array(n);
    const reconstruct = (fast: NnKernels | null) => lats.forEach((lat, k) => destandardise(decodeMap(m, lat, fast), g, moments[k]![0], moments[k]![1], xhat, k * g.h * g.w, log));
    const fast = path === 'fast' ? nnKernels() : null;
    reconstruct(fast);
    const expected = r.u32('x̂ checksum');
    let checksum = xhatChecksum(xhat);
    if (fast && checksum !== expected) {
      reconstruct(null);
      checksum = xhatChecksum(xhat);
    }
    if (checksum !== expected) {
      bad(`${what}: the decoder's x̂ differs from the encoder's (checksum ${checksum.toString(16)}, the stream says ${expected.toString(16)}): a corrupted stream, another model under its hash, or a decoder that breaks the decoding contract; nothing was decoded`);
    }
    sources = [{ values: xhat, valid: null }];
  }
  let nValid = 0;
  for (let k = 0; k < n; k++) if (!skip[k]) nValid++;
  const tune = r.u8('level-bound tuning');
  if (tune >= INTERP_TUNINGS.length) bad(`corrupted stream: unknown level-bound tuning ${tune} in ${what}`);
  const models = r.block('pass models');
  const lines = () => (nValid === n ? interpHybridCodeLines(predictorShape(shape)) : null);
  const codes = readCodes(r, DEFAULT_RADIUS, nValid, what, { huffman: false, ms: true, bareCount: false, lines }, scratchTyped('codes', Uint32Array, nValid));
  const esc = readEscapes(r, codes, f32, what);
  if (r.remaining() !== 0) bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  const out = f32 ? new Float32Array(n) : new Float64Array(n);
  const qz = new LinearQuantizer(h.bound.abs, f32, 0, DEFAULT_RADIUS);
  qz.load(codes, codes.length, esc, esc.length);
  const mr = new ByteReader(models, `pass models of ${what}`);
  decodeInterpHybrid(out, skip, predictorShape(shape), qz, tune, sources, mr);
  if (mr.remaining() !== 0) bad(`corrupted stream: ${mr.remaining()} unexpected bytes after the pass models of ${what}`);
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}
