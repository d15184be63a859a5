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

/** Conv2d with a k x k kernel, stride 1, padding (k - 1) / 2 (k odd) or stride 2 with k = 4, padding 1. */
export function conv2d(x: Tensor, weight: Float32Array, bias: Float32Array, cout: number, k: number, stride: 1 | 2): Tensor {
  const { c: cin, h: H, w: W } = x;
  const pad = stride === 1 ? (k - 1) >> 1 : 1;
  const Ho = stride === 1 ? H : (H + 2 * pad - k) / 2 + 1;
  const Wo = stride === 1 ? W : (W + 2 * pad - k) / 2 + 1;
  const plane = Ho * Wo;
  const out = new Float32Array(cout * plane);
  const inp = x.data;
  for (let oc = 0; oc < cout; oc++) {
    const o = out.subarray(oc * plane, (oc + 1) * plane);
    o.fill(bias[oc]!);
    for (let ic = 0; ic < cin; ic++) {
      const ib = ic * H * W;
      const wb = (oc * cin + ic) * k * k;
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const wv = weight[wb + ky * k + kx]!;
          const dy = ky - pad, dx = kx - pad;
          if (stride === 1) {
            const y0 = Math.max(0, -dy), y1 = Math.min(Ho, H - dy);
            const x0 = Math.max(0, -dx), x1 = Math.min(Wo, W - dx);
            for (let y = y0; y < y1; y++) {
              const ob = y * Wo;
              const src = ib + (y + dy) * W + dx;
              for (let xx = x0; xx < x1; xx++) o[ob + xx] = o[ob + xx]! + Math.fround(wv * inp[src + xx]!);
            }
          } else {
            // input row 2y + dy, column 2x + dx
            const y0 = Math.max(0, Math.ceil(-dy / 2)), y1 = Math.min(Ho, Math.floor((H - 1 - dy) / 2) + 1);
            const x0 = Math.max(0, Math.ceil(-dx / 2)), x1 = Math.min(Wo, Math.floor((W - 1 - dx) / 2) + 1);
            for (let y = y0; y < y1; y++) {
              const ob = y * Wo;
              const src = ib + (2 * y + dy) * W + dx;
              for (let xx = x0; xx < x1; xx++) o[ob + xx] = o[ob + xx]! + Math.fround(wv * inp[src + 2 * xx]!);
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
 * receives input (iy, ix) through kernel tap (Y + 1 - 2 iy, X + 1 - 2 ix); terms are added for ic, ky, kx ascending.
 */
export function convTranspose2d(x: Tensor, weight: Float32Array, bias: Float32Array, cout: number): Tensor {
  const { c: cin, h: H, w: W } = x;
  const Ho = 2 * H, Wo = 2 * W;
  const plane = Ho * Wo;
  const out = new Float32Array(cout * plane);
  const inp = x.data;
  for (let oc = 0; oc < cout; oc++) {
    const o = out.subarray(oc * plane, (oc + 1) * plane);
    o.fill(bias[oc]!);
    for (let ic = 0; ic < cin; ic++) {
      const ib = ic * H * W;
      const wb = (ic * cout + oc) * 16;
      for (let ky = 0; ky < 4; ky++) {
        // Y = 2 iy - 1 + ky
        const iy0 = Math.max(0, Math.ceil((1 - ky) / 2)), iy1 = Math.min(H, Math.floor((Ho + 1 - ky - 1) / 2) + 1);
        for (let kx = 0; kx < 4; kx++) {
          const wv = weight[wb + ky * 4 + kx]!;
          const ix0 = Math.max(0, Math.ceil((1 - kx) / 2)), ix1 = Math.min(W, Math.floor((Wo + 1 - kx - 1) / 2) + 1);
          for (let iy = iy0; iy < iy1; iy++) {
            const ob = (2 * iy - 1 + ky) * Wo - 1 + kx;
            const src = ib + iy * W;
            for (let ix = ix0; ix < ix1; ix++) o[ob + 2 * ix] = o[ob + 2 * ix]! + Math.fround(wv * inp[src + ix]!);
          }
        }
      }
    }
  }
  return { data: out, c: cout, h: Ho, w: Wo };
}

/** Leaky ReLU into a new tensor: x >= 0 ? x : f32(x * slope). */
export function leaky(x: Tensor, slope: number): Tensor {
  const d = x.data;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    out[i] = v >= 0 ? v : v * slope;
  }
  return { ...x, data: out };
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
  const out = new Float32Array(D * plane);
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
