/**
 * The hierarchical VQ-VAE's encoder and decoder (docs/vqvae.md) on one standardised map whose sides are multiples
 * of 16. The decoder is the reference path of the decoding contract (layers.ts): the codec's residual coder
 * predicts from its output, so encoder and decoder sides compute it bit for bit alike. The encoder's choices (the
 * indices) are stored, so it need not be reproducible; it runs on the same layers here. Pure: no Node imports.
 */
import { FieldpackError } from '../../errors.ts';
import { type Tensor, addInto, conv2d, convTranspose2d, leaky, lookup, nearestCodes, release } from './layers.ts';
import type { VqvaeModel } from './model.ts';
import { type NnKernels, nnKernels } from '../wasm-kernels.ts';

/** Sides of a map the network takes are multiples of this. */
export const VQVAE_STRIDE = 16;

export interface Latents {
  /** z indices [h/16, w/16] and y indices [h/8, w/8], C order */
  z: Uint16Array;
  y: Uint16Array;
  h: number;
  w: number;
}

function checkSides(h: number, w: number): void {
  if (!(h > 0 && w > 0 && h % VQVAE_STRIDE === 0 && w % VQVAE_STRIDE === 0)) {
    throw new FieldpackError('INVALID_ARGUMENT', `the VQ-VAE takes maps whose sides are multiples of ${VQVAE_STRIDE}, got ${h} x ${w}`);
  }
}

/** fast: the WebAssembly kernels (the same bits), null: the reference loops */
function conv(m: VqvaeModel, name: string, x: Tensor, k: number, stride: 1 | 2, fast: NnKernels | null): Tensor {
  const b = m.t[`${name}.bias`]!;
  return conv2d(x, m.t[`${name}.weight`]!, b, b.length, k, stride, fast);
}

function convT(m: VqvaeModel, name: string, x: Tensor, fast: NnKernels | null): Tensor {
  const b = m.t[`${name}.bias`]!;
  return convTranspose2d(x, m.t[`${name}.weight`]!, b, b.length, fast);
}

/** h + conv3x3(act(h)), in place on h (intermediates released) */
function residual(m: VqvaeModel, name: string, h: Tensor, fast: NnKernels | null): Tensor {
  const a = leaky(h, m.config.negativeSlope);
  const r = conv(m, name, a, 3, 1, fast);
  release(a);
  addInto(h, r);
  release(r);
  return h;
}

/** f(x), then x's buffer released */
function then(x: Tensor, f: (x: Tensor) => Tensor): Tensor {
  const y = f(x);
  release(x);
  return y;
}

/** Indices of a standardised map [h, w] (h, w multiples of 16). */
/**
 * Indices of a standardised map [h, w] (h, w multiples of 16). The indices are stored, so the encoder need not be
 * reproducible; it takes the fast kernels where this engine has them (they give the same bits anyway).
 */
export function encodeMap(m: VqvaeModel, map: Float32Array, h: number, w: number): Latents {
  checkSides(h, w);
  const s = m.config.negativeSlope;
  const D = m.config.latentDim;
  const fast = nnKernels();
  let t: Tensor = { data: map, c: 1, h, w };
  t = residual(m, 'enc.res1', leaky(conv(m, 'enc.down1', t, 4, 2, fast), s), fast);
  t = residual(m, 'enc.res2', leaky(conv(m, 'enc.down2', t, 4, 2, fast), s), fast);
  t = residual(m, 'enc.res3', leaky(conv(m, 'enc.down3', t, 4, 2, fast), s), fast);
  const ye = conv(m, 'enc.yproj', t, 1, 1, fast);
  const ze = conv(m, 'enc.zproj', leaky(conv(m, 'enc.down4', t, 4, 2, fast), s), 1, 1, fast);
  const z = nearestCodes(ze, m.t['codebook.z']!, m.config.codesZ);
  const zq = lookup(z, m.t['codebook.z']!, D, h / 16, w / 16);
  const y = nearestCodes(addInto(ye, convT(m, 'upz', zq, fast)), m.t['codebook.y']!, m.config.codesY);
  return { z, y, h, w };
}

/**
 * The reconstruction x̂ [h, w] of a map from its indices: with `fast` null the reference path (bit-exact
 * everywhere), else the fast kernels, whose bits the caller checks (the stream's CRC of x̂).
 */
export function decodeMap(m: VqvaeModel, lat: Latents, fast: NnKernels | null = null): Float32Array {
  const { h, w } = lat;
  checkSides(h, w);
  const s = m.config.negativeSlope;
  const D = m.config.latentDim;
  const zq = lookup(lat.z, m.t['codebook.z']!, D, h / 16, w / 16);
  const yq = lookup(lat.y, m.t['codebook.y']!, D, h / 8, w / 8);
  addInto(yq, then(zq, (t) => convT(m, 'upz', t, fast)));
  let t = then(yq, (x) => conv(m, 'dec.in', x, 1, 1, fast));
  t = residual(m, 'dec.res3', t, fast);
  t = residual(m, 'dec.res2', then(then(t, (x) => convT(m, 'dec.up3', x, fast)), (x) => leaky(x, s)), fast);
  t = residual(m, 'dec.res1', then(then(t, (x) => convT(m, 'dec.up2', x, fast)), (x) => leaky(x, s)), fast);
  // the output is the caller's (taken from the pool, never given back)
  return then(t, (x) => convT(m, 'dec.out', x, fast)).data;
}
