/**
 * Multi-symbol adaptive range coder for quantization codes (entropy coder id 2, format v2).
 *
 * The binary coder of rangecoder.ts spends about a dozen binary decisions per value at small bounds and has a
 * cost floor of ~0.02 bit per zero residual (11-bit probabilities). This one codes, per value:
 *   - one symbol of an 18-letter alphabet (0 = zero residual, 1 + k = |v| in [2^k, 2^(k+1)), 17 = escape) with
 *     adaptive frequency counts in a context chosen from the two previous symbols, or, inside a run of zeros,
 *     from the run length (so long zero runs cost ~0.001 bit per value);
 *   - for non-zero residuals, a sign bit and the top mantissa bit (adaptive binary), then the k - 1 low mantissa
 *     bits as direct (equiprobable) bits in one step.
 * So about four coding steps per value instead of twelve, and a far lower floor at large bounds.
 * Range coder arithmetic: LZMA's (32-bit range, carry through a cache byte), exact in doubles.
 */
import { FieldpackError } from '../errors.ts';
import type { ByteReader, ByteWriter } from './bytes.ts';
import { KERNEL_MAX_CODES, msCostKernel, msCostLinesKernel, msDecodeKernel, msEncodeKernel } from './wasm-kernels.ts';

const TOP = 16777216; // 2^24
const NSYM = 18;
const ESC_SYM = 17;
/** symbol contexts: 8 x 3 from the previous two symbols, plus 6 run-length buckets */
const NCTX = 8 * 3 + 6;
const FREQ_INC = 24;
const FREQ_LIMIT = 1 << 16;
const BIT_INIT = 1024;
const BIT_SHIFT = 5;
/** adaptation shift by how often a context was used: fast while it learns, slow (precise) once it has */
/**
 * Codes per call of the block functions (encodeBlock, decodeBlock, costBlock): V8 compiles a block function whole and
 * keeps it from call to call, where a loop over a whole chunk was compiled mid-loop on every call and dropped at its end.
 */
const BLOCK = 4096;
const RATE = new Uint8Array(256);
for (let c = 0; c < 256; c++) RATE[c] = c < 2 ? 2 : c < 6 ? 3 : c < 14 ? 4 : c < 30 ? 5 : c < 62 ? 6 : 7;

/** fine class of a symbol for the first context dimension (0 zero, 1..6 classes 0..5, 7 larger or escape) */
const FINE = new Uint8Array(NSYM);
/** coarse class for the second (0 zero, 1 |v| < 4, 2 larger or escape) */
const COARSE = new Uint8Array(NSYM);
for (let s = 0; s < NSYM; s++) {
  FINE[s] = s < 7 ? s : 7;
  COARSE[s] = s === 0 ? 0 : s <= 2 ? 1 : 2;
}

function runBucket(run: number): number {
  // run >= 2 zeros before the current symbol
  return run < 4 ? 0 : run < 8 ? 1 : run < 16 ? 2 : run < 32 ? 3 : run < 128 ? 4 : 5;
}

/**
 * Adaptive symbol frequencies per context, the symbol model of this coder and of ctxcoder.ts: a prior count per
 * symbol, FREQ_INC more per coded symbol, every count of a context halved (rounded up) once its total passes
 * FREQ_LIMIT.
 */
export class SymbolFrequencies {
  readonly freq: Uint32Array;
  readonly total: Uint32Array;
  constructor(contexts: number, readonly nsym: number, prior: (s: number) => number) {
    this.freq = new Uint32Array(contexts * nsym);
    this.total = new Uint32Array(contexts);
    for (let c = 0; c < contexts; c++) {
      let t = 0;
      for (let s = 0; s < nsym; s++) {
        const f = prior(s);
        this.freq[c * nsym + s] = f;
        t += f;
      }
      this.total[c] = t;
    }
  }
  bump(ctx: number, s: number): void {
    const n = this.nsym, base = ctx * n;
    this.freq[base + s]! += FREQ_INC;
    let t = this.total[ctx]! + FREQ_INC;
    if (t > FREQ_LIMIT) {
      t = 0;
      for (let i = 0; i < n; i++) {
        const f = (this.freq[base + i]! + 1) >>> 1;
        this.freq[base + i] = f;
        t += f;
      }
    }
    this.total[ctx] = t;
  }
}

class Tables extends SymbolFrequencies {
  /** coders 2 and 4: previous sign x class (12 used); coder 6: x the line-back code's sign too (36) */
  sign = new Uint16Array(3 * 3 * 4).fill(BIT_INIT);
  /** the top mantissa bit: per class k (coders 2 and 4: 16 used); coder 6: x upRelation (80) */
  mant = new Uint16Array(16 * 5).fill(BIT_INIT);
  constructor(contexts = NCTX) {
    // a mild prior: zero and small classes likelier, every symbol possible
    super(contexts, NSYM, (s) => (s === ESC_SYM ? 1 : s < 4 ? 8 : 2));
  }
}

/**
 * Where the codes' lines are, for the line context (coder 4): segments of the code array, each a run of lines of
 * `line` codes (an interpolation pass: its points line by line; Lorenzo: rows), so the code `line` places back is
 * the same point of the line before. Segment k covers codes [starts[k], starts[k + 1]) (the last one to the end).
 */
export interface CodeLines {
  starts: Int32Array;
  lines: Int32Array;
}

/** Line contexts: the 24 (previous symbol x the code one line back) and 6 run buckets x (line back zero or not). */
const NCTX_LINES = 8 * 3 + 2 * 6;

/**
 * Per code of [start, end): how far back the code one line back is (0: none, the segment's first line). The
 * segment reached so far is carried in state[at] from block to block.
 */
function fillBack(lines: CodeLines, start: number, end: number, back: Int32Array, state: Int32Array, at = 4): void {
  let k = state[at]!;
  const { starts } = lines;
  for (let i = start; i < end; i++) {
    while (k + 1 < starts.length && i >= starts[k + 1]!) k++;
    const line = lines.lines[k]!;
    back[i - start] = i - starts[k]! >= line ? line : 0;
  }
  state[at] = k;
}

/**
 * Runs `block` over [0, n) a BLOCK at a time, with each block's look-backs (fillBack, its segment carried in
 * state[at]) where `lines` are given (this coder's loops, and rans.ts's).
 */
export function eachBlock(
  n: number, lines: CodeLines | null, state: Int32Array, block: (start: number, end: number, back: Int32Array | null) => void, at = 4,
): void {
  const back = lines ? new Int32Array(BLOCK) : null;
  for (let i = 0; i < n; i += BLOCK) {
    const end = Math.min(n, i + BLOCK);
    if (lines) fillBack(lines, i, end, back!, state, at);
    block(i, end, back);
  }
}

/**
 * The symbol context of code i, the one definition encoder, decoder and cost model share. Coder 2 (`back` null): the
 * previous two symbols, or in a run of 4 or more zeros the run's bucket. Coder 4: the previous symbol and the
 * symbol of the code one line back (`codes`: the codes so far, block from `start`), or the run's bucket x whether
 * that code is zero.
 */
function symbolContext(codes: Uint32Array, i: number, start: number, back: Int32Array | null, radius: number, run: number, s1: number, s2: number): number {
  if (back === null) return run >= 4 ? 24 + runBucket(run) : FINE[s1]! * 3 + COARSE[s2]!;
  const d = back[i - start]!;
  const up = d ? symbolOf(codes[i - d]!, radius) : 0;
  return run >= 4 ? 24 + runBucket(run) + (up ? 6 : 0) : FINE[s1]! * 3 + COARSE[up]!;
}

/** The symbol of a code (0 zero residual, 1 + k for |v| in [2^k, 2^(k+1)), ESC_SYM escape). */
function symbolOf(c: number, radius: number): number {
  if (c === radius) return 0;
  if (c === 0) return ESC_SYM;
  return 32 - Math.clz32(c > radius ? c - radius : radius - c);
}

/** The sign state of code c (0 a zero residual or an escape, 1 negative, 2 positive): what lastSign holds after it. */
export function signState(c: number, radius: number): number {
  return c === radius || c === 0 ? 0 : c > radius ? 2 : 1;
}

/**
 * The sign bit's context of a residual of class k: the previous residual's sign x min(k, 3) (coders 2 and 4), for
 * coder 6 (lineSigns) also x the sign of the code one line back (`up`, `radius` where there is none): residuals of
 * an interpolation pass tend to repeat the sign of the one a line before them.
 */
function signContext(lineSigns: boolean, lastSign: number, up: number, radius: number, k: number): number {
  const kc = k > 3 ? 3 : k;
  return lineSigns ? (lastSign * 3 + signState(up, radius)) * 4 + kc : lastSign * 4 + kc;
}

/**
 * How the code one line back (`up`) relates to a residual of class k, for the top mantissa bit's context: 0 none (a
 * zero, an escape, a pass's first line), 1 a smaller class, 2 or 3 the same class with top bit 0 or 1, 4 a larger
 * class (coders 5 and 6: a residual's magnitude tends to follow the one a line before).
 */
export function upRelation(up: number, radius: number, k: number): number {
  if (up === radius || up === 0) return 0;
  const v = up > radius ? up - radius : radius - up;
  const ku = 31 - Math.clz32(v);
  return ku < k ? 1 : ku > k ? 4 : 2 + (ku >= 1 ? (v >>> (ku - 1)) & 1 : 0);
}


export class Enc {
  out: Uint8Array;
  pos = 0;
  low = 0;
  range = 0xffffffff;
  cache = 0;
  cacheSize = 1;
  constructor(cap: number) {
    this.out = new Uint8Array(Math.max(64, cap));
  }
  shiftLow(): void {
    const low = this.low;
    if (low < 0xff000000 || low >= 4294967296) {
      const carry = low >= 4294967296 ? 1 : 0;
      let temp = this.cache;
      do {
        if (this.pos === this.out.length) {
          const nb = new Uint8Array(this.out.length * 2);
          nb.set(this.out);
          this.out = nb;
        }
        this.out[this.pos++] = (temp + carry) & 0xff;
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (low % TOP) * 256;
  }
  norm(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }
  bit(probs: Uint16Array, i: number, b: number): void {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    if (b === 0) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> BIT_SHIFT);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >>> BIT_SHIFT);
    }
    if (this.range < TOP) this.norm();
  }
  /** 16-bit probability of a 0 in probs[i], adaptation rate from the context's count (fast first, then slow) */
  bit16(probs: Uint16Array, counts: Uint8Array, i: number, b: number): void {
    const p = probs[i]!;
    const c = counts[i]!;
    const sh = RATE[c]!;
    if (c < 255) counts[i] = c + 1;
    const bound = (this.range >>> 16) * p;
    if (b === 0) {
      this.range = bound;
      probs[i] = p + ((65536 - p) >> sh);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >> sh);
    }
    if (probs[i]! < 32) probs[i] = 32;
    else if (probs[i]! > 65504) probs[i] = 65504;
    if (this.range < TOP) this.norm();
  }
  sym(cum: number, f: number, total: number): void {
    const r = Math.floor(this.range / total);
    this.low += r * cum;
    this.range = r * f;
    if (this.range < TOP) this.norm();
  }
  /** m <= 12 equiprobable bits */
  direct(v: number, m: number): void {
    this.range = this.range >>> m;
    this.low += v * this.range;
    if (this.range < TOP) this.norm();
  }
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.out.subarray(0, this.pos);
  }
}

/**
 * Zeros are read past the end of the data, as the encoder's flush implies, but at most 5: reading further means the
 * data ended early (the callers' final check), so it stops there at once rather than decoding on to the count.
 */
export class Dec {
  range = 0xffffffff;
  code = 0;
  pos: number;
  constructor(
    readonly data: Uint8Array,
    start: number,
    readonly end: number,
    readonly what = 'range-coded data',
  ) {
    this.pos = start;
    for (let i = 0; i < 5; i++) this.code = (this.code * 256 + this.next()) % 4294967296;
  }
  next(): number {
    if (this.pos < this.end) return this.data[this.pos++]!;
    if (++this.pos > this.end + 5) throw new FieldpackError('BAD_STREAM', `truncated stream: ${this.what} ends early`);
    return 0;
  }
  norm(): void {
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = ((this.code * 256) >>> 0) + this.next();
    }
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> BIT_SHIFT);
      b = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      probs[i] = p - (p >>> BIT_SHIFT);
      b = 1;
    }
    if (this.range < TOP) this.norm();
    return b;
  }
  bit16(probs: Uint16Array, counts: Uint8Array, i: number): number {
    const p = probs[i]!;
    const c = counts[i]!;
    const sh = RATE[c]!;
    if (c < 255) counts[i] = c + 1;
    const bound = (this.range >>> 16) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((65536 - p) >> sh);
      b = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      probs[i] = p - (p >> sh);
      b = 1;
    }
    if (probs[i]! < 32) probs[i] = 32;
    else if (probs[i]! > 65504) probs[i] = 65504;
    if (this.range < TOP) this.norm();
    return b;
  }
  direct(m: number): number {
    this.range = this.range >>> m;
    let d = Math.floor(this.code / this.range);
    if (d >= 1 << m) d = (1 << m) - 1;
    this.code -= d * this.range;
    if (this.range < TOP) this.norm();
    return d;
  }
}

/** Writes varint n, then the coded block (msDecodeCodes reads both). */
export function msEncodeCodes(codes: Uint32Array, n: number, radius: number, w: ByteWriter, lines: CodeLines | null = null, lineSigns = false): void {
  w.varint(n);
  msEncodeCodesBare(codes, n, radius, w, lines, 'fast', lineSigns);
}

/** `expected`: the number of codes the caller needs (checked before anything is allocated from the stream's count). */
export function msDecodeCodes(rd: ByteReader, radius: number, expected?: number, lines: CodeLines | null = null, lineSigns = false, into?: Uint32Array): Uint32Array {
  const n = rd.varint('symbol count');
  if (expected !== undefined && n !== expected) throw new FieldpackError('BAD_STREAM', `corrupted stream: ${rd.what} has ${n} range-coded symbols, expected ${expected}`);
  return msDecodeCodesBare(rd, radius, n, lines, 'fast', into, lineSigns);
}

/**
 * The coded block only, without the count (the classic codec's v2 chunks: the decoder knows n). `path` 'fast': the
 * same loop compiled to WebAssembly (wasm-kernels.ts; the same bytes) where the engine has it, else the reference.
 */
export function msEncodeCodesBare(
  codes: Uint32Array, n: number, radius: number, w: ByteWriter, lines: CodeLines | null = null, path: 'fast' | 'reference' = 'fast', lineSigns = false,
): void {
  if (lineSigns && !lines) throw new FieldpackError('INTERNAL', 'the multi-symbol coder: line signs without lines');
  const kernel = path === 'fast' && n <= KERNEL_MAX_CODES ? msEncodeKernel() : null;
  const coded = kernel?.(codes, n, radius, new Tables(lines ? NCTX_LINES : NCTX), lines, lineSigns);
  if (coded) {
    w.block(coded);
    return;
  }
  const enc = new Enc(n >>> 2);
  const t = new Tables(lines ? NCTX_LINES : NCTX);
  // previous two symbols, zero run, last sign, line segment: carried between blocks (BLOCK)
  const state = new Int32Array(5);
  eachBlock(n, lines, state, (start, end, back) => encodeBlock(codes, start, end, radius, enc, t, state, back, lineSigns));
  w.block(enc.finish());
}

/**
 * One block of codes. Symbol context: the previous two symbols (coder 2), or with `back` (coder 4, line context)
 * the previous symbol and the symbol one line back; inside a run of 4 or more zeros the run's length (and for
 * coder 4 whether the code one line back is zero).
 */
function encodeBlock(
  codes: Uint32Array, start: number, end: number, radius: number, enc: Enc, t: Tables, state: Int32Array, back: Int32Array | null, lineSigns: boolean,
): void {
  const freq = t.freq;
  const totals = t.total;
  let s1 = state[0]!;
  let s2 = state[1]!;
  let run = state[2]!;
  let lastSign = state[3]!;
  for (let i = start; i < end; i++) {
    const c = codes[i]!;
    let s: number;
    let v = 0;
    let k = 0;
    if (c === radius) s = 0;
    else if (c === 0) s = ESC_SYM;
    else {
      v = c > radius ? c - radius : radius - c;
      k = 31 - Math.clz32(v);
      s = 1 + k;
    }
    const ctx = symbolContext(codes, i, start, back, radius, run, s1, s2);
    const base = ctx * NSYM;
    let cum = 0;
    for (let j = 0; j < s; j++) cum += freq[base + j]!;
    enc.sym(cum, freq[base + s]!, totals[ctx]!);
    t.bump(ctx, s);
    if (s === 0) lastSign = 0;
    else if (s !== ESC_SYM) {
      const sg = c > radius ? 1 : 0;
      const d = back === null ? 0 : back[i - start]!;
      const up = d ? codes[i - d]! : radius;
      enc.bit(t.sign, signContext(lineSigns, lastSign, up, radius, k), sg);
      lastSign = 1 + sg;
      if (k >= 1) {
        enc.bit(t.mant, lineSigns ? k * 5 + upRelation(up, radius, k) : k, (v >>> (k - 1)) & 1);
        let nb = k - 1;
        while (nb > 0) {
          const m = nb > 12 ? 12 : nb;
          nb -= m;
          enc.direct((v >>> nb) & ((1 << m) - 1), m);
        }
      }
    }
    run = s === 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  state[0] = s1;
  state[1] = s2;
  state[2] = run;
  state[3] = lastSign;
}

/**
 * Most symbols `len` bytes of this coder can hold. A symbol's frequency never exceeds its context's total less the
 * 17 others' (each >= 1, FREQ_LIMIT 2^16), so every symbol costs >= -log2(1 - 17/2^16) = 3.7e-4 bit: n symbols need
 * at least n / 21,380 bytes (the decoder may read 5 past the end). Twice that margin, checked before allocating.
 */
export function msMaxSymbols(len: number): number {
  return 32768 * (len + 16);
}

/**
 * n: the number of codes (the decoder knows it from the chunk: valid points). `path` 'fast': the same loop compiled to
 * WebAssembly (wasm-kernels.ts; same codes, same failures) where the engine has it, else the reference. `into`: n codes
 * of the caller's memory to decode into (returned), else a new array.
 */
export function msDecodeCodesBare(
  rd: ByteReader, radius: number, n: number, lines: CodeLines | null = null, path: 'fast' | 'reference' = 'fast', into?: Uint32Array, lineSigns = false,
): Uint32Array {
  if (lineSigns && !lines) throw new FieldpackError('INTERNAL', 'the multi-symbol coder: line signs without lines');
  const len = rd.varint('range coder length');
  rd.need(len, 'range coder data');
  if (n > msMaxSymbols(len)) throw new FieldpackError('BAD_STREAM', `truncated stream: ${len} bytes of range-coded data in ${rd.what} cannot hold ${n} codes`);
  const start = rd.pos;
  rd.pos += len;
  const ends = () => new FieldpackError('BAD_STREAM', `truncated stream: range-coded data in ${rd.what} ends early`);
  const beyond = () => new FieldpackError('BAD_STREAM', `corrupted stream: range-coded residual out of range in ${rd.what}`);
  const kernel = path === 'fast' && n <= KERNEL_MAX_CODES ? msDecodeKernel() : null;
  if (kernel) {
    const r = kernel(rd.buf.subarray(start, start + len), len, n, radius, new Tables(lines ? NCTX_LINES : NCTX), lines, lineSigns, into);
    if (r.error === 1 || r.bytesRead > len + 5) throw ends();
    if (r.error === 2) throw beyond();
    if (r.codes) return r.codes;
  }
  const dec = new Dec(rd.buf, start, start + len, `range-coded data in ${rd.what}`);
  const out = into ?? new Uint32Array(n);
  const t = new Tables(lines ? NCTX_LINES : NCTX);
  const state = new Int32Array(5);
  eachBlock(n, lines, state, (start, end, back) => decodeBlock(dec, out, start, end, radius, t, state, back, lineSigns, beyond));
  if (dec.pos > start + len + 5) throw ends();
  return out;
}

function decodeBlock(
  dec: Dec, out: Uint32Array, start: number, end: number, radius: number, t: Tables, state: Int32Array, back: Int32Array | null, lineSigns: boolean,
  beyond: () => FieldpackError,
): void {
  const freq = t.freq;
  const totals = t.total;
  let s1 = state[0]!;
  let s2 = state[1]!;
  let run = state[2]!;
  let lastSign = state[3]!;
  for (let i = start; i < end; i++) {
    const ctx = symbolContext(out, i, start, back, radius, run, s1, s2);
    const base = ctx * NSYM;
    const total = totals[ctx]!;
    const r = Math.floor(dec.range / total);
    let target = Math.floor(dec.code / r);
    if (target >= total) target = total - 1;
    let s = 0;
    let cum = 0;
    let f = freq[base]!;
    while (cum + f <= target && s < NSYM - 1) {
      cum += f;
      f = freq[base + ++s]!;
    }
    dec.code -= r * cum;
    dec.range = r * f;
    if (dec.range < TOP) dec.norm();
    t.bump(ctx, s);
    let c: number;
    if (s === 0) {
      c = radius;
      lastSign = 0;
    } else if (s === ESC_SYM) c = 0;
    else {
      const k = s - 1;
      const d = back === null ? 0 : back[i - start]!;
      const up = d ? out[i - d]! : radius;
      const sg = dec.bit(t.sign, signContext(lineSigns, lastSign, up, radius, k));
      lastSign = 1 + sg;
      let v = 1;
      if (k >= 1) {
        v = 2 | dec.bit(t.mant, lineSigns ? k * 5 + upRelation(up, radius, k) : k);
        let nb = k - 1;
        while (nb > 0) {
          const m = nb > 12 ? 12 : nb;
          nb -= m;
          v = v * (1 << m) + dec.direct(m);
        }
      }
      if (v >= radius) throw beyond();
      c = sg ? radius + v : radius - v;
    }
    out[i] = c;
    run = s === 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  state[0] = s1;
  state[1] = s2;
  state[2] = run;
  state[3] = lastSign;
}

/** -log2(i / 65536) for i = 0..65536 (the symbol model's frequencies and totals stay at most 2^16) */
let LOG2_TABLE: Float64Array | null = null;
function log2Table(): Float64Array {
  if (!LOG2_TABLE) {
    LOG2_TABLE = new Float64Array(FREQ_LIMIT + 1);
    for (let i = 1; i <= FREQ_LIMIT; i++) LOG2_TABLE[i] = Math.log2(i);
  }
  return LOG2_TABLE;
}

/**
 * Bytes msEncodeCodesBare would write for these codes (without the block's length prefix), from the same adaptive
 * model's probabilities instead of coding them: the ideal code length, which the range coder meets within a few
 * bytes. About twice as fast as coding (no cumulative frequencies, no renormalisation): planning sizes candidates
 * with it. `fast`: the same loop compiled to WebAssembly (wasm-kernels.ts), same bits, where the engine has it.
 * With `lines`, coder 6's model (the line context and line-back signs), as the classic codec codes a chunk's codes
 * where it knows their lines: coder 2's can misjudge a plan by half (an interpolation whose passes repeat along a
 * smooth axis, reversed).
 */
export function msCostBytes(codes: Uint32Array, n: number, radius: number, path: 'fast' | 'reference' = 'fast', lines: CodeLines | null = null): number {
  const t = new Tables(lines ? NCTX_LINES : NCTX);
  if (path === 'fast' && lines) {
    const bits = msCostLinesKernel(log2Table())?.(codes, n, radius, t, lines, true) ?? null;
    if (bits !== null) return Math.ceil(bits / 8) + 5;
  }
  const kernel = path === 'fast' && !lines ? msCostKernel(log2Table()) : null;
  if (kernel) return Math.ceil(kernel(codes, n, radius, t) / 8) + 5;
  // the running total and the context state in typed arrays, carried between blocks (BLOCK): planning calls this
  // some 17 times per field. The same additions in the same order, so the same total.
  const bits = new Float64Array(1);
  const state = new Int32Array(5);
  eachBlock(n, lines, state, (start, end, back) => costBlock(codes, start, end, radius, t, bits, state, back));
  return Math.ceil(bits[0]! / 8) + 5;
}

/** Whether msCostBytes's `fast` path runs WebAssembly here (else it runs the reference). */
export function msCostIsFast(): boolean {
  return msCostKernel(log2Table()) !== null;
}

/**
 * msCostBytes over codes [start, end): state = previous two symbols, zero run, last sign; with `back` (the line
 * context), coder 6's contexts as encodeBlock takes them with line signs.
 */
function costBlock(codes: Uint32Array, start: number, end: number, radius: number, t: Tables, bits: Float64Array, state: Int32Array, back: Int32Array | null = null): void {
  const L = log2Table();
  const freq = t.freq;
  const totals = t.total;
  const sign = t.sign;
  const mant = t.mant;
  const lineSigns = back !== null;
  let s1 = state[0]!;
  let s2 = state[1]!;
  let run = state[2]!;
  let lastSign = state[3]!;
  for (let i = start; i < end; i++) {
    const c = codes[i]!;
    let s: number;
    let v = 0;
    let k = 0;
    if (c === radius) s = 0;
    else if (c === 0) s = ESC_SYM;
    else {
      v = c > radius ? c - radius : radius - c;
      k = 31 - Math.clz32(v);
      s = 1 + k;
    }
    const ctx = symbolContext(codes, i, start, back, radius, run, s1, s2);
    bits[0] += L[totals[ctx]!]! - L[freq[ctx * NSYM + s]!]!;
    t.bump(ctx, s);
    if (s === 0) lastSign = 0;
    else if (s !== ESC_SYM) {
      const sg = c > radius ? 1 : 0;
      const d = back === null ? 0 : back[i - start]!;
      const up = d ? codes[i - d]! : radius;
      const si = signContext(lineSigns, lastSign, up, radius, k);
      const p = sign[si]!;
      // 11-bit probabilities of a 0, as Enc.bit updates them
      if (sg === 0) {
        bits[0] += 11 - L[p]!;
        sign[si] = p + ((2048 - p) >>> BIT_SHIFT);
      } else {
        bits[0] += 11 - L[2048 - p]!;
        sign[si] = p - (p >>> BIT_SHIFT);
      }
      lastSign = 1 + sg;
      if (k >= 1) {
        const mi = lineSigns ? k * 5 + upRelation(up, radius, k) : k;
        const pm = mant[mi]!;
        if (((v >>> (k - 1)) & 1) === 0) {
          bits[0] += 11 - L[pm]!;
          mant[mi] = pm + ((2048 - pm) >>> BIT_SHIFT);
        } else {
          bits[0] += 11 - L[2048 - pm]!;
          mant[mi] = pm - (pm >>> BIT_SHIFT);
        }
        bits[0] += k - 1;
      }
    }
    run = s === 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  state[0] = s1;
  state[1] = s2;
  state[2] = run;
  state[3] = lastSign;
}
