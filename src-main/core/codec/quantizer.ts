/**
 * Linear quantizer with escapes (SZ3's LinearQuantizer): code = round((x - pred) / 2e) + radius when the
 * reconstruction, rounded to the field's dtype exactly as decompression will compute it, is within e of x;
 * otherwise code 0 (escape) and x is stored exactly. Reconstruction is `pred + (code - radius) * 2e`, then
 * Math.fround for float32 — the same double arithmetic on both sides, so the check is the guarantee.
 */
import type { Values } from './predictors/types.ts';
import type { KernelQuantizer } from './wasm-kernels.ts';

export const DEFAULT_RADIUS = 32768;

/**
 * Math.round(v) for the encoders' codes: V8's Math.round (a round-up, then a correction chosen by comparing the
 * fraction, which varies from point to point) was most of the quantizer's time on real residuals. floor(v + 0.5) is
 * Math.round except where the addition rounds up across an integer (v just under 0.5, odd v in 2^52..2^53), which
 * the check corrects, and for v in [-0.5, -0], where it gives +0, not -0: a code is q + radius either way, and the
 * sign of a zero the encoder reconstructs from it reaches no later code (nor the stream).
 */
export function roundForCode(v: number): number {
  const r = Math.floor(v + 0.5);
  return r - 0.5 > v ? r - 1 : r;
}

/** Math.round(v) bit for bit (a zero takes v's sign), for decoders, faster for the same reason as roundForCode. */
export function roundExact(v: number): number {
  const r = roundForCode(v);
  return r === 0 ? 0 * v : r;
}

/** Whether the kernels' i32 arithmetic holds this radius (the streams' radii do; a quantizer built by hand may not) */
export function kernelRadius(radius: number): boolean {
  return Number.isInteger(radius) && radius >= 1 && radius < 2 ** 30;
}

export class LinearQuantizer {
  e: number;
  twoE: number;
  inv: number;
  /** the stream's bound: setBound may only tighten it */
  readonly e0: number;
  readonly radius: number;
  readonly f32: boolean;
  codes: Uint32Array;
  nCodes = 0;
  escapes: Float64Array;
  nEscapes = 0;

  constructor(e: number, f32: boolean, capacity: number, radius = DEFAULT_RADIUS) {
    this.e = e;
    this.e0 = e;
    this.twoE = 2 * e;
    this.inv = 1 / (2 * e);
    this.radius = radius;
    this.f32 = f32;
    this.codes = new Uint32Array(Math.max(1, capacity));
    this.escapes = new Float64Array(Math.max(16, capacity >>> 6));
  }

  /** Encoder: quantizes x against pred, returns the reconstructed value. */
  quantize(x: number, pred: number): number {
    return this.quantizeAt(x, pred, this.nCodes++);
  }

  /** quantize, with the code written at codes[pos] (nCodes is the caller's to set). */
  quantizeAt(x: number, pred: number, pos: number): number {
    const q = roundForCode((x - pred) * this.inv);
    if (q > -this.radius && q < this.radius) {
      let r = pred + q * this.twoE;
      if (this.f32) r = Math.fround(r);
      if (Math.abs(r - x) <= this.e) {
        this.codes[pos] = q + this.radius;
        return r;
      }
    }
    this.codes[pos] = 0;
    this.escape(x);
    return x;
  }

  /**
   * Encoder, a run of m points: x[idx + i * step] against pred[i], the code at codes[pos + i * posStride], the
   * reconstruction into R at the point's index. Escapes are appended in run order (the value stored is always
   * the point's x). One call per run keeps the per-point call monomorphic (each quantizer class has its own run).
   */
  quantizeRun(x: Values, R: Values, idx: number, step: number, m: number, pred: Float64Array, pos: number, posStride: number): void {
    for (let i = 0; i < m; i++, idx += step, pos += posStride) R[idx] = this.quantizeAt(x[idx]!, pred[i]!, pos);
  }

  /**
   * Encoder, a run of m points of a line with skipped points (a mask, non-finite values, points off a grid): as
   * quantizeRun, but a skipped point takes its (finite) prediction as its reconstruction and no code; the others
   * take the next codes in turn.
   */
  quantizeRunSkip(x: Values, R: Values, idx: number, step: number, m: number, pred: Float64Array, skip: Uint8Array): void {
    for (let i = 0; i < m; i++, idx += step) {
      const p = pred[i]!;
      R[idx] = skip[idx] === 1 ? (p - p === 0 ? p : 0) : this.quantizeAt(x[idx]!, p, this.nCodes++);
    }
  }

  /** Decoder of quantizeRunSkip's run: reconstructions into R and into the output x at the points not skipped. */
  recoverRunSkip(x: Values, R: Values, idx: number, step: number, m: number, pred: Float64Array, skip: Uint8Array): void {
    for (let i = 0; i < m; i++, idx += step) {
      const p = pred[i]!;
      if (skip[idx] === 1) R[idx] = p - p === 0 ? p : 0;
      else R[idx] = x[idx] = this.recoverAt(p, this.pos++);
    }
  }

  /** Sets the working bound to e0 / factor (factor >= 1; level-dependent bounds of the interpolation predictor). */
  setFactor(factor: number): void {
    const e = factor > 1 ? this.e0 / factor : this.e0;
    this.e = e;
    this.twoE = 2 * e;
    this.inv = 1 / (2 * e);
  }

  escape(x: number): void {
    if (this.nEscapes === this.escapes.length) {
      const nb = new Float64Array(this.escapes.length * 2);
      nb.set(this.escapes);
      this.escapes = nb;
    }
    this.escapes[this.nEscapes++] = x;
  }

  /**
   * The quantizer a predictor's encoder kernel (wasm/codec-kernels.ts, the same quantizeAt) runs in this one's place:
   * this class itself (not a subclass) at its stream bound; null where none may.
   */
  kernelQuantizer(): KernelQuantizer | null {
    return this.constructor === LinearQuantizer && this.e === this.e0 && kernelRadius(this.radius) ? { bound: this.e0, gridHalf: -1, radius: this.radius, f32: this.f32 } : null;
  }

  /** A decoder kernel's input: the codes and escapes not read yet. */
  unread(): { codes: Uint32Array; escapes: Float64Array } {
    return { codes: this.codes.subarray(this.pos, this.nCodes), escapes: this.escapes.subarray(this.escPos, this.nEscapes) };
  }

  /** Advances past what a decoder kernel read (as recover() point by point). */
  markRead(read: { codes: number; escapes: number; mapped?: boolean }): void {
    this.pos += read.codes;
    this.escPos += read.escapes;
  }

  /** Appends a kernel's codes and escapes (as quantize() point by point); false where the codes do not fit. */
  appendCodes(r: { codes: Uint32Array; escapes: Float64Array; zeros?: number }): boolean {
    if (this.codes.length < this.nCodes + r.codes.length) return false;
    const first = this.nCodes === 0;
    this.codes.set(r.codes, this.nCodes);
    this.nCodes += r.codes.length;
    this.counted = first && r.zeros !== undefined ? { codes: this.codes, n: this.nCodes, zeros: r.zeros } : null;
    const need = this.nEscapes + r.escapes.length;
    if (need > this.escapes.length) {
      const nb = new Float64Array(Math.max(need, this.escapes.length * 2));
      nb.set(this.escapes.subarray(0, this.nEscapes));
      this.escapes = nb;
    }
    this.escapes.set(r.escapes, this.nEscapes);
    this.nEscapes = need;
    return true;
  }

  /** Decoder state */
  pos = 0;
  escPos = 0;

  /**
   * The zero residuals among codes[0, nCodes) where a kernel counted them (its codes are all there is), else null:
   * the entropy coders' choice reads their share, and counting them in JavaScript took 1/8 of a large chunk's time.
   */
  knownZeros(): number | null {
    const c = this.counted;
    return c !== null && c.codes === this.codes && c.n === this.nCodes ? c.zeros : null;
  }

  private counted: { codes: Uint32Array; n: number; zeros: number } | null = null;

  /** Decoder: sets codes/escapes read from a stream. */
  load(codes: Uint32Array, nCodes: number, escapes: Float64Array, nEscapes: number): void {
    this.counted = null;
    this.codes = codes;
    this.nCodes = nCodes;
    this.escapes = escapes;
    this.nEscapes = nEscapes;
    this.pos = 0;
    this.escPos = 0;
  }

  /** Decoder: next reconstructed value given the prediction. Bounds of codes/escapes are checked by the caller. */
  recover(pred: number): number {
    return this.recoverAt(pred, this.pos++);
  }

  /** recover, from the code at codes[pos] (pos is the caller's to set); an escape takes the next escaped value. */
  recoverAt(pred: number, pos: number): number {
    const c = this.codes[pos]!;
    if (c === 0) return this.escapes[this.escPos++]!;
    const r = pred + (c - this.radius) * this.twoE;
    return this.f32 ? Math.fround(r) : r;
  }

  /** Decoder, a run of m points (as quantizeRun): R[idx + i * step] from pred[i] and the code at codes[pos + i * posStride]. */
  recoverRun(R: Values, idx: number, step: number, m: number, pred: Float64Array, pos: number, posStride: number): void {
    for (let i = 0; i < m; i++, idx += step, pos += posStride) R[idx] = this.recoverAt(pred[i]!, pos);
  }
}
