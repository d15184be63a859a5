/**
 * Principal axes of a set of vectors: the eigenvectors of their (uncentred) second-moment matrix, by cyclic Jacobi
 * rotations (exact enough for a 64 x 64 symmetric matrix, no library). Encoder side only: the basis it finds is
 * stored in the stream as float32, so decoders never compute it. Pure: no Node imports.
 */

/** Eigenvectors (columns of the returned d x d row-major matrix) sorted by eigenvalue, largest first. */
export function principalAxes(moment: Float64Array, d: number): Float64Array {
  const a = Float64Array.from(moment);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!, akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!, aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!, vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[j * d + j]! - a[i * d + i]!);
  const out = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) out[r * d + c] = v[r * d + order[c]!]!;
  return out;
}
