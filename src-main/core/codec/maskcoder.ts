/**
 * Context-coded validity mask, model 2 (format v2 chunks, flag 16): each bit with an adaptive 16-bit probability
 * (fast-then-slow adaptation) chosen by ten causal neighbours: left, two left, up, up-left, up-right, two up, and in
 * the previous slice the same point, its left, right and up neighbours. Land masks of ocean fields (levitus,
 * ocean_atlas) cost about a third of model 1 (rangecoder.ts), whose 11-bit probabilities floor at ~0.02 bit/point.
 */
import { FieldpackError } from '../errors.ts';
import type { ByteReader, ByteWriter } from './bytes.ts';
import { Dec, Enc } from './mscoder.ts';
import { KERNEL_MAX_CODES, type MaskDecodeKernel, mask2DecodeKernel, mask2EncodeKernel, mask3DecodeKernel, mask3EncodeKernel } from './wasm-kernels.ts';

const NCTX = 1 << 10;

function ctxAt(m: Uint8Array, i: number, x: number, w: number, y: number, h: number, z: boolean, plane: number): number {
  const l = x >= 1 ? m[i - 1]! : 1;
  const l2 = x >= 2 ? m[i - 2]! : l;
  const u = y >= 1 ? m[i - w]! : 1;
  const ul = y >= 1 && x >= 1 ? m[i - w - 1]! : u;
  const ur = y >= 1 && x + 1 < w ? m[i - w + 1]! : u;
  const u2 = y >= 2 ? m[i - 2 * w]! : u;
  let p = 1, pl = 1, pr = 1, pu = 1;
  if (z) {
    const j = i - plane;
    p = m[j]!;
    pl = x >= 1 ? m[j - 1]! : p;
    pr = x + 1 < w ? m[j + 1]! : p;
    pu = y >= 1 ? m[j - w]! : p;
  } else {
    p = u;
    pl = ul;
    pr = ur;
    pu = u2;
  }
  void h;
  return l | (l2 << 1) | (u << 2) | (ul << 3) | (ur << 4) | (u2 << 5) | (p << 6) | (pl << 7) | (pr << 8) | (pu << 9);
}

/**
 * The fast path, the same loop in WebAssembly (wasm-kernels.ts; the same bytes and masks, the same failures), where
 * the engine has it and the mask's rows tile its slices; else the reference.
 */
const fastMask = (n: number, w: number, plane: number, path: 'fast' | 'reference') => path === 'fast' && n <= 4 * KERNEL_MAX_CODES && w >= 1 && plane % w === 0;

export function maskEncode2(mask: Uint8Array, w: number, plane: number, out: ByteWriter, path: 'fast' | 'reference' = 'fast'): void {
  const coded = fastMask(mask.length, w, plane, path) ? mask2EncodeKernel()?.(mask, w, plane) : null;
  writeCodedMask(out, coded, mask.length >>> 7, (enc) => walkModel2(mask, mask.length, w, plane, (p, c, ctx, i) => enc.bit16(p, c, ctx, mask[i] ? 1 : 0)));
}

/**
 * Model 2's walk over a mask of n points, written once for its coder and its decoder (as walkModel3): `point` codes
 * or decodes point i, in its context of the points before it.
 */
function walkModel2(m: Uint8Array, n: number, w: number, plane: number, point: (probs: Uint16Array, counts: Uint8Array, ctx: number, i: number) => void): void {
  const probs = new Uint16Array(NCTX).fill(32768);
  const counts = new Uint8Array(NCTX);
  const h = plane / w;
  let x = 0, y = 0;
  for (let i = 0; i < n; i++) {
    point(probs, counts, ctxAt(m, i, x, w, y, h, i >= plane, plane), i);
    if (++x === w) {
      x = 0;
      if (++y === h) y = 0;
    }
  }
}

/** A mask's block: the kernel's bytes where it ran, else those the reference loop codes (the same bytes). */
function writeCodedMask(out: ByteWriter, kernelBytes: Uint8Array | null | undefined, cap: number, reference: (enc: Enc) => void): void {
  if (kernelBytes) {
    out.block(kernelBytes);
    return;
  }
  const enc = new Enc(cap);
  reference(enc);
  out.block(enc.finish());
}

/**
 * Most points `len` bytes of model 2 can hold: probabilities are clamped to [32, 65504] / 65536, so a point costs
 * >= 7.05e-4 bit, n points need >= n / 11,350 bytes (plus the 5 read past the end). A margin of 40 %.
 */
export function mask2MaxPoints(len: number): number {
  return 16384 * (len + 16);
}

export function maskDecode2(r: ByteReader, n: number, w: number, plane: number, path: 'fast' | 'reference' = 'fast'): Uint8Array {
  const kernel = fastMask(n, w, plane, path) ? mask2DecodeKernel() : null;
  return decodedMask(r, n, mask2MaxPoints, kernel && ((data, len) => kernel(data, len, n, w, plane)), (dec, mask) =>
    walkModel2(mask, n, w, plane, (p, c, ctx, i) => {
      mask[i] = dec.bit16(p, c, ctx);
    }));
}

/**
 * A mask's n points from its block (varint length, bytes): refused where the length cannot hold them (maxPoints) or
 * the data end early; the kernel's where it ran, else the reference loop's (the same points, the same failures).
 */
function decodedMask(r: ByteReader, n: number, maxPoints: (len: number) => number, kernel: ((data: Uint8Array, len: number) => ReturnType<MaskDecodeKernel>) | null, reference: (dec: Dec, mask: Uint8Array) => void): Uint8Array {
  const len = r.varint('mask length');
  r.need(len, 'mask');
  if (n > maxPoints(len)) throw new FieldpackError('BAD_STREAM', `truncated stream: a ${len}-byte mask in ${r.what} cannot hold ${n} points`);
  const start = r.pos;
  r.pos += len;
  const ends = () => new FieldpackError('BAD_STREAM', `truncated stream: mask in ${r.what} ends early`);
  const fast = kernel?.(r.buf.subarray(start, start + len), len);
  if (fast) {
    if (fast.error === 1 || fast.bytesRead > len + 5) throw ends();
    if (fast.mask) return fast.mask;
  }
  const dec = new Dec(r.buf, start, start + len, `mask in ${r.what}`);
  const mask = new Uint8Array(n);
  reference(dec, mask);
  if (dec.pos > start + len + 5) throw ends();
  return mask;
}

/**
 * Mask model 3 (format v2 chunks, flags 16 | 128): model 2 with segments skipped. Each row is cut into segments of
 * MASK_SEGMENT points; where a reference row exists (the same row one slice back, else in the first slice the row
 * above), a segment first codes one bit, whether it equals the reference's points, in a context of the row's
 * segment before it, the same segment a row before, and whether the reference's segment and (a slice on) the one
 * in the row above hold one value. An equal segment is copied; the points of any other are coded by model 2's
 * contexts and model. Land masks change little from level to level and from row to row (Levitus: 87 % of its
 * 16-point segments equal their reference), so a decoder reads one bit where model 2 read 16, in about the same
 * bytes (Levitus +1 %, COADS SST -8 %, the ocean atlas -1 %), and the WebAssembly kernels compare and copy a
 * segment in one 16-byte lane.
 */
export const MASK_SEGMENT = 16;
/** segment contexts: before (2) x above (2) x one slice back (2) x the reference's segment (3) x the one in the row above (3) */
const SEGMENT_CONTEXTS = 96;

/** 0 where the len points at `at` hold both values, else 1 + their value */
function uniformOf(m: Uint8Array, at: number, len: number): number {
  const v = m[at]!;
  for (let k = 1; k < len; k++) if (m[at + k] !== v) return 0;
  return 1 + v;
}

function sameSegment(m: Uint8Array, at: number, ref: number, len: number): number {
  for (let k = 0; k < len; k++) if (m[at + k] !== m[ref + k]) return 0;
  return 1;
}

/** The context of the segment of row i (its first point; y in its slice) from x, `len` points, reference row `ref`. */
function segmentContext(m: Uint8Array, i: number, x: number, y: number, w: number, plane: number, ref: number, len: number, before: number, above: number): number {
  const slices = i >= plane;
  const rowAbove = y >= 1 && slices ? uniformOf(m, i - w + x, len) : 0;
  return before | (above << 1) | (slices ? 4 : 0) | (uniformOf(m, ref + x, len) << 3) | (rowAbove << 5);
}

/** Where row i (its first point) finds its reference row: one slice back, else one row back in the first slice, else -1. */
function referenceRow(i: number, w: number, plane: number): number {
  return i >= plane ? i - plane : i >= w ? i - w : -1;
}

/**
 * Model 3's walk over a mask of n points, written once for its coder and its decoder so that both see the same
 * contexts in the same order: `segment` codes or decodes, with the segments' model and context, whether the `len`
 * points at `at` equal their reference's at `ref` (the decoder copies them), returning 1 if so; `point` codes or
 * decodes each point of the other segments with model 2's.
 */
function walkModel3(
  m: Uint8Array, n: number, w: number, plane: number,
  segment: (probs: Uint16Array, counts: Uint8Array, ctx: number, at: number, ref: number, len: number) => number,
  point: (probs: Uint16Array, counts: Uint8Array, ctx: number, at: number) => void,
): void {
  const probs = new Uint16Array(NCTX).fill(32768);
  const counts = new Uint8Array(NCTX);
  const segProbs = new Uint16Array(SEGMENT_CONTEXTS).fill(32768);
  const segCounts = new Uint8Array(SEGMENT_CONTEXTS);
  // each segment's flag one row before
  const rowAbove = new Uint8Array(Math.ceil(w / MASK_SEGMENT)).fill(1);
  const h = plane / w;
  for (let i = 0, y = 0; i < n; i += w, y = y + 1 === h ? 0 : y + 1) {
    const ref = referenceRow(i, w, plane);
    let before = 1;
    for (let x = 0, s = 0; x < w; x += MASK_SEGMENT, s++) {
      const len = Math.min(MASK_SEGMENT, w - x);
      let same = 0;
      if (ref >= 0) {
        same = segment(segProbs, segCounts, segmentContext(m, i, x, y, w, plane, ref, len, before, rowAbove[s]!), i + x, ref + x, len);
        rowAbove[s] = before = same;
      }
      if (!same) for (let k = x; k < x + len; k++) point(probs, counts, ctxAt(m, i + k, k, w, y, h, i + k >= plane, plane), i + k);
    }
  }
}

export function maskEncode3(mask: Uint8Array, w: number, plane: number, out: ByteWriter, path: 'fast' | 'reference' = 'fast'): void {
  const coded = fastMask(mask.length, w, plane, path) ? mask3EncodeKernel()?.(mask, w, plane) : null;
  writeCodedMask(out, coded, mask.length >>> 9, (enc) =>
    walkModel3(
      mask, mask.length, w, plane,
      (p, c, ctx, at, ref, len) => {
        const same = sameSegment(mask, at, ref, len);
        enc.bit16(p, c, ctx, same);
        return same;
      },
      (p, c, ctx, at) => enc.bit16(p, c, ctx, mask[at] ? 1 : 0),
    ));
}

/**
 * Most points `len` bytes of model 3 can hold: a segment's bit costs >= 7.05e-4 bit (model 2's clamp), so n points
 * need >= n / (11,350 x MASK_SEGMENT) bytes; a margin of 40 %.
 */
export function mask3MaxPoints(len: number): number {
  return 16384 * MASK_SEGMENT * (len + 16);
}

export function maskDecode3(r: ByteReader, n: number, w: number, plane: number, path: 'fast' | 'reference' = 'fast'): Uint8Array {
  const kernel = fastMask(n, w, plane, path) ? mask3DecodeKernel() : null;
  return decodedMask(r, n, mask3MaxPoints, kernel && ((data, len) => kernel(data, len, n, w, plane)), (dec, mask) =>
    walkModel3(
      mask, n, w, plane,
      (p, c, ctx, at, ref, len) => {
        const same = dec.bit16(p, c, ctx);
        if (same) mask.copyWithin(at, ref, ref + len);
        return same;
      },
      (p, c, ctx, at) => {
        mask[at] = dec.bit16(p, c, ctx);
      },
    ));
}
