/**
 * Multilevel interpolation predictor (SZ3's default InterpolationDecomposition), linear or cubic, 1D-4D.
 * Level by level from the coarsest stride, dimension by dimension: points at odd multiples of the stride
 * along dimension d are predicted from their neighbours along d on the already-coded grid.
 */
import type { LinearQuantizer } from '../quantizer.ts';
import { type Predictor, type Values } from './types.ts';
import type { CodeLines } from '../mscoder.ts';
import { scratchArray } from '../scratch.ts';
import { interpQuantizeKernel, interpRecoverKernel } from '../wasm-kernels.ts';

/**
 * Level-dependent bounds (SZ3's alpha/beta): level lv (1 = finest) is quantized with bound e / min(alpha^(lv-1), beta),
 * so the few coarse points are more exact and predict the many fine ones better. Index 0 = one bound everywhere.
 * Part of the format (v2 chunk byte): append only.
 */
export const INTERP_TUNINGS: readonly (readonly [number, number])[] = [
  [1, 1], [1.25, 2], [1.5, 2], [1.5, 3], [1.75, 3], [1.75, 4], [2, 4], [1.25, 1.5], [2, 8],
  [1.1, 1.5], [1.2, 1.75], [1.35, 2], [1.25, 2.5], [1.15, 2], [1.4, 2.5],
  [1.05, 1.5], [1.1, 1.3],
];

/** How a point is predicted from its neighbours along the pass's dimension (which of t -+ s, t -+ 3s exist). */
const enum Stencil { Mid, Cubic, CubicNoLeft, CubicNoRight, Extrapolate, Copy }

/** The stencil at t of a line of length L (the same choice, and so the same arithmetic, as `line`). */
function stencilAt(cubic: boolean, t: number, s: number, L: number): Stencil {
  if (t + s >= L) return t >= 3 * s ? Stencil.Extrapolate : Stencil.Copy;
  if (!cubic) return Stencil.Mid;
  const l3 = t >= 3 * s;
  const r3 = t + 3 * s < L;
  return l3 && r3 ? Stencil.Cubic : r3 ? Stencil.CubicNoLeft : l3 ? Stencil.CubicNoRight : Stencil.Mid;
}

/** The P points of a line (t = s + 2s ti) as runs [first ti, length, stencil] of one stencil: a few at the ends, one long one between. */
function stencilRuns(cubic: boolean, s: number, L: number, P: number): [number, number, Stencil][] {
  const runs: [number, number, Stencil][] = [];
  for (let ti = 0; ti < P; ti++) {
    const stencil = stencilAt(cubic, s + 2 * s * ti, s, L);
    if (runs.length && runs[runs.length - 1]![2] === stencil) runs[runs.length - 1]![1]++;
    else runs.push([ti, 1, stencil]);
  }
  return runs;
}

/** pred[i] for the m points idx + i * step, one stencil for all (neighbours ss apart), without a branch per point. */
function predictRun(stencil: Stencil, R: Values, idx: number, step: number, m: number, ss: number, pred: Float64Array): void {
  const s3 = 3 * ss;
  switch (stencil) {
    case Stencil.Mid:
      for (let i = 0; i < m; i++, idx += step) pred[i] = (R[idx - ss]! + R[idx + ss]!) * 0.5;
      break;
    case Stencil.Cubic:
      for (let i = 0; i < m; i++, idx += step) pred[i] = (-R[idx - s3]! + 9 * R[idx - ss]! + 9 * R[idx + ss]! - R[idx + s3]!) * 0.0625;
      break;
    case Stencil.CubicNoLeft:
      for (let i = 0; i < m; i++, idx += step) pred[i] = (3 * R[idx - ss]! + 6 * R[idx + ss]! - R[idx + s3]!) * 0.125;
      break;
    case Stencil.CubicNoRight:
      for (let i = 0; i < m; i++, idx += step) pred[i] = (-R[idx - s3]! + 6 * R[idx - ss]! + 3 * R[idx + ss]!) * 0.125;
      break;
    case Stencil.Extrapolate:
      for (let i = 0; i < m; i++, idx += step) pred[i] = 1.5 * R[idx - ss]! - 0.5 * R[idx - s3]!;
      break;
    case Stencil.Copy:
      for (let i = 0; i < m; i++, idx += step) pred[i] = R[idx - ss]!;
      break;
  }
}

/**
 * One (level, dimension) pass with nothing skipped, in memory order rather than line by line: every point depends
 * only on earlier passes, so only where its code goes is fixed. Codes are numbered line by line (lines ordered by
 * their coordinates in the other dims, points along the line), so a point's code is at pos0 + line * P + ti; a run
 * along the last dim crosses lines (code stride P), a run along a line of the last dim is consecutive codes. Two or
 * more escapes in a pass are then put back in code order (the stored list, or the values taken from it).
 */
function rowMajorPass(
  enc: boolean, cubic: boolean, x: Values, R: Values, q: LinearQuantizer, sh: number[], str: number[], d: number, s: number, pred: Float64Array,
): void {
  const L = sh[d]!;
  const ss = s * str[d]!;
  const P = Math.floor((L - s - 1) / (2 * s)) + 1;
  // per dim: coordinate step and count of the pass's points (the other dims: s before d, 2s after)
  const stepOf = (e: number) => (e === d ? 2 * s : e < d ? s : 2 * s);
  const count = [0, 1, 2, 3].map((e) => (e === d ? P : Math.ceil(sh[e]! / stepOf(e))));
  const others = [0, 1, 2, 3].filter((e) => e !== d);
  let lines = 1;
  for (const e of others) lines *= count[e]!;
  const pos0 = enc ? q.nCodes : q.pos;
  const esc0 = enc ? q.nEscapes : q.escPos;
  const start = (e: number) => (e === d ? s : 0);
  const [c0, c1, c2] = [count[0]!, count[1]!, count[2]!];
  const [k0, k1, k2] = [stepOf(0) * str[0]!, stepOf(1) * str[1]!, stepOf(2) * str[2]!];
  const [o0, o1, o2] = [start(0) * str[0]!, start(1) * str[1]!, start(2) * str[2]!];
  if (d === 3) {
    // lines along the last dim, in code order: runs of one stencil
    const runs = stencilRuns(cubic, s, L, P);
    let pos = pos0;
    for (let i0 = 0; i0 < c0; i0++) {
      for (let i1 = 0; i1 < c1; i1++) {
        for (let i2 = 0; i2 < c2; i2++, pos += P) {
          const base = i0 * k0 + i1 * k1 + i2 * k2 + s;
          for (const [ti, m, stencil] of runs) {
            const idx = base + 2 * s * ti;
            predictRun(stencil, R, idx, 2 * s, m, ss, pred);
            if (enc) q.quantizeRun(x, R, idx, 2 * s, m, pred, pos + ti, 1);
            else q.recoverRun(R, idx, 2 * s, m, pred, pos + ti, 1);
          }
        }
      }
    }
  } else {
    // runs along the last dim at one t: one stencil each; consecutive points are consecutive lines
    const m = count[3]!;
    // code position of the first line of (i0, i1, i2), with d's coordinate counted as ti
    const lineStride = others.map((e, j) => others.slice(j + 1).reduce((a, f) => a * count[f]!, 1));
    const lineOf = (e: number) => (e === d ? 0 : lineStride[others.indexOf(e)]!);
    const [l0, l1, l2] = [lineOf(0), lineOf(1), lineOf(2)];
    const tOf = (e: number) => (e === d ? 1 : 0);
    const [t0, t1, t2] = [tOf(0), tOf(1), tOf(2)];
    for (let i0 = 0; i0 < c0; i0++) {
      for (let i1 = 0; i1 < c1; i1++) {
        for (let i2 = 0; i2 < c2; i2++) {
          const ti = i0 * t0 + i1 * t1 + i2 * t2;
          const idx = o0 + o1 + o2 + i0 * k0 + i1 * k1 + i2 * k2;
          const pos = pos0 + (i0 * l0 + i1 * l1 + i2 * l2) * P + ti;
          predictRun(stencilAt(cubic, s + 2 * s * ti, s, L), R, idx, 2 * s, m, ss, pred);
          if (enc) q.quantizeRun(x, R, idx, 2 * s, m, pred, pos, P);
          else q.recoverRun(R, idx, 2 * s, m, pred, pos, P);
        }
      }
    }
    const escapes = (enc ? q.nEscapes : q.escPos) - esc0;
    if (escapes >= 2) {
      // the k-th zero code of the pass is its k-th escape; the pass's own points read no other of its points
      let k = esc0;
      for (let p = pos0; k < esc0 + escapes; p++) {
        if (q.codes[p] !== 0) continue;
        let line = Math.floor((p - pos0) / P);
        const ti = p - pos0 - line * P;
        let idx = (s + 2 * s * ti) * str[d]!;
        for (let j = 2; j >= 0; j--) {
          const e = others[j]!;
          const c = line % count[e]!;
          line = (line - c) / count[e]!;
          idx += c * stepOf(e) * str[e]!;
        }
        if (enc) q.escapes[k++] = x[idx]!;
        else R[idx] = q.escapes[k++]!;
      }
    }
  }
  if (enc) q.nCodes = pos0 + lines * P;
  else q.pos = pos0 + lines * P;
}

/** The number of levels of a 4D shape: the coarsest stride is 2^(levels - 1). */
function levelCount(sh: number[]): number {
  let maxDim = 1;
  for (const v of sh) maxDim = Math.max(maxDim, v);
  let levels = 0;
  while (1 << levels < maxDim) levels++;
  return levels;
}

/** A tuning's quantizer factor per level lv (index lv), and the first point's (index 0). */
function levelFactors(sh: number[], tune: number): Float64Array {
  const [alpha, beta] = INTERP_TUNINGS[tune] ?? [1, 1];
  const factorOf = (lv: number) => Math.min(Math.pow(alpha, lv - 1), beta);
  const levels = levelCount(sh);
  const factors = new Float64Array(levels + 1);
  factors[0] = factorOf(Math.max(1, Math.ceil(Math.log2(Math.max(2, ...sh)))));
  for (let lv = 1; lv <= levels; lv++) factors[lv] = factorOf(lv);
  return factors;
}

let kernel: ReturnType<typeof interpQuantizeKernel> | undefined;

/**
 * The encoder in WebAssembly (wasm/codec-kernels.ts's interpQuantize, 2-4 times faster): the same codes and escapes
 * into q. False where it cannot run (no WebAssembly, another quantizer, memory or escape room short); the caller then
 * runs the reference.
 */
function encodeInKernel(cubic: boolean, x: Values, skip: Uint8Array | null, sh: number[], q: LinearQuantizer, factors: Float64Array | null): boolean {
  const quantizer = q.kernelQuantizer();
  if (!quantizer) return false;
  kernel ??= interpQuantizeKernel();
  const r = kernel?.({ x, skip, shape4: sh, cubic, factors, quantizer });
  return r ? q.appendCodes(r) : false;
}

let recoverKernel: ReturnType<typeof interpRecoverKernel> | undefined;

/** The decoder in WebAssembly (interpRecover): the same reconstructions into x from q's codes; false as encodeInKernel. */
function decodeInKernel(cubic: boolean, x: Values, skip: Uint8Array | null, sh: number[], q: LinearQuantizer, factors: Float64Array | null): boolean {
  const quantizer = q.kernelQuantizer();
  if (!quantizer) return false;
  recoverKernel ??= interpRecoverKernel();
  const read = recoverKernel?.({ out: x, skip, shape4: sh, cubic, factors, quantizer, ...q.unread() });
  if (!read) return false;
  q.markRead(read);
  return true;
}

function run(enc: boolean, cubic: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune = 0, kernels = true): void {
  // pad to 4D with leading size-1 dims
  const sh = [1, 1, 1, 1];
  for (let d = 0; d < shape.length; d++) sh[4 - shape.length + d] = shape[d]!;
  const factors = tune ? levelFactors(sh, tune) : null;
  if (kernels && (enc ? encodeInKernel(cubic, x, skip, sh, q, factors) : decodeInKernel(cubic, x, skip, sh, q, factors))) return;
  const str = [sh[1]! * sh[2]! * sh[3]!, sh[2]! * sh[3]!, sh[3]!, 1];
  const n = x.length;
  // Reconstructions. Skipped points get their prediction, a double; without them every reconstruction is a value of
  // the output's type (float32 ones when the quantizer rounds to float32), so the decoder's output can hold them and
  // the encoder's can be float32 (large fresh arrays cost more than the arithmetic).
  // (Every point is written before it is read, so scratch memory needs no clearing.)
  const f32 = q.f32 && x instanceof Float32Array;
  const Rskip = skip !== null ? scratchArray(n, false) : null;
  const R = Rskip ?? (!enc && (f32 || x instanceof Float64Array) ? x : scratchArray(n, f32));
  if (factors) q.setFactor(factors[0]!);
  // the first point, predicted as 0
  if (skip !== null && skip[0] === 1) R[0] = 0;
  else if (enc) R[0] = q.quantize(x[0]!, 0);
  else R[0] = x[0] = q.recover(0);
  const levels = levelCount(sh);
  const pred = new Float64Array(1 << levels);
  for (let lv = levels; lv >= 1; lv--) {
    if (factors) q.setFactor(factors[lv]!);
    const s = 1 << (lv - 1);
    for (let d = 0; d < 4; d++) {
      if (sh[d]! <= s) continue;
      if (skip === null) {
        rowMajorPass(enc, cubic, x, R, q, sh, str, d, s, pred);
        continue;
      }
      // dims before d step by s, after d by 2s
      const o = [0, 1, 2, 3].filter((e) => e !== d);
      const stepOf = (e: number) => (e < d ? s : 2 * s);
      const [a, b, c] = o as [number, number, number];
      const sa = stepOf(a), sb = stepOf(b), sc = stepOf(c);
      const na = sh[a]!, nb = sh[b]!, nc = sh[c]!;
      const ta = str[a]!, tb = str[b]!, tc = str[c]!;
      const L = sh[d]!;
      const st = str[d]!;
      // line by line (the codes' order), each line's points as runs of one stencil: predicted, then coded in turn
      const runs = stencilRuns(cubic, s, L, Math.floor((L - s - 1) / (2 * s)) + 1);
      const ss = s * st;
      for (let ia = 0; ia < na; ia += sa) {
        for (let ib = 0; ib < nb; ib += sb) {
          for (let ic = 0; ic < nc; ic += sc) {
            const base = ia * ta + ib * tb + ic * tc;
            for (const [ti, m, stencil] of runs) {
              const idx = base + (s + 2 * s * ti) * st;
              predictRun(stencil, Rskip!, idx, 2 * ss, m, ss, pred);
              if (enc) q.quantizeRunSkip(x, Rskip!, idx, 2 * ss, m, pred, skip);
              else q.recoverRunSkip(x, Rskip!, idx, 2 * ss, m, pred, skip);
            }
          }
        }
      }
    }
  }
  if (!enc && skip === null && R !== x) x.set(R);
  if (factors) q.setFactor(1);
}

/**
 * The interpolation predictors' code layout (run's order with nothing skipped): the first point, then per level
 * (coarsest first) and dim a pass of `lines` lines of P points each, line by line.
 */
function interpCodeLines(shape: number[]): CodeLines {
  const sh = [1, 1, 1, 1];
  for (let d = 0; d < shape.length; d++) sh[4 - shape.length + d] = shape[d]!;
  const levels = levelCount(sh);
  const starts = [0];
  const lines = [1];
  let pos = 1;
  for (let lv = levels; lv >= 1; lv--) {
    const s = 1 << (lv - 1);
    for (let d = 0; d < 4; d++) {
      if (sh[d]! <= s) continue;
      const P = Math.floor((sh[d]! - s - 1) / (2 * s)) + 1;
      let count = 1;
      for (let e = 0; e < 4; e++) if (e !== d) count *= Math.ceil(sh[e]! / (e < d ? s : 2 * s));
      starts.push(pos);
      lines.push(P);
      pos += count * P;
    }
  }
  return { starts: Int32Array.from(starts), lines: Int32Array.from(lines) };
}

/** The encoder's reference loops alone (`kernels` false), for the kernels' tests. */
export function encodeInterp(cubic: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune: number, kernels: boolean): void {
  run(true, cubic, x, skip, shape, q, tune, kernels);
}

/** The decoder's reference loops alone (`kernels` false), for the kernels' tests. */
export function decodeInterp(cubic: boolean, out: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, tune: number, kernels: boolean): void {
  run(false, cubic, out, skip, shape, q, tune, kernels);
}

export const interpLinear: Predictor = {
  id: 2,
  name: 'interp-linear',
  encode: (x, skip, shape, q, tune) => run(true, false, x, skip, shape, q, tune),
  decode: (out, skip, shape, q, tune) => run(false, false, out, skip, shape, q, tune),
  codeLines: interpCodeLines,
};

export const interpCubic: Predictor = {
  id: 3,
  name: 'interp-cubic',
  encode: (x, skip, shape, q, tune) => run(true, true, x, skip, shape, q, tune),
  decode: (out, skip, shape, q, tune) => run(false, true, out, skip, shape, q, tune),
  codeLines: interpCodeLines,
};
