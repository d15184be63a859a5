/**
 * First-order Lorenzo predictor (1D-4D) on reconstructed values, with zero padding at the low borders.
 * Unrolled for 1-4 dims, a generic stencil beyond.
 */
import type { LinearQuantizer } from '../quantizer.ts';
import { type Predictor, type Values, padded, lorenzoStencil, rowLines } from './types.ts';
import { scratchArray } from '../scratch.ts';
import { lorenzoQuantizeKernel, lorenzoRecoverKernel } from '../wasm-kernels.ts';

/*
 * One function per dimensionality, not one with a branch for each: in the single large function (four copies of
 * the point's work, each calling linear and grid quantizers) V8 left the quantizer calls out of line, and every
 * prediction passed to them and reconstruction returned was boxed, then collected (allocation sampling of planning;
 * the split functions allocate nothing per point).
 */
function run(enc: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, kernels = true): void {
  const k = shape.length;
  if (kernels && (enc ? encodeInKernel(x, skip, shape, q) : decodeInKernel(x, skip, shape, q))) return;
  if (k === 1) run1(enc, x, skip, q);
  else if (k === 2) run2(enc, x, skip, shape, q);
  else if (k === 3) run3(enc, x, skip, shape, q);
  else if (k === 4) run4(enc, x, skip, shape, q);
  else runN(enc, x, skip, shape, q);
}

let kernel: ReturnType<typeof lorenzoQuantizeKernel> | undefined;

/**
 * The encoder of 1-4 dims in WebAssembly (wasm/codec-kernels.ts's lorenzoQuantize): the same codes and escapes into q.
 * False where it cannot run (as interp.ts's encodeInKernel); the caller then runs the reference.
 */
function encodeInKernel(x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): boolean {
  const quantizer = q.kernelQuantizer();
  if (!quantizer) return false;
  kernel ??= lorenzoQuantizeKernel();
  const r = kernel?.({ x, skip, shape, quantizer });
  return r ? q.appendCodes(r) : false;
}

let recoverKernel: ReturnType<typeof lorenzoRecoverKernel> | undefined;

/** The decoder of 1-4 dims in WebAssembly (lorenzoRecover): the same reconstructions into x; false as encodeInKernel. */
function decodeInKernel(x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): boolean {
  const quantizer = q.kernelQuantizer();
  if (!quantizer) return false;
  recoverKernel ??= lorenzoRecoverKernel();
  const read = recoverKernel?.({ out: x, skip, shape, quantizer, ...q.unread() });
  if (!read) return false;
  q.markRead(read);
  return true;
}

/** The padded reconstructions: scratch memory, cleared (the padding planes must read 0). */
function paddedReconstructions(size: number): Float64Array {
  return scratchArray(size, false).fill(0);
}

function run1(enc: boolean, x: Values, skip: Uint8Array | null, q: LinearQuantizer): void {
  const n = x.length;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const pred = prev;
    let r: number;
    if (skip !== null && skip[i] === 1) r = pred;
    else if (enc) r = q.quantize(x[i]!, pred);
    else r = q.recover(pred);
    if (!enc) x[i] = r;
    prev = r;
  }
}

function run2(enc: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): void {
  const P = paddedReconstructions(padded(shape).size);
  const n0 = shape[0]!, n1 = shape[1]!;
  const W = n1 + 1;
  let idx = 0;
  for (let i = 0; i < n0; i++) {
    let p = (i + 1) * W + 1;
    for (let j = 0; j < n1; j++, p++, idx++) {
      const pred = P[p - 1]! + P[p - W]! - P[p - W - 1]!;
      let r: number;
      if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
      else if (enc) r = q.quantize(x[idx]!, pred);
      else {
        r = q.recover(pred);
        x[idx] = r;
      }
      P[p] = r;
    }
  }
}

function run3(enc: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): void {
  const P = paddedReconstructions(padded(shape).size);
  const n0 = shape[0]!, n1 = shape[1]!, n2 = shape[2]!;
  const W = n2 + 1;
  const S = (n1 + 1) * W;
  let idx = 0;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      let p = (i + 1) * S + (j + 1) * W + 1;
      for (let l = 0; l < n2; l++, p++, idx++) {
        const pred =
          P[p - 1]! + P[p - W]! + P[p - S]! - P[p - W - 1]! - P[p - S - 1]! - P[p - S - W]! + P[p - S - W - 1]!;
        let r: number;
        if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
        else if (enc) r = q.quantize(x[idx]!, pred);
        else {
          r = q.recover(pred);
          x[idx] = r;
        }
        P[p] = r;
      }
    }
  }
}

/**
 * 4D: runN's stencil written out, its 15 terms summed in lorenzoStencil's order from 0 (the same bits; a signed
 * term there is a product with +-1, exact): the generic loop spent ~60 ns a point on coordinates and the term loop.
 */
function run4(enc: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): void {
  const P = paddedReconstructions(padded(shape).size);
  const n0 = shape[0]!, n1 = shape[1]!, n2 = shape[2]!, n3 = shape[3]!;
  const W = n3 + 1;
  const S = (n2 + 1) * W;
  const V = (n1 + 1) * S;
  let idx = 0;
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      for (let l = 0; l < n2; l++) {
        let p = (i + 1) * V + (j + 1) * S + (l + 1) * W + 1;
        for (let o = 0; o < n3; o++, p++, idx++) {
          // bit d of the term's number says dim d (strides V, S, W, 1) is stepped back
          const pred = 0 + P[p - V]! + P[p - S]! - P[p - V - S]! + P[p - W]! - P[p - V - W]! - P[p - S - W]! + P[p - V - S - W]! +
            P[p - 1]! - P[p - V - 1]! - P[p - S - 1]! + P[p - V - S - 1]! - P[p - W - 1]! + P[p - V - W - 1]! + P[p - S - W - 1]! -
            P[p - V - S - W - 1]!;
          let r: number;
          if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
          else if (enc) r = q.quantize(x[idx]!, pred);
          else {
            r = q.recover(pred);
            x[idx] = r;
          }
          P[p] = r;
        }
      }
    }
  }
}

/** More than 4 dims: the generic stencil. */
function runN(enc: boolean, x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): void {
  const k = shape.length;
  const { size, pstr } = padded(shape);
  const P = paddedReconstructions(size);
  const n = x.length;
  const { offs, sign } = lorenzoStencil(pstr);
  const m = offs.length;
  const coord = new Array<number>(k).fill(0);
  for (let idx = 0; idx < n; idx++) {
    let p = 0;
    for (let d = 0; d < k; d++) p += (coord[d]! + 1) * pstr[d]!;
    let pred = 0;
    for (let t = 0; t < m; t++) pred += sign[t]! * P[p - offs[t]!]!;
    let r: number;
    if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
    else if (enc) r = q.quantize(x[idx]!, pred);
    else {
      r = q.recover(pred);
      x[idx] = r;
    }
    P[p] = r;
    for (let d = k - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
}

/** The encoder's reference loops alone (`kernels` false), for the kernels' tests. */
export function encodeLorenzo(x: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, kernels: boolean): void {
  run(true, x, skip, shape, q, kernels);
}

/** The decoder's reference loops alone (`kernels` false), for the kernels' tests. */
export function decodeLorenzo(out: Values, skip: Uint8Array | null, shape: number[], q: LinearQuantizer, kernels: boolean): void {
  run(false, out, skip, shape, q, kernels);
}

export const lorenzo: Predictor = {
  id: 0,
  name: 'lorenzo',
  encode: (x, skip, shape, q) => run(true, x, skip, shape, q),
  decode: (out, skip, shape, q) => run(false, out, skip, shape, q),
  codeLines: rowLines,
};
