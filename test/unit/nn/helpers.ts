import type { NnSpec, NnLayer } from '../../../src-main/core/nn/spec.ts';

/** A deterministic pseudo-random float32 stream (xorshift32), for weights and inputs. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** A random network spec: affine, conv/act..., conv, affine; kernels of `size` (the last conv without a bias unless 3). */
export function randomNet(ndim: 2 | 3, cin: number, cout: number, hidden: number, layers: number, act: NnLayer['op'], seed = 1, size = 3): { spec: NnSpec; weights: Float32Array } {
  const r = rng(seed);
  const w: number[] = [];
  const add = (n: number, scale: number) => {
    const off = w.length;
    for (let i = 0; i < n; i++) w.push(Math.fround(r() * scale));
    return off;
  };
  const L: NnLayer[] = [];
  const k = ndim === 2 ? [size, size] : [size, size, size];
  const kn = ndim === 2 ? size ** 2 : size ** 3;
  L.push({ op: 'affine', channels: cin, scale: add(cin, 2), shift: add(cin, 1) });
  let c = cin;
  for (let i = 0; i < layers - 1; i++) {
    L.push({ op: 'conv', inChannels: c, outChannels: hidden, kernel: k, weight: add(hidden * c * kn, 0.6), bias: add(hidden, 0.2) });
    L.push(act === 'leaky_relu' ? { op: 'leaky_relu', negativeSlope: Math.fround(0.01) } : ({ op: act } as NnLayer));
    c = hidden;
  }
  L.push({ op: 'conv', inChannels: c, outChannels: cout, kernel: k, weight: add(cout * c * kn, 0.6), bias: size === 3 ? add(cout, 0.2) : null });
  L.push({ op: 'affine', channels: cout, scale: add(cout, 3), shift: add(cout, 1) });
  const spec: NnSpec = {
    format: 'fieldpack-nn', version: 1, ndim, dtype: 'float32', layout: ndim === 2 ? 'NCHW' : 'NCDHW', inChannels: cin, outChannels: cout,
    receptiveRadius: layers * ((size - 1) >> 1), weightCount: w.length, layers: L,
  };
  return { spec, weights: Float32Array.from(w) };
}

export function randomInput(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 4);
}

export function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
