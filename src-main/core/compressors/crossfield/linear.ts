/**
 * A linear CFNN fitted in closed form: one convolution (kernel k, all anchor differences in, the target's differences
 * out, with bias), least squares over the valid points of the field. It is a "fieldpack-nn" network like the trained
 * CFNN (same inputs, same outputs, same reference path in the decoder), costs no Python and well under a second, and
 * on smooth climate fields it is often as good as a few epochs of the CNN. Pure.
 */
import type { Field } from '../../field.ts';
import { parseNnSpec } from '../../nn/spec.ts';
import { buildFeatures, backwardDifference } from '../../nn/features.ts';
import { type CrossfieldNetwork, cfnnInputs, layoutOf } from './codec.ts';
import { normalEquations, solveRidge } from './least-squares.ts';
import { normalEquationsOnce } from './wasm-kernels.ts';

/** Feature rows gathered before they are added to the normal equations. */
const FIT_BLOCK = 1024;

export function fitLinearCfnn(target: Pick<Field, 'values' | 'shape' | 'mask' | 'name'>, anchors: Pick<Field, 'values' | 'mask' | 'name'>[], ndim: 2 | 3, kernel = 3): CrossfieldNetwork {
  const { samples, spatial, plane } = layoutOf(target.shape, ndim);
  const names = anchors.map((a) => a.name);
  const feats = cfnnInputs(names, ndim);
  const cin = feats.length;
  const r = (kernel - 1) >> 1;
  const taps: number[][] = [];
  const rec = (d: number, acc: number[]) => {
    if (d === ndim) { taps.push(acc); return; }
    for (let o = -r; o <= r; o++) rec(d + 1, [...acc, o]);
  };
  rec(0, []);
  const kvol = taps.length;
  const m = cin * kvol + 1;
  const str: number[] = new Array(ndim);
  let s = 1;
  for (let d = ndim - 1; d >= 0; d--) { str[d] = s; s *= spatial[d]!; }
  const fill = new Array<number>(cin).fill(0);
  const byName = new Map(anchors.map((a) => [a.name, a]));
  const ata = Array.from({ length: ndim }, () => new Float64Array(m * m));
  const aty = Array.from({ length: ndim }, () => new Float64Array(m));
  const x = new Float64Array(m);
  const coord = new Array<number>(ndim).fill(0);
  // rows of features gathered in blocks, then added to each axis's normal equations (only the rows where that axis's
  // difference is valid, in order: the same sums as point by point); the upper triangles, mirrored at the end
  const F = new Float64Array(FIT_BLOCK * m);
  const Y = Array.from({ length: ndim }, () => new Float64Array(FIT_BLOCK));
  const ok = Array.from({ length: ndim }, () => new Uint8Array(FIT_BLOCK));
  const Fk = new Float64Array(FIT_BLOCK * m);
  const yk = new Float64Array(FIT_BLOCK);
  let rows = 0;
  const flush = () => {
    for (let k = 0; k < ndim; k++) {
      // every row valid for this axis (the usual case): the block as it is; else its valid rows, compacted
      let rowsOf = F;
      let ysOf = Y[k]!;
      let nk = rows;
      if (ok[k]!.subarray(0, rows).includes(0)) {
        nk = 0;
        for (let r = 0; r < rows; r++) {
          if (!ok[k]![r]) continue;
          Fk.set(F.subarray(r * m, (r + 1) * m), nk * m);
          yk[nk++] = Y[k]![r]!;
        }
        rowsOf = Fk;
        ysOf = yk;
      }
      if (nk > 0 && !normalEquationsOnce(rowsOf, ysOf, nk, m, ata[k]!, aty[k]!)) normalEquations(rowsOf, ysOf, nk, m, ata[k]!, aty[k]!);
    }
    rows = 0;
  };
  // subsample large fields: every point up to ~400k, then a stride
  const stride = Math.max(1, Math.floor((samples * plane) / (m > 64 ? 60_000 : 400_000)));
  for (let sm = 0; sm < samples; sm++) {
    const a0 = sm * plane;
    const input = buildFeatures(feats, fill, spatial, (n) => {
      const f = byName.get(n)!;
      return { values: (f.values as Float32Array).subarray(a0, a0 + plane), ...(f.mask ? { mask: f.mask.subarray(a0, a0 + plane) } : {}) };
    });
    const tv = (target.values as Float32Array).subarray(a0, a0 + plane);
    const tm = target.mask?.subarray(a0, a0 + plane);
    const ys = Array.from({ length: ndim }, (_, k) => backwardDifference(tv, spatial, k, tm));
    coord.fill(0);
    for (let i = 0; i < plane; i++) {
      if (i > 0) for (let d = ndim - 1; d >= 0; d--) { if (++coord[d]! < spatial[d]!) break; coord[d] = 0; }
      if ((i + sm) % stride !== 0) continue;
      let anyY = false;
      for (let k = 0; k < ndim; k++) if (ys[k]!.valid[i]) anyY = true;
      if (!anyY) continue;
      let p = 0;
      for (let c = 0; c < cin; c++) {
        const base = c * plane;
        for (const t of taps) {
          let j = i;
          let inside = true;
          for (let d = 0; d < ndim; d++) {
            const cc = coord[d]! + t[d]!;
            if (cc < 0 || cc >= spatial[d]!) { inside = false; break; }
            j += t[d]! * str[d]!;
          }
          x[p++] = inside ? input[base + j]! : 0;
        }
      }
      x[p] = 1;
      F.set(x, rows * m);
      for (let k = 0; k < ndim; k++) {
        ok[k]![rows] = ys[k]!.valid[i]!;
        Y[k]![rows] = ys[k]!.diff[i]!;
      }
      if (++rows === FIT_BLOCK) flush();
    }
  }
  flush();
  for (const A of ata) for (let u = 0; u < m; u++) for (let v = 0; v < u; v++) A[u * m + v] = A[v * m + u]!;
  const weightCount = ndim * cin * kvol + ndim;
  const w = new Float32Array(weightCount);
  for (let k = 0; k < ndim; k++) {
    const sol = solveRidge(ata[k]!, aty[k]!, m, 1e-6);
    for (let c = 0; c < cin; c++) for (let t = 0; t < kvol; t++) w[(k * cin + c) * kvol + t] = sol[c * kvol + t]!;
    w[ndim * cin * kvol + k] = sol[m - 1]!;
  }
  const spec = parseNnSpec({
    format: 'fieldpack-nn', version: 1, ndim, dtype: 'float32', layout: 'NC' + (ndim === 2 ? 'HW' : 'DHW'), inChannels: cin, outChannels: ndim,
    weightCount, layers: [{ op: 'conv', inChannels: cin, outChannels: ndim, kernel: new Array(ndim).fill(kernel), weight: 0, bias: ndim * cin * kvol }],
  });
  return { spec, weights: w, anchors: names, inputFill: fill };
}
