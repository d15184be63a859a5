/**
 * NGLR's per-chunk linear predictor: least-squares weights of the causal neighbours' differences from the Lorenzo
 * prediction (network.ts linearInputs: Lorenzo's seven, w-2, h-2, t-2, NE, NNE), fitted by the encoder on the chunk's
 * own q (a closed-form training of the predictor per chunk) and stored as float32. On smooth maps it takes 4-15 % off
 * the residual's entropy where Lorenzo's fixed weights are off (the order-0 entropy on the visible fields; NE and NNE
 * carry most of it on Levitus). Pure: no Node.
 */
import { LINEAR_NEIGHBOURS, LINEAR_TERMS, linearInputs, lorenzo3 } from '../../nn/nglr/network.ts';

/** Points the fit reads at most (evenly strided over the chunk). */
const FIT_POINTS = 1 << 18;

/**
 * float32 weights minimising the mean absolute error of P + sum c_k x_k against q over the coded points (the coder's
 * cost grows with log |error|, so a least-squares fit, pulled by a few large errors at coasts and fronts, can code
 * worse than Lorenzo alone): least squares, then iteratively reweighted (weights 1 / max(|error|, 1)). A small ridge
 * keeps the normal equations solvable; null when there is nothing to fit or the solve fails.
 */
export function fitLinearPredictor(q: Float64Array, code: Uint8Array, D: number, H: number, W: number): Float64Array | null {
  const K = LINEAR_TERMS;
  const n = D * H * W;
  let coded = 0;
  for (let i = 0; i < n; i++) coded += code[i]!;
  const stride = Math.max(1, Math.floor(coded / FIT_POINTS));
  const rows = Math.min(coded, Math.ceil(coded / stride));
  const X = new Float64Array(rows * K), y = new Float64Array(rows);
  let seen = 0, m = 0;
  for (let t = 0, i = 0; t < D; t++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++, i++) {
    if (!code[i] || seen++ % stride || m >= rows || !neighboursCoded(code, i, t, h, w, H, W)) continue;
    const P = lorenzo3(q, i, t, h, w, H, W);
    linearInputs(q, code, i, t, h, w, H, W, P, X, m * K);
    y[m++] = q[i]! - P;
  }
  if (m < 4 * K) return null;
  let c: Float64Array | null = null;
  const weight = new Float64Array(m).fill(1);
  for (let round = 0; round < IRLS_ROUNDS; round++) {
    const next = weightedSolve(X, y, weight, m, K);
    if (!next) break;
    c = next;
    for (let r = 0; r < m; r++) {
      let e = y[r]!;
      for (let k = 0; k < K; k++) e -= c[k]! * X[r * K + k]!;
      weight[r] = 1 / Math.max(Math.abs(e), 1);
    }
  }
  if (!c) return null;
  for (let k = 0; k < K; k++) c[k] = Math.fround(c[k]!);
  return c.every(Number.isFinite) ? c : null;
}

/**
 * Whether every linear neighbour inside the volume is coded: a point beside the mask or a stored value sees some
 * inputs as 0, and fitting on those pulls the weights away from what the bulk of the chunk needs (Levitus TEMP at
 * 1e-4: 5.38 bits/value with such points in the fit, 2.77 without, Lorenzo 3.05).
 */
function neighboursCoded(code: Uint8Array, i: number, t: number, h: number, w: number, H: number, W: number): boolean {
  for (const [dt, dh, dw] of LINEAR_NEIGHBOURS) {
    if (t + dt < 0 || h + dh < 0 || w + dw < 0 || w + dw >= W) continue;
    if (!code[i + (dt * H + dh) * W + dw]) return false;
  }
  return true;
}

/** Least-squares rounds of the fit (the first unweighted). */
const IRLS_ROUNDS = 5;

/** argmin_c sum_r weight_r (y_r - X_r c)^2 with a small ridge; null when the normal equations cannot be solved. */
function weightedSolve(X: Float64Array, y: Float64Array, weight: Float64Array, m: number, K: number): Float64Array | null {
  const A = new Float64Array(K * K), b = new Float64Array(K);
  for (let r = 0; r < m; r++) {
    const wr = weight[r]!, o = r * K;
    for (let i = 0; i < K; i++) {
      const xi = X[o + i]! * wr;
      if (xi === 0) continue;
      b[i] += xi * y[r]!;
      for (let j = 0; j <= i; j++) A[i * K + j] += xi * X[o + j]!;
    }
  }
  for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) A[i * K + j] = A[j * K + i]!;
  let trace = 0;
  for (let i = 0; i < K; i++) trace += A[i * K + i]!;
  if (!(trace > 0)) return null;
  for (let i = 0; i < K; i++) A[i * K + i] += 1e-9 * trace + 1e-12;
  return solveSymmetric(A, b, K);
}

/** Solves A c = b (A symmetric positive definite, K x K) by Cholesky; null when A is not positive definite. */
function solveSymmetric(A: Float64Array, b: Float64Array, K: number): Float64Array | null {
  const L = new Float64Array(K * K);
  for (let r = 0; r < K; r++) {
    for (let c = 0; c <= r; c++) {
      let s = A[r * K + c]!;
      for (let k = 0; k < c; k++) s -= L[r * K + k]! * L[c * K + k]!;
      if (r === c) {
        if (!(s > 0)) return null;
        L[r * K + r] = Math.sqrt(s);
      } else L[r * K + c] = s / L[c * K + c]!;
    }
  }
  const y = new Float64Array(K);
  for (let r = 0; r < K; r++) {
    let s = b[r]!;
    for (let k = 0; k < r; k++) s -= L[r * K + k]! * y[k]!;
    y[r] = s / L[r * K + r]!;
  }
  const out = new Float64Array(K);
  for (let r = K - 1; r >= 0; r--) {
    let s = y[r]!;
    for (let k = r + 1; k < K; k++) s -= L[k * K + r]! * out[k]!;
    out[r] = s / L[r * K + r]!;
  }
  return out;
}
