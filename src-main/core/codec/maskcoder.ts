/**
 * Context-coded validity mask, model 2 (format v2 chunks, flag 16): each bit with an adaptive 16-bit probability
 * (fast-then-slow adaptation) chosen by ten causal neighbours: left, two left, up, up-left, up-right, two up, and in
 * the previous slice the same point, its left, right and up neighbours. Land masks of ocean fields (levitus,
 * ocean_atlas) cost about a third of model 1 (rangecoder.ts), whose 11-bit probabilities floor at ~0.02 bit/point.
 */
import { FieldpackError } from '../errors.ts';
import type { ByteReader, ByteWriter } from './bytes.ts';
import { Dec, Enc } from './mscoder.ts';
import { KERNEL_MAX_CODES, mask2DecodeKernel, mask2EncodeKernel } from './wasm-kernels.ts';

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
  if (coded) {
    out.block(coded);
    return;
  }
  const enc = new Enc(mask.length >>> 7);
  const probs = new Uint16Array(NCTX).fill(32768);
  const counts = new Uint8Array(NCTX);
  const h = plane / w;
  let x = 0, y = 0;
  for (let i = 0; i < mask.length; i++) {
    enc.bit16(probs, counts, ctxAt(mask, i, x, w, y, h, i >= plane, plane), mask[i] ? 1 : 0);
    if (++x === w) {
      x = 0;
      if (++y === h) y = 0;
    }
  }
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
  const len = r.varint('mask length');
  r.need(len, 'mask');
  if (n > mask2MaxPoints(len)) throw new FieldpackError('BAD_STREAM', `truncated stream: a ${len}-byte mask in ${r.what} cannot hold ${n} points`);
  const start = r.pos;
  r.pos += len;
  const ends = () => new FieldpackError('BAD_STREAM', `truncated stream: mask in ${r.what} ends early`);
  const fast = fastMask(n, w, plane, path) ? mask2DecodeKernel()?.(r.buf.subarray(start, start + len), len, n, w, plane) : null;
  if (fast) {
    if (fast.error === 1 || fast.bytesRead > len + 5) throw ends();
    if (fast.mask) return fast.mask;
  }
  const dec = new Dec(r.buf, start, start + len, `mask in ${r.what}`);
  const mask = new Uint8Array(n);
  const probs = new Uint16Array(NCTX).fill(32768);
  const counts = new Uint8Array(NCTX);
  const h = plane / w;
  let x = 0, y = 0;
  for (let i = 0; i < n; i++) {
    mask[i] = dec.bit16(probs, counts, ctxAt(mask, i, x, w, y, h, i >= plane, plane));
    if (++x === w) {
      x = 0;
      if (++y === h) y = 0;
    }
  }
  if (dec.pos > start + len + 5) throw ends();
  return mask;
}
