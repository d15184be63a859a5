/**
 * The interpolation predictors' other dimension order (SZ3's second interpolation direction): their passes run from
 * the slowest dimension to the fastest, so the fastest gets the most points predicted along it. Where the fastest
 * varies least smoothly (levels stored last: lat x lon x level), the predictor runs on the array with its axes
 * reversed, which makes the slowest-first order the other one; the decoder reverses its output back. Pure.
 */

import { reverseAxesKernel } from '../wasm-kernels.ts';

type Values = Float32Array | Float64Array | Uint8Array;

let kernel: ReturnType<typeof reverseAxesKernel> | undefined;

/**
 * `src` (C order, `shape`) with its axes in reverse order, into `dst` (C order, the reversed shape): in WebAssembly
 * where it can (wasm/codec-kernels.ts reverseAxes, the same permutation), else the loop.
 */
export function reverseAxes<T extends Values>(src: T, shape: readonly number[], dst: T): T {
  kernel ??= reverseAxesKernel();
  return kernel?.(src, shape, dst) ?? reverseAxesLoop(src, shape, dst);
}

/** reverseAxes's reference loop. */
export function reverseAxesLoop<T extends Values>(src: T, shape: readonly number[], dst: T): T {
  const k = shape.length;
  if (k === 1) {
    dst.set(src);
    return dst;
  }
  if (k === 2) {
    const [a, b] = shape as [number, number];
    for (let i = 0, s = 0; i < a; i++) for (let j = 0; j < b; j++, s++) dst[j * a + i] = src[s]!;
    return dst;
  }
  if (k === 3) {
    const [a, b, c] = shape as [number, number, number];
    const sj = a;
    const sl = a * b;
    for (let i = 0, s = 0; i < a; i++) {
      for (let j = 0; j < b; j++) {
        let d = j * sj + i;
        for (let l = 0; l < c; l++, s++, d += sl) dst[d] = src[s]!;
      }
    }
    return dst;
  }
  if (k === 4) {
    const [a, b, c, e] = shape as [number, number, number, number];
    const sj = a;
    const sl = a * b;
    const sm = a * b * c;
    for (let i = 0, s = 0; i < a; i++) {
      for (let j = 0; j < b; j++) {
        for (let l = 0; l < c; l++) {
          let d = l * sl + j * sj + i;
          for (let m = 0; m < e; m++, s++, d += sm) dst[d] = src[s]!;
        }
      }
    }
    return dst;
  }
  throw new RangeError(`reverseAxes: ${k} dimensions (1 to 4)`);
}

/** Whether the other order can differ from the first: two or more dimensions longer than one. */
export function axesReversible(pshape: readonly number[]): boolean {
  return pshape.filter((d) => d > 1).length >= 2;
}
