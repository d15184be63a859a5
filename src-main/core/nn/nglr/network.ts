/**
 * The NGLR causal bias network on the reference path of the decoding contract (docs/decoding-contract.md). It
 * predicts, for each quantized residual q[t, h, w], a correction to the 3D Lorenzo prediction P from values the
 * decoder already has: the causal neighbours of q (relative to P) and their Lorenzo residuals, and, when the model
 * has a reconstruction branch, the base around the point. The coder rounds P + bias x dScale to an integer, so the
 * encoder and every decoder must compute the bias to the same bits: all arithmetic here is + - * on IEEE doubles in
 * a fixed order (bias first, then inputs ascending), leaky ReLU with a constant slope, no exp, erf, sqrt or
 * division inside the network, no fused multiply-add (JavaScript has none). Pure: no Node imports.
 *
 * The trainer (resources/trainer/fieldpack_trainer/nglr.py) computes the same features with numpy to fit the weights.
 */
import { FieldpackError } from '../../errors.ts';
import type { FieldValues } from '../../field.ts';
import { NGLR_CAUSAL_INPUTS, NGLR_RECON_INPUTS, type NglrModel } from './model.ts';

/** Causal features are clipped to this many dScale units (outliers must not drive the network off its range). */
export const FEATURE_CLIP = 64;

const clip = (v: number) => (v > FEATURE_CLIP ? FEATURE_CLIP : v < -FEATURE_CLIP ? -FEATURE_CLIP : v);
const safeClip = (v: number) => (v === v ? clip(v) : 0);

/** Most reconstruction features a chunk may hold (n x recon doubles: 512 MiB). */
export const RECON_FEATURE_LIMIT = 1 << 26;

/**
 * The 13 causal features of point i of a [D, H, W] volume (t, h, w its position), in dScale units: q at the 7
 * Lorenzo neighbours (w-1, h-1, t-1, h-1 w-1, t-1 w-1, t-1 h-1, t-1 h-1 w-1) and at w-2, h-2, t-2, each minus the
 * prediction P, then the Lorenzo residuals e at w-1, h-1, t-1, into f[o..o+13). A neighbour outside the volume gives 0.
 */
export function causalFeatures(q: Float64Array, e: Float64Array, i: number, t: number, h: number, w: number, H: number, W: number, P: number, inv: number, f: Float64Array, o = 0): void {
  const sT = H * W;
  const dw = w > 0, dh = h > 0, dt = t > 0;
  f[o] = dw ? clip((q[i - 1]! - P) * inv) : 0;
  f[o + 1] = dh ? clip((q[i - W]! - P) * inv) : 0;
  f[o + 2] = dt ? clip((q[i - sT]! - P) * inv) : 0;
  f[o + 3] = dh && dw ? clip((q[i - W - 1]! - P) * inv) : 0;
  f[o + 4] = dt && dw ? clip((q[i - sT - 1]! - P) * inv) : 0;
  f[o + 5] = dt && dh ? clip((q[i - sT - W]! - P) * inv) : 0;
  f[o + 6] = dt && dh && dw ? clip((q[i - sT - W - 1]! - P) * inv) : 0;
  f[o + 7] = w > 1 ? clip((q[i - 2]! - P) * inv) : 0;
  f[o + 8] = h > 1 ? clip((q[i - 2 * W]! - P) * inv) : 0;
  f[o + 9] = t > 1 ? clip((q[i - 2 * sT]! - P) * inv) : 0;
  f[o + 10] = dw ? clip(e[i - 1]! * inv) : 0;
  f[o + 11] = dh ? clip(e[i - W]! * inv) : 0;
  f[o + 12] = dt ? clip(e[i - sT]! * inv) : 0;
}

/** 3D Lorenzo prediction of q[i] from its 7 neighbours (outside the volume: 0). Exact in doubles for |q| <= 2^30. */
export function lorenzo3(q: Float64Array, i: number, t: number, h: number, w: number, H: number, W: number): number {
  const sT = H * W;
  const dw = w > 0, dh = h > 0, dt = t > 0;
  const a = dw ? q[i - 1]! : 0, b = dh ? q[i - W]! : 0, c = dt ? q[i - sT]! : 0;
  const ab = dh && dw ? q[i - W - 1]! : 0, ac = dt && dw ? q[i - sT - 1]! : 0, bc = dt && dh ? q[i - sT - W]! : 0;
  const abc = dt && dh && dw ? q[i - sT - W - 1]! : 0;
  return a + b + c - ab - ac - bc + abc;
}

/** Neighbours of the per-chunk linear predictor, (dt, dh, dw): Lorenzo's seven, w-2, h-2, t-2, then NE and NNE. */
export const LINEAR_NEIGHBOURS: readonly (readonly [number, number, number])[] = [
  [0, 0, -1], [0, -1, 0], [-1, 0, 0], [0, -1, -1], [-1, 0, -1], [-1, -1, 0], [-1, -1, -1], [0, 0, -2], [0, -2, 0], [-2, 0, 0], [0, -1, 1], [0, -2, 1],
];
export const LINEAR_TERMS = LINEAR_NEIGHBOURS.length;

/**
 * The linear predictor's inputs for point i: q at each neighbour minus P, 0 outside the volume or where the neighbour
 * is not coded (masked or stored exactly: its q is 0, not a value), into x[o..o+12). Every neighbour precedes the point
 * in raster order and lies on an earlier wavefront 2h + w = s of its plane.
 */
export function linearInputs(q: Float64Array, code: Uint8Array, i: number, t: number, h: number, w: number, H: number, W: number, P: number, x: Float64Array, o = 0): void {
  const sT = H * W;
  const dw = w > 0, dh = h > 0, dt = t > 0, ne = w + 1 < W;
  const at = (ok: boolean, j: number) => (ok && code[j] ? q[j]! - P : 0);
  x[o] = at(dw, i - 1);
  x[o + 1] = at(dh, i - W);
  x[o + 2] = at(dt, i - sT);
  x[o + 3] = at(dh && dw, i - W - 1);
  x[o + 4] = at(dt && dw, i - sT - 1);
  x[o + 5] = at(dt && dh, i - sT - W);
  x[o + 6] = at(dt && dh && dw, i - sT - W - 1);
  x[o + 7] = at(w > 1, i - 2);
  x[o + 8] = at(h > 1, i - 2 * W);
  x[o + 9] = at(t > 1, i - 2 * sT);
  x[o + 10] = at(dh && ne, i - W + 1);
  x[o + 11] = at(h > 1 && ne, i - 2 * W + 1);
}

/**
 * The per-chunk linear correction to P: sum_k c[k] x[k] over linearInputs, k ascending from 0 (IEEE doubles: the
 * same bits in every decoder; the coefficients are float32 values stored in the chunk).
 */
export function linearTerm(q: Float64Array, code: Uint8Array, i: number, t: number, h: number, w: number, H: number, W: number, P: number, c: Float64Array, x: Float64Array): number {
  linearInputs(q, code, i, t, h, w, H, W, P, x);
  let l = 0;
  for (let k = 0; k < LINEAR_TERMS; k++) l += c[k]! * x[k]!;
  return l;
}

/**
 * The reconstruction branch's input channels for a base on a [D, H, W] volume, channel-major [7, n]: the base
 * centred and divided by its range, and its backward differences along t, h, w and their absolute values divided by
 * the mean absolute difference, each clipped to +-64. Non-finite base values count as 0. Sums run in index order
 * (deterministic).
 */
export function reconInputs(base: FieldValues, D: number, H: number, W: number): Float64Array {
  const n = D * H * W;
  const v = new Float64Array(n);
  let lo = Infinity, hi = -Infinity, sum = 0;
  for (let i = 0; i < n; i++) {
    const b = base[i]!;
    const x = Number.isFinite(b) ? b : 0;
    v[i] = x;
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const mean = sum / n;
  const range = hi > lo ? hi - lo : 1;
  let gsum = 0, gcount = 0;
  const sT = H * W;
  for (let t = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const i = (t * H + h) * W + w;
    if (w > 0) { gsum += Math.abs(v[i]! - v[i - 1]!); gcount++; }
    if (h > 0) { gsum += Math.abs(v[i]! - v[i - W]!); gcount++; }
  }
  const g = gcount && gsum > 0 ? gsum / gcount : 1;
  const out = new Float64Array(NGLR_RECON_INPUTS * n);
  for (let t = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    const i = (t * H + h) * W + w;
    const x = v[i]!;
    const dt = t > 0 ? (x - v[i - sT]!) / g : 0;
    const dh = h > 0 ? (x - v[i - W]!) / g : 0;
    const dw = w > 0 ? (x - v[i - 1]!) / g : 0;
    // clipped like the causal features (and 0 where a hostile base overflows): the branch stays finite
    out[i] = safeClip((x - mean) / range);
    out[n + i] = safeClip(dt);
    out[2 * n + i] = safeClip(dh);
    out[3 * n + i] = safeClip(dw);
    out[4 * n + i] = safeClip(Math.abs(dt));
    out[5 * n + i] = safeClip(Math.abs(dh));
    out[6 * n + i] = safeClip(Math.abs(dw));
  }
  return out;
}

/**
 * y[p, c] = leaky(b[c] + sum_j w[c, j] x[p, j]) for m points (x [m, nIn], y rows of `yStride` from 0), each sum bias
 * first, inputs ascending as bias() adds them. Four points share each weight load (the sums stay separate: the same
 * bits).
 */
function denseLeaky(w: Float64Array, b: Float64Array, x: Float64Array, nIn: number, y: Float64Array, nOut: number, m: number, slope: number, yStride = nOut): void {
  let p = 0;
  for (; p + 4 <= m; p += 4) {
    const x0 = p * nIn, x1 = x0 + nIn, x2 = x1 + nIn, x3 = x2 + nIn;
    for (let c = 0; c < nOut; c++) {
      const row = c * nIn;
      let a0 = b[c]!, a1 = a0, a2 = a0, a3 = a0;
      for (let j = 0; j < nIn; j++) {
        const wj = w[row + j]!;
        a0 += wj * x[x0 + j]!;
        a1 += wj * x[x1 + j]!;
        a2 += wj * x[x2 + j]!;
        a3 += wj * x[x3 + j]!;
      }
      const o = p * yStride + c;
      y[o] = a0 >= 0 ? a0 : a0 * slope;
      y[o + yStride] = a1 >= 0 ? a1 : a1 * slope;
      y[o + 2 * yStride] = a2 >= 0 ? a2 : a2 * slope;
      y[o + 3 * yStride] = a3 >= 0 ? a3 : a3 * slope;
    }
  }
  for (; p < m; p++) {
    for (let c = 0; c < nOut; c++) {
      const row = c * nIn;
      let a = b[c]!;
      for (let j = 0; j < nIn; j++) a += w[row + j]! * x[p * nIn + j]!;
      y[p * yStride + c] = a >= 0 ? a : a * slope;
    }
  }
}

/** The network's weights as doubles (the same values as the file's float32), read by bias(). */
export class NglrNetwork {
  readonly causal: number;
  readonly recon: number;
  readonly hidden: number;
  private readonly slope: number;
  private readonly w0: Float64Array; private readonly b0: Float64Array;
  private readonly w1: Float64Array; private readonly b1: Float64Array;
  private readonly wf: Float64Array; private readonly bf: Float64Array;
  private readonly wo: Float64Array; private readonly bo: number;
  private readonly wr: Float64Array | null; private readonly br: Float64Array | null;
  private readonly h1: Float64Array; private readonly h2: Float64Array;

  constructor(model: NglrModel) {
    const { config: c, t } = model;
    this.causal = c.causal;
    this.recon = c.recon;
    this.hidden = c.hidden;
    this.slope = c.negativeSlope;
    const d = (name: string) => Float64Array.from(t[name]!);
    this.w0 = d('causal.0.weight'); this.b0 = d('causal.0.bias');
    this.w1 = d('causal.1.weight'); this.b1 = d('causal.1.bias');
    this.wf = d('fusion.0.weight'); this.bf = d('fusion.0.bias');
    this.wo = d('fusion.1.weight'); this.bo = t['fusion.1.bias']![0]!;
    this.wr = c.recon > 0 ? d('recon.weight') : null;
    this.br = c.recon > 0 ? d('recon.bias') : null;
    this.h1 = new Float64Array(c.causal);
    this.h2 = new Float64Array(c.causal);
  }

  /**
   * The reconstruction branch on a whole volume, point-major [n, recon] after the activation: a 3x3x3 convolution
   * with zero padding over reconInputs (terms added bias first, then input channel, kt, kh, kw ascending). Without a
   * base every input is 0 and each point gets the activated bias. Null when the model has no such branch.
   */
  reconFeatures(base: FieldValues | null, D: number, H: number, W: number): Float64Array | null {
    const R = this.recon;
    if (R === 0) return null;
    const n = D * H * W;
    if (n * R > RECON_FEATURE_LIMIT) throw new FieldpackError('BAD_STREAM', `NGLR: a chunk of ${n} values with a ${R}-channel reconstruction branch needs more memory than this decoder allows (${RECON_FEATURE_LIMIT} features)`);
    const out = new Float64Array(n * R);
    const wr = this.wr!, br = this.br!, s = this.slope;
    if (!base) {
      for (let i = 0; i < n; i++) for (let r = 0; r < R; r++) { const v = br[r]!; out[i * R + r] = v >= 0 ? v : v * s; }
      return out;
    }
    const x = reconInputs(base, D, H, W);
    const acc = new Float64Array(R);
    for (let t = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      for (let r = 0; r < R; r++) acc[r] = br[r]!;
      for (let ic = 0; ic < NGLR_RECON_INPUTS; ic++) {
        const plane = ic * n;
        for (let kt = 0; kt < 3; kt++) {
          const tt = t + kt - 1;
          if (tt < 0 || tt >= D) continue;
          for (let kh = 0; kh < 3; kh++) {
            const hh = h + kh - 1;
            if (hh < 0 || hh >= H) continue;
            for (let kw = 0; kw < 3; kw++) {
              const ww = w + kw - 1;
              if (ww < 0 || ww >= W) continue;
              const xv = x[plane + (tt * H + hh) * W + ww]!;
              const tap = ((ic * 3 + kt) * 3 + kh) * 3 + kw;
              for (let r = 0; r < R; r++) acc[r] += wr[r * NGLR_RECON_INPUTS * 27 + tap]! * xv;
            }
          }
        }
      }
      const o = ((t * H + h) * W + w) * R;
      for (let r = 0; r < R; r++) { const v = acc[r]!; out[o + r] = v >= 0 ? v : v * s; }
    }
    return out;
  }

  private batchH1 = new Float64Array(0);
  private batchH2 = new Float64Array(0);
  private batchH3 = new Float64Array(0);

  /**
   * The biases of m points at once: f their causal features point-major [m, 13], rfAt[k] where point k's
   * reconstruction features start in rf. Layer by layer over the batch (the wavefront path decodes a wavefront's
   * points together; the encoder's teacher-forced pass all of a chunk's), each point's sums in bias()'s order, so
   * out[k] has the bits bias() gives: the two paths are interchangeable.
   */
  biasMany(f: Float64Array, m: number, rf: Float64Array | null, rfAt: Int32Array | null, out: Float64Array): void {
    const C = this.causal, Hd = this.hidden, R = this.recon, F = C + R;
    if (R > 0 && !rf) throw new FieldpackError('INTERNAL', 'NGLR: the reconstruction features were not computed');
    if (this.batchH2.length < m * F || this.batchH3.length < m * Hd) {
      this.batchH1 = new Float64Array(m * C);
      this.batchH2 = new Float64Array(m * F);
      this.batchH3 = new Float64Array(m * Hd);
    }
    const h1 = this.batchH1, h2 = this.batchH2, h3 = this.batchH3;
    denseLeaky(this.w0, this.b0, f, NGLR_CAUSAL_INPUTS, h1, C, m, this.slope);
    // the fusion's input per point: the causal branch's C features, then the reconstruction branch's R (wf's columns)
    denseLeaky(this.w1, this.b1, h1, C, h2, C, m, this.slope, F);
    if (rf) for (let p = 0; p < m; p++) h2.set(rf.subarray(rfAt![p]!, rfAt![p]! + R), p * F + C);
    denseLeaky(this.wf, this.bf, h2, F, h3, Hd, m, this.slope);
    const wo = this.wo;
    for (let p = 0, o = 0; p < m; p++, o += Hd) {
      let a = this.bo;
      for (let k = 0; k < Hd; k++) a += wo[k]! * h3[o + k]!;
      out[p] = a;
    }
  }

  /** The bias (in dScale units) for one point: causal features f (13), reconstruction features rf[ro..ro+recon). */
  bias(f: Float64Array, rf: Float64Array | null, ro: number): number {
    const C = this.causal, Hd = this.hidden, R = this.recon, s = this.slope;
    const { w0, b0, w1, b1, wf, bf, wo, h1, h2 } = this;
    for (let c = 0; c < C; c++) {
      let a = b0[c]!;
      const row = c * NGLR_CAUSAL_INPUTS;
      for (let j = 0; j < NGLR_CAUSAL_INPUTS; j++) a += w0[row + j]! * f[j]!;
      h1[c] = a >= 0 ? a : a * s;
    }
    for (let c = 0; c < C; c++) {
      let a = b1[c]!;
      const row = c * C;
      for (let j = 0; j < C; j++) a += w1[row + j]! * h1[j]!;
      h2[c] = a >= 0 ? a : a * s;
    }
    let out = this.bo;
    const F = C + R;
    for (let k = 0; k < Hd; k++) {
      let a = bf[k]!;
      const row = k * F;
      for (let j = 0; j < C; j++) a += wf[row + j]! * h2[j]!;
      if (rf) for (let r = 0; r < R; r++) a += wf[row + C + r]! * rf[ro + r]!;
      out += wo[k]! * (a >= 0 ? a : a * s);
    }
    return out;
  }
}
