/**
 * The WebAssembly twin of mscoder.ts's cost loop (wasm/codec-kernels.ts, compiled into wasm-kernels.generated.ts):
 * planning sizes every candidate predictor with msCostBytes, and that loop's adaptive model is about half of
 * planning's time; compiled to WebAssembly it runs about twice as fast. It makes the same model updates and the
 * same float64 additions in the same order from a copy of the same log2 table, so it returns the reference's bits
 * (test/unit/codec/mscoder.test.ts); where WebAssembly is missing, `msCostKernel()` is null and the reference runs.
 */
import { CODEC_KERNELS_WASM } from './wasm-kernels.generated.ts';

interface CostExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  msCost(codes: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, log2: number, state: number, acc: number): void;
}

/** The adaptive model msCostBytes starts from (mscoder.ts's Tables); the kernel adapts a copy of it. */
export interface CostModel {
  freq: Uint32Array;
  total: Uint32Array;
  sign: Uint16Array;
  mant: Uint16Array;
}

/** Codes copied into the module per call: a planning sample is 2^17 values at most, so one or two copies. */
const CODES_PER_CALL = 1 << 16;

interface Layout {
  k: CostExports;
  freq: number;
  totals: number;
  sign: number;
  mant: number;
  state: number;
  acc: number;
  log2: number;
  codes: number;
}

let module: Layout | null | undefined;

function layout(log2: Float64Array): Layout | null {
  if (module !== undefined) return module;
  try {
    const k = new WebAssembly.Instance(new WebAssembly.Module(CODEC_KERNELS_WASM)).exports as unknown as CostExports;
    let at = k.heapBase();
    const take = (bytes: number) => {
      const p = at;
      at += Math.ceil(bytes / 16) * 16;
      return p;
    };
    const l = { k, freq: take(30 * 18 * 4), totals: take(30 * 4), sign: take(12 * 2), mant: take(16 * 2), state: take(16), acc: take(8), log2: take(8 * log2.length), codes: take(4 * CODES_PER_CALL) };
    const need = at - k.memory.buffer.byteLength;
    if (need > 0 && k.memory.grow(Math.ceil(need / 65536)) < 0) throw new Error('no memory');
    new Float64Array(k.memory.buffer, l.log2, log2.length).set(log2);
    module = l;
  } catch {
    module = null;
  }
  return module;
}

export type CostKernel = (codes: Uint32Array, n: number, radius: number, model: CostModel) => number;

/** The model cost in bits of codes[0, n) starting from `model`, or null where WebAssembly is missing. */
export function msCostKernel(log2: Float64Array): CostKernel | null {
  const l = layout(log2);
  if (!l) return null;
  return (codes, n, radius, model) => {
    const { k } = l;
    const buf = k.memory.buffer;
    if (model.freq.length !== 30 * 18 || model.total.length !== 30 || model.sign.length !== 12 || model.mant.length !== 16) throw new Error('cost model of another shape');
    new Uint32Array(buf, l.freq, model.freq.length).set(model.freq);
    new Uint32Array(buf, l.totals, model.total.length).set(model.total);
    new Uint16Array(buf, l.sign, model.sign.length).set(model.sign);
    new Uint16Array(buf, l.mant, model.mant.length).set(model.mant);
    new Int32Array(buf, l.state, 4).fill(0);
    new Float64Array(buf, l.acc, 1)[0] = 0;
    const staged = new Uint32Array(buf, l.codes, CODES_PER_CALL);
    for (let i = 0; i < n; i += CODES_PER_CALL) {
      const m = Math.min(CODES_PER_CALL, n - i);
      staged.set(codes.subarray(i, i + m));
      k.msCost(l.codes, m, radius, l.freq, l.totals, l.sign, l.mant, l.log2, l.state, l.acc);
    }
    return new Float64Array(buf, l.acc, 1)[0]!;
  };
}
