/**
 * The WebAssembly twins of the entropy coders' loops (mscoder.ts, rangecoder.ts, maskcoder.ts; wasm/codec-kernels.ts,
 * compiled into wasm-kernels.generated.ts).
 * - The cost loop: planning sizes every candidate predictor with msCostBytes, and that loop's adaptive model is about
 *   half of planning's time; compiled to WebAssembly it runs about twice as fast (with line segments, coder 6's
 *   model, about three times). It makes the same model updates and the same float64 additions in the same order from
 *   a copy of the same log2 table, so it returns the reference's bits (test/unit/codec/mscoder-cost.test.ts).
 * - The coding and decoding loops of the range coders (coders 1, 2 and 4) and of the validity mask (model 2): most
 *   of a classic chunk's decoding time, much of its encoding; and the static-table rANS encoder's two passes
 *   (coder 3, rans.ts), about 40 % of a large grid-coded chunk's encoding.
 *   The same model updates and range coder arithmetic on integers (below 2^32, the encoder's low below 2^33), so the
 *   same bytes and codes, and a failure where the reference throws (test/unit/codec/mscoder-wasm.test.ts).
 * - The predictors' encoders and decoders (interpolation and Lorenzo, with the linear or the grid quantizer): planning
 *   runs the encoders on a sample for every candidate and tuning, then once on each chunk; 2-4 times faster here. The
 *   same float64 expressions in the same order and the same quantizer arithmetic, so the same codes, escapes and
 *   decoded values (test/unit/codec/predictor-wasm.test.ts).
 * - The valid range of a field without a mask (bound.ts validRange): serial, before a large field's chunks go to the
 *   workers; in SIMD lanes about 5 times faster, the same min, max and count (test/unit/metrics/metrics.test.ts).
 *   With a mask (maskedScan), one pass for validRange and for scanExceptions' usual case (masked points hold the fill,
 *   valid ones are finite), in SIMD lanes too (a zero end then given the first valid zero's sign here): the same range,
 *   counts and skip array (test/unit/codec/masked-scan.test.ts).
 *   And the count of one code (countCode): the encoders' zero residuals after their walk, a decoder's escape codes
 *   (test/unit/codec/predictor-wasm.test.ts, mscoder-wasm.test.ts).
 * - The interpolations' other axis order (axes.ts reverseAxes): a loop that runs once per planning and per chunk
 *   coded that way, so mostly before V8 has compiled it (a 194 k-value sample: ~11 ms, against ~1 here; a 2 M-value
 *   chunk 60-90 ms); tile by tile, so faster compiled too (test/unit/codec/reversed-axes.test.ts).
 * - The sort of a sample's values (stats/sort.ts sortFloat64) that the grid search runs once per planning: its radix
 *   loops took ~15 ms on 8 k values before V8 compiled them (0.26 ms compiled, 0.7 ms in V8's own sort); here ~0.1 ms
 *   from the first call, the same order (test/unit/stats/sort.test.ts).
 * Where WebAssembly is missing, the `*Kernel()` functions return null and the reference runs.
 */
import { CODEC_KERNELS_WASM } from './wasm-kernels.generated.ts';
import { bumpLayout, reserveMemory } from '../wasm-module.ts';

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  msCost(codes: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, log2: number, state: number, acc: number): void;
  msDecode(data: number, len: number, out: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, starts: number, lines: number, segs: number, lineSigns: number): number;
  decodedBytes(data: number): number;
  msEncode(codes: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, starts: number, lines: number, segs: number, lineSigns: number, out: number, room: number): number;
  msCostLines(codes: number, n: number, radius: number, freq: number, totals: number, sign: number, mant: number, starts: number, lines: number, segs: number, lineSigns: number, log2: number): number;
  binEncode(codes: number, n: number, radius: number, zero: number, cls: number, sign: number, mant: number, out: number, room: number): number;
  binDecode(data: number, len: number, out: number, n: number, radius: number, zero: number, cls: number, sign: number, mant: number): number;
  mask2Encode(mask: number, n: number, w: number, plane: number, probs: number, counts: number, out: number, room: number): number;
  mask2Decode(data: number, len: number, out: number, n: number, w: number, plane: number, probs: number, counts: number): number;
  mask3Encode(mask: number, n: number, w: number, plane: number, probs: number, counts: number, segProbs: number, segCounts: number, rowAbove: number, out: number, room: number): number;
  mask3Decode(data: number, len: number, out: number, n: number, w: number, plane: number, probs: number, counts: number, segProbs: number, segCounts: number, rowAbove: number): number;
  ransSymbolise(codes: number, n: number, radius: number, symbolIndex: number, signIndex: number, counts: number, signCounts: number, activityLevel: number, low: number, room: number, starts: number, lines: number, segs: number, info: number): number;
  ransDecode(x0: number, x1: number, data: number, len: number, low: number, lowLen: number, ends: number, signEnds: number, freq: number, cum: number, signFreq: number, signCum: number, radius: number, out: number, n: number, activityLevel: number, starts: number, lines: number, segs: number, states: number, info: number): number;
  ransEncode(symbolIndex: number, signIndex: number, n: number, freq: number, cum: number, signFreq: number, signCum: number, out: number, room: number, states: number): number;
  interpQuantize(x: number, xF32: number, skip: number, sh: number, cubic: number, factors: number, e0: number, gridHalf: number, radius: number, f32: number, R: number, codes: number, escapes: number, escapeRoom: number, counts: number): number;
  lorenzoQuantize(x: number, xF32: number, skip: number, k: number, sh: number, e: number, gridHalf: number, radius: number, f32: number, P: number, codes: number, escapes: number, escapeRoom: number, counts: number): number;
  interpRecover(out: number, outF32: number, skip: number, sh: number, cubic: number, factors: number, e0: number, gridHalf: number, radius: number, f32: number, R: number, codes: number, nCodes: number, escapes: number, nEscapes: number, counts: number): number;
  lorenzoRecover(out: number, outF32: number, skip: number, k: number, sh: number, e: number, gridHalf: number, radius: number, f32: number, P: number, codes: number, nCodes: number, escapes: number, nEscapes: number, counts: number): number;
  gridValues(k: number, n: number, offset: number, step: number, f32: number): void;
  gridIndices(x: number, xF32: number, skip: number, n: number, offset: number, step: number, tolerance: number, f32: number, k: number, off: number, offRoom: number): number;
  dqLorenzoQuantize(x: number, xF32: number, skip: number, k: number, sh: number, e: number, radius: number, f32: number, P: number, codes: number, escapes: number, escapeRoom: number, counts: number): number;
  finiteRange(x: number, n: number, xF32: number, out: number): number;
  countCode(codes: number, n: number, c: number): number;
  maskedScan(x: number, xF32: number, mask: number, n: number, fill: number, hasFill: number, skip: number, out: number): number;
  errorSums(orig: number, origF32: number, recon: number, reconF32: number, mask: number, n: number, bound: number, acc: number): void;
  reverseAxes(src: number, dst: number, size: number, k: number, sh: number): void;
  sortFloat64(x: number, n: number, tmp: number, counts: number): void;
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
  k: KernelExports;
  freq: number;
  totals: number;
  sign: number;
  mant: number;
  state: number;
  acc: number;
  log2: number;
  codes: number;
  /** first byte of the coding and decoding kernels' per-call buffers (the memory grows to fit them) */
  dynamic: number;
}

/** mscoder.ts's log2 table: -log2(i / 2^16) for i = 0..2^16 */
const LOG2_ENTRIES = 65537;

let module: Layout | null | undefined;
let log2Copied = false;

function layout(): Layout | null {
  if (module !== undefined) return module;
  try {
    const k = new WebAssembly.Instance(new WebAssembly.Module(CODEC_KERNELS_WASM)).exports as unknown as KernelExports;
    const { take, end } = bumpLayout(k.heapBase());
    const l = { k, freq: take(30 * 18 * 4), totals: take(30 * 4), sign: take(12 * 2), mant: take(16 * 2), state: take(16), acc: take(8), log2: take(8 * LOG2_ENTRIES), codes: take(4 * CODES_PER_CALL), dynamic: end() };
    if (!reserveMemory(k.memory, end())) throw new Error('no memory');
    module = l;
  } catch {
    module = null;
  }
  return module;
}

/** The cost loops' log2 table (mscoder.ts's), copied into the module once. */
function copyLog2(l: Layout, log2: Float64Array): void {
  if (log2Copied) return;
  if (log2.length !== LOG2_ENTRIES) throw new Error('log2 table of another length');
  new Float64Array(l.k.memory.buffer, l.log2, log2.length).set(log2);
  log2Copied = true;
}

export type CostKernel = (codes: Uint32Array, n: number, radius: number, model: CostModel) => number;

/** The model cost in bits of codes[0, n) starting from `model`, or null where WebAssembly is missing. */
export function msCostKernel(log2: Float64Array): CostKernel | null {
  const l = layout();
  if (!l) return null;
  copyLog2(l, log2);
  return (codes, n, radius, model) => {
    const { k } = l;
    const buf = k.memory.buffer;
    // coder 2's model: its sign and top bits use the first 12 and 16 of the tables' contexts (coder 6: 36 and 80)
    if (model.freq.length !== 30 * 18 || model.total.length !== 30 || model.sign.length < 12 || model.mant.length < 16) throw new Error('cost model of another shape');
    new Uint32Array(buf, l.freq, model.freq.length).set(model.freq);
    new Uint32Array(buf, l.totals, model.total.length).set(model.total);
    new Uint16Array(buf, l.sign, 12).set(model.sign.subarray(0, 12));
    new Uint16Array(buf, l.mant, 16).set(model.mant.subarray(0, 16));
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

/** msCostBytes's bits with line segments (coders 4 and 6: the model msEncode codes with), or null where WebAssembly is missing. */
export function msCostLinesKernel(log2: Float64Array): ((codes: Uint32Array, n: number, radius: number, model: CostModel, lines: DecodeLines, lineSigns: boolean) => number | null) | null {
  const l = layout();
  if (!l) return null;
  copyLog2(l, log2);
  return (codes, n, radius, model, lines, lineSigns) => {
    const at = stage(l, [model.freq, model.total, model.sign, model.mant, lines.starts, lines.lines, codes.subarray(0, n)]);
    if (!at) return null;
    const [freq, totals, sign, mant, starts, lineLens, input] = at as [number, number, number, number, number, number, number];
    return l.k.msCostLines(input, n, radius, freq, totals, sign, mant, starts, lineLens, lines.starts.length, lineSigns ? 1 : 0, l.log2);
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
export interface Decoded {
  codes: Uint32Array | null;
  error: number;
  bytesRead: number;
}
const CANNOT_GROW: Decoded = { codes: null, error: -1, bytesRead: 0 };

/** `into`: n codes of memory the caller owns to decode into (else a new array) */
export type DecodeKernel = (data: Uint8Array, len: number, n: number, radius: number, model: DecodeModel, lines: DecodeLines | null, lineSigns: boolean, into?: Uint32Array) => Decoded;

/**
 * Most codes (or points) one call codes or decodes here, as the module's memory grows to hold them (8 bytes a code
 * when coding, ~17-22 bytes a point through a predictor kernel) and never shrinks: 2^22, twice a classic chunk by
 * default; longer calls run the reference.
 */
export const KERNEL_MAX_CODES = 1 << 22;

/**
 * Room the encoders get for n codes: 32 bits each, several times what real data take. Bytes that would not fit make
 * the kernel fail, and the reference (whose buffer grows) codes them instead.
 */
const codedRoom = (n: number) => 4 * n + 64;
/** Room for a mask of n points: 4 bits each (land masks take well under 0.1) */
const maskRoom = (n: number) => (n >>> 1) + 64;

/** The `written` bytes at `out`, or null where the kernel's room was too small (-1). */
function coded(l: Layout, out: number, written: number): Uint8Array | null {
  return written < 0 ? null : new Uint8Array(l.k.memory.buffer, out, written).slice();
}

/**
 * Lays `parts` out in the module's memory from its dynamic base, 16-byte aligned (an array is copied in, a number is
 * that many bytes of room), growing it; their addresses, or null where the memory cannot grow.
 */
function stage(l: Layout, parts: (ArrayBufferView | number)[]): number[] | null {
  const { take, end } = bumpLayout(l.dynamic);
  const at = parts.map((p) => take(typeof p === 'number' ? p : p.byteLength));
  if (!reserveMemory(l.k.memory, end())) return null;
  const memory = new Uint8Array(l.k.memory.buffer);
  parts.forEach((p, i) => {
    if (typeof p !== 'number') memory.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at[i]);
  });
  return at;
}

/** Codes decoded at `out` (copied into `into` where given, else into a new array), or the kernel's error */
function decoded(l: Layout, error: number, out: number, n: number, input: number, into?: Uint32Array): Decoded {
  let codes: Uint32Array | null = null;
  if (!error) {
    const view = new Uint32Array(l.k.memory.buffer, out, n);
    codes = into ? (into.set(view), into) : view.slice();
  }
  return { codes, error, bytesRead: l.k.decodedBytes(input) };
}

/** The multi-symbol decoder of n codes from data[0, len), or null where WebAssembly is missing. */
export function msDecodeKernel(): DecodeKernel | null {
  const l = layout();
  if (!l) return null;
  return (data, len, n, radius, model, lines, lineSigns, into) => {
    const at = stage(l, [model.freq, model.total, model.sign, model.mant, lines?.starts ?? 0, lines?.lines ?? 0, data.subarray(0, len), 4 * n]);
    if (!at) return CANNOT_GROW;
    const [freq, totals, sign, mant, starts, lineLens, input, out] = at as [number, number, number, number, number, number, number, number];
    const error = l.k.msDecode(input, len, out, n, radius, freq, totals, sign, mant, starts, lineLens, lines ? lines.starts.length : 0, lineSigns ? 1 : 0);
    return decoded(l, error, out, n, input, into);
  };
}

/** The bytes the multi-symbol coder writes for codes[0, n); null where they did not fit the kernel's room. */
export type EncodeKernel = (codes: Uint32Array, n: number, radius: number, model: DecodeModel, lines: DecodeLines | null, lineSigns: boolean) => Uint8Array | null;

/** The multi-symbol encoder, or null where WebAssembly is missing; it returns null where its memory cannot grow. */
export function msEncodeKernel(): EncodeKernel | null {
  const l = layout();
  if (!l) return null;
  return (codes, n, radius, model, lines, lineSigns) => {
    const at = stage(l, [model.freq, model.total, model.sign, model.mant, lines?.starts ?? 0, lines?.lines ?? 0, codes.subarray(0, n), codedRoom(n)]);
    if (!at) return null;
    const [freq, totals, sign, mant, starts, lineLens, input, out] = at as [number, number, number, number, number, number, number, number];
    const written = l.k.msEncode(input, n, radius, freq, totals, sign, mant, starts, lineLens, lines ? lines.starts.length : 0, lineSigns ? 1 : 0, out, codedRoom(n));
    return coded(l, out, written);
  };
}

/** The binary range coder's model (rangecoder.ts's Model): zero u16[36], cls u16[128], sign u16[8], mant u16[256]. */
export interface BinaryModel {
  zero: Uint16Array;
  cls: Uint16Array;
  sign: Uint16Array;
  mant: Uint16Array;
}

/** rangeEncodeCodes's coded bytes (without its count and length), or null where WebAssembly is missing. */
export function binEncodeKernel(): ((codes: Uint32Array, n: number, radius: number, model: BinaryModel) => Uint8Array | null) | null {
  const l = layout();
  if (!l) return null;
  return (codes, n, radius, m) => {
    const at = stage(l, [m.zero, m.cls, m.sign, m.mant, codes.subarray(0, n), codedRoom(n)]);
    if (!at) return null;
    const [zero, cls, sign, mant, input, out] = at as [number, number, number, number, number, number];
    return coded(l, out, l.k.binEncode(input, n, radius, zero, cls, sign, mant, out, codedRoom(n)));
  };
}

/** rangeDecodeCodes's decoding of n codes from data[0, len), or null where WebAssembly is missing. */
export function binDecodeKernel(): ((data: Uint8Array, len: number, n: number, radius: number, model: BinaryModel, into?: Uint32Array) => Decoded) | null {
  const l = layout();
  if (!l) return null;
  return (data, len, n, radius, m, into) => {
    const at = stage(l, [m.zero, m.cls, m.sign, m.mant, data.subarray(0, len), 4 * n]);
    if (!at) return CANNOT_GROW;
    const [zero, cls, sign, mant, input, out] = at as [number, number, number, number, number, number];
    return decoded(l, l.k.binDecode(input, len, out, n, radius, zero, cls, sign, mant), out, n, input, into);
  };
}

/** Mask model 2's starting model (maskcoder.ts): 1024 contexts, probabilities at one half, counts at 0. */
const maskModel = () => [new Uint16Array(1024).fill(32768), new Uint8Array(1024)] as const;

/** maskEncode2's coded bytes for mask (rows of w points, slices of `plane`), or null where WebAssembly is missing. */
export function mask2EncodeKernel(): ((mask: Uint8Array, w: number, plane: number) => Uint8Array | null) | null {
  const l = layout();
  if (!l) return null;
  return (mask, w, plane) => {
    const at = stage(l, [...maskModel(), mask, maskRoom(mask.length)]);
    if (!at) return null;
    const [probs, counts, input, out] = at as [number, number, number, number];
    return coded(l, out, l.k.mask2Encode(input, mask.length, w, plane, probs, counts, out, maskRoom(mask.length)));
  };
}

/** A mask decoder kernel: n points from data[0, len), or error 1 where the data end early (mask null); the bytes read. */
export type MaskDecodeKernel = (data: Uint8Array, len: number, n: number, w: number, plane: number) => { mask: Uint8Array | null; error: number; bytesRead: number };

/** maskDecode2's n points from data[0, len): the mask, or error 1 where the data end early; bytes read. */
export function mask2DecodeKernel(): MaskDecodeKernel | null {
  const l = layout();
  if (!l) return null;
  return (data, len, n, w, plane) => {
    const at = stage(l, [...maskModel(), data.subarray(0, len), n]);
    if (!at) return { mask: null, error: -1, bytesRead: 0 };
    const [probs, counts, input, out] = at as [number, number, number, number];
    const error = l.k.mask2Decode(input, len, out, n, w, plane, probs, counts);
    return { mask: error ? null : new Uint8Array(l.k.memory.buffer, out, n).slice(), error, bytesRead: l.k.decodedBytes(input) };
  };
}

/**
 * maskcoder.ts model 3's state beyond model 2's: the segments' probabilities and counts (its SEGMENT_CONTEXTS, 96),
 * the row before's flags (one per MASK_SEGMENT, 16, points)
 */
const segmentModel = (w: number) => [new Uint16Array(96).fill(32768), new Uint8Array(96), new Uint8Array(Math.ceil(w / 16)).fill(1)] as const;

/** maskEncode3's coded bytes for mask (rows of w points, slices of `plane`), or null where WebAssembly is missing. */
export function mask3EncodeKernel(): ((mask: Uint8Array, w: number, plane: number) => Uint8Array | null) | null {
  const l = layout();
  if (!l) return null;
  return (mask, w, plane) => {
    const at = stage(l, [...maskModel(), ...segmentModel(w), mask, maskRoom(mask.length)]);
    if (!at) return null;
    const [probs, counts, segProbs, segCounts, rowAbove, input, out] = at as [number, number, number, number, number, number, number];
    return coded(l, out, l.k.mask3Encode(input, mask.length, w, plane, probs, counts, segProbs, segCounts, rowAbove, out, maskRoom(mask.length)));
  };
}

/** maskDecode3's n points from data[0, len): the mask, or error 1 where the data end early; bytes read. */
export function mask3DecodeKernel(): MaskDecodeKernel | null {
  const l = layout();
  if (!l) return null;
  return (data, len, n, w, plane) => {
    const at = stage(l, [...maskModel(), ...segmentModel(w), data.subarray(0, len), n]);
    if (!at) return { mask: null, error: -1, bytesRead: 0 };
    const [probs, counts, segProbs, segCounts, rowAbove, input, out] = at as [number, number, number, number, number, number, number];
    const error = l.k.mask3Decode(input, len, out, n, w, plane, probs, counts, segProbs, segCounts, rowAbove);
    return { mask: error ? null : new Uint8Array(l.k.memory.buffer, out, n).slice(), error, bytesRead: l.k.decodedBytes(input) };
  };
}

/** rans.ts's tables from the forward pass's counts: the frequencies and cumulative frequencies, the coded table. */
export interface RansTables {
  freq: Uint16Array;
  cum: Uint16Array;
  signFreq: Uint16Array;
  signCum: Uint16Array;
}

/** What ransEncodeCodesBare writes: the low bits, and the rANS bytes in reading order behind the two final states. */
export interface RansCoded {
  lowBits: Uint8Array;
  pushed: Uint8Array;
  x0: number;
  x1: number;
}

/**
 * rANS coders 3 and 5's two passes over codes[0, n) (coder 5 where `lines` are given; symbol and sign counts of the
 * tables' sizes; activityLevel: rans.ts's ACTIVITY_LEVEL); `tables` turns the counts into the frequencies between
 * them. null where WebAssembly is missing; the function returns null where the memory cannot grow or the bytes
 * would not fit.
 */
export function ransEncodeKernel(): ((codes: Uint32Array, n: number, radius: number, counts: number, signCounts: number, activityLevel: Uint8Array, lines: DecodeLines | null, tables: (counts: Uint32Array, signCounts: Uint32Array) => RansTables) => RansCoded | null) | null {
  const l = layout();
  if (!l) return null;
  return (codes, n, radius, nCounts, nSignCounts, activityLevel, lines, tables) => {
    // low bits: at most 14 a code (residuals below 2^16), 30 for codes past the radius (room enough that the kernel's
    // forward pass needs no per-code check); pushed bytes: at most 2 per symbol and 2 per sign-top
    const lowRoom = 4 * n + 16;
    const room = 4 * n + 16;
    const at = stage(l, [
      new Uint32Array(nCounts), new Uint32Array(nSignCounts), activityLevel, codes.subarray(0, n), 2 * n, 2 * n, lowRoom, room, 8, 2 * nCounts, 2 * nCounts, 2 * nSignCounts,
      2 * nSignCounts, lines?.starts ?? 0, lines?.lines ?? 0, n,
    ]);
    if (!at) return null;
    const [counts, signCounts, levels, input, symbolIndex, signIndex, low, out, states, freq, cum, signFreq, signCum, starts, lineLens, info] = at as number[] as [
      number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number,
    ];
    const lowBytes = l.k.ransSymbolise(input, n, radius, symbolIndex, signIndex, counts, signCounts, levels, low, lowRoom, starts, lineLens, lines ? lines.starts.length : 0, info);
    // -1: the room is short; -2: a code of 2 x radius or more, which the reference refuses with its message
    if (lowBytes < 0) return null;
    let buf = l.k.memory.buffer;
    const t = tables(new Uint32Array(buf, counts, nCounts).slice(), new Uint32Array(buf, signCounts, nSignCounts).slice());
    new Uint16Array(buf, freq, nCounts).set(t.freq);
    new Uint16Array(buf, cum, nCounts).set(t.cum);
    new Uint16Array(buf, signFreq, nSignCounts).set(t.signFreq);
    new Uint16Array(buf, signCum, nSignCounts).set(t.signCum);
    const pushed = l.k.ransEncode(symbolIndex, signIndex, n, freq, cum, signFreq, signCum, out, room, states);
    if (pushed < 0) return null;
    buf = l.k.memory.buffer;
    const x = new Uint32Array(buf, states, 2);
    return { lowBits: new Uint8Array(buf, low, lowBytes).slice(), pushed: new Uint8Array(buf, out + room - pushed, pushed).slice(), x0: x[0]!, x1: x[1]! };
  };
}

/** What rans.ts's decoder has read before the codes: the data's bytes and positions, the tables and slot lookups. */
export interface RansDecodeInput {
  buf: Uint8Array;
  /** the two states' 8 bytes, then the renormalisation bytes to dataEnd */
  dataStart: number;
  dataEnd: number;
  lowStart: number;
  lowEnd: number;
  /** per symbol context 24 u16, per sign-top context 8: the ends of the symbols' slot ranges (rans.ts rangeEnds) */
  ends: Uint16Array;
  signEnds: Uint16Array;
  freq: Uint16Array;
  cum: Uint16Array;
  signFreq: Uint16Array;
  signCum: Uint16Array;
  activityLevel: Uint8Array;
}

/**
 * rANS coders 3 and 5's decoding loop (rans.ts decodeBlock) over n codes: the codes, or an error where the reference
 * throws (its messages: the caller runs it again), or -1 where the memory cannot grow. x0, x1 and bytesRead for the
 * caller's end-of-data check.
 */
export function ransDecodeKernel(): ((d: RansDecodeInput, x0: number, x1: number, radius: number, n: number, lines: DecodeLines | null, into?: Uint32Array) => Decoded & { x0: number; x1: number }) | null {
  const l = layout();
  if (!l) return null;
  return (d, x0, x1, radius, n, lines, into) => {
    const at = stage(l, [
      d.buf.subarray(d.dataStart + 8, d.dataEnd), d.buf.subarray(d.lowStart, d.lowEnd), d.ends, d.signEnds, d.freq, d.cum, d.signFreq, d.signCum, d.activityLevel, 4 * n, 12,
      lines?.starts ?? 0, lines?.lines ?? 0, lines ? n : 0,
    ]);
    if (!at) return { ...CANNOT_GROW, x0: 0, x1: 0 };
    const [data, low, ends, signEnds, freq, cum, signFreq, signCum, levels, out, states, starts, lineLens, info] = at as number[] as [
      number, number, number, number, number, number, number, number, number, number, number, number, number, number,
    ];
    const error = l.k.ransDecode(
      x0, x1, data, d.dataEnd - d.dataStart - 8, low, d.lowEnd - d.lowStart, ends, signEnds, freq, cum, signFreq, signCum, radius, out, n, levels,
      starts, lineLens, lines ? lines.starts.length : 0, states, info,
    );
    const st = new Uint32Array(l.k.memory.buffer, states, 3);
    let codes: Uint32Array | null = null;
    if (!error) {
      const view = new Uint32Array(l.k.memory.buffer, out, n);
      codes = into ? (into.set(view), into) : view.slice();
    }
    return { codes, error, bytesRead: st[2]!, x0: st[0]!, x1: st[1]! };
  };
}

/** The quantizer a predictor's encoder kernel runs: quantizer.ts's LinearQuantizer or grid.ts's GridQuantizer. */
export interface KernelQuantizer {
  /** the linear quantizer's bound */
  bound: number;
  /** the grid quantizer's half width (its values are grid indices); -1: the linear quantizer */
  gridHalf: number;
  radius: number;
  /** reconstructions rounded to float32 (linear) */
  f32: boolean;
  /**
   * the grid quantizer's indices mapped to the values they stand for (grid.ts fromGridIndices) into `into` by the
   * decoder kernels, where no point is skipped (Recovered's `mapped` says so), rather than written as indices
   */
  values?: { offset: number; step: number; into: Float32Array | Float64Array };
}

/** A predictor's encoder input (interp.ts's and lorenzo.ts's run). */
export interface PredictorInput {
  x: Float32Array | Float64Array;
  /** 1 = skipped (no code) */
  skip: Uint8Array | null;
  quantizer: KernelQuantizer;
}

/** What a predictor's encoder kernel gives: views of the module's memory, valid until its next call. */
export interface QuantizedCodes {
  codes: Uint32Array;
  escapes: Float64Array;
  /** how many codes are zero residuals (equal to the radius) */
  zeros: number;
}

/** Room for escapes: one in 16 points (real fields escape far fewer); more makes the kernel's caller run the reference. */
const escapeRoom = (n: number) => (n >>> 4) + 16;

/**
 * Stages a predictor kernel's input and room (`work`: its reconstructions' bytes) and runs it; null where the memory
 * cannot grow or the escapes overflow their room.
 */
function quantizeIn(l: Layout, x: Float32Array | Float64Array, skip: Uint8Array | null, params: ArrayBufferView, work: number, call: (input: number, skip: number, params: number, work: number, codes: number, escapes: number, room: number, counts: number) => number): QuantizedCodes | null {
  const n = x.length;
  if (n === 0 || n > KERNEL_MAX_CODES || !skipCovers(skip, n)) return null;
  const room = escapeRoom(n);
  const at = stage(l, [x, skip ?? 0, params, work, 4 * n, 8 * room, 16]);
  if (!at) return null;
  const [input, skipAt, paramsAt, workAt, codes, escapes, counts] = at as [number, number, number, number, number, number, number];
  const nCodes = call(input, skip ? skipAt : 0, paramsAt, workAt, codes, escapes, room, counts);
  const buf = l.k.memory.buffer;
  const [nEscapes, zeros] = new Int32Array(buf, counts, 2) as unknown as [number, number];
  if (nEscapes > room) return null;
  return { codes: new Uint32Array(buf, codes, nCodes), escapes: new Float64Array(buf, escapes, nEscapes), zeros };
}

/** Whether a skip array has a byte for each of n points (the reference reads a missing one as not skipped) */
function skipCovers(skip: Uint8Array | null, n: number): boolean {
  return skip === null || skip.length >= n;
}

/** Whether the shape has exactly n points (the kernels walk the shape and write within n) */
function covers(shape: readonly number[], n: number): boolean {
  return shape.every((d) => Number.isInteger(d) && d >= 1) && shape.reduce((a, d) => a * d, 1) === n;
}

/** The interpolation predictor's shape (padded to 4D) and level factors as its kernels read them: 4 i32, then f64s. */
function interpParams(shape4: readonly number[], factors: Float64Array | null): Float64Array {
  // the factors after the shape's 4 i32 (16 bytes, so 8-aligned)
  const params = new Float64Array(2 + (factors?.length ?? 0));
  new Int32Array(params.buffer, 0, 4).set(shape4);
  if (factors) params.set(factors, 2);
  return params;
}

/** The Lorenzo predictor's shape as its kernels read it (i32 x 4), and its padded reconstructions' bytes. */
function lorenzoParams(shape: readonly number[]): { sh: Int32Array; work: number } {
  const padded = shape.reduce((a, d) => a * (d + 1), 1);
  return { sh: Int32Array.from({ length: 4 }, (_, d) => shape[d] ?? 1), work: shape.length === 1 ? 0 : 8 * padded };
}

/** The interpolation predictor's layout and level-dependent bounds. */
interface InterpLayout {
  /** the shape padded to 4D */
  shape4: readonly number[];
  cubic: boolean;
  /** the quantizer's factor per level lv at index lv, the first point's at 0; null without level-dependent bounds */
  factors: Float64Array | null;
}

/** The interpolation encoder, or null where WebAssembly is missing. */
export function interpQuantizeKernel(): ((input: PredictorInput & InterpLayout) => QuantizedCodes | null) | null {
  const l = layout();
  if (!l) return null;
  return ({ x, skip, shape4, cubic, factors, quantizer: { bound, gridHalf, radius, f32 } }) => {
    if (!covers(shape4, x.length)) return null;
    const inPlace = reconstructionsInPlace(x, skip, gridHalf, f32);
    return quantizeIn(l, x, skip, interpParams(shape4, factors), inPlace ? 0 : 8 * x.length, (input, skipAt, at, R, codes, escapes, room, counts) =>
      l.k.interpQuantize(input, x instanceof Float32Array ? 1 : 0, skipAt, at, cubic ? 1 : 0, factors ? at + 16 : 0, bound, gridHalf, radius, f32 ? 1 : 0, inPlace ? input : R, codes, escapes, room, counts));
  };
}

/**
 * Whether the interpolation kernels keep their reconstructions in the values' own copy (the input an encoder
 * overwrites, the output a decoder writes): their float32 walk, float32 values with nothing skipped on the linear
 * quantizer, where each point is read once, before its reconstruction replaces it, and a decoder's output is that
 * reconstruction. No separate field-sized array then (a 1.4 M-value chunk: 5.5 MB the walk does not touch).
 */
function reconstructionsInPlace(values: Float32Array | Float64Array, skip: Uint8Array | null, gridHalf: number, f32: boolean): boolean {
  return values instanceof Float32Array && skip === null && gridHalf < 0 && f32;
}

/** The Lorenzo encoder of 1-4 dims, or null where WebAssembly is missing. */
export function lorenzoQuantizeKernel(): ((input: PredictorInput & { shape: readonly number[] }) => QuantizedCodes | null) | null {
  const l = layout();
  if (!l) return null;
  return ({ x, skip, shape, quantizer: { bound, gridHalf, radius, f32 } }) => {
    if (shape.length < 1 || shape.length > 4 || !covers(shape, x.length)) return null;
    const { sh, work } = lorenzoParams(shape);
    return quantizeIn(l, x, skip, sh, work, (input, skipAt, at, P, codes, escapes, room, counts) =>
      l.k.lorenzoQuantize(input, x instanceof Float32Array ? 1 : 0, skipAt, shape.length, at, bound, gridHalf, radius, f32 ? 1 : 0, P, codes, escapes, room, counts));
  };
}

/** The dual-quantization Lorenzo encoder of 1-4 dims (dq-lorenzo.ts with a linear quantizer), or null where WebAssembly is missing. */
export function dqLorenzoQuantizeKernel(): ((input: PredictorInput & { shape: readonly number[] }) => QuantizedCodes | null) | null {
  const l = layout();
  if (!l) return null;
  return ({ x, skip, shape, quantizer: { bound, gridHalf, radius, f32 } }) => {
    if (gridHalf >= 0 || shape.length < 1 || shape.length > 4 || !covers(shape, x.length)) return null;
    const { sh, work } = lorenzoParams(shape);
    return quantizeIn(l, x, skip, sh, work, (input, skipAt, at, P, codes, escapes, room, counts) =>
      l.k.dqLorenzoQuantize(input, x instanceof Float32Array ? 1 : 0, skipAt, shape.length, at, bound, radius, f32 ? 1 : 0, P, codes, escapes, room, counts));
  };
}

/** A predictor decoder's input: the output (its skipped points are left as they are), the codes and escapes to read. */
export interface RecoverInput {
  out: Float32Array | Float64Array;
  skip: Uint8Array | null;
  quantizer: KernelQuantizer;
  codes: Uint32Array;
  escapes: Float64Array;
}

/**
 * How many codes and escapes a decoder kernel read, and whether it wrote the values into the quantizer's `values`
 * (else the output holds the reconstructions); null where it could not run or ran past them.
 */
export type Recovered = { codes: number; escapes: number; mapped: boolean } | null;

/** Stages a decoder kernel's output (where points are skipped: they keep their values), codes and escapes, runs it, and copies the output back. */
function recoverIn(l: Layout, { out, skip, codes, escapes, quantizer }: RecoverInput, params: ArrayBufferView, work: number, call: (out: number, skip: number, params: number, work: number, codes: number, escapes: number, counts: number) => number): Recovered {
  if (out.length === 0 || out.length > KERNEL_MAX_CODES || !skipCovers(skip, out.length)) return null;
  // without skipped points the kernel writes every point: room for the output, not a copy of it
  const at = stage(l, [skip ? out : out.byteLength, skip ?? 0, params, work, codes, escapes, 16]);
  if (!at) return null;
  const [outAt, skipAt, paramsAt, workAt, codesAt, escapesAt, counts] = at as [number, number, number, number, number, number, number];
  if (call(outAt, skip ? skipAt : 0, paramsAt, workAt, codesAt, escapesAt, counts) !== 0) return null;
  const values = skip === null && out instanceof Float64Array && quantizer.values?.into.length === out.length ? quantizer.values : null;
  if (values) l.k.gridValues(outAt, out.length, values.offset, values.step, values.into instanceof Float32Array ? 1 : 0);
  const buf = l.k.memory.buffer;
  const into = values?.into ?? out;
  into.set(into instanceof Float32Array ? new Float32Array(buf, outAt, into.length) : new Float64Array(buf, outAt, into.length));
  const read = new Int32Array(buf, counts, 2);
  return { codes: read[0]!, escapes: read[1]!, mapped: values !== null };
}

/** The interpolation decoder (interpRecover), or null where WebAssembly is missing. */
export function interpRecoverKernel(): ((input: RecoverInput & InterpLayout) => Recovered) | null {
  const l = layout();
  if (!l) return null;
  return (input) => {
    const { out, skip, shape4, cubic, factors, codes, escapes, quantizer: { bound, gridHalf, radius, f32 } } = input;
    if (!covers(shape4, out.length)) return null;
    const inPlace = reconstructionsInPlace(out, skip, gridHalf, f32);
    return recoverIn(l, input, interpParams(shape4, factors), inPlace ? 0 : 8 * out.length, (outAt, skipAt, at, R, codesAt, escapesAt, counts) =>
      l.k.interpRecover(outAt, out instanceof Float32Array ? 1 : 0, skipAt, at, cubic ? 1 : 0, factors ? at + 16 : 0, bound, gridHalf, radius, f32 ? 1 : 0, inPlace ? outAt : R, codesAt, codes.length, escapesAt, escapes.length, counts));
  };
}

/** The Lorenzo decoder of 1-4 dims (lorenzoRecover), or null where WebAssembly is missing. */
export function lorenzoRecoverKernel(): ((input: RecoverInput & { shape: readonly number[] }) => Recovered) | null {
  const l = layout();
  if (!l) return null;
  return (input) => {
    const { out, shape, codes, escapes, quantizer: { bound, gridHalf, radius, f32 } } = input;
    if (shape.length < 1 || shape.length > 4 || !covers(shape, out.length)) return null;
    const { sh, work } = lorenzoParams(shape);
    return recoverIn(l, input, sh, work, (outAt, skipAt, at, P, codesAt, escapesAt, counts) =>
      l.k.lorenzoRecover(outAt, out instanceof Float32Array ? 1 : 0, skipAt, shape.length, at, bound, gridHalf, radius, f32 ? 1 : 0, P, codesAt, codes.length, escapesAt, escapes.length, counts));
  };
}

/** Room for the indices of points off the grid: one in 16 (a grid was chosen because almost all points lie on it). */
const offGridRoom = (n: number) => (n >>> 4) + 16;

/**
 * toGridIndices's loop (grid.ts): the indices into k (every point written, 0 where skipped or off the grid) and the
 * points off the grid, in order; null where WebAssembly is missing, the memory cannot grow or more than one point
 * in 16 is off the grid (the caller runs the reference).
 */
export function gridIndicesKernel(): ((x: Float32Array | Float64Array, skip: Uint8Array | null, grid: { offset: number; step: number; tolerance: number }, f32: boolean, k: Float64Array) => number[] | null) | null {
  const l = layout();
  if (!l) return null;
  return (x, skip, { offset, step, tolerance }, f32, k) => {
    const n = x.length;
    if (n > KERNEL_MAX_CODES || k.length < n || !skipCovers(skip, n)) return null;
    const room = offGridRoom(n);
    const at = stage(l, [x, skip ?? 0, 8 * n, 4 * room]);
    if (!at) return null;
    const [input, skipAt, kAt, offAt] = at as [number, number, number, number];
    const nOff = l.k.gridIndices(input, x instanceof Float32Array ? 1 : 0, skip ? skipAt : 0, n, offset, step, tolerance, f32 ? 1 : 0, kAt, offAt, room);
    if (nOff > room) return null;
    const buf = l.k.memory.buffer;
    k.set(new Float64Array(buf, kAt, n));
    return Array.from(new Int32Array(buf, offAt, nOff));
  };
}

/** Values copied into the module per finiteRange call: 512 KiB at most, so they stay in the caches */
const RANGE_BLOCK = 1 << 16;

/**
 * bound.ts finiteRange (min and max of the finite values, and their count) block by block in the module; null where
 * WebAssembly is missing, and the function returns null where the memory cannot grow (the caller runs the reference).
 */
export function finiteRangeKernel(): ((values: Float32Array | Float64Array) => { min: number; max: number; count: number } | null) | null {
  const l = layout();
  if (!l) return null;
  return (values) => {
    const f32 = values instanceof Float32Array;
    const at = stage(l, [16, RANGE_BLOCK * values.BYTES_PER_ELEMENT]);
    if (!at) return null;
    const [out, input] = at as [number, number];
    const buf = l.k.memory.buffer;
    const block = f32 ? new Float32Array(buf, input, RANGE_BLOCK) : new Float64Array(buf, input, RANGE_BLOCK);
    const ends = new Float64Array(buf, out, 2);
    let min = Infinity;
    let max = -Infinity;
    let count = 0;
    for (let i = 0; i < values.length; i += RANGE_BLOCK) {
      const part = values.subarray(i, i + RANGE_BLOCK);
      block.set(part);
      const finite = l.k.finiteRange(input, part.length, f32 ? 1 : 0, out);
      if (!finite) continue;
      count += finite;
      if (ends[0]! < min) min = ends[0]!;
      if (ends[1]! > max) max = ends[1]!;
    }
    if (!count) return { min: 0, max: 0, count: 0 };
    // the reference keeps the first of equal values: a zero end is the first zero, whichever its sign
    if (min === 0) min = firstValidZero(values, null);
    if (max === 0) max = firstValidZero(values, null);
    return { min, max, count };
  };
}

/** Codes copied into the module per countCode call (256 KiB, in the caches). */
const COUNT_BLOCK = 1 << 16;

/** What maskedScanKernel finds in a masked field (its pass, maskedScan in wasm/codec-kernels.ts, over every block). */
export interface MaskedScan {
  /** the valid finite values' range and count (bound.ts validRange) */
  min: number;
  max: number;
  count: number;
  /** valid values that are not finite, masked values that are not the fill */
  nonfinite: number;
  notFill: number;
  /** 1 where masked (filled only when asked for) */
  skip: Uint8Array | null;
}

/**
 * A masked field's valid range and exception counts block by block in the module (and the skip array where `withSkip`);
 * null where WebAssembly is missing, and the function returns null where the memory cannot grow.
 */
export function maskedScanKernel(): ((values: Float32Array | Float64Array, mask: Uint8Array, fill: number | null, withSkip: boolean) => MaskedScan | null) | null {
  const l = layout();
  if (!l) return null;
  return (values, mask, fill, withSkip) => {
    const f32 = values instanceof Float32Array;
    const at = stage(l, [24, RANGE_BLOCK * values.BYTES_PER_ELEMENT, RANGE_BLOCK, RANGE_BLOCK]);
    if (!at) return null;
    const [out, input, maskAt, skipAt] = at as [number, number, number, number];
    const buf = l.k.memory.buffer;
    const block = f32 ? new Float32Array(buf, input, RANGE_BLOCK) : new Float64Array(buf, input, RANGE_BLOCK);
    const maskBlock = new Uint8Array(buf, maskAt, RANGE_BLOCK);
    const skipBlock = new Uint8Array(buf, skipAt, RANGE_BLOCK);
    const ends = new Float64Array(buf, out, 2);
    const counts = new Int32Array(buf, out + 16, 2);
    const skip = withSkip ? new Uint8Array(values.length) : null;
    const r: MaskedScan = { min: Infinity, max: -Infinity, count: 0, nonfinite: 0, notFill: 0, skip };
    for (let i = 0; i < values.length; i += RANGE_BLOCK) {
      const part = values.subarray(i, i + RANGE_BLOCK);
      block.set(part);
      maskBlock.set(mask.subarray(i, i + RANGE_BLOCK));
      const finite = l.k.maskedScan(input, f32 ? 1 : 0, maskAt, part.length, fill ?? 0, fill === null ? 0 : 1, skipAt, out);
      skip?.set(skipBlock.subarray(0, part.length), i);
      r.nonfinite += counts[0]!;
      r.notFill += counts[1]!;
      if (!finite) continue;
      r.count += finite;
      // an earlier block's end wins a tie, as in the reference's one pass
      if (ends[0]! < r.min) r.min = ends[0]!;
      if (ends[1]! > r.max) r.max = ends[1]!;
    }
    if (!r.count) return Object.assign(r, { min: 0, max: 0 });
    // the lanes do not know which zero came first: a zero end is the first valid zero, as the reference's pass keeps it
    if (r.min === 0) r.min = firstValidZero(values, mask);
    if (r.max === 0) r.max = firstValidZero(values, mask);
    return r;
  };
}

/**
 * The first valid value equal to 0 (+0 or -0; mask null: every value valid), where there is one, else 0: the sign the
 * references' pass gives a zero end of a range, which SIMD lanes lose
 */
function firstValidZero(values: Float32Array | Float64Array, mask: Uint8Array | null): number {
  for (let i = 0; i < values.length; i++) if ((mask === null || mask[i] !== 0) && values[i] === 0) return values[i]!;
  return 0;
}

/** What errorSumsKernel carries from block to block: ErrorAccumulator's running sums and counts. */
export interface ErrorSums {
  min: number;
  max: number;
  maxErr: number;
  sse: number;
  count: number;
  over: number;
  /** a valid non-finite value was not given back exactly */
  inexact: boolean;
}

/**
 * metrics ErrorAccumulator.add's loop in the module, block by block, continuing `sums` (the same doubles: the sums
 * run in index order); null where WebAssembly is missing, and the function returns false where the memory cannot
 * grow (sums untouched).
 */
export function errorSumsKernel(): ((orig: Float32Array | Float64Array, recon: Float32Array | Float64Array, mask: Uint8Array | null, bound: number, sums: ErrorSums) => boolean) | null {
  const l = layout();
  if (!l) return null;
  return (orig, recon, mask, bound, sums) => {
    const at = stage(l, [48, RANGE_BLOCK * orig.BYTES_PER_ELEMENT, RANGE_BLOCK * recon.BYTES_PER_ELEMENT, mask ? RANGE_BLOCK : 0]);
    if (!at) return false;
    const [out, origAt, reconAt, maskAt] = at as [number, number, number, number];
    const buf = l.k.memory.buffer;
    const block = <T extends Float32Array | Float64Array>(a: T, p: number): T => (a instanceof Float32Array ? new Float32Array(buf, p, RANGE_BLOCK) : new Float64Array(buf, p, RANGE_BLOCK)) as T;
    const origBlock = block(orig, origAt);
    const reconBlock = block(recon, reconAt);
    const maskBlock = mask && new Uint8Array(buf, maskAt, RANGE_BLOCK);
    const acc = new Float64Array(buf, out, 4);
    const counts = new Int32Array(buf, out + 32, 3);
    acc.set([sums.min, sums.max, sums.maxErr, sums.sse]);
    let count = 0;
    let over = 0;
    let inexact = false;
    for (let i = 0; i < orig.length; i += RANGE_BLOCK) {
      const part = orig.subarray(i, i + RANGE_BLOCK);
      origBlock.set(part);
      reconBlock.set(recon.subarray(i, i + part.length));
      maskBlock?.set(mask!.subarray(i, i + part.length));
      l.k.errorSums(origAt, orig instanceof Float32Array ? 1 : 0, reconAt, recon instanceof Float32Array ? 1 : 0, mask ? maskAt : 0, part.length, bound, out);
      count += counts[0]!;
      over += counts[1]!;
      inexact ||= counts[2] === 1;
    }
    Object.assign(sums, { min: acc[0]!, max: acc[1]!, maxErr: acc[2]!, sse: acc[3]!, count: sums.count + count, over: sums.over + over, inexact: sums.inexact || inexact });
    return true;
  };
}

/**
 * How many of `codes` equal c, counted in the module block by block (a decoder's escape codes: 2.5 times faster than
 * the loop over a large chunk's codes); null where WebAssembly is missing (the caller counts them itself).
 */
export function countCodeKernel(): ((codes: Uint32Array, c: number) => number | null) | null {
  const l = layout();
  if (!l) return null;
  return (codes, c) => {
    const at = stage(l, [4 * Math.min(codes.length, COUNT_BLOCK)]);
    if (!at) return null;
    const block = new Uint32Array(l.k.memory.buffer, at[0]!, Math.min(codes.length, COUNT_BLOCK));
    let count = 0;
    for (let i = 0; i < codes.length; i += COUNT_BLOCK) {
      const part = codes.subarray(i, i + COUNT_BLOCK);
      block.set(part);
      count += l.k.countCode(at[0]!, part.length, c);
    }
    return count;
  };
}

/**
 * axes.ts reverseAxes in the module: `src` (C order, `shape`) with its axes in reverse order into `dst`, each element
 * copied bit for bit; null where WebAssembly is missing, and the function returns null for a shape of other than 1 to
 * 4 dims, where the memory cannot grow or where the array is longer than the predictor kernels take (KERNEL_MAX_CODES:
 * a chunk made larger with chunkValues would grow the module's memory by twice its size for good): the caller runs
 * the reference (which refuses other dims).
 */
export function reverseAxesKernel(): (<T extends Float32Array | Float64Array | Uint8Array>(src: T, shape: readonly number[], dst: T) => T | null) | null {
  const l = layout();
  if (!l) return null;
  return (src, shape, dst) => {
    const n = src.length;
    if (n > KERNEL_MAX_CODES || shape.length < 1 || shape.length > 4) return null;
    const at = stage(l, [src, src.byteLength, new Int32Array(shape)]);
    if (!at) return null;
    const [input, output, sh] = at as [number, number, number];
    l.k.reverseAxes(input, output, src.BYTES_PER_ELEMENT, shape.length, sh);
    const buf = l.k.memory.buffer;
    dst.set(src instanceof Float32Array ? new Float32Array(buf, output, n) : src instanceof Float64Array ? new Float64Array(buf, output, n) : new Uint8Array(buf, output, n));
    return dst;
  };
}

/**
 * stats/sort.ts sortFloat64 in the module: `values` sorted in place in TypedArray order; null where WebAssembly is
 * missing, and the function returns false where the memory cannot grow or there are more than KERNEL_MAX_CODES values
 * (the caller runs the reference).
 */
export function sortFloat64Kernel(): ((values: Float64Array) => boolean) | null {
  const l = layout();
  if (!l) return null;
  return (values) => {
    if (values.length > KERNEL_MAX_CODES) return false;
    const at = stage(l, [values, values.byteLength, 256 * 4]);
    if (!at) return false;
    const [x, tmp, counts] = at as [number, number, number];
    l.k.sortFloat64(x, values.length, tmp, counts);
    values.set(new Float64Array(l.k.memory.buffer, x, values.length));
    return true;
  };
}
