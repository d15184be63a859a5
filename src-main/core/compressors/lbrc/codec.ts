/**
 * The LBRC residual coder (codec id "lbrc", after Zhu, Ranka, Rangarajan, arXiv 2606.05389; our own code): the
 * residual r = x - base of a learned or coarse base (or of nothing: r = x) is quantized block by block with a step
 * of its own, q = round(r / step), predicted by the 3D Lorenzo predictor inside the block, and the prediction
 * differences go through the core's adaptive multi-symbol range coder and the lossless stage. Pure: no Node.
 *
 * Bounds: `abs` (point-wise, strict: step = 2 x bound, points that float rounding would put over it are stored
 * exactly) and `nrmse` (per block as LBRC defines it: the largest step whose true decode keeps the block's squared
 * error within target^2 x range^2 x its points, found by doubling then 16 bisections; the global NRMSE follows).
 *
 * Chunk payload: u8 flags (1 mask, 2 non-finite list, 4 fill exceptions, 8 exact values) | varint n | [mask]
 *   | [lists] | varint blocks | f64 step per block | [exact values list] | varint large differences + svarints
 *   | range-coded differences (one per valid point, radius 32768; 0 = a large difference from the list).
 */
import { FieldpackError } from '../../errors.ts';
import { type FieldValues, fieldSize } from '../../field.ts';
import { ByteWriter } from '../../codec/bytes.ts';
import { crc32 } from '../../codec/crc32.ts';
import { chunkHeadFlags, finishChunk, readValueList, scanChunk, writeChunkHead, writeValueLists } from '../../codec/envelope.ts';
import type { LosslessBackend } from '../../codec/lossless.ts';
import { msDecodeCodesBare, msEncodeCodesBare } from '../../codec/mscoder.ts';
import { scratchTyped } from '../../codec/scratch.ts';
import type { StreamHeader } from '../../codec/stream/format.ts';
import type { DecodedChunk } from '../contract.ts';
import { type ResidualChunkInput, type ResidualChunkOutput, openChunk } from '../residual.ts';
import { roundExact } from '../../codec/quantizer.ts';

export const LBRC_CODEC_ID = 'lbrc';
const F_EXACT = 8;
const RADIUS = 32768;
/** |q| beyond this is stored exactly (keeps Lorenzo sums exact in doubles) */
export const Q_LIMIT = 2 ** 30;
const BISECTIONS = 16;

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
}

/** A chunk as [D, H, W] (leading dims folded into D; 1D fields are [1, 1, n]). */
export function volumeOf(shape: readonly number[]): [number, number, number] {
  const n = fieldSize(shape);
  if (shape.length === 1) return [1, 1, n];
  const h = shape[shape.length - 2]!, w = shape[shape.length - 1]!;
  return [n / (h * w), h, w];
}

export interface Block {
  t0: number; t1: number; h0: number; h1: number; w0: number; w1: number;
}

/** How many blocks of size `block` tile the volume. */
export function blockCount(vol: [number, number, number], block: readonly number[]): number {
  return Math.ceil(vol[0] / block[0]!) * Math.ceil(vol[1] / block[1]!) * Math.ceil(vol[2] / block[2]!);
}

/** Blocks of size `block` ([bt, bh, bw]) tiling the volume, in raster order. */
export function blocksOf(vol: [number, number, number], block: readonly number[]): Block[] {
  const [D, H, W] = vol;
  const [bt, bh, bw] = [block[0]!, block[1]!, block[2]!];
  const out: Block[] = [];
  for (let t = 0; t < D; t += bt) for (let h = 0; h < H; h += bh) for (let w = 0; w < W; w += bw) {
    out.push({ t0: t, t1: Math.min(D, t + bt), h0: h, h1: Math.min(H, h + bh), w0: w, w1: Math.min(W, w + bw) });
  }
  return out;
}

/** Visits the points of a block in raster order: fn(index in the chunk, neighbour offsets valid along t, h, w). */
export function forBlock(b: Block, H: number, W: number, fn: (i: number, dt: boolean, dh: boolean, dw: boolean) => void): void {
  for (let t = b.t0; t < b.t1; t++) for (let h = b.h0; h < b.h1; h++) {
    const row = (t * H + h) * W;
    for (let w = b.w0; w < b.w1; w++) fn(row + w, t > b.t0, h > b.h0, w > b.w0);
  }
}

/** 3D Lorenzo prediction of q[i] from decoded neighbours inside the block (outside: 0). Exact in doubles. */
function lorenzo(q: Float64Array, i: number, sH: number, sT: number, dt: boolean, dh: boolean, dw: boolean): number {
  const a = dw ? q[i - 1]! : 0, b = dh ? q[i - sH]! : 0, c = dt ? q[i - sT]! : 0;
  const ab = dh && dw ? q[i - sH - 1]! : 0, ac = dt && dw ? q[i - sT - 1]! : 0, bc = dt && dh ? q[i - sT - sH]! : 0;
  const abc = dt && dh && dw ? q[i - sT - sH - 1]! : 0;
  return a + b + c - ab - ac - bc + abc;
}

export const reconOf = (base: number, q: number, step: number, f32: boolean) => (f32 ? Math.fround(base + q * step) : base + q * step);

export interface ChunkArgs extends ResidualChunkInput {
  block: number[];
  /** also measure the paper's bit-plane coding of the differences (comparison only) */
  compareBitPlanes?: boolean;
}

export interface ChunkResult extends ResidualChunkOutput {
  comparison?: { rangeCodedBytes: number; bitPlaneBytes: number };
  sse: number;
  valid: number;
  parts: { residual: number; side: number; mask: number };
}

/** Steps stay below this, so that step x Q_LIMIT is a finite double (decoders refuse a step past it as corrupted). */
const MAX_STEP = Number.MAX_VALUE / (4 * Q_LIMIT);

/** The largest step (doubling, then bisection) whose decode keeps the block's squared error within budget. */
export function searchStep(x: FieldValues, base: FieldValues | null, skip: Uint8Array, b: Block, H: number, W: number, budget: number, f32: boolean): number {
  const sse = (step: number) => {
    let s = 0;
    forBlock(b, H, W, (i) => {
      if (skip[i]) return;
      const bv = base ? base[i]! : 0;
      const q = roundExact((x[i]! - bv) / step);
      const e = Math.abs(q) > Q_LIMIT ? 0 : x[i]! - reconOf(bv, q, step, f32);
      s += e * e;
    });
    return s;
  };
  const uniform = Math.sqrt(12 * (budget > 0 ? budget : 0));
  if (!(uniform > 0) || !Number.isFinite(uniform)) return 0;
  let lo = Math.min(uniform, MAX_STEP / 2);
  while (sse(lo) > budget && lo > 1e-300) lo /= 2;
  let hi = lo * 2;
  // a budget the residual meets with every q at 0 (a base already within the target) has no largest step: the
  // search stops at MAX_STEP
  while (sse(hi) <= budget && hi < MAX_STEP) {
    lo = hi;
    hi *= 2;
  }
  for (let k = 0; k < BISECTIONS; k++) {
    const mid = (lo + hi) / 2;
    if (sse(mid) <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** A chunk's residual quantized block by block: q (0 at skipped and exact points), the points stored exactly, steps. */
export interface QuantizedResidual {
  q: Float64Array;
  /** indices of points stored as they are (sorted) */
  exact: number[];
  /** one step per block */
  steps: number[];
  sse: number;
  maxError: number;
  valid: number;
}

/**
 * q = round((x - base) / step) per block: step = 2 x bound (abs mode) or the block's NRMSE search. A point whose
 * reconstruction float rounding would put over an abs bound, or whose |q| is beyond Q_LIMIT, is stored exactly.
 */
export function quantizeResidual(a: ResidualChunkInput, skip: Uint8Array, blocks: Block[], H: number, W: number): QuantizedResidual {
  const x = a.values;
  const f32 = x instanceof Float32Array;
  const q = new Float64Array(x.length);
  const exact: number[] = [];
  const steps: number[] = [];
  let sse = 0, maxError = 0, valid = 0;
  for (const b of blocks) {
    let pts = 0;
    forBlock(b, H, W, (i) => { if (!skip[i]) pts++; });
    // (capped as the search is: a bound past ~8e298 gave a step whose q x step overflows, which nglr's decoder refuses)
    const step = a.mode === 'abs' ? Math.min(2 * a.bound, MAX_STEP) : searchStep(x, a.base, skip, b, H, W, a.mse * pts, f32);
    steps.push(step);
    forBlock(b, H, W, (i) => {
      if (skip[i]) return;
      valid++;
      const bv = a.base ? a.base[i]! : 0;
      const qi = step > 0 ? roundExact((x[i]! - bv) / step) : 0;
      const e = x[i]! - reconOf(bv, qi, step, f32);
      if (!(step > 0) || Math.abs(qi) > Q_LIMIT || (a.mode === 'abs' && !(Math.abs(e) <= a.bound))) {
        exact.push(i); // stored as is; q = 0 there
        return;
      }
      q[i] = qi;
      sse += e * e;
      if (Math.abs(e) > maxError) maxError = Math.abs(e);
    });
  }
  exact.sort((u, v) => u - v);
  return { q, exact, steps, sse, maxError, valid };
}

export function encodeChunk(a: ChunkArgs, backend: LosslessBackend): ChunkResult {
  const n = fieldSize(a.shape);
  const f32 = a.values instanceof Float32Array;
  const x = a.values;
  const { skip, mask, nonfinite, fillExc } = scanChunk(x, a.mask, a.fillValue);
  const [, H, W] = volumeOf(a.shape);
  const blocks = blocksOf(volumeOf(a.shape), a.block);
  const { q, exact, steps, sse, maxError, valid } = quantizeResidual(a, skip, blocks, H, W);
  const w = new ByteWriter(Math.max(1024, n >>> 1));
  w.u8(chunkHeadFlags(mask, nonfinite, fillExc) | (exact.length ? F_EXACT : 0));
  w.varint(n);
  const maskPart = writeChunkHead(w, mask, a.shape, nonfinite, fillExc, x, f32, 2);
  const s0 = w.pos;
  w.varint(blocks.length);
  for (const s of steps) w.f64(s);
  writeValueLists(w, [exact], x, f32);
  // differences of q from its Lorenzo prediction, block by block; exact points are not coded
  const isExact = new Uint8Array(n);
  for (const i of exact) isExact[i] = 1;
  // the thread's codes memory (coded below before anything else runs), not a fresh chunk-sized array
  const codes = scratchTyped('codes', Uint32Array, Math.max(1, valid));
  const large: number[] = [];
  let c = 0;
  const sT = H * W;
  for (const b of blocks) {
    forBlock(b, H, W, (i, dt, dh, dw) => {
      if (skip[i] || isExact[i]) return;
      const d = q[i]! - lorenzo(q, i, W, sT, dt, dh, dw);
      if (Math.abs(d) < RADIUS) codes[c++] = RADIUS + d;
      else {
        codes[c++] = 0;
        large.push(d);
      }
    });
  }
  w.varint(large.length);
  for (const d of large) w.svarint(d);
  const sidePart = w.pos - s0;
  const r0 = w.pos;
  msEncodeCodesBare(codes, c, RADIUS, w);
  const payload = w.finish();
  const packed = backend.compress(payload);
  const raw = packed.length >= payload.length;
  const stored = raw ? payload : packed;
  // the paper's coding of the same differences, for comparison: bit planes of their zigzag codes, each plane
  // through the lossless stage on its own (the stream keeps the range coder)
  const bitPlanes = a.compareBitPlanes ? bitPlaneBytes(q, skip, isExact, blocks, H, W, backend) : undefined;
  return {
    stored, raw, rawBytes: payload.length, crc: crc32(stored), sse, maxError, valid,
    parts: { residual: payload.length - r0, side: sidePart, mask: maskPart },
    ...(bitPlanes !== undefined ? { comparison: { rangeCodedBytes: backend.compress(payload.subarray(r0)).length, bitPlaneBytes: bitPlanes } } : {}),
  };
}

/** Bytes of the differences coded as in the paper: zigzag, bit planes LSB..MSB, each packed and compressed alone. */
function bitPlaneBytes(q: Float64Array, skip: Uint8Array, isExact: Uint8Array, blocks: Block[], H: number, W: number, backend: LosslessBackend): number {
  const zz: number[] = [];
  for (const b of blocks) {
    forBlock(b, H, W, (i, dt, dh, dw) => {
      if (skip[i] || isExact[i]) return;
      const d = q[i]! - lorenzo(q, i, W, H * W, dt, dh, dw);
      zz.push(d >= 0 ? 2 * d : -2 * d - 1);
    });
  }
  let top = 0;
  for (const z of zz) top = Math.max(top, z);
  let total = 0;
  for (let bit = 0; 2 ** bit <= top; bit++) {
    const plane = new Uint8Array(Math.ceil(zz.length / 8));
    const m = 2 ** bit;
    zz.forEach((z, k) => {
      if (Math.floor(z / m) % 2) plane[k >> 3]! |= 1 << (k & 7);
    });
    total += backend.compress(plane).length;
  }
  return total;
}

export function decodeChunk(h: StreamHeader, index: number, stored: Uint8Array, base: FieldValues | null, block: number[]): DecodedChunk {
  const { r, what, shape, n, f32, flags, mask, skip, nonfinite, fillExc } = openChunk(h, index, stored, base, 15);
  const vol = volumeOf(shape);
  // one f64 step per block is in the stream: a block size that would make more blocks than its bytes hold is refused
  // before any block is made (a 1 x 1 x 1 block on a large declared shape)
  const count = blockCount(vol, block);
  if (r.varint('block count') !== count) bad(`corrupted stream: ${what} has another block count than its shape and block size give (${count})`);
  r.need(8 * count, 'block steps');
  const blocks = blocksOf(vol, block);
  const steps = blocks.map(() => r.f64('block step'));
  if (steps.some((s) => !(s >= 0) || !Number.isFinite(s))) bad(`corrupted stream: a block step of ${what} is negative or not finite`);
  const exact = flags & F_EXACT ? readValueList(r, n, f32, 'exact values', what) : null;
  const isExact = new Uint8Array(n);
  if (exact) for (const k of exact.idx) isExact[k] = 1;
  let coded = 0;
  for (let k = 0; k < n; k++) if (!skip[k] && !isExact[k]) coded++;
  const nLarge = r.varint('large differences');
  if (nLarge > coded) bad(`corrupted stream: ${what} lists ${nLarge} large differences for ${coded} points`);
  const large: number[] = [];
  for (let k = 0; k < nLarge; k++) large.push(r.svarint('large difference'));
  const codes = msDecodeCodesBare(r, RADIUS, coded, null, 'fast', scratchTyped('codes', Uint32Array, coded));
  if (r.remaining() !== 0) bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  const [, H, W] = vol;
  const q = new Float64Array(n);
  const out = f32 ? new Float32Array(n) : new Float64Array(n);
  let c = 0, li = 0;
  blocks.forEach((b, bi) => {
    const step = steps[bi]!;
    forBlock(b, H, W, (i, dt, dh, dw) => {
      if (skip[i] || isExact[i]) return;
      const code = codes[c++]!;
      let d: number;
      if (code === 0) {
        if (li >= large.length) bad(`corrupted stream: ${what} has more escaped differences than listed`);
        d = large[li++]!;
      } else d = code - RADIUS;
      const qi = lorenzo(q, i, W, H * W, dt, dh, dw) + d;
      if (Math.abs(qi) > Q_LIMIT) bad(`corrupted stream: a quantized residual of ${what} is out of range`);
      q[i] = qi;
      out[i] = reconOf(base ? base[i]! : 0, qi, step, f32);
    });
  });
  if (exact) finishChunk(out, null, null, exact, null);
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}
