/**
 * The VQ-VAE's layers on one map [C, H, W] (C order, float32), on the reference path of the decoding contract:
 * every multiply and add is an IEEE float32 operation (a product of two float32 values is exact in double; the sum
 * is rounded by the store into a Float32Array), accumulated in a fixed order (bias first, then input channel, kernel
 * row, kernel column ascending), so results are the same bits on every machine and engine. Zero padding means the
 * terms outside the map are skipped. Pure: no Node imports.
 */

export interface Tensor {
  data: Float32Array;
  c: number;
  h: number;
  w: number;
}

/**
 * Scratch buffers by length. Fresh typed arrays are zero pages the kernel maps on first touch, which cost more than
 * the leaky ReLU that fills them; the decoder hands its intermediates back (release) so that the next map and the
 * next chunk reuse warm memory. Every layer overwrites all of its output, so reused contents never show through.
 */
const pool = new Map<number, Float32Array[]>();
let pooledFloats = 0;
const POOL_LIMIT = 1 << 26;

function take(n: number): Float32Array {
  const list = pool.get(n);
  const b = list?.pop();
  if (b) {
    pooledFloats -= n;
    return b;
  }
  return new Float32Array(n);
}

/** Gives a tensor's buffer back for reuse; the tensor must not be read afterwards. */
export function release(t: Tensor): void {
  const n = t.data.length;
  if (t.data.byteOffset !== 0 || t.data.buffer.byteLength !== 4 * n || pooledFloats + n > POOL_LIMIT) return;
  const list = pool.get(n) ?? [];
  list.push(t.data);
  pool.set(n, list);
  pooledFloats += n;
}

/**
 * Conv2d with a k x k kernel, stride 1, padding (k - 1) / 2 (k odd) or stride 2 with k = 4, padding 1. Computed one
 * output row at a time (the row stays in cache while every input channel and tap is added to it); each point's
 * terms are still added bias first, then ic, ky, kx ascending.
 */
export function conv2d(x: Tensor, weight: Float32Array, bias: Float32Array, cout: number, k: number, stride: 1 | 2): Tensor {
  const { c: cin, h: H, w: W } = x;
  const pad = stride === 1 ? (k - 1) >> 1 : 1;
  const Ho = stride === 1 ? H : (H + 2 * pad - k) / 2 + 1;
  const Wo = stride === 1 ? W : (W + 2 * pad - k) / 2 + 1;
  const plane = Ho * Wo;
  const out = take(cout * plane);
  const inp = x.data;
  const kk = k * k;
  for (let oc = 0; oc < cout; oc++) {
    const b = bias[oc]!;
    for (let y = 0; y < Ho; y++) {
      const ob = oc * plane + y * Wo;
      const row = out.subarray(ob, ob + Wo);
      row.fill(b);
      for (let ic = 0; ic < cin; ic++) {
        const ib = ic * H * W;
        const wb = (oc * cin + ic) * kk;
        for (let ky = 0; ky < k; ky++) {
          const iy = stride * y + ky - pad;
          if (iy < 0 || iy >= H) continue;
          const rb = ib + iy * W;
          for (let kx = 0; kx < k; kx++) {
            const wv = weight[wb + ky * k + kx]!;
            const dx = kx - pad;
            if (stride === 1) {
              const x0 = dx < 0 ? -dx : 0, x1 = dx > 0 ? Wo - dx : Wo;
              const src = rb + dx;
              for (let xx = x0; xx < x1; xx++) row[xx] = row[xx]! + Math.fround(wv * inp[src + xx]!);
            } else {
              // input column 2x + dx
              const x0 = dx < 0 ? 1 : 0, x1 = Math.min(Wo, Math.floor((W - 1 - dx) / 2) + 1);
              const src = rb + dx;
              for (let xx = x0; xx < x1; xx++) row[xx] = row[xx]! + Math.fround(wv * inp[src + 2 * xx]!);
            }
          }
        }
      }
    }
  }
  return { data: out, c: cout, h: Ho, w: Wo };
}

/**
 * ConvTranspose2d, kernel 4, stride 2, padding 1 (weights [in, out, 4, 4]): output (2H, 2W). Output point (Y, X)
 * receives input (iy, ix) through kernel tap (Y + 1 - 2 iy, X + 1 - 2 ix); terms are added for ic, ky, kx ascending,
 * one output row at a time.
 */
export function convTranspose2d(x: Tensor, weight: Float32Array, bias: Float32Array, cout: number): Tensor {
  const { c: cin, h: H, w: W } = x;
  const Ho = 2 * H, Wo = 2 * W;
  const plane = Ho * Wo;
  const out = take(cout * plane);
  const inp = x.data;
  for (let oc = 0; oc < cout; oc++) {
    const b = bias[oc]!;
    for (let Y = 0; Y < Ho; Y++) {
      const ob = oc * plane + Y * Wo;
      const row = out.subarray(ob, ob + Wo);
      row.fill(b);
      // the two taps of this row's parity: ky with Y + 1 - ky even, iy = (Y + 1 - ky) / 2
      const ky0 = (Y + 1) & 1;
      for (let ic = 0; ic < cin; ic++) {
        const ib = ic * H * W;
        const wb = (ic * cout + oc) * 16;
        for (let ky = ky0; ky < 4; ky += 2) {
          const iy = (Y + 1 - ky) >> 1;
          if (iy < 0 || iy >= H) continue;
          const src = ib + iy * W;
          for (let kx = 0; kx < 4; kx++) {
            const wv = weight[wb + ky * 4 + kx]!;
            // X = 2 ix - 1 + kx
            const ix0 = kx === 0 ? 1 : 0, ix1 = kx === 3 ? W - 1 : W;
            const xb = kx - 1;
            for (let ix = ix0; ix < ix1; ix++) row[2 * ix + xb] = row[2 * ix + xb]! + Math.fround(wv * inp[src + ix]!);
          }
        }
      }
    }
  }
  return { data: out, c: cout, h: Ho, w: Wo };
}

/**
 * Leaky ReLU into a new tensor: x >= 0 ? x : f32(x * slope), written as max(x, x * slope) (the same value for a
 * slope in [0, 1), without a branch to mispredict).
 */
export function leaky(x: Tensor, slope: number): Tensor {
  const d = x.data;
  const n = d.length;
  const out = take(n);
  for (let i = 0; i < n; i++) {
    const v = d[i]!;
    out[i] = Math.max(v, v * slope);
  }
  return { data: out, c: x.c, h: x.h, w: x.w };
}

/** a += b, in place (float32 sums). */
export function addInto(a: Tensor, b: Tensor): Tensor {
  const d = a.data, e = b.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i]! + e[i]!;
  return a;
}

/** Codebook vectors at each position: [D, h, w] from indices [h * w] and a codebook [K, D]. */
export function lookup(indices: Uint16Array | Uint32Array, codebook: Float32Array, D: number, h: number, w: number): Tensor {
  const plane = h * w;
  const out = take(D * plane);
  for (let p = 0; p < plane; p++) {
    const base = indices[p]! * D;
    for (let d = 0; d < D; d++) out[d * plane + p] = codebook[base + d]!;
  }
  return { data: out, c: D, h, w };
}

/** Nearest codebook vector per position (squared distance in double; ties to the lowest index). */
export function nearestCodes(x: Tensor, codebook: Float32Array, K: number): Uint16Array {
  const { c: D, h, w } = x;
  const plane = h * w;
  const out = new Uint16Array(plane);
  const v = new Float64Array(D);
  for (let p = 0; p < plane; p++) {
    for (let d = 0; d < D; d++) v[d] = x.data[d * plane + p]!;
    let best = 0, bestD = Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      const b = k * D;
      for (let d = 0; d < D && s < bestD; d++) {
        const e = v[d]! - codebook[b + d]!;
        s += e * e;
      }
      if (s < bestD) {
        bestD = s;
        best = k;
      }
    }
    out[p] = best;
  }
  return out;
}
