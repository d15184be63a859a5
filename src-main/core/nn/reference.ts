/**
 * The deterministic reference implementation of the predictor networks: THE path whose outputs feed a
 * codec's prediction (see docs/decoding-contract.md). Pure TypeScript, no Node imports.
 *
 * Arithmetic is IEEE float32 with a fixed order of operations per output point, so the result is the
 * same bits on every machine, engine, thread count and tiling:
 *  - affine: y = f32(f32(x * scale) + shift)
 *  - conv:   acc = bias (or +0); then for ic ascending, for kz, ky, kx ascending (kernel offsets
 *            -r..+r), acc = f32(acc + f32(w * x)); terms that fall outside the grid ('same' zero
 *            padding) are skipped, never added as zeros.
 *  - relu: x > 0 ? x : 0;  leaky_relu: x >= 0 ? x : f32(x * slope);  tanh: detTanh (det-math.ts).
 * f32() is Math.fround or a store into a Float32Array. Products of two float32 values are exact in
 * double and a double sum rounded once to float32 equals the float32 sum (53 >= 2*24+2), so each step
 * is exactly the IEEE float32 operation.
 */
import { FieldpackError } from '../errors.ts';
import { detTanh } from './det-math.ts';
import type { NnSpec } from './spec.ts';
import type { NnKernels } from './wasm-kernels.ts';
import { extractBox, planTiles, writeCore } from './tiling.ts';

export interface ReferenceOptions {
  /** Called between layers; throw from it (e.g. on abort) to stop. */
  onLayer?(index: number, count: number): void;
  /** the WebAssembly kernels (wasm-kernels.ts): the same bits, faster; absent or null: these loops */
  kernels?: NnKernels | null;
}

/** Spatial shape as [D, H, W] (2D fields get D = 1). */
function as3d(spatial: readonly number[]): [number, number, number] {
  if (spatial.length === 2) return [1, spatial[0]!, spatial[1]!];
  if (spatial.length === 3) return [spatial[0]!, spatial[1]!, spatial[2]!];
  throw new FieldpackError('INVALID_ARGUMENT', `spatial shape must have 2 or 3 dimensions, got [${spatial.join(', ')}]`);
}

function conv(
  input: Float32Array, cin: number, cout: number, D: number, H: number, W: number,
  weights: Float32Array, wOff: number, bOff: number | null, kernel: readonly number[],
): Float32Array {
  const [kd, kh, kw] = kernel.length === 3 ? [kernel[0]!, kernel[1]!, kernel[2]!] : [1, kernel[0]!, kernel[1]!];
  const plane = D * H * W;
  const out = new Float32Array(cout * plane);
  const rd = (kd - 1) >> 1, rh = (kh - 1) >> 1, rw = (kw - 1) >> 1;
  const kvol = kd * kh * kw;
  for (let oc = 0; oc < cout; oc++) {
    const o = out.subarray(oc * plane, (oc + 1) * plane);
    if (bOff !== null) o.fill(weights[bOff + oc]!);
    for (let ic = 0; ic < cin; ic++) {
      const inp = input.subarray(ic * plane, (ic + 1) * plane);
      const wBase = wOff + (oc * cin + ic) * kvol;
      for (let dz = 0; dz < kd; dz++) {
        const oz = dz - rd;
        const z0 = Math.max(0, -oz), z1 = Math.min(D, D - oz);
        for (let dy = 0; dy < kh; dy++) {
          const oy = dy - rh;
          const y0 = Math.max(0, -oy), y1 = Math.min(H, H - oy);
          for (let dx = 0; dx < kw; dx++) {
            const ox = dx - rw;
            const x0 = Math.max(0, -ox), x1 = Math.min(W, W - ox);
            const w = weights[wBase + (dz * kh + dy) * kw + dx]!;
            for (let z = z0; z < z1; z++) {
              for (let y = y0; y < y1; y++) {
                const ob = (z * H + y) * W;
                const ib = ((z + oz) * H + (y + oy)) * W + ox;
                for (let x = x0; x < x1; x++) o[ob + x] = o[ob + x]! + Math.fround(w * inp[ib + x]!);
              }
            }
          }
        }
      }
    }
  }
  return out;
}

function fastConv(
  kernels: NnKernels, input: Float32Array, cin: number, cout: number, D: number, H: number, W: number,
  weights: Float32Array, wOff: number, bOff: number | null, kernel: readonly number[],
): Float32Array | null {
  const k: [number, number, number] = kernel.length === 3 ? [kernel[0]!, kernel[1]!, kernel[2]!] : [1, kernel[0]!, kernel[1]!];
  const wLen = cout * cin * k[0] * k[1] * k[2];
  return kernels.convSame(input, cin, cout, D, H, W, weights.subarray(wOff, wOff + wLen), bOff === null ? null : weights.subarray(bOff, bOff + cout), k);
}

/**
 * Runs the network on one sample: input [inChannels, ...spatial] (C order, float32), output
 * [outChannels, ...spatial]. Bit-exact by construction (see the file comment).
 */
export function runReference(
  spec: NnSpec, weights: Float32Array, input: Float32Array, spatial: readonly number[], opts: ReferenceOptions = {},
): Float32Array {
  if (spatial.length !== spec.ndim) {
    throw new FieldpackError('INVALID_ARGUMENT', `network is ${spec.ndim}D, input is ${spatial.length}D`);
  }
  const [D, H, W] = as3d(spatial);
  const plane = D * H * W;
  if (input.length !== spec.inChannels * plane) {
    throw new FieldpackError('INVALID_ARGUMENT', `input has ${input.length} values, expected ${spec.inChannels} x ${plane}`);
  }
  let x = input;
  let c = spec.inChannels;
  let owned = false; // never modify the caller's array in place
  spec.layers.forEach((l, i) => {
    opts.onLayer?.(i, spec.layers.length);
    switch (l.op) {
      case 'affine': {
        const y = new Float32Array(x.length);
        for (let ch = 0; ch < c; ch++) {
          const s = weights[l.scale + ch]!, b = weights[l.shift + ch]!;
          const base = ch * plane;
          for (let p = 0; p < plane; p++) y[base + p] = Math.fround(x[base + p]! * s) + b;
        }
        x = y;
        owned = true;
        break;
      }
      case 'conv':
        x = (opts.kernels && fastConv(opts.kernels, x, c, l.outChannels, D, H, W, weights, l.weight, l.bias, l.kernel)) || conv(x, c, l.outChannels, D, H, W, weights, l.weight, l.bias, l.kernel);
        c = l.outChannels;
        owned = true;
        break;
      case 'relu': {
        const y = owned ? x : new Float32Array(x.length);
        for (let p = 0; p < x.length; p++) y[p] = x[p]! > 0 ? x[p]! : 0;
        x = y;
        owned = true;
        break;
      }
      case 'leaky_relu': {
        const y = owned ? x : new Float32Array(x.length);
        const a = l.negativeSlope;
        for (let p = 0; p < x.length; p++) y[p] = x[p]! >= 0 ? x[p]! : x[p]! * a;
        x = y;
        owned = true;
        break;
      }
      case 'tanh': {
        const y = owned ? x : new Float32Array(x.length);
        for (let p = 0; p < x.length; p++) y[p] = detTanh(x[p]!);
        x = y;
        owned = true;
        break;
      }
    }
  });
  return owned ? x : x.slice();
}

/**
 * The same computation, tile by tile (halo = the receptive radius): bit-identical to runReference on the
 * whole field, with memory bounded by the tile size. Workers run tiles of this in parallel.
 */
export function runReferenceTiled(
  spec: NnSpec, weights: Float32Array, input: Float32Array, spatial: readonly number[], tile: number | readonly number[],
  opts: { onTile?(done: number, total: number): void } = {},
): Float32Array {
  const plane = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(spec.outChannels * plane);
  const tiles = planTiles(spatial, tile, spec.receptiveRadius);
  tiles.forEach((t, i) => {
    const part = runReference(spec, weights, extractBox(input, spec.inChannels, spatial, t.inStart, t.inSize), t.inSize);
    writeCore(out, spec.outChannels, spatial, t, part);
    opts.onTile?.(i + 1, tiles.length);
  });
  return out;
}
