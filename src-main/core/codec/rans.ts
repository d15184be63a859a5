/**
 * Static-table rANS for quantization codes (entropy coders 3 and 5): the multi-symbol coder's symbols (mscoder.ts)
 * with tables counted in one pass over the chunk and stored in it, so decoding is a table lookup and a
 * multiply-add per symbol instead of adaptive range coding (decoding ~2x faster, encoding ~1.2x on 1M-code
 * chunks).
 *
 * Per value:
 *   - one symbol of the 18-letter alphabet (0 = zero residual, 1 + k = |v| in [2^k, 2^(k+1)), 17 = escape) in a
 *     context from the previous symbol's class and the recent activity (a decaying mean of the symbol index, 12
 *     levels), or, inside a run of four or more zeros, from the run length. A static table cannot adapt within
 *     the chunk, the activity context stands in for that: it separates busy and calm regions. Coder 5 (the line
 *     context, where the decoder knows the codes' lines as for mscoder.ts's coder 4) adds the class of the symbol
 *     one line back (0 on a segment's first line): previous class (8) x that class (8) x activity halved (6
 *     levels), and the run's bucket x whether that symbol is zero. On 0.6-1.4 M-code interpolation chunks it is
 *     about as small as the adaptive coder 4 (-1.45 % to +0.54 % on the bench fields, docs/codecs.md) and as fast;
 *     below ~1.5 bits a code the adaptive coder's finer zero runs win (ransLinesSuits);
 *   - for non-zero residuals, one "sign-top" symbol (sign x top mantissa bit, 4 letters) in a context from the
 *     previous sign and the class (coder 5: and the sign of the code one line back), then the k - 1 low mantissa
 *     bits raw in a separate bit stream.
 *
 * Block layout (after the caller's coder byte; the number of codes is the caller's):
 *   table     varint length + bit-packed tables (below)
 *   low bits  varint length + the low mantissa bits, LSB first, in value order
 *   rANS      varint length + two 32-bit states (big endian) + renormalisation bytes
 * Tables, bit-packed LSB first: for each of the SYMBOL_CONTEXTS symbol contexts (coder 5: LINE_SYMBOL_CONTEXTS),
 * then the SIGN_CONTEXTS sign-top contexts (coder 5: LINE_SIGN_CONTEXTS): 5 bits m (symbols 0..m-1 listed; 0: context unused), then per listed symbol 4 bits b (0: frequency 0)
 * and, for b > 1, min(b - 1, 3) bits below the leading 1 (the frequency's top four bits). The encoder truncates
 * the frequencies so that they sum to at most 2^SCALE_BITS; the first largest symbol of a context gets the rest.
 * Four significant bits keep a table near 7 bits per listed symbol (12-bit frequencies or 11 or 13 change the
 * test fields' sizes by under 0.02 %).
 *
 * rANS (byte-wise, 32-bit state in [2^23, 2^31), SCALE_BITS 12): every intermediate stays below 2^31, so the
 * arithmetic is exact int32 math in JS. Two states: a value's symbol uses state i & 1, its sign-top symbol the
 * other, which lets their dependency chains overlap. The encoder codes the values backwards; the decoder checks
 * that it ends in the encoder's initial states with every byte read, and refuses a table whose frequencies
 * overrun or leave slots unassigned, so any slot decodes to a symbol the table gave a frequency.
 */
import { FieldpackError } from '../errors.ts';
import type { ByteReader, ByteWriter } from './bytes.ts';
import { type CodeLines, eachBlock, signState, upRelation } from './mscoder.ts';
import { scratchTyped } from './scratch.ts';
import { KERNEL_MAX_CODES, type RansTables, ransDecodeKernel, ransEncodeKernel } from './wasm-kernels.ts';

const bad = (msg: string) => new FieldpackError('BAD_STREAM', msg);

const SCALE_BITS = 12;
const SCALE = 1 << SCALE_BITS;
const SLOT_MASK = SCALE - 1;
/** lower bound of a normalised state */
const STATE_LOW = 1 << 23;
/** a state x coding a symbol of frequency f must be below RENORM_UNIT x f (then x / f << SCALE_BITS < 2^31) */
const RENORM_UNIT = (STATE_LOW >>> SCALE_BITS) << 8;
const NSYM = 18;
const ESC_SYM = 17;
const ACTIVITY_LEVELS = 12;
const RUN_BUCKETS = 6;
/** previous symbol's class (8) x activity level (12), then the zero-run buckets */
const SYMBOL_CONTEXTS = 8 * ACTIVITY_LEVELS + RUN_BUCKETS;
const SIGN_SYMS = 4;
/** previous sign (none, +, -) x class min(k, 5) */
const SIGN_CONTEXTS = 3 * 6;
/** coder 5: previous sign x the sign of the code one line back x class min(k, 5) x its relation (upRelation) */
const LINE_SIGN_CONTEXTS = 3 * 3 * 6 * 5;
/** coder 5: previous class (8) x the class one line back (8) x LINE_ACTIVITY_LEVELS, then the zero-run buckets x (line back zero or not) */
const LINE_ACTIVITY_LEVELS = 6;
const LINE_SYMBOL_CONTEXTS = 8 * 8 * LINE_ACTIVITY_LEVELS + 2 * RUN_BUCKETS;
/** a marker in the decoder's slot lookup: the context has no table (the encoder never codes in it) */
const NO_SYMBOL = 255;
/** a marker in the encoder's sign-top indices: a zero or an escape, no sign-top step (coder 5 has 1,080 indices) */
const NO_SIGN = 0xffff;

/** class of a symbol for the context (0 zero, 1..6 classes 0..5, 7 larger or escape): as mscoder.ts's FINE */
const SYMBOL_CLASS = new Uint8Array(NSYM);
for (let s = 0; s < NSYM; s++) SYMBOL_CLASS[s] = s < 7 ? s : 7;

/**
 * Activity: act <- (3 act + 64 x (symbol index, escape counted as 16)) >> 2, a decaying mean of the symbol index
 * in 1/64 steps (below 1024). Its level: how many of these thresholds (16 x 2^(j/2)) it reaches.
 */
const ACTIVITY_LEVEL = new Uint8Array(1024);
{
  const thresholds = [16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512];
  for (let a = 0; a < 1024; a++) {
    let level = 0;
    while (level < thresholds.length && a >= thresholds[level]!) level++;
    ACTIVITY_LEVEL[a] = level;
  }
}
const ACTIVITY_STEP = new Uint16Array(NSYM);
for (let s = 0; s < NSYM; s++) ACTIVITY_STEP[s] = (s === ESC_SYM ? 16 : s) * 64;

/** symbol context after a run of `run` >= 4 zeros, or from the class and the activity */
const RUN_CONTEXT = new Uint8Array(256);
for (let r = 0; r < 256; r++) {
  const bucket = r < 8 ? 0 : r < 16 ? 1 : r < 32 ? 2 : r < 64 ? 3 : r < 128 ? 4 : 5;
  RUN_CONTEXT[r] = 8 * ACTIVITY_LEVELS + bucket;
}

/** coder 5's context after a run of `run` >= 4 zeros (+ 1 where the symbol one line back is not zero) */
const LINE_RUN_CONTEXT = new Uint16Array(256);
for (let r = 0; r < 256; r++) LINE_RUN_CONTEXT[r] = 8 * 8 * LINE_ACTIVITY_LEVELS + 2 * (RUN_CONTEXT[r]! - 8 * ACTIVITY_LEVELS);

/** Symbol and sign-top contexts of a model: coder 3's, or coder 5's (the line context) where lines are given. */
const symbolContexts = (lines: CodeLines | null) => (lines ? LINE_SYMBOL_CONTEXTS : SYMBOL_CONTEXTS);
const signContexts = (lines: CodeLines | null) => (lines ? LINE_SIGN_CONTEXTS : SIGN_CONTEXTS);

/**
 * The sign-top context of a residual of class k (0..15): from the previous residual's sign (lastSign: 0 none since
 * a zero, 1 negative, 2 positive) and min(k, 5); for coder 5 also from the code one line back (`up`, `radius`
 * where there is none): its sign state and how its class and top bit relate (mscoder.ts upRelation). Residuals of
 * an interpolation pass tend to repeat the sign and size of the one a line before them (navy UWND at rel 1e-3:
 * 3.7 % smaller streams from the sign, 0.7 % more from the relation).
 */
function signContextOf(lines: boolean, lastSign: number, up: number, radius: number, k: number): number {
  const kc = k > 5 ? 5 : k;
  return lines ? ((lastSign * 3 + signState(up, radius)) * 6 + kc) * 5 + upRelation(up, radius, k) : lastSign * 6 + kc;
}


/**
 * The symbol context of code i (encoder and decoder alike): coder 3 (`back` null) from the previous symbol's class
 * and the activity, coder 5 with the class of the symbol one line back (`up`, 0 where back[i - start] is 0).
 */
function contextOf(back: Int32Array | null, up: number, prevClass: number, activity: number, run: number): number {
  if (back === null) return run >= 4 ? RUN_CONTEXT[run > 255 ? 255 : run]! : prevClass * ACTIVITY_LEVELS + ACTIVITY_LEVEL[activity]!;
  if (run >= 4) return LINE_RUN_CONTEXT[run > 255 ? 255 : run]! + (up !== 0 ? 1 : 0);
  return (prevClass * 8 + SYMBOL_CLASS[up]!) * LINE_ACTIVITY_LEVELS + (ACTIVITY_LEVEL[activity]! >>> 1);
}

/** The symbol of a code and its magnitude's class k (|v| in [2^k, 2^(k+1))). */
function symbolOf(c: number, radius: number): number {
  if (c === radius) return 0;
  if (c === 0) return ESC_SYM;
  const v = c > radius ? c - radius : radius - c;
  return 32 - Math.clz32(v);
}

/**
 * Frequencies from counts as the table stores them (every counted symbol >= 1, top four bits kept), summing to at
 * most SCALE; assignRemainder completes them. Returns false for an unused context (all counts 0).
 */
function normalise(counts: Uint32Array, base: number, nsym: number, freq: Uint16Array): boolean {
  let total = 0;
  for (let s = 0; s < nsym; s++) total += counts[base + s]!;
  if (total === 0) return false;
  // scaled with the slack every symbol's minimum of 1 takes, so the truncated sum stays <= SCALE
  const room = SCALE - nsym;
  for (let s = 0; s < nsym; s++) {
    const c = counts[base + s]!;
    freq[base + s] = c === 0 ? 0 : truncateFrequency(1 + Math.floor((c * room) / total));
  }
  return true;
}

/** the frequency's four top bits (what the table stores) */
function truncateFrequency(f: number): number {
  const b = 32 - Math.clz32(f);
  return b <= 4 ? f : (f >>> (b - 4)) << (b - 4);
}

/** SCALE less the sum goes to the first largest symbol (encoder and decoder alike); the sum is checked before */
function assignRemainder(freq: Uint16Array, base: number, nsym: number): void {
  let sum = 0;
  let largest = 0;
  for (let s = 0; s < nsym; s++) {
    sum += freq[base + s]!;
    if (freq[base + s]! > freq[base + largest]!) largest = s;
  }
  freq[base + largest] = freq[base + largest]! + SCALE - sum;
}

class BitWriter {
  out: Uint8Array;
  pos = 0;
  acc = 0;
  nbits = 0;
  constructor(cap: number) {
    this.out = new Uint8Array(Math.max(16, cap));
  }
  /** m <= 16 bits */
  put(v: number, m: number): void {
    this.acc |= v << this.nbits;
    this.nbits += m;
    while (this.nbits >= 8) {
      if (this.pos === this.out.length) {
        const grown = new Uint8Array(this.out.length * 2);
        grown.set(this.out);
        this.out = grown;
      }
      this.out[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.nbits -= 8;
    }
  }
  finish(): Uint8Array {
    if (this.nbits > 0) this.put(0, 8 - this.nbits);
    return this.out.subarray(0, this.pos);
  }
}

class BitReader {
  acc = 0;
  nbits = 0;
  constructor(
    readonly data: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly what: string,
  ) {}
  /** m <= 16 bits */
  get(m: number): number {
    while (this.nbits < m) {
      if (this.pos >= this.end) throw bad(`truncated stream: ${this.what} ends early`);
      this.acc |= this.data[this.pos++]! << this.nbits;
      this.nbits += 8;
    }
    const v = this.acc & ((1 << m) - 1);
    this.acc >>>= m;
    this.nbits -= m;
    return v;
  }
}

/** freq: as normalise leaves them (four significant bits), before the remainder */
function writeTables(bits: BitWriter, freq: Uint16Array, used: Uint8Array, contexts: number, nsym: number): void {
  for (let c = 0; c < contexts; c++) {
    const base = c * nsym;
    let m = 0;
    if (used[c]) for (let s = 0; s < nsym; s++) if (freq[base + s]) m = s + 1;
    bits.put(m, 5);
    for (let s = 0; s < m; s++) {
      const f = freq[base + s]!;
      const b = 32 - Math.clz32(f);
      bits.put(b, 4);
      if (b > 1) {
        const mb = Math.min(b - 1, 3);
        bits.put((f >>> (b - 1 - mb)) & ((1 << mb) - 1), mb);
      }
    }
  }
}

/** Reads and checks one coder's tables: the frequencies at most SCALE in all, unused contexts marked. */
function readTables(bits: BitReader, freq: Uint16Array, used: Uint8Array, contexts: number, nsym: number, what: string): void {
  for (let c = 0; c < contexts; c++) {
    const base = c * nsym;
    const m = bits.get(5);
    if (m > nsym) throw bad(`corrupted stream: rANS table in ${what} lists ${m} symbols of ${nsym}`);
    let sum = 0;
    for (let s = 0; s < m; s++) {
      const b = bits.get(4);
      if (b > SCALE_BITS + 1) throw bad(`corrupted stream: rANS frequency of ${b} bits in ${what}`);
      let f = b === 0 ? 0 : 1;
      if (b > 1) {
        const mb = Math.min(b - 1, 3);
        f = ((1 << mb) | bits.get(mb)) << (b - 1 - mb);
      }
      freq[base + s] = f;
      sum += f;
    }
    if (m === 0) continue;
    if (sum === 0) throw bad(`corrupted stream: rANS table in ${what} lists symbols that all have frequency 0`);
    if (sum > SCALE) throw bad(`corrupted stream: rANS frequencies in ${what} sum to ${sum}, over ${SCALE}`);
    used[c] = 1;
    assignRemainder(freq, base, nsym);
  }
}

/** chunks with fewer codes keep the adaptive coder: the tables (~400-600 bytes) cost more than they save */
export const RANS_MIN_CODES = 1 << 16;
/** below this order-0 entropy (bits per code: mostly zeros) the adaptive coder's run contexts win */
const RANS_MIN_BITS_PER_CODE = 1.25;
/** above this share of the order-0 cost that 16 block-wise tables would save, the codes change along the chunk */
const RANS_MAX_DRIFT = 0.04;
const DRIFT_BLOCKS = 16;

/**
 * Whether static tables suit these codes (rANS comes within ~0.1 % of the adaptive coder or below it), from one
 * cheap pass: the order-0 symbol histogram of 16 consecutive blocks (every 4th code). A static table loses to the
 * adaptive coder where the codes are mostly zeros (its zero-run modelling is finer) or their statistics drift
 * along the chunk (the adaptive tables follow: monthly wind fields, a polar region): the drift is what per-block
 * tables would save over one table, as a share of the one-table entropy. Thresholds fitted on the ferret test
 * fields at rel 1e-2..1e-4 (docs/codecs.md).
 */
export function ransSuits(stats: CodeStatistics): boolean {
  if (stats.n < RANS_MIN_CODES || stats.radius > 65536) return false;
  const { hist, entropyWhole, sampled } = stats.histograms();
  let entropyBlocks = 0;
  for (let b = 0; b < DRIFT_BLOCKS; b++) entropyBlocks += entropyBits(hist, b * NSYM);
  return entropyWhole >= RANS_MIN_BITS_PER_CODE * sampled && entropyWhole - entropyBlocks <= RANS_MAX_DRIFT * entropyWhole;
}

/** chunks with fewer codes keep the adaptive coder 4: coder 5's tables (up to ~3 KB) cost more than they save */
export const RANS_LINES_MIN_CODES = 1 << 18;

/** below this order-0 entropy (bits per code) coder 4's adaptive zero runs win over coder 5 */
const RANS_LINES_MIN_BITS_PER_CODE = 1.5;

/**
 * Whether coder 5 (static tables with the line context) suits a chunk coder 4 would code: a large one whose codes are
 * not mostly zeros. Its contexts follow drift as the adaptive coder does (the bench's navy winds, which coder 3's
 * drift test turns away, code 1.45 % smaller at rel 1e-3), but towards 1.25 bits a code the adaptive coder's zero
 * runs win (navy UWND at rel 1e-2, ~1.3 bits a code: +0.3 %; noisy divergence, 1.23: +1.8 %).
 */
export function ransLinesSuits(stats: CodeStatistics): boolean {
  if (stats.n < RANS_LINES_MIN_CODES || stats.radius > 65536) return false;
  const { entropyWhole, sampled } = stats.histograms();
  return entropyWhole >= RANS_LINES_MIN_BITS_PER_CODE * sampled;
}

/** What the suitability tests read of a chunk's codes; its histograms are counted once, when first asked for. */
export interface CodeStatistics {
  n: number;
  radius: number;
  histograms(): { hist: Float64Array; entropyWhole: number; sampled: number };
}

export function codeStatistics(codes: Uint32Array, n: number, radius: number): CodeStatistics {
  let counted: ReturnType<CodeStatistics['histograms']> | null = null;
  return { n, radius, histograms: () => (counted ??= blockHistograms(codes, n, radius)) };
}

/** The order-0 symbol histograms of DRIFT_BLOCKS consecutive blocks (sampled), the whole's entropy and count. */
function blockHistograms(codes: Uint32Array, n: number, radius: number): { hist: Float64Array; entropyWhole: number; sampled: number } {
  const hist = new Float64Array(DRIFT_BLOCKS * NSYM);
  histogramBlocks(codes, n, radius, hist);
  const whole = new Float64Array(NSYM);
  for (let b = 0; b < DRIFT_BLOCKS; b++) for (let s = 0; s < NSYM; s++) whole[s] += hist[b * NSYM + s]!;
  let sampled = 0;
  for (let s = 0; s < NSYM; s++) sampled += whole[s]!;
  return { hist, entropyWhole: entropyBits(whole, 0), sampled };
}

/** every SAMPLE_STRIDE-th code is counted: the histograms of >= 4096 codes per block need no more */
const SAMPLE_STRIDE = 4;

function histogramBlocks(codes: Uint32Array, n: number, radius: number, hist: Float64Array): void {
  const per = Math.ceil(n / DRIFT_BLOCKS);
  // counted as integers, each code's class without a branch (|c - radius| of 0 has class 0, the zero symbol), as
  // symbolOf gives it: float counts and symbolOf's branch on zero residuals, as unpredictable as the data, took 1.4 x
  // as long (0.81 against 0.58 ms a 2^20-code chunk)
  const counts = new Int32Array(NSYM);
  for (let b = 0; b < DRIFT_BLOCKS; b++) {
    const end = Math.min(n, (b + 1) * per);
    counts.fill(0);
    for (let i = b * per; i < end; i += SAMPLE_STRIDE) {
      const c = codes[i]!;
      counts[c === 0 ? ESC_SYM : 32 - Math.clz32(Math.abs(c - radius))]!++;
    }
    for (let s = 0; s < NSYM; s++) hist[b * NSYM + s] = counts[s]!;
  }
}

/** Shannon bits of the counts hist[base..base + NSYM) */
function entropyBits(hist: Float64Array, base: number): number {
  let total = 0;
  for (let s = 0; s < NSYM; s++) total += hist[base + s]!;
  let bits = 0;
  for (let s = 0; s < NSYM; s++) {
    const c = hist[base + s]!;
    if (c > 0) bits += c * Math.log2(total / c);
  }
  return bits;
}

/** What the forward pass finds: per value its symbol's table index (context x NSYM + symbol) and sign-top index. */
interface Symbolised {
  symbolIndex: Uint16Array;
  /** context x SIGN_SYMS + sign-top symbol; NO_SIGN for zeros and escapes (no sign step) */
  signIndex: Uint16Array;
  counts: Uint32Array;
  signCounts: Uint32Array;
  lowBits: Uint8Array;
}

/** Forward pass: symbols and their contexts (which depend on the symbols before), counts, the raw low bits. */
function symbolise(codes: Uint32Array, n: number, radius: number, lines: CodeLines | null): Symbolised {
  const sy: Symbolised = {
    symbolIndex: scratchTyped('ransSymbols', Uint16Array, n),
    signIndex: scratchTyped('ransSigns', Uint16Array, n),
    counts: new Uint32Array(symbolContexts(lines) * NSYM),
    signCounts: new Uint32Array(signContexts(lines) * SIGN_SYMS),
    lowBits: new Uint8Array(0),
  };
  // room for 4 low bits per value: most chunks never grow it (a growth in the loop costs a deoptimization)
  const low = new BitWriter(n >>> 1);
  symboliseLoop(codes, n, radius, lines, sy.symbolIndex, sy.signIndex, sy.counts, sy.signCounts, low);
  sy.lowBits = low.finish();
  return sy;
}

/**
 * Codes per call of the loops' block functions (mscoder.ts eachBlock runs the forward pass and the decoder a block at a
 * time, this is the backward pass's): a function called this often is compiled whole by V8 (and stays compiled from
 * chunk to chunk), where a loop over the whole chunk is only compiled on stack replacement mid-loop, on each call
 * anew, and code after it, never run before it was compiled, throws the compiled loop away (an eager deoptimization
 * per chunk).
 */
const BLOCK = 4096;

function symboliseLoop(
  codes: Uint32Array, n: number, radius: number, lines: CodeLines | null, symbolIndex: Uint16Array, signIndex: Uint16Array, counts: Uint32Array,
  signCounts: Uint32Array, low: BitWriter,
): void {
  // previous class, activity, zero run, last sign, segment
  const state = new Int32Array(5);
  eachBlock(n, lines, state, (start, end, back) => symboliseBlock(codes, start, end, back, radius, symbolIndex, signIndex, counts, signCounts, low, state), 4);
}

function symboliseBlock(
  codes: Uint32Array, start: number, end: number, back: Int32Array | null, radius: number, symbolIndex: Uint16Array, signIndex: Uint16Array,
  counts: Uint32Array, signCounts: Uint32Array, low: BitWriter, state: Int32Array,
): void {
  let prevClass = state[0]!;
  let activity = state[1]!;
  let run = state[2]!;
  let lastSign = state[3]!;
  for (let i = start; i < end; i++) {
    const c = codes[i]!;
    // a code of 2 x radius or more has no symbol in the tables (the kernel refuses it too)
    if (c >= 2 * radius) throw new FieldpackError('INTERNAL', `rANS coder: a code of 2 x radius (${2 * radius}) or more`);
    const s = symbolOf(c, radius);
    const d = back === null ? 0 : back[i - start]!;
    const up = d ? codes[i - d]! : radius;
    const ctx = contextOf(back, symbolOf(up, radius), prevClass, activity, run);
    const j = ctx * NSYM + s;
    symbolIndex[i] = j;
    counts[j]!++;
    let js = NO_SIGN;
    if (s === 0) lastSign = 0;
    else if (s !== ESC_SYM) {
      const k = s - 1;
      const positive = c > radius ? 1 : 0;
      const v = positive ? c - radius : radius - c;
      const top = k >= 1 ? (v >>> (k - 1)) & 1 : 0;
      js = signContextOf(back !== null, lastSign, up, radius, k) * SIGN_SYMS + positive * 2 + top;
      signCounts[js]!++;
      lastSign = 1 + positive;
      if (k >= 2) low.put(v & ((1 << (k - 1)) - 1), k - 1);
    }
    signIndex[i] = js;
    run = s === 0 ? run + 1 : 0;
    prevClass = SYMBOL_CLASS[s]!;
    activity = (activity * 3 + ACTIVITY_STEP[s]!) >>> 2;
  }
  state[0] = prevClass;
  state[1] = activity;
  state[2] = run;
  state[3] = lastSign;
}

/**
 * Most bytes the backward pass can push: a state below 2^31 reaches RENORM_UNIT x f (2^19 f) after at most two
 * bytes for f < 16, one for f < SCALE, none for f = SCALE. Sized up front so the loop never grows its buffer.
 */
function pushBound(counts: Uint32Array, freq: Uint16Array): number {
  let bytes = 0;
  for (let j = 0; j < counts.length; j++) if (counts[j]) bytes += counts[j]! * (freq[j]! < 16 ? 2 : freq[j]! < SCALE ? 1 : 0);
  return bytes;
}

/**
 * Backward pass: rANS pushes bytes that the decoder reads in reverse, so they are collected, then reversed behind
 * the two final states.
 */
function encodeBackward(sy: Symbolised, n: number, t: RansTables): Uint8Array {
  const out = scratchTyped('ransBytes', Uint8Array, pushBound(sy.counts, t.freq) + pushBound(sy.signCounts, t.signFreq));
  // write position, x0, x1
  const states = Int32Array.of(0, STATE_LOW, STATE_LOW);
  encodeLoop(sy.symbolIndex, sy.signIndex, n, t.freq, t.cum, t.signFreq, t.signCum, out, states);
  const pos = states[0]!;
  const pushed = new Uint8Array(pos);
  for (let k = 0; k < pos; k++) pushed[k] = out[pos - 1 - k]!;
  return ransData(states[1]!, states[2]!, pushed);
}

/** The rANS block's data: the two final states (big endian), then the pushed bytes in the order the decoder reads them. */
function ransData(x0: number, x1: number, pushed: Uint8Array): Uint8Array {
  // after value 0 the swap left value 0's state (parity 0) in x1: the decoder reads it first
  const data = new Uint8Array(8 + pushed.length);
  for (let b = 0; b < 4; b++) {
    data[3 - b] = (x1 >>> (8 * b)) & 0xff;
    data[7 - b] = (x0 >>> (8 * b)) & 0xff;
  }
  data.set(pushed, 8);
  return data;
}

/** The backward pass in blocks of BLOCK codes from the end (see BLOCK for why blocks). */
function encodeLoop(
  symbolIndex: Uint16Array, signIndex: Uint16Array, n: number, freq: Uint16Array, cum: Uint16Array, signFreq: Uint16Array, signCum: Uint16Array,
  out: Uint8Array, states: Int32Array,
): void {
  for (let end = n; end > 0; end -= BLOCK) encodeBlock(symbolIndex, signIndex, Math.max(0, end - BLOCK), end, freq, cum, signFreq, signCum, out, states);
}

/** Codes values end-1 down to start. x0 holds the state of value i's parity (its symbol), x1 the other (its sign-top symbol), swapped per value. */
function encodeBlock(
  symbolIndex: Uint16Array, signIndex: Uint16Array, start: number, end: number, freq: Uint16Array, cum: Uint16Array, signFreq: Uint16Array, signCum: Uint16Array,
  out: Uint8Array, states: Int32Array,
): void {
  let pos = states[0]!;
  let x0 = states[1]!;
  let x1 = states[2]!;
  for (let i = end - 1; i >= start; i--) {
    const js = signIndex[i]!;
    if (js !== NO_SIGN) {
      // decoded after the value's symbol, so coded before it
      const f = signFreq[js]!;
      const xMax = RENORM_UNIT * f;
      while (x1 >= xMax) {
        out[pos++] = x1 & 0xff;
        x1 >>>= 8;
      }
      const q = (x1 / f) | 0;
      x1 = (q << SCALE_BITS) + (x1 - q * f) + signCum[js]!;
    }
    const j = symbolIndex[i]!;
    const f = freq[j]!;
    const xMax = RENORM_UNIT * f;
    while (x0 >= xMax) {
      out[pos++] = x0 & 0xff;
      x0 >>>= 8;
    }
    const q = (x0 / f) | 0;
    x0 = (q << SCALE_BITS) + (x0 - q * f) + cum[j]!;
    const t = x0;
    x0 = x1;
    x1 = t;
  }
  states[0] = pos;
  states[1] = x0;
  states[2] = x1;
}

/**
 * Writes the rANS block for codes[0..n) (no count: the caller knows n). radius <= 2^16 (classes 0..15). `lines`:
 * coder 5's line context (the decoder must be given the same lines), else coder 3's. `path` 'fast': both passes
 * compiled to WebAssembly (wasm-kernels.ts ransEncodeKernel), the same bytes; the reference where WebAssembly is
 * missing, for more than KERNEL_MAX_CODES codes, or where the kernel's memory cannot grow.
 */
export function ransEncodeCodesBare(codes: Uint32Array, n: number, radius: number, w: ByteWriter, lines: CodeLines | null = null, path: 'fast' | 'reference' = 'fast'): void {
  if (radius > 65536) throw new FieldpackError('INTERNAL', `rANS coder: radius ${radius} over 65536`);
  const kernel = path === 'fast' && n <= KERNEL_MAX_CODES ? ransEncodeKernel() : null;
  const contexts = symbolContexts(lines);
  const signContextCount = signContexts(lines);
  // the stored table, made between the passes
  const made: { table?: Uint8Array } = {};
  const tables = (counts: Uint32Array, signCounts: Uint32Array): RansTables => {
    const t = tablesOf(counts, signCounts, contexts, signContextCount);
    made.table = t.table;
    return t;
  };
  const fast = kernel?.(codes, n, radius, contexts * NSYM, signContextCount * SIGN_SYMS, ACTIVITY_LEVEL, lines, tables);
  let lowBits: Uint8Array;
  let data: Uint8Array;
  if (fast) {
    lowBits = fast.lowBits;
    data = ransData(fast.x0, fast.x1, fast.pushed);
  } else {
    const sy = symbolise(codes, n, radius, lines);
    data = encodeBackward(sy, n, tables(sy.counts, sy.signCounts));
    lowBits = sy.lowBits;
  }
  w.block(made.table!);
  w.block(lowBits);
  w.block(data);
}

/** The frequencies from the counts, and the table that stores them (the remainders assigned after, as the decoder does). */
function tablesOf(counts: Uint32Array, signCounts: Uint32Array, contexts: number, signContextCount: number): RansTables & { table: Uint8Array } {
  const freq = new Uint16Array(contexts * NSYM);
  const signFreq = new Uint16Array(signContextCount * SIGN_SYMS);
  const used = new Uint8Array(contexts);
  const signUsed = new Uint8Array(signContextCount);
  for (let c = 0; c < contexts; c++) used[c] = normalise(counts, c * NSYM, NSYM, freq) ? 1 : 0;
  for (let c = 0; c < signContextCount; c++) signUsed[c] = normalise(signCounts, c * SIGN_SYMS, SIGN_SYMS, signFreq) ? 1 : 0;
  const table = new BitWriter(256);
  writeTables(table, freq, used, contexts, NSYM);
  writeTables(table, signFreq, signUsed, signContextCount, SIGN_SYMS);
  // the remainders after writing, as the decoder adds them after reading
  for (let c = 0; c < contexts; c++) if (used[c]) assignRemainder(freq, c * NSYM, NSYM);
  for (let c = 0; c < signContextCount; c++) if (signUsed[c]) assignRemainder(signFreq, c * SIGN_SYMS, SIGN_SYMS);
  return { table: table.finish(), freq, cum: cumulative(freq, contexts, NSYM), signFreq, signCum: cumulative(signFreq, signContextCount, SIGN_SYMS) };
}

function cumulative(freq: Uint16Array, contexts: number, nsym: number): Uint16Array {
  const cum = new Uint16Array(contexts * nsym);
  for (let c = 0; c < contexts; c++) {
    let t = 0;
    for (let s = 0; s < nsym; s++) {
      cum[c * nsym + s] = t;
      t += freq[c * nsym + s]!;
    }
  }
  return cum;
}

/**
 * Per context, `lanes` u16: the end of each symbol's slot range (cum + freq), then 0xffff; all 0 where the context
 * has no table (wasm-kernels.ts ransDecodeKernel finds a slot's symbol as the number of ends at or below it).
 */
function rangeEnds(freq: Uint16Array, cum: Uint16Array, used: Uint8Array, nsym: number, lanes: number): Uint16Array {
  const ends = new Uint16Array(used.length * lanes);
  for (let c = 0; c < used.length; c++) {
    if (!used[c]) continue;
    for (let s = 0; s < lanes; s++) ends[c * lanes + s] = s < nsym ? cum[c * nsym + s]! + freq[c * nsym + s]! : 0xffff;
  }
  return ends;
}

/**
 * n: the number of codes, the caller's (never the stream's: a context with a single symbol codes it in 0 bits, so
 * the data's length bounds nothing). Every block length is checked against the data before it is read, the tables
 * before any slot is decoded.
 */
export function ransDecodeCodesBare(
  rd: ByteReader, radius: number, n: number, into?: Uint32Array, lines: CodeLines | null = null, path: 'fast' | 'reference' = 'fast',
): Uint32Array {
  const what = rd.what;
  const tableLen = rd.varint('rANS table length');
  rd.need(tableLen, 'rANS table');
  const tableStart = rd.pos;
  rd.pos += tableLen;
  const lowLen = rd.varint('rANS low bits length');
  rd.need(lowLen, 'rANS low bits');
  const lowStart = rd.pos;
  rd.pos += lowLen;
  const dataLen = rd.varint('rANS data length');
  rd.need(dataLen, 'rANS data');
  if (dataLen < 8) throw bad(`truncated stream: rANS data in ${what} holds ${dataLen} bytes, less than its two states`);
  const dataStart = rd.pos;
  rd.pos += dataLen;
  const buf = rd.buf;

  const contexts = symbolContexts(lines);
  const signContextCount = signContexts(lines);
  const tableBits = new BitReader(buf, tableStart, tableStart + tableLen, `rANS table in ${what}`);
  const freq = new Uint16Array(contexts * NSYM);
  const signFreq = new Uint16Array(signContextCount * SIGN_SYMS);
  const used = new Uint8Array(contexts);
  const signUsed = new Uint8Array(signContextCount);
  readTables(tableBits, freq, used, contexts, NSYM, what);
  readTables(tableBits, signFreq, signUsed, signContextCount, SIGN_SYMS, what);
  const cum = cumulative(freq, contexts, NSYM);
  const signCum = cumulative(signFreq, signContextCount, SIGN_SYMS);
  const x0 = ((buf[dataStart]! << 24) | (buf[dataStart + 1]! << 16) | (buf[dataStart + 2]! << 8) | buf[dataStart + 3]!) >>> 0;
  const x1 = ((buf[dataStart + 4]! << 24) | (buf[dataStart + 5]! << 16) | (buf[dataStart + 6]! << 8) | buf[dataStart + 7]!) >>> 0;
  if (x0 < STATE_LOW || x0 >= 2 ** 31 || x1 < STATE_LOW || x1 >= 2 ** 31) throw bad(`corrupted stream: rANS state out of range in ${what}`);
  if (dataStart + dataLen > 0x7fffffff) throw bad(`corrupted stream: rANS data in ${what} ends beyond 2 GiB`);
  const misended = () => bad(`corrupted stream: rANS data in ${what} does not end where its codes do`);
  // the loop compiled to WebAssembly (the same codes); where it finds the data corrupt, the reference below runs
  // again to throw its message
  const kernel = path === 'fast' && n <= KERNEL_MAX_CODES ? ransDecodeKernel() : null;
  const fast = kernel?.(
    {
      buf, dataStart, dataEnd: dataStart + dataLen, lowStart, lowEnd: lowStart + lowLen, ends: rangeEnds(freq, cum, used, NSYM, 24),
      signEnds: rangeEnds(signFreq, signCum, signUsed, SIGN_SYMS, 8), freq, cum, signFreq, signCum, activityLevel: ACTIVITY_LEVEL,
    },
    x0, x1, radius, n, lines, into,
  );
  if (fast?.codes) {
    if (fast.x0 !== STATE_LOW || fast.x1 !== STATE_LOW || fast.bytesRead !== dataLen - 8) throw misended();
    return fast.codes;
  }
  // slot -> symbol, per context (NO_SYMBOL in unused ones); the sign-top symbols' lookups follow the symbols'
  const lookup = new Uint8Array((contexts + signContextCount) * SCALE).fill(NO_SYMBOL);
  for (let c = 0; c < contexts; c++) {
    if (!used[c]) continue;
    for (let s = 0; s < NSYM; s++) {
      const j = c * NSYM + s;
      if (freq[j]) lookup.fill(s, c * SCALE + cum[j]!, c * SCALE + cum[j]! + freq[j]!);
    }
  }
  const signLookup = lookup.subarray(contexts * SCALE);
  for (let c = 0; c < signContextCount; c++) {
    if (!signUsed[c]) continue;
    for (let s = 0; s < SIGN_SYMS; s++) {
      const j = c * SIGN_SYMS + s;
      if (signFreq[j]) signLookup.fill(s, c * SCALE + signCum[j]!, c * SCALE + signCum[j]! + signFreq[j]!);
    }
  }

  const out = into ?? new Uint32Array(n);
  // x0, x1, read position, previous class, activity, zero run, last sign, segment: int32 all (states < 2^31), so the loop
  // keeps them in integer registers
  const state = Int32Array.of(x0, x1, dataStart + 8, 0, 0, 0, 0, 0);
  const tables: DecodeTables = { lookup, freq, cum, signLookup, signFreq, signCum };
  const lowBits = new BitReader(buf, lowStart, lowStart + lowLen, `rANS low bits in ${what}`);
  eachBlock(n, lines, state, (start, end, back) => decodeBlock(buf, dataStart + dataLen, lowBits, tables, radius, out, start, end, back, state, what), 7);
  // the encoder started both states at STATE_LOW: anything else, or bytes left, means the data was altered
  if (state[0] !== STATE_LOW || state[1] !== STATE_LOW || state[2] !== dataStart + dataLen) throw misended();
  return out;
}

interface DecodeTables {
  lookup: Uint8Array;
  freq: Uint16Array;
  cum: Uint16Array;
  signLookup: Uint8Array;
  signFreq: Uint16Array;
  signCum: Uint16Array;
}

/** Decodes codes [start, end) into out; state: x0, x1, read position, previous class, activity, zero run, last sign, segment. */
function decodeBlock(
  buf: Uint8Array, dataEnd: number, lowBits: BitReader, t: DecodeTables, radius: number, out: Uint32Array, start: number, end: number, back: Int32Array | null,
  state: Int32Array, what: string,
): void {
  const lookup = t.lookup;
  const freq = t.freq;
  const cum = t.cum;
  const signLookup = t.signLookup;
  const signFreq = t.signFreq;
  const signCum = t.signCum;
  let x0 = state[0]!;
  let x1 = state[1]!;
  let p = state[2]!;
  let prevClass = state[3]!;
  let activity = state[4]!;
  let run = state[5]!;
  let lastSign = state[6]!;
  for (let i = start; i < end; i++) {
    const d = back === null ? 0 : back[i - start]!;
    const up = d ? out[i - d]! : radius;
    const ctx = contextOf(back, symbolOf(up, radius), prevClass, activity, run);
    const slot = x0 & SLOT_MASK;
    const s = lookup[ctx * SCALE + slot]!;
    if (s === NO_SYMBOL) throw bad(`corrupted stream: rANS data in ${what} reaches a context without a table`);
    const j = ctx * NSYM + s;
    x0 = freq[j]! * (x0 >>> SCALE_BITS) + slot - cum[j]!;
    while (x0 < STATE_LOW) {
      if (p >= dataEnd) throw bad(`truncated stream: rANS data in ${what} ends early`);
      x0 = (x0 << 8) | buf[p++]!;
    }
    let c: number;
    if (s === 0) {
      c = radius;
      lastSign = 0;
    } else if (s === ESC_SYM) c = 0;
    else {
      const k = s - 1;
      const sc = signContextOf(back !== null, lastSign, up, radius, k);
      const signSlot = x1 & SLOT_MASK;
      const st = signLookup[sc * SCALE + signSlot]!;
      if (st === NO_SYMBOL) throw bad(`corrupted stream: rANS data in ${what} reaches a sign context without a table`);
      const js = sc * SIGN_SYMS + st;
      x1 = signFreq[js]! * (x1 >>> SCALE_BITS) + signSlot - signCum[js]!;
      while (x1 < STATE_LOW) {
        if (p >= dataEnd) throw bad(`truncated stream: rANS data in ${what} ends early`);
        x1 = (x1 << 8) | buf[p++]!;
      }
      const positive = st >>> 1;
      let v = 1;
      if (k >= 1) {
        v = 2 | (st & 1);
        if (k >= 2) v = (v << (k - 1)) | lowBits.get(k - 1);
      }
      if (v >= radius) throw bad(`corrupted stream: rANS-coded residual out of range in ${what}`);
      lastSign = 1 + positive;
      c = positive ? radius + v : radius - v;
    }
    out[i] = c;
    run = s === 0 ? run + 1 : 0;
    prevClass = SYMBOL_CLASS[s]!;
    activity = (activity * 3 + ACTIVITY_STEP[s]!) >>> 2;
    const t = x0;
    x0 = x1;
    x1 = t;
  }
  state[0] = x0;
  state[1] = x1;
  state[2] = p;
  state[3] = prevClass;
  state[4] = activity;
  state[5] = run;
  state[6] = lastSign;
}
