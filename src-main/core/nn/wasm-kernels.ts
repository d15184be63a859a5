/**
 * The WebAssembly fast path of the VQ-VAE's layers (wasm/nn-kernels.ts, compiled into wasm-kernels.generated.ts):
 * the same float32 operations in the same order per point as the reference loops in vqvae/layers.ts, without
 * JavaScript's conversion to float32 and back around each one (Math.fround), four points per SIMD instruction (3 x 3, 1 x 1, 4 x 4 stride 2 and transposed convolutions of the VQ-VAE, and the predictor networks' 'same' convolutions).
 * The module is compiled on first use; where WebAssembly or its SIMD is missing, `nnKernels()` is null and callers
 * keep the reference path. Buffers are copied into the module's memory and the result copied out: a 3 x 3
 * convolution does 9 x cin multiply-adds per output value, so the copies are a few per cent of the work.
 */
import { NN_KERNELS_WASM } from './wasm-kernels.generated.ts';
import { bumpLayout, lazyInstance, reserveMemory } from '../wasm-module.ts';

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  conv3x3(inp: number, cin: number, H: number, W: number, weight: number, bias: number, cout: number, out: number): void;
  convTranspose4x4(inp: number, cin: number, H: number, W: number, weight: number, bias: number, cout: number, out: number): void;
  conv1x1(inp: number, cin: number, H: number, W: number, weight: number, bias: number, cout: number, out: number): void;
  conv4x4s2(inp: number, cin: number, H: number, W: number, weight: number, bias: number, cout: number, out: number): void;
  convSame(inp: number, cin: number, cout: number, D: number, H: number, W: number, weight: number, bias: number, kd: number, kh: number, kw: number, out: number): void;
}

const instance = lazyInstance<KernelExports>(NN_KERNELS_WASM);

/**
 * Byte offsets in the module's memory for float32 buffers of these lengths, one after another (16-byte aligned),
 * the memory grown to hold them; null where it cannot (past 4 GiB, or the engine refuses to grow it).
 */
function layout(k: KernelExports, lengths: number[]): number[] | null {
  const { take, end } = bumpLayout(k.heapBase());
  const offsets = lengths.map((n) => take(4 * n));
  return reserveMemory(k.memory, end()) ? offsets : null;
}

/**
 * A layer's kernel: input [cin, H, W], weights and bias, into `out` (every value of it written). False when the
 * buffers do not fit the module's memory: the caller then runs its reference loop (the same bits).
 */
type Kernel = (inp: Float32Array, cin: number, H: number, W: number, weight: Float32Array, bias: Float32Array, cout: number, out: Float32Array) => boolean;

export interface NnKernels {
  /** conv2d 3 x 3, stride 1, padding 1 (layers.ts's conv3x3; W >= 3) */
  conv3x3: Kernel;
  /** ConvTranspose2d 4 x 4, stride 2, padding 1 (layers.ts's transposed4x4) */
  convTranspose4x4: Kernel;
  /** conv2d 1 x 1 (layers.ts's general loop) */
  conv1x1: Kernel;
  /** conv2d 4 x 4, stride 2, padding 1, H and W even (layers.ts's general loop; the VQ-VAE encoder's down-sampling) */
  conv4x4s2: Kernel;
  /**
   * The predictor networks' 'same' convolution (reference.ts's conv): [cin, D, H, W] into a new [cout, D, H, W];
   * `weights` the layer's [cout, cin, kd, kh, kw], `bias` its cout values or null. Null when the buffers do not
   * fit the module's memory (the caller runs the reference loop).
   */
  convSame(inp: Float32Array, cin: number, cout: number, D: number, H: number, W: number, weights: Float32Array, bias: Float32Array | null, kernel: readonly [number, number, number]): Float32Array | null;
}

/** Runs an exported kernel on copies of the buffers in the module's memory. */
function viaMemory(run: (k: KernelExports) => KernelExports['conv3x3']): Kernel {
  return (inp, cin, H, W, weight, bias, cout, out) => {
    const k = instance()!;
    const at = layout(k, [inp.length, weight.length, bias.length, out.length]);
    if (!at) return false;
    const [pi, pw, pb, po] = at as [number, number, number, number];
    const mem = new Float32Array(k.memory.buffer);
    mem.set(inp, pi / 4);
    mem.set(weight, pw / 4);
    mem.set(bias, pb / 4);
    run(k)(pi, cin, H, W, pw, pb, cout, po);
    out.set(new Float32Array(k.memory.buffer, po, out.length));
    return true;
  };
}

const FAST: NnKernels = {
  conv3x3: viaMemory((k) => k.conv3x3),
  convTranspose4x4: viaMemory((k) => k.convTranspose4x4),
  conv1x1: viaMemory((k) => k.conv1x1),
  conv4x4s2: viaMemory((k) => k.conv4x4s2),
  convSame(inp, cin, cout, D, H, W, weights, bias, [kd, kh, kw]) {
    const k = instance()!;
    const plane = D * H * W;
    const at = layout(k, [inp.length, weights.length, bias?.length ?? 0, cout * plane]);
    if (!at) return null;
    const [pi, pw, pb, po] = at as [number, number, number, number];
    const mem = new Float32Array(k.memory.buffer);
    mem.set(inp, pi / 4);
    mem.set(weights, pw / 4);
    if (bias) mem.set(bias, pb / 4);
    k.convSame(pi, cin, cout, D, H, W, pw, bias ? pb : 0, kd, kh, kw, po);
    return new Float32Array(k.memory.buffer, po, cout * plane).slice();
  },
};

/** The fast kernels, or null where this engine cannot run them. */
export function nnKernels(): NnKernels | null {
  return instance() ? FAST : null;
}
