/**
 * Dual-quantization Lorenzo (cuSZ style): Lorenzo on the integer grid indices from dq.ts.
 * Residuals are exact integers; escapes carry x exactly and its grid index is recomputed from it.
 */
import type { LinearQuantizer } from '../quantizer.ts';
import { gridIndex, prequantize, pushResidual } from '../dq.ts';
import { type Predictor, type Values, padded, lorenzoStencil, rowLines } from './types.ts';
import { dqLorenzoQuantizeKernel } from '../wasm-kernels.ts';

let kernel: ReturnType<typeof dqLorenzoQuantizeKernel> | undefined;

/**
 * The encoder of 1-4 dims in WebAssembly (wasm/codec-kernels.ts's dqLorenzoQuantize, the same indices, sums and
 * codes): false where it cannot run (as lorenzo.ts's); the caller then runs the loop below.
 */
function encodeInKernel(x: Values, skip: Uint8Array | null, shape: number[], qz: LinearQuantizer): boolean {
  const quantizer = qz.kernelQuantizer();
  if (!quantizer || quantizer.gridHalf >= 0) return false;
  kernel ??= dqLorenzoQuantizeKernel();
  const r = kernel?.({ x, skip, shape, quantizer });
  return r ? qz.appendCodes(r) : false;
}

/** The stencil's sum: its terms in lorenzoStencil's order from 0 (a product with +-1 is exact) */
function stencilSum(P: Float64Array, p: number, offs: Int32Array, sign: Float64Array, m: number): number {
  let pred = 0;
  for (let t = 0; t < m; t++) pred += sign[t]! * P[p - offs[t]!]!;
  return pred;
}

/**
 * stencilSum of 1-4 dims written out (strides a, b, c of the first dims, 1 of the last), the same terms in the same
 * order, so the same sums: the term loop was ~100 ns a point.
 */
function lorenzoSum(P: Float64Array, p: number, k: number, a: number, b: number, c: number): number {
  if (k === 1) return 0 + P[p - 1]!;
  if (k === 2) return 0 + P[p - a]! + P[p - 1]! - P[p - a - 1]!;
  if (k === 3) return 0 + P[p - a]! + P[p - b]! - P[p - a - b]! + P[p - 1]! - P[p - a - 1]! - P[p - b - 1]! + P[p - a - b - 1]!;
  return 0 + P[p - a]! + P[p - b]! - P[p - a - b]! + P[p - c]! - P[p - a - c]! - P[p - b - c]! + P[p - a - b - c]! +
    P[p - 1]! - P[p - a - 1]! - P[p - b - 1]! + P[p - a - b - 1]! - P[p - c - 1]! + P[p - a - c - 1]! + P[p - b - c - 1]! - P[p - a - b - c - 1]!;
}

function run(enc: boolean, x: Values, skip: Uint8Array | null, shape: number[], qz: LinearQuantizer, kernels = true): void {
  if (enc && kernels && encodeInKernel(x, skip, shape, qz)) return;
  const k = shape.length;
  const n = x.length;
  const { size, pstr } = padded(shape);
  const P = new Float64Array(size);
  const { offs, sign } = lorenzoStencil(pstr);
  const m = offs.length;
  const pre = enc ? prequantize(x, skip, qz.e, qz.f32) : null;
  const inv = 1 / qz.twoE;
  const twoE = qz.twoE;
  const f32 = qz.f32;
  const radius = qz.radius;
  // the strides of the first k - 1 dims (the last one's is 1)
  const [pstr0, pstr1, pstr2] = [pstr[0] ?? 0, pstr[1] ?? 0, pstr[2] ?? 0];
  const coord = new Array<number>(k).fill(0);
  const inner = shape[k - 1]!;
  let idx = 0;
  const outer = n / inner;
  for (let o = 0; o < outer; o++) {
    let p = 1;
    for (let d = 0; d < k - 1; d++) p += (coord[d]! + 1) * pstr[d]!;
    for (let j = 0; j < inner; j++, p++, idx++) {
      const pred = k <= 4 ? lorenzoSum(P, p, k, pstr0, pstr1, pstr2) : stencilSum(P, p, offs, sign, m);
      let g: number;
      if (skip !== null && skip[idx] === 1) g = pred;
      else if (enc) {
        g = pre!.q[idx]!;
        pushResidual(qz, g - pred, pre!.exact[idx] === 1, x[idx]!);
      } else {
        const c = qz.codes[qz.pos++]!;
        if (c === 0) {
          const v = qz.escapes[qz.escPos++]!;
          g = gridIndex(v, inv);
          x[idx] = v;
        } else {
          g = pred + c - radius;
          const r = g * twoE;
          x[idx] = f32 ? Math.fround(r) : r;
        }
      }
      P[p] = g;
    }
    for (let d = k - 2; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
}

/** The encoder's reference loop alone (`kernels` false), for the kernels' tests. */
export function encodeDqLorenzo(x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, kernels: boolean): void {
  run(true, x, skip, shape, q, kernels);
}

export const dqLorenzo: Predictor = {
  id: 1,
  name: 'dq-lorenzo',
  encode: (x, skip, shape, q) => run(true, x, skip, shape, q),
  decode: (out, skip, shape, q) => run(false, out, skip, shape, q),
  codeLines: rowLines,
};
