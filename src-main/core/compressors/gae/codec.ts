/**
 * GAE, the per-patch PCA baseline of the residual-coding paper (codec id "gae"; our own code): the residual of a base
 * (or the field) is cut into 8 x 8 patches of each 2D frame; a patch whose error without correction already meets its
 * share of the NRMSE budget (target² x range² x its valid points) is left alone; the others are corrected along a PCA
 * basis of their residuals (stored as float32), coefficient by coefficient in order of energy, each quantized with
 * bin 2 x target x range, until the patch's true decoded error meets its budget (all 64 and still over: its values
 * are stored exactly). The global NRMSE follows. Pure: no Node.
 *
 * Chunk payload: u8 flags (1 mask, 2 non-finite list, 4 fill exceptions, 8 exact values, 16 basis) | varint n | [mask]
 *   | [lists] | f64 bin | [64 x 64 f32 basis, row-major, columns = axes] | [exact values]
 *   | varint corrected patches | per patch: varint patch index delta, u8 k, k x (u8 axis, svarint q).
 */
import { FieldpackError } from '../../errors.ts';
import { type FieldValues, fieldSize } from '../../field.ts';
import { ByteWriter } from '../../codec/bytes.ts';
import { crc32 } from '../../codec/crc32.ts';
import { chunkHeadFlags, finishChunk, readValueList, scanChunk, writeChunkHead, writeValueLists } from '../../codec/envelope.ts';
import type { LosslessBackend } from '../../codec/lossless.ts';
import type { StreamHeader } from '../../codec/stream/format.ts';
import type { DecodedChunk } from '../contract.ts';
import { type ResidualChunkInput, type ResidualChunkOutput, openChunk } from '../residual.ts';
import { volumeOf } from '../lbrc/codec.ts';
import { principalAxes } from './pca.ts';
import { roundExact } from '../../codec/quantizer.ts';

export const GAE_CODEC_ID = 'gae';
const P = 8;
const D = P * P;
const F_EXACT = 8;
const F_BASIS = 16;

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
}

/** The chunk indices of patch k's 64 entries (-1 outside the frame), patches in raster order per frame. */
function patchGeometry(shape: readonly number[]): { count: number; at(k: number, out: Int32Array): void } {
  const [T, H, W] = volumeOf(shape);
  const ph = Math.ceil(H / P), pw = Math.ceil(W / P);
  return {
    count: T * ph * pw,
    at(k, out) {
      const t = Math.floor(k / (ph * pw)), r = k - t * ph * pw;
      const y0 = Math.floor(r / pw) * P, x0 = (r % pw) * P;
      for (let dy = 0; dy < P; dy++) for (let dx = 0; dx < P; dx++) {
        const y = y0 + dy, x = x0 + dx;
        out[dy * P + dx] = y < H && x < W ? (t * H + y) * W + x : -1;
      }
    },
  };
}

const toDtype = (v: number, f32: boolean) => (f32 ? Math.fround(v) : v);
/** the smallest squared error bound gae codes (2^-1000: the patches' energies stay normal doubles, 2^22 times above the subnormals) */
const MIN_SQUARED_BOUND = 2 ** -1000;

export interface GaeChunkResult extends ResidualChunkOutput {
  corrected: number;
  patches: number;
}

export function encodeChunk(a: ResidualChunkInput, backend: LosslessBackend): GaeChunkResult {
  // the patches' energies are sums of squared residuals: past about 1e154 they overflow, and the stream would carry
  // an infinite bin (decoders refuse it as corrupted)
  if (!Number.isFinite(a.mse) || !Number.isFinite(4 * a.mse * D)) {
    throw new FieldpackError('UNSUPPORTED', `gae measures squared errors, which overflow for this field (its error bound ${a.bound.toPrecision(3)}, squared, is past the largest double): use lbrc or nglr, or the core codec (auto)`);
  }
  // and below ~1e-300 they lose their precision, then underflow to 0 (a field of magnitude 1e-170 at nrmse 1e-3: a
  // bin of 0, which decoders refuse as corrupted)
  if (!(a.mse >= MIN_SQUARED_BOUND)) {
    throw new FieldpackError('UNSUPPORTED', `gae measures squared errors, which underflow for this field (its error bound ${a.bound.toPrecision(3)}, squared, is below ${MIN_SQUARED_BOUND.toPrecision(2)}, where doubles lose their precision): use lbrc or nglr, or the core codec (auto)`);
  }
  const n = fieldSize(a.shape);
  const f32 = a.values instanceof Float32Array;
  const x = a.values;
  const { skip, mask, nonfinite, fillExc } = scanChunk(x, a.mask, a.fillValue);
  const baseOf = (i: number) => (a.base ? a.base[i]! : 0);
  const geo = patchGeometry(a.shape);
  const idx = new Int32Array(D);
  // patches over budget without correction
  const over: number[] = [];
  const moment = new Float64Array(D * D);
  const r = new Float64Array(D);
  for (let k = 0; k < geo.count; k++) {
    geo.at(k, idx);
    let e2 = 0, pts = 0;
    for (let j = 0; j < D; j++) {
      const i = idx[j]!;
      r[j] = i >= 0 && !skip[i] ? x[i]! - toDtype(baseOf(i), f32) : 0;
      if (i >= 0 && !skip[i]) pts++;
      e2 += r[j]! * r[j]!;
    }
    if (e2 <= a.mse * pts) continue;
    over.push(k);
    for (let p = 0; p < D; p++) for (let q = p; q < D; q++) moment[p * D + q] += r[p]! * r[q]!;
  }
  for (let p = 0; p < D; p++) for (let q = 0; q < p; q++) moment[p * D + q] = moment[q * D + p]!;
  const basis = over.length ? Float32Array.from(principalAxes(moment, D)) : null;
  const bin = 2 * Math.sqrt(a.mse);
  const exact: number[] = [];
  const w = new ByteWriter(Math.max(1024, n >>> 2));
  const body = new ByteWriter(1024);
  body.varint(over.length);
  let prevK = 0, maxError = 0;
  const corr = new Float64Array(D);
  const c = new Float64Array(D);
  // what the decoder will give (to report the largest error)
  const dec = new Float64Array(n);
  for (let i = 0; i < n; i++) dec[i] = skip[i] ? 0 : toDtype(baseOf(i), f32);
  for (const k of over) {
    geo.at(k, idx);
    let pts = 0;
    for (let j = 0; j < D; j++) {
      const i = idx[j]!;
      r[j] = i >= 0 && !skip[i] ? x[i]! - toDtype(baseOf(i), f32) : 0;
      if (i >= 0 && !skip[i]) pts++;
    }
    for (let axis = 0; axis < D; axis++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += basis![j * D + axis]! * r[j]!;
      c[axis] = s;
    }
    const order = Array.from({ length: D }, (_, i) => i).sort((u, v) => Math.abs(c[v]!) - Math.abs(c[u]!) || u - v);
    corr.fill(0);
    const kept: [number, number][] = [];
    let ok = false;
    for (const axis of order) {
      const q = roundExact(c[axis]! / bin);
      if (q === 0) continue;
      kept.push([axis, q]);
      for (let j = 0; j < D; j++) corr[j] = corr[j]! + q * bin * basis![j * D + axis]!;
      let e2 = 0;
      for (let j = 0; j < D; j++) {
        const i = idx[j]!;
        if (i < 0 || skip[i]) continue;
        const e = x[i]! - toDtype(baseOf(i) + corr[j]!, f32);
        e2 += e * e;
      }
      if (e2 <= a.mse * pts) {
        ok = true;
        for (let j = 0; j < D; j++) if (idx[j]! >= 0 && !skip[idx[j]!]) dec[idx[j]!] = toDtype(baseOf(idx[j]!) + corr[j]!, f32);
        break;
      }
    }
    body.varint(k - prevK);
    prevK = k;
    if (!ok) {
      // not met with every axis (quantization): the patch's values are stored as they are
      body.u8(255);
      for (let j = 0; j < D; j++) if (idx[j]! >= 0 && !skip[idx[j]!]) exact.push(idx[j]!);
      continue;
    }
    body.u8(kept.length);
    for (const [axis, q] of kept) {
      body.u8(axis);
      body.svarint(q);
    }
  }
  exact.sort((u, v) => u - v);
  for (const i of exact) dec[i] = x[i]!;
  for (let i = 0; i < n; i++) if (!skip[i]) maxError = Math.max(maxError, Math.abs(x[i]! - dec[i]!));
  w.u8(chunkHeadFlags(mask, nonfinite, fillExc) | (exact.length ? F_EXACT : 0) | (basis ? F_BASIS : 0));
  w.varint(n);
  writeChunkHead(w, mask, a.shape, nonfinite, fillExc, x, f32, 2);
  w.f64(bin);
  if (basis) for (let j = 0; j < D * D; j++) w.f32(basis[j]!);
  writeValueLists(w, [exact], x, f32);
  w.bytes(body.finish());
  const payload = w.finish();
  const packed = backend.compress(payload);
  const raw = packed.length >= payload.length;
  const stored = raw ? payload : packed;
  return { stored, raw, rawBytes: payload.length, crc: crc32(stored), maxError, corrected: over.length, patches: geo.count };
}

export function decodeChunk(h: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null): DecodedChunk {
  const { r, what, shape, n, f32, flags, mask, skip, nonfinite, fillExc } = openChunk(h, index, stored, base, 31);
  const bin = r.f64('bin');
  if (!(bin > 0) || !Number.isFinite(bin)) bad(`corrupted stream: the quantization bin of ${what} is ${bin}`);
  let basis: Float32Array | null = null;
  if (flags & F_BASIS) {
    r.need(4 * D * D, 'basis');
    basis = new Float32Array(D * D);
    for (let j = 0; j < D * D; j++) {
      basis[j] = r.f32('basis');
      if (!Number.isFinite(basis[j]!)) bad(`corrupted stream: the basis of ${what} is not finite`);
    }
  }
  const exact = flags & F_EXACT ? readValueList(r, n, f32, 'exact values', what) : null;
  const out = f32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = skip[i] ? 0 : toDtype(base ? base[i]! : 0, f32);
  const geo = patchGeometry(shape);
  const count = r.varint('corrected patches');
  if (count > geo.count) bad(`corrupted stream: ${what} corrects ${count} of ${geo.count} patches`);
  if (count && !basis) bad(`corrupted stream: ${what} corrects patches without a basis`);
  const idx = new Int32Array(D);
  const corr = new Float64Array(D);
  let k = 0;
  for (let p = 0; p < count; p++) {
    k += r.varint('patch index');
    if (k >= geo.count) bad(`corrupted stream: a patch index of ${what} is out of range`);
    const kept = r.u8('kept axes');
    if (kept === 255) continue; // stored exactly
    if (kept > D) bad(`corrupted stream: ${what} keeps ${kept} axes of a patch`);
    geo.at(k, idx);
    corr.fill(0);
    for (let a = 0; a < kept; a++) {
      const axis = r.u8('axis');
      if (axis >= D) bad(`corrupted stream: axis ${axis} in ${what}`);
      const q = r.svarint('coefficient');
      for (let j = 0; j < D; j++) corr[j] = corr[j]! + q * bin * basis![j * D + axis]!;
    }
    for (let j = 0; j < D; j++) {
      const i = idx[j]!;
      if (i >= 0 && !skip[i]) out[i] = toDtype((base ? base[i]! : 0) + corr[j]!, f32);
    }
  }
  if (r.remaining() !== 0) bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  if (exact) finishChunk(out, null, null, exact, null);
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}
