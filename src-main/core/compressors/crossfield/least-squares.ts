/** Normal equations of small least-squares fits, solved by Cholesky with a relative ridge. Pure. */

/**
 * Solves (A + lambda I) x = b for symmetric positive semi-definite A (n x n, row major), lambda = ridge x mean of
 * A's diagonal (1 when A is zero). Non-finite solutions come back as 0.
 */
export function solveRidge(a0: Float64Array, b0: ArrayLike<number>, n: number, ridge: number): number[] {
  const a = Float64Array.from(a0);
  let tr = 0;
  for (let i = 0; i < n; i++) tr += a[i * n + i]!;
  const lam = tr > 0 ? (tr / n) * ridge : 1;
  for (let i = 0; i < n; i++) a[i * n + i] += lam;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) L[i * n + i] = Math.sqrt(Math.max(s, 1e-300));
      else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b0[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x.map((v) => (Number.isFinite(v) ? v : 0));
}

/**
 * The upper triangle of A = F^T F and b = F^T y for ns rows of K features (F row major), each entry summed over the
 * rows in order; a zero feature adds nothing to its row of A.
 */
export function normalEquations(F: Float64Array, y: Float64Array, ns: number, K: number, A: Float64Array, b: Float64Array): void {
  for (let i = 0; i < ns; i++) {
    const r = i * K;
    const yi = y[i]!;
    for (let u = 0; u < K; u++) {
      const fu = F[r + u]!;
      if (fu === 0) continue;
      b[u] += fu * yi;
      const ro = u * K;
      for (let v = u; v < K; v++) A[ro + v] += fu * F[r + v]!;
    }
  }
}
