/**
 * The WebAssembly twins of mscoder.ts's loops (wasm/codec-kernels.ts, compiled into wasm-kernels.generated.ts).
 * - The cost loop: planning sizes every candidate predictor with msCostBytes, and that loop's adaptive model is about
 *   half of planning's time; compiled to WebAssembly it runs about twice as fast. It makes the same model updates and
 *   the same float64 additions in the same order from a copy of the same log2 table, so it returns the reference's
 *   bits (test/unit/codec/mscoder-cost.test.ts).
 * - The coding and decoding loops (coders 2 and 4): most of a classic chunk's decoding time, much of its encoding.
 *   The same model updates and range coder arithmetic on integers (below 2^32, the encoder's low below 2^33), so the
 *   same bytes and codes, and a failure where the reference throws (test/unit/codec/mscoder-wasm.test.ts).
 * Where WebAssembly is missing, the `ms*Kernel()` are null and the reference runs.
 */
import { CODEC_KERNELS_WASM } from './wasm-kernels.generated.ts';

interface CostExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  msCost(codes: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, log2: number, state: number, acc: number): void;
  msDecode(data: number, len: number, out: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, starts: number, lines: number, segs: number): number;
  msDecodedBytes(data: number): number;
  msEncode(codes: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, starts: number, lines: number, segs: number, out: number): number;
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
  /** first byte of the per-call buffers of msDecode (the memory grows to fit them) */
  dynamic: number;
}

/** mscoder.ts's log2 table: -log2(i / 2^16) for i = 0..2^16 */
const LOG2_ENTRIES = 65537;

let module: Layout | null | undefined;
let log2Copied = false;

function layout(): Layout | null {
  if (module !== undefined) return module;
  try {
    const k = new WebAssembly.Instance(new WebAssembly.Module(CODEC_KERNELS_WASM)).exports as unknown as CostExports;
    let at = k.heapBase();
    const take = (bytes: number) => {
      const p = at;
      at += Math.ceil(bytes / 16) * 16;
      return p;
    };
    const l = { k, freq: take(30 * 18 * 4), totals: take(30 * 4), sign: take(12 * 2), mant: take(16 * 2), state: take(16), acc: take(8), log2: take(8 * LOG2_ENTRIES), codes: take(4 * CODES_PER_CALL), dynamic: at };
    const need = at - k.memory.buffer.byteLength;
    if (need > 0 && k.memory.grow(Math.ceil(need / 65536)) < 0) throw new Error('no memory');
    module = l;
  } catch {
    module = null;
  }
  return module;
}

export type CostKernel = (codes: Uint32Array, n: number, radius: number, model: CostModel) => number;

/** The model cost in bits of codes[0, n) starting from `model`, or null where WebAssembly is missing. */
export function msCostKernel(log2: Float64Array): CostKernel | null {
  const l = layout();
  if (!l) return null;
  if (!log2Copied) {
    if (log2.length !== LOG2_ENTRIES) throw new Error('log2 table of another length');
    new Float64Array(l.k.memory.buffer, l.log2, log2.length).set(log2);
    log2Copied = true;
  }
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

/** The adaptive model msDecodeCodesBare starts from (mscoder.ts's Tables, 30 or 36 contexts); the kernel adapts a copy. */
export type DecodeModel = CostModel;

/** Line segments of the codes (mscoder.ts's CodeLines). */
export interface DecodeLines {
  starts: Int32Array;
  lines: Int32Array;
}

/**
 * codes, or where the reference throws: error 1 the data end early, 2 a residual beyond the radius; -1 the module's
 * memory could not grow (the caller runs the reference). bytesRead: where decoding stopped.
 */
export type DecodeKernel = (data: Uint8Array, len: number, n: number, radius: number, model: DecodeModel, lines: DecodeLines | null) => { codes: Uint32Array | null; error: number; bytesRead: number };

/**
 * Most codes one call codes or decodes here, as the module's memory grows to hold them (12 bytes a code when coding)
 * and never shrinks: 2^22, twice a classic chunk by default; longer calls run the reference.
 */
export const KERNEL_MAX_CODES = 1 << 22;

/** The multi-symbol decoder of n codes from data[0, len), or null where WebAssembly is missing. */
export function msDecodeKernel(): DecodeKernel | null {
  const l = layout();
  if (!l) return null;
  return (data, len, n, radius, model, lines) => {
    const { k } = l;
    const segs = lines ? lines.starts.length : 0;
    const ctxs = model.total.length;
    let at = l.dynamic;
    const take = (bytes: number) => {
      const p = at;
      at += Math.ceil(bytes / 16) * 16;
      return p;
    };
    const freq = take(4 * model.freq.length), totals = take(4 * ctxs), sign = take(2 * model.sign.length), mant = take(2 * model.mant.length);
    const starts = take(4 * segs), lineLens = take(4 * segs), input = take(len), out = take(4 * n);
    if (!grow(k.memory, at)) return { codes: null, error: -1, bytesRead: 0 };
    const buf = k.memory.buffer;
    new Uint32Array(buf, freq, model.freq.length).set(model.freq);
    new Uint32Array(buf, totals, ctxs).set(model.total);
    new Uint16Array(buf, sign, model.sign.length).set(model.sign);
    new Uint16Array(buf, mant, model.mant.length).set(model.mant);
    if (lines) {
      new Int32Array(buf, starts, segs).set(lines.starts);
      new Int32Array(buf, lineLens, segs).set(lines.lines);
    }
    new Uint8Array(buf, input, len).set(data.subarray(0, len));
    const error = k.msDecode(input, len, out, n, radius, freq, totals, sign, mant, starts, lineLens, segs);
    const bytesRead = k.msDecodedBytes(input);
    return { codes: error ? null : new Uint32Array(buf, out, n).slice(), error, bytesRead };
  };
}

/** The bytes the multi-symbol coder writes for codes[0, n) (8 n + 64 bytes of room: no code takes 6). */
export type EncodeKernel = (codes: Uint32Array, n: number, radius: number, model: DecodeModel, lines: DecodeLines | null) => Uint8Array | null;

/** The multi-symbol encoder, or null where WebAssembly is missing; it returns null where its memory cannot grow. */
export function msEncodeKernel(): EncodeKernel | null {
  const l = layout();
  if (!l) return null;
  return (codes, n, radius, model, lines) => {
    const { k } = l;
    const segs = lines ? lines.starts.length : 0;
    let at = l.dynamic;
    const take = (bytes: number) => {
      const p = at;
      at += Math.ceil(bytes / 16) * 16;
      return p;
    };
    const freq = take(4 * model.freq.length), totals = take(4 * model.total.length), sign = take(2 * model.sign.length), mant = take(2 * model.mant.length);
    const starts = take(4 * segs), lineLens = take(4 * segs), input = take(4 * n), out = take(8 * n + 64);
    if (!grow(k.memory, at)) return null;
    const buf = k.memory.buffer;
    new Uint32Array(buf, freq, model.freq.length).set(model.freq);
    new Uint32Array(buf, totals, model.total.length).set(model.total);
    new Uint16Array(buf, sign, model.sign.length).set(model.sign);
    new Uint16Array(buf, mant, model.mant.length).set(model.mant);
    if (lines) {
      new Int32Array(buf, starts, segs).set(lines.starts);
      new Int32Array(buf, lineLens, segs).set(lines.lines);
    }
    new Uint32Array(buf, input, n).set(codes.subarray(0, n));
    const written = k.msEncode(input, n, radius, freq, totals, sign, mant, starts, lineLens, segs, out);
    return new Uint8Array(buf, out, written).slice();
  };
}

/** Grows the module's memory to hold `end` bytes; false where it cannot. */
function grow(memory: WebAssembly.Memory, end: number): boolean {
  const need = end - memory.buffer.byteLength;
  if (need <= 0) return true;
  try {
    memory.grow(Math.ceil(need / 65536));
    return true;
  } catch {
    return false;
  }
}
