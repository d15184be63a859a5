/**
 * The hybrid predictor of the cross-field codec (after arXiv 2409.18295), on the integer grid of dual quantization.
 *
 * At each point i of a block (a 2D or 3D spatial sample, C order), from target grid indices q already decoded:
 *   L    = Lorenzo prediction (2D: 3 neighbours, 3D: 7), when all its neighbours are valid;
 *   C_k  = q[i - s_k] + dq_k[i]   for each axis k: the decoded neighbour along k plus the network's predicted
 *          backward difference along k (already on the grid: quantizeToGrid of the reference path's output).
 * Fusion modes:
 *   'weighted'  P = wL * L + sum_k wk * C_k, weights fitted by least squares on the encoder side, stored in the stream
 *               (the paper's weighted sum);
 *   'blend'     context-dependent weights: each candidate (L, C_k) weighted by 1 / (1 + e)^2 where e is the sum of its
 *               absolute errors at the causal neighbours (i - s_k for every axis k), normalised; both sides compute the
 *               same errors from decoded values, so nothing is stored;
 *   'lorenzo'   L only (no cross-field information; for comparison).
 * Where some neighbours are missing (edges, masked points): the mean of the available C_k, else the previous valid
 * value in scan order. Every operation is IEEE double arithmetic on integers and stored float32 weights, in a fixed
 * order, so the encoder and the decoder compute the same integer round(P) everywhere.
 */
import { FieldpackError } from '../../errors.ts';
import { roundExact } from '../../codec/quantizer.ts';

export type LorenzoFusionMode = 'weighted' | 'blend' | 'lorenzo';

export interface HybridBlock {
  /** spatial shape, 2 or 3 dims */
  spatial: number[];
  /** 1 where the point is coded (valid and finite) */
  valid: Uint8Array;
  /** predicted grid differences per axis (length = spatial.length, each of block size) */
  dq: Int32Array[];
}

export interface HybridParams {
  mode: LorenzoFusionMode;
  /** [wL, w_0 .. w_{nd-1}] (float32 values), for 'weighted' */
  weights: number[];
}

/**
 * Runs the predictor over a block in scan order. `step(i, pred)` gets the integer prediction for valid point i and
 * returns the true grid index there (encoder: q[i], after coding the residual; decoder: pred + decoded residual).
 * The q array is written with those values (invalid points are never read).
 */
export function runHybrid(block: HybridBlock, params: HybridParams, q: Float64Array, step: (i: number, pred: number) => number): void {
  const sp = block.spatial;
  const nd = sp.length;
  const n = sp.reduce((a, b) => a * b, 1);
  const valid = block.valid;
  const dq = block.dq;
  if (nd !== 2 && nd !== 3) throw new FieldpackError('INVALID_ARGUMENT', `the hybrid predictor runs on 2D or 3D samples, got [${sp.join(', ')}]`);
  if (valid.length !== n || (params.mode !== 'lorenzo' && (dq.length !== nd || dq.some((d) => d.length !== n)))) {
    throw new FieldpackError('INVALID_ARGUMENT', `hybrid block [${sp.join(', ')}]: ${valid.length} validity flags, ${dq.length} difference arrays`);
  }
  if (params.mode === 'weighted' && (params.weights.length !== nd + 1 || !params.weights.every(Number.isFinite))) {
    throw new FieldpackError('INVALID_ARGUMENT', `weighted fusion needs ${nd + 1} finite weights, got [${params.weights.join(', ')}]`);
  }
  if (nd === 2) runHybrid2(block, params, q, step);
  else runHybrid3(block, params, q, step);
}

/*
 * runHybrid written out per dimensionality (the generic loop stepped coordinates and rebuilt the Lorenzo subsets and
 * candidates in arrays per point: 46 ns a point in mode weighted, 78 in blend; these 24 and 48). Per point, in this
 * order: axis k's neighbour counts where it is valid and the point is past the first along k; L (0 + the Lorenzo terms
 * in the order of the axis subsets' bit masks 1, 2, 3, ..: the generic loop's sum, signed zeros included) where every
 * causal neighbour is valid; then
 *   weighted: round(0 + wL L + w_0 C_0 + ..), blend: round(num / den) over the candidates in order, each weighted by
 *   1 / e^2, e = 1 + its errors at the neighbours along axis 0, 1, ..; lorenzo: L;
 *   without L: round of the mean of the available C_k (summed in axis order), in mode lorenzo the neighbour along the
 *   last axis that has one; without any: the previous valid value in scan order.
 * Blend keeps each point's absolute errors of its candidates where L existed (0 elsewhere).
 */
function runHybrid2(block: HybridBlock, params: HybridParams, q: Float64Array, step: (i: number, pred: number) => number): void {
  const [n0, s0] = block.spatial as [number, number];
  const valid = block.valid;
  const [dq0, dq1] = block.dq as [Int32Array, Int32Array];
  const { mode } = params;
  const blend = mode === 'blend';
  const lorenzoOnly = mode === 'lorenzo';
  const [w0, w1, w2] = mode === 'weighted' ? (params.weights as [number, number, number]) : [0, 0, 0];
  const err = blend ? new Float64Array(n0 * s0 * 3) : null;
  let lastQ = 0;
  for (let y = 0; y < n0; y++) {
    for (let x = 0, i = y * s0; x < s0; x++, i++) {
      if (!valid[i]) continue;
      const a0 = y > 0 && valid[i - s0] !== 0;
      const a1 = x > 0 && valid[i - 1] !== 0;
      const lorOk = a0 && a1 && valid[i - s0 - 1] !== 0;
      const L = lorOk ? 0 + q[i - s0]! + q[i - 1]! - q[i - s0 - 1]! : 0;
      let c1 = 0;
      let c2 = 0;
      let pred: number;
      if (lorOk && !lorenzoOnly) {
        c1 = q[i - s0]! + dq0[i]!;
        c2 = q[i - 1]! + dq1[i]!;
        if (!blend) pred = roundExact(0 + w0 * L + w1 * c1 + w2 * c2);
        else {
          const e = err!;
          const b0 = (i - s0) * 3;
          const b1 = (i - 1) * 3;
          let num = 0;
          let den = 0;
          let ec = 1 + e[b0]! + e[b1]!;
          let wt = 1 / (ec * ec);
          num += wt * L;
          den += wt;
          ec = 1 + e[b0 + 1]! + e[b1 + 1]!;
          wt = 1 / (ec * ec);
          num += wt * c1;
          den += wt;
          ec = 1 + e[b0 + 2]! + e[b1 + 2]!;
          wt = 1 / (ec * ec);
          num += wt * c2;
          den += wt;
          pred = roundExact(num / den);
        }
      } else if (lorOk) pred = L;
      else if ((a0 || a1) && !lorenzoOnly) {
        let sum = 0;
        let cnt = 0;
        if (a0) { sum += q[i - s0]! + dq0[i]!; cnt++; }
        if (a1) { sum += q[i - 1]! + dq1[i]!; cnt++; }
        pred = roundExact(sum / cnt);
      } else if (a1) pred = q[i - 1]!;
      else if (a0) pred = q[i - s0]!;
      else pred = lastQ;
      const v = step(i, pred);
      q[i] = v;
      lastQ = v;
      if (err && lorOk) {
        const b = i * 3;
        err[b] = Math.abs(v - L);
        err[b + 1] = Math.abs(v - c1);
        err[b + 2] = Math.abs(v - c2);
      }
    }
  }
}

function runHybrid3(block: HybridBlock, params: HybridParams, q: Float64Array, step: (i: number, pred: number) => number): void {
  const [n0, n1, s1] = block.spatial as [number, number, number];
  const s0 = n1 * s1;
  const valid = block.valid;
  const [dq0, dq1, dq2] = block.dq as [Int32Array, Int32Array, Int32Array];
  const { mode } = params;
  const blend = mode === 'blend';
  const lorenzoOnly = mode === 'lorenzo';
  const [w0, w1, w2, w3] = mode === 'weighted' ? (params.weights as [number, number, number, number]) : [0, 0, 0, 0];
  const err = blend ? new Float64Array(n0 * s0 * 4) : null;
  let lastQ = 0;
  for (let z = 0; z < n0; z++) {
    for (let y = 0; y < n1; y++) {
      for (let x = 0, i = z * s0 + y * s1; x < s1; x++, i++) {
        if (!valid[i]) continue;
        const a0 = z > 0 && valid[i - s0] !== 0;
        const a1 = y > 0 && valid[i - s1] !== 0;
        const a2 = x > 0 && valid[i - 1] !== 0;
        const lorOk = a0 && a1 && a2 && valid[i - s0 - s1] !== 0 && valid[i - s0 - 1] !== 0 && valid[i - s1 - 1] !== 0 && valid[i - s0 - s1 - 1] !== 0;
        // the axis subsets in order: {0}, {1}, {0,1}, {2}, {0,2}, {1,2}, {0,1,2}
        const L = lorOk ? 0 + q[i - s0]! + q[i - s1]! - q[i - s0 - s1]! + q[i - 1]! - q[i - s0 - 1]! - q[i - s1 - 1]! + q[i - s0 - s1 - 1]! : 0;
        let c1 = 0;
        let c2 = 0;
        let c3 = 0;
        let pred: number;
        if (lorOk && !lorenzoOnly) {
          c1 = q[i - s0]! + dq0[i]!;
          c2 = q[i - s1]! + dq1[i]!;
          c3 = q[i - 1]! + dq2[i]!;
          if (!blend) pred = roundExact(0 + w0 * L + w1 * c1 + w2 * c2 + w3 * c3);
          else {
            const e = err!;
            const b0 = (i - s0) * 4;
            const b1 = (i - s1) * 4;
            const b2 = (i - 1) * 4;
            let num = 0;
            let den = 0;
            let ec = 1 + e[b0]! + e[b1]! + e[b2]!;
            let wt = 1 / (ec * ec);
            num += wt * L;
            den += wt;
            ec = 1 + e[b0 + 1]! + e[b1 + 1]! + e[b2 + 1]!;
            wt = 1 / (ec * ec);
            num += wt * c1;
            den += wt;
            ec = 1 + e[b0 + 2]! + e[b1 + 2]! + e[b2 + 2]!;
            wt = 1 / (ec * ec);
            num += wt * c2;
            den += wt;
            ec = 1 + e[b0 + 3]! + e[b1 + 3]! + e[b2 + 3]!;
            wt = 1 / (ec * ec);
            num += wt * c3;
            den += wt;
            pred = roundExact(num / den);
          }
        } else if (lorOk) pred = L;
        else if ((a0 || a1 || a2) && !lorenzoOnly) {
          let sum = 0;
          let cnt = 0;
          if (a0) { sum += q[i - s0]! + dq0[i]!; cnt++; }
          if (a1) { sum += q[i - s1]! + dq1[i]!; cnt++; }
          if (a2) { sum += q[i - 1]! + dq2[i]!; cnt++; }
          pred = roundExact(sum / cnt);
        } else if (a2) pred = q[i - 1]!;
        else if (a1) pred = q[i - s1]!;
        else if (a0) pred = q[i - s0]!;
        else pred = lastQ;
        const v = step(i, pred);
        q[i] = v;
        lastQ = v;
        if (err && lorOk) {
          const b = i * 4;
          err[b] = Math.abs(v - L);
          err[b + 1] = Math.abs(v - c1);
          err[b + 2] = Math.abs(v - c2);
          err[b + 3] = Math.abs(v - c3);
        }
      }
    }
  }
}

/**
 * Least-squares weights [wL, w_0..] over the points where every candidate exists, from the true grid indices q.
 * Rounded to float32 (what the stream stores). Falls back to Lorenzo only when the system is singular.
 */
export function fitWeights(blocks: { block: HybridBlock; q: Float64Array }[]): number[] {
  const { ata, aty } = hybridNormalEquations(blocks);
  const sol = solve(ata, aty, aty.length);
  if (!sol) return [1, ...new Array<number>(aty.length - 1).fill(0)];
  return sol.map((x) => Math.fround(x));
}

/** fitWeights' least-squares system over the blocks: A^T A (nc x nc, row major) and A^T y, nc = dims + 1 candidates. */
export function hybridNormalEquations(blocks: { block: HybridBlock; q: Float64Array }[]): { ata: Float64Array; aty: Float64Array } {
  const nd = blocks[0]!.block.spatial.length;
  if (nd !== 2 && nd !== 3) throw new FieldpackError('INVALID_ARGUMENT', `the hybrid predictor runs on 2D or 3D samples, got [${blocks[0]!.block.spatial.join(', ')}]`);
  const nc = nd + 1;
  const ata = new Float64Array(nc * nc);
  const aty = new Float64Array(nc);
  for (const { block, q } of blocks) {
    if (nd === 2) normalEquations2(block, q, ata, aty);
    else normalEquations3(block, q, ata, aty);
  }
  return { ata, aty };
}

/*
 * hybridNormalEquations' sums over a block, added into ata (nc x nc) and aty: at each point past the first along
 * every axis, valid with its Lorenzo neighbours, the candidates [L, C_0, ..] and the target q[i]. Points in scan
 * order, L as runHybrid computes it, each sum its own float64 accumulator: the same operations in the same order as a
 * loop over every point (ata's two halves are equal sums of equal products, so one is mirrored). Written out per
 * dimensionality: the generic loop (coordinates stepped per point, the Lorenzo subsets rebuilt per point) was 60 of
 * 800 ms of a noisy navy field's compression.
 */
function normalEquations2({ spatial, valid, dq }: HybridBlock, q: Float64Array, ata: Float64Array, aty: Float64Array): void {
  const [n0, s0] = [spatial[0]!, spatial[1]!];
  const [dq0, dq1] = [dq[0]!, dq[1]!];
  let a00 = ata[0]!, a01 = ata[1]!, a02 = ata[2]!, a11 = ata[4]!, a12 = ata[5]!, a22 = ata[8]!;
  let b0 = aty[0]!, b1 = aty[1]!, b2 = aty[2]!;
  for (let y = 1; y < n0; y++) {
    for (let i = y * s0 + 1, end = (y + 1) * s0; i < end; i++) {
      if (!valid[i] || !valid[i - s0] || !valid[i - 1] || !valid[i - s0 - 1]) continue;
      const L = 0 + q[i - s0]! + q[i - 1]! - q[i - s0 - 1]!;
      const c1 = q[i - s0]! + dq0[i]!;
      const c2 = q[i - 1]! + dq1[i]!;
      const t = q[i]!;
      b0 += L * t; b1 += c1 * t; b2 += c2 * t;
      a00 += L * L; a01 += L * c1; a02 += L * c2;
      a11 += c1 * c1; a12 += c1 * c2; a22 += c2 * c2;
    }
  }
  ata.set([a00, a01, a02, a01, a11, a12, a02, a12, a22]);
  aty.set([b0, b1, b2]);
}

function normalEquations3({ spatial, valid, dq }: HybridBlock, q: Float64Array, ata: Float64Array, aty: Float64Array): void {
  const [n0, n1, n2] = [spatial[0]!, spatial[1]!, spatial[2]!];
  const s1 = n2;
  const s0 = n1 * n2;
  const [dq0, dq1, dq2] = [dq[0]!, dq[1]!, dq[2]!];
  let a00 = ata[0]!, a01 = ata[1]!, a02 = ata[2]!, a03 = ata[3]!, a11 = ata[5]!, a12 = ata[6]!, a13 = ata[7]!, a22 = ata[10]!, a23 = ata[11]!, a33 = ata[15]!;
  let b0 = aty[0]!, b1 = aty[1]!, b2 = aty[2]!, b3 = aty[3]!;
  for (let z = 1; z < n0; z++) {
    for (let y = 1; y < n1; y++) {
      for (let i = z * s0 + y * s1 + 1, end = z * s0 + (y + 1) * s1; i < end; i++) {
        if (!valid[i] || !valid[i - s0] || !valid[i - s1] || !valid[i - s0 - s1] || !valid[i - 1] || !valid[i - s0 - 1] || !valid[i - s1 - 1] || !valid[i - s0 - s1 - 1]) continue;
        // runHybrid's terms in order: {0}, {1}, {0,1}, {2}, {0,2}, {1,2}, {0,1,2}
        const L = 0 + q[i - s0]! + q[i - s1]! - q[i - s0 - s1]! + q[i - 1]! - q[i - s0 - 1]! - q[i - s1 - 1]! + q[i - s0 - s1 - 1]!;
        const c1 = q[i - s0]! + dq0[i]!;
        const c2 = q[i - s1]! + dq1[i]!;
        const c3 = q[i - 1]! + dq2[i]!;
        const t = q[i]!;
        b0 += L * t; b1 += c1 * t; b2 += c2 * t; b3 += c3 * t;
        a00 += L * L; a01 += L * c1; a02 += L * c2; a03 += L * c3;
        a11 += c1 * c1; a12 += c1 * c2; a13 += c1 * c3;
        a22 += c2 * c2; a23 += c2 * c3; a33 += c3 * c3;
      }
    }
  }
  ata.set([a00, a01, a02, a03, a01, a11, a12, a13, a02, a12, a22, a23, a03, a13, a23, a33]);
  aty.set([b0, b1, b2, b3]);
}

/** Gaussian elimination with partial pivoting and a tiny ridge; null when singular. */
function solve(a0: Float64Array, b0: Float64Array, n: number): number[] | null {
  const a = Float64Array.from(a0);
  const b = Float64Array.from(b0);
  let tr = 0;
  for (let i = 0; i < n; i++) tr += a[i * n + i]!;
  if (!(tr > 0)) return null;
  for (let i = 0; i < n; i++) a[i * n + i] += tr * 1e-12;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    if (Math.abs(a[p * n + c]!) < 1e-300) return null;
    if (p !== c) {
      for (let k = 0; k < n; k++) { const t = a[c * n + k]!; a[c * n + k] = a[p * n + k]!; a[p * n + k] = t; }
      const t = b[c]!; b[c] = b[p]!; b[p] = t;
    }
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / a[c * n + c]!;
      for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k]!;
      b[r] -= f * b[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let k = r + 1; k < n; k++) s -= a[r * n + k]! * x[k]!;
    x[r] = s / a[r * n + r]!;
  }
  return x.every(Number.isFinite) ? x : null;
}
