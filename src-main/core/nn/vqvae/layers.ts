/**
 * The VQ-VAE's layers on one map [C, H, W] (C order, float32), on the reference path of the decoding contract:
 * every multiply and add is an IEEE float32 operation (a product of two float32 values is exact in double; the sum
 * is rounded by the store into a Float32Array), accumulated in a fixed order (bias first, then input channel, kernel
 * row, kernel column ascending), so results are the same bits on every machine and engine. Zero padding means the
 * terms outside the map are skipped. Pure: no Node imports.
 */
import type { NnKernels } from '../wasm-kernels.ts';

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

const f32 = Math.fround;

/**
 * Conv2d with a k x k kernel, stride 1, padding (k - 1) / 2 (k odd) or stride 2 with k = 4, padding 1. Computed one
 * output row at a time (the row stays in cache while every input channel and tap is added to it); each point's
 * terms are still added bias first, then ic, ky, kx ascending. The 3 x 3 case (the residual blocks, most of the
 * decoder's work) adds an input channel's taps of a row in one pass, in that order; its border columns and rows,
 * where taps fall outside the map and are skipped (not added as zeros: -0 + +0 would be +0), take the general path.
 */
export function conv2d(x: Tensor, weight: Float32Array, bias: Float32Array, cout: number, k: number, stride: 1 | 2, fast: NnKernels | null = null): Tensor {
  const { c: cin, h: H, w: W } = x;
  const pad = stride === 1 ? (k - 1) >> 1 : 1;
  const Ho = stride === 1 ? H : (H + 2 * pad - k) / 2 + 1;
  const Wo = stride === 1 ? W : (W + 2 * pad - k) / 2 + 1;
  const plane = Ho * Wo;
  const out = take(cout * plane);
  const inp = x.data;
  // the fast kernels where they apply and the buffers fit their memory, else the reference loops (the same bits)
  if (k === 3 && stride === 1 && W >= 3) {
    if (!fast?.conv3x3(inp, cin, H, W, weight, bias, cout, out)) conv3x3(inp, cin, H, W, weight, bias, cout, out);
    return { data: out, c: cout, h: Ho, w: Wo };
  }
  if ((k === 1 && fast?.conv1x1(inp, cin, H, W, weight, bias, cout, out)) || (k === 4 && stride === 2 && H % 2 === 0 && W % 2 === 0 && fast?.conv4x4s2(inp, cin, H, W, weight, bias, cout, out))) {
    return { data: out, c: cout, h: Ho, w: Wo };
  }
  const kk = k * k;
  for (let oc = 0; oc < cout; oc++) {
    const b = bias[oc]!;
    for (let y = 0; y < Ho; y++) {
      const ob = oc * plane + y * Wo;
      out.fill(b, ob, ob + Wo);
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
              const src = rb + dx - ob;
              for (let o = ob + x0, e = ob + x1; o < e; o++) out[o] = out[o]! + f32(wv * inp[src + o]!);
            } else {
              // input column 2x + dx
              const x0 = dx < 0 ? 1 : 0, x1 = Math.min(Wo, Math.floor((W - 1 - dx) / 2) + 1);
              const src = rb + dx;
              for (let xx = x0; xx < x1; xx++) out[ob + xx] = out[ob + xx]! + f32(wv * inp[src + 2 * xx]!);
            }
          }
        }
      }
    }
  }
  return { data: out, c: cout, h: Ho, w: Wo };
}

/**
 * 3 x 3, stride 1, padding 1 (W >= 3): for each output row and input channel, the interior columns get the channel's
 * taps of the valid kernel rows (ky, kx ascending) in one pass, the two border columns theirs point by point.
 */
function conv3x3(inp: Float32Array, cin: number, H: number, W: number, weight: Float32Array, bias: Float32Array, cout: number, out: Float32Array): void {
  const plane = H * W;
  for (let oc = 0; oc < cout; oc++) {
    const b = bias[oc]!;
    for (let y = 0; y < H; y++) {
      const ob = oc * plane + y * W;
      out.fill(b, ob, ob + W);
      const last = ob + W - 1;
      // the valid kernel rows: ky0..ky1 (input rows y - 1 + ky)
      const ky0 = y === 0 ? 1 : 0, ky1 = y === H - 1 ? 1 : 2;
      for (let ic = 0; ic < cin; ic++) {
        const wb = (oc * cin + ic) * 9;
        // input row of kernel row ky, aligned with the output row: inp[r + o] is the input at (y - 1 + ky, x) for o = ob + x
        const rr = ic * plane + (y - 1) * W - ob;
        if (ky0 === 0 && ky1 === 2) {
          const w0 = weight[wb]!, w1 = weight[wb + 1]!, w2 = weight[wb + 2]!, w3 = weight[wb + 3]!, w4 = weight[wb + 4]!;
          const w5 = weight[wb + 5]!, w6 = weight[wb + 6]!, w7 = weight[wb + 7]!, w8 = weight[wb + 8]!;
          // two points per iteration, sliding the three input rows' values along (each loaded once)
          let i0 = rr + ob, i1 = i0 + W, i2 = i1 + W;
          let p0 = inp[i0]!, p1 = inp[i0 + 1]!, q0 = inp[i1]!, q1 = inp[i1 + 1]!, s0 = inp[i2]!, s1 = inp[i2 + 1]!;
          let o = ob + 1;
          for (; o + 1 < last; o += 2) {
            const p2 = inp[i0 + 2]!, p3 = inp[i0 + 3]!, q2 = inp[i1 + 2]!, q3 = inp[i1 + 3]!, s2 = inp[i2 + 2]!, s3 = inp[i2 + 3]!;
            let a = out[o]!, c = out[o + 1]!;
            a = f32(a + f32(w0 * p0)); c = f32(c + f32(w0 * p1));
            a = f32(a + f32(w1 * p1)); c = f32(c + f32(w1 * p2));
            a = f32(a + f32(w2 * p2)); c = f32(c + f32(w2 * p3));
            a = f32(a + f32(w3 * q0)); c = f32(c + f32(w3 * q1));
            a = f32(a + f32(w4 * q1)); c = f32(c + f32(w4 * q2));
            a = f32(a + f32(w5 * q2)); c = f32(c + f32(w5 * q3));
            a = f32(a + f32(w6 * s0)); c = f32(c + f32(w6 * s1));
            a = f32(a + f32(w7 * s1)); c = f32(c + f32(w7 * s2));
            out[o] = a + f32(w8 * s2);
            out[o + 1] = c + f32(w8 * s3);
            p0 = p2; p1 = p3; q0 = q2; q1 = q3; s0 = s2; s1 = s3;
            i0 += 2; i1 += 2; i2 += 2;
          }
          if (o < last) {
            const p2 = inp[i0 + 2]!, q2 = inp[i1 + 2]!, s2 = inp[i2 + 2]!;
            let a = out[o]!;
            a = f32(a + f32(w0 * p0));
            a = f32(a + f32(w1 * p1));
            a = f32(a + f32(w2 * p2));
            a = f32(a + f32(w3 * q0));
            a = f32(a + f32(w4 * q1));
            a = f32(a + f32(w5 * q2));
            a = f32(a + f32(w6 * s0));
            a = f32(a + f32(w7 * s1));
            out[o] = a + f32(w8 * s2);
          }
        } else if (ky1 - ky0 === 1) {
          const wa = wb + 3 * ky0;
          const w0 = weight[wa]!, w1 = weight[wa + 1]!, w2 = weight[wa + 2]!, w3 = weight[wa + 3]!, w4 = weight[wa + 4]!, w5 = weight[wa + 5]!;
          const r0 = rr + ky0 * W, r1 = r0 + W;
          for (let o = ob + 1; o < last; o++) {
            let a = out[o]!;
            a = f32(a + f32(w0 * inp[r0 + o - 1]!));
            a = f32(a + f32(w1 * inp[r0 + o]!));
            a = f32(a + f32(w2 * inp[r0 + o + 1]!));
            a = f32(a + f32(w3 * inp[r1 + o - 1]!));
            a = f32(a + f32(w4 * inp[r1 + o]!));
            out[o] = a + f32(w5 * inp[r1 + o + 1]!);
          }
        } else {
          const w0 = weight[wb + 3]!, w1 = weight[wb + 4]!, w2 = weight[wb + 5]!;
          const r1 = rr + W;
          for (let o = ob + 1; o < last; o++) {
            let a = out[o]!;
            a = f32(a + f32(w0 * inp[r1 + o - 1]!));
            a = f32(a + f32(w1 * inp[r1 + o]!));
            out[o] = a + f32(w2 * inp[r1 + o + 1]!);
          }
        }
        // border columns: kx = 0 skipped at x = 0, kx = 2 at x = W - 1
        let a = out[ob]!, z = out[last]!;
        for (let ky = ky0; ky <= ky1; ky++) {
          const r = rr + ky * W, wk = wb + 3 * ky;
          a = f32(a + f32(weight[wk + 1]! * inp[r + ob]!));
          a = f32(a + f32(weight[wk + 2]! * inp[r + ob + 1]!));
          z = f32(z + f32(weight[wk]! * inp[r + last - 1]!));
          z = f32(z + f32(weight[wk + 1]! * inp[r + last]!));
        }
        out[ob] = a;
        out[last] = z;
      }
    }
  }
}

/**
 * ConvTranspose2d, kernel 4, stride 2, padding 1 (weights [in, out, 4, 4]): output (2H, 2W). Output point (Y, X)
 * receives input (iy, ix) through kernel tap (Y + 1 - 2 iy, X + 1 - 2 ix); terms are added for ic, ky, kx ascending,
 * one output row at a time. Per row, input channel and output column pair (2m, 2m + 1), the taps come in that order:
 * X = 2m gets kx = 1 (ix = m) then kx = 3 (ix = m - 1), X = 2m + 1 gets kx = 0 (ix = m + 1) then kx = 2 (ix = m), for
 * each valid ky ascending; the first and last columns, where one of them falls outside, point by point.
 */
export function convTranspose2d(x: Tensor, weight: Float32Array, bias: Float32Array, cout: number, fast: NnKernels | null = null): Tensor {
  const { c: cin, h: H, w: W } = x;
  const out = take(cout * 4 * H * W);
  if (!fast?.convTranspose4x4(x.data, cin, H, W, weight, bias, cout, out)) transposed4x4(x.data, cin, H, W, weight, bias, cout, out);
  return { data: out, c: cout, h: 2 * H, w: 2 * W };
}

function transposed4x4(inp: Float32Array, cin: number, H: number, W: number, weight: Float32Array, bias: Float32Array, cout: number, out: Float32Array): void {
  const Ho = 2 * H, Wo = 2 * W;
  const plane = Ho * Wo;
  const iplane = H * W;
  for (let oc = 0; oc < cout; oc++) {
    const b = bias[oc]!;
    for (let Y = 0; Y < Ho; Y++) {
      const ob = oc * plane + Y * Wo;
      out.fill(b, ob, ob + Wo);
      // the two taps of this row's parity: ky with Y + 1 - ky even, iy = (Y + 1 - ky) / 2; kyA < kyB
      const kyA = (Y + 1) & 1, kyB = kyA + 2;
      const iyA = (Y + 1 - kyA) >> 1, iyB = (Y + 1 - kyB) >> 1;
      const okA = iyA < H, okB = iyB >= 0;
      for (let ic = 0; ic < cin; ic++) {
        const wb = (ic * cout + oc) * 16;
        const sA = ic * iplane + iyA * W, sB = ic * iplane + iyB * W;
        const a0 = weight[wb + 4 * kyA]!, a1 = weight[wb + 4 * kyA + 1]!, a2 = weight[wb + 4 * kyA + 2]!, a3 = weight[wb + 4 * kyA + 3]!;
        const b0 = weight[wb + 4 * kyB]!, b1 = weight[wb + 4 * kyB + 1]!, b2 = weight[wb + 4 * kyB + 2]!, b3 = weight[wb + 4 * kyB + 3]!;
        // column 0 (X = 0: kx = 1, ix = 0) and column Wo - 1 (X = 2W - 1: kx = 2, ix = W - 1)
        let c0 = out[ob]!, cl = out[ob + Wo - 1]!;
        if (okA) {
          c0 = f32(c0 + f32(a1 * inp[sA]!));
          cl = f32(cl + f32(a2 * inp[sA + W - 1]!));
        }
        if (okB) {
          c0 = f32(c0 + f32(b1 * inp[sB]!));
          cl = f32(cl + f32(b2 * inp[sB + W - 1]!));
        }
        // X = 2m (m = 1..W-1) and X = 2m - 1 (m = 1..W-1): X = 2m - 1 gets kx = 0 (ix = m) then kx = 2 (ix = m - 1)
        if (okA && okB) {
          for (let m = 1, o = ob + 1; m < W; m++, o += 2) {
            const pA = inp[sA + m - 1]!, qA = inp[sA + m]!, pB = inp[sB + m - 1]!, qB = inp[sB + m]!;
            let u = out[o]!;
            u = f32(u + f32(a0 * qA));
            u = f32(u + f32(a2 * pA));
            u = f32(u + f32(b0 * qB));
            out[o] = u + f32(b2 * pB);
            let v = out[o + 1]!;
            v = f32(v + f32(a1 * qA));
            v = f32(v + f32(a3 * pA));
            v = f32(v + f32(b1 * qB));
            out[o + 1] = v + f32(b3 * pB);
          }
        } else {
          const s = okA ? sA : sB;
          const k0 = okA ? a0 : b0, k1 = okA ? a1 : b1, k2 = okA ? a2 : b2, k3 = okA ? a3 : b3;
          for (let m = 1, o = ob + 1; m < W; m++, o += 2) {
            const p = inp[s + m - 1]!, q = inp[s + m]!;
            out[o] = f32(out[o]! + f32(k0 * q)) + f32(k2 * p);
            out[o + 1] = f32(out[o + 1]! + f32(k1 * q)) + f32(k3 * p);
          }
        }
        out[ob] = c0;
        out[ob + Wo - 1] = cl;
      }
    }
  }
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
