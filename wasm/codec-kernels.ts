// AssemblyScript source of the classic codec's WebAssembly kernels: planning's cost model, the range coders, the mask
// coder, the rANS encoder and decoder and the predictors' encoders (scripts/build-wasm.mjs compiles it into
// src-main/core/codec/wasm-kernels.generated.ts); each section below names the TypeScript reference it twins. msCost is costBlock of src-main/core/codec/mscoder.ts line for line:
// the same adaptive model updates and the same float64 additions in the same order, read from the same log2 table
// (the caller copies mscoder.ts's into this module's memory), so it returns the reference's bits.
// Memory the caller lays out from heapBase(): the model's tables, the codes, the log2 table, the state.

const NSYM: i32 = 18;
const ESC_SYM: i32 = 17;
const FREQ_INC: u32 = 24;
const FREQ_LIMIT: u32 = 65536;
const BIT_SHIFT: i32 = 5;

/** First free byte after this module's static data (the caller lays its buffers out from here). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

// @ts-ignore: decorator
@inline
function runBucket(run: i32): i32 {
  return run < 4 ? 0 : run < 8 ? 1 : run < 16 ? 2 : run < 32 ? 3 : run < 128 ? 4 : 5;
}

/**
 * The frequencies of the symbols below s (< NSYM) in the context at `row`: four lanes at a time under a mask, the
 * same sum as a loop to s (integers), without a loop whose length changes with every symbol (its mispredicted exit
 * was much of msEncode's time at rel 1e-4)
 */
// @ts-ignore: decorator
@inline
function cumBelow(row: usize, s: i32): u32 {
  const below = i32x4.splat(s);
  let sum = v128.and(v128.load(row), i32x4.lt_s(i32x4(0, 1, 2, 3), below));
  sum = i32x4.add(sum, v128.and(v128.load(row, 16), i32x4.lt_s(i32x4(4, 5, 6, 7), below)));
  sum = i32x4.add(sum, v128.and(v128.load(row, 32), i32x4.lt_s(i32x4(8, 9, 10, 11), below)));
  sum = i32x4.add(sum, v128.and(v128.load(row, 48), i32x4.lt_s(i32x4(12, 13, 14, 15), below)));
  const lanes = <u32>(i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3));
  return lanes + select<u32>(load<u32>(row, 64), 0, s > 16);
}

/** SymbolFrequencies.bump: symbol s (frequency f) of the context at `row` (totals at `tAt`, total `total`) coded. */
// @ts-ignore: decorator
@inline
function bump(row: usize, tAt: usize, s: i32, f: u32, total: u32): void {
  store<u32>(row + (<usize>s << 2), f + FREQ_INC);
  let t = total + FREQ_INC;
  if (t > FREQ_LIMIT) {
    t = 0;
    for (let j = 0; j < NSYM; j++) {
      const h = (load<u32>(row + (<usize>j << 2)) + 1) >> 1;
      store<u32>(row + (<usize>j << 2), h);
      t += h;
    }
  }
  store<u32>(tAt, t);
}

/** An 11-bit probability of a 0 once bit `one` is coded: Enc.bit's and Dec.bit's update (ecBit, rcBit, bitCost). */
// @ts-ignore: decorator
@inline
function adapted<T>(p: T, one: bool): T {
  return select<T>(p - (p >>> <T>BIT_SHIFT), p + ((<T>2048 - p) >>> <T>BIT_SHIFT), one);
}

/**
 * The cost loops' Enc.bit: the bits of coding `one` under the probability at `at` (log2 table at `log2`), the
 * probability then adapted.
 */
// @ts-ignore: decorator
@inline
function bitCost(at: usize, one: bool, log2: usize): f64 {
  const p: i32 = load<u16>(at);
  store<u16>(at, <u16>adapted<i32>(p, one));
  return 11 - load<f64>(log2 + (<usize>select<i32>(2048 - p, p, one) << 3));
}

/**
 * Adds the model cost in bits of codes[0, n) to the float64 at `acc`, the model (freq u32[30 x 18], totals u32[30],
 * sign u16[12], mant u16[16]) and the context state (i32 s1, s2, run, lastSign at `state`) carried in and out.
 */
export function msCost(codes: usize, n: i32, radius: u32, freq: usize, totals: usize, sign: usize, mant: usize, log2: usize, state: usize, acc: usize): void {
  let s1 = load<i32>(state);
  let s2 = load<i32>(state, 4);
  let run = load<i32>(state, 8);
  let lastSign = load<i32>(state, 12);
  let bits = load<f64>(acc);
  for (let i = 0; i < n; i++) {
    const c = load<u32>(codes + (<usize>i << 2));
    // the symbol, and for residuals (1 <= s <= 16) |v| in [2^k, 2^(k+1))
    const s = symbolOf(c, radius);
    const v: u32 = c > radius ? c - radius : radius - c;
    const k = s - 1;
    // FINE[s1] * 3 + COARSE[s2], or the run's bucket
    const ctx = run >= 4 ? 24 + runBucket(run) : (s1 < 7 ? s1 : 7) * 3 + (s2 == 0 ? 0 : s2 <= 2 ? 1 : 2);
    const row = freq + (<usize>(ctx * NSYM) << 2);
    const tAt = totals + (<usize>ctx << 2);
    const f = load<u32>(row + (<usize>s << 2));
    const t = load<u32>(tAt);
    bits += load<f64>(log2 + (<usize>t << 3)) - load<f64>(log2 + (<usize>f << 3));
    bump(row, tAt, s, f, t);
    if (s == 0) lastSign = 0;
    else if (s != ESC_SYM) {
      // the sign and the top mantissa bit through selects, not branches (as rcBit): both are as good as random
      const sg = c > radius;
      bits += bitCost(sign + (<usize>(lastSign * 4 + (k > 3 ? 3 : k)) << 1), sg, log2);
      lastSign = 1 + <i32>sg;
      if (k >= 1) {
        bits += bitCost(mant + (<usize>k << 1), ((v >>> (k - 1)) & 1) != 0, log2);
        bits += <f64>(k - 1);
      }
    }
    run = s == 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  store<i32>(state, s1);
  store<i32>(state, s2, 4);
  store<i32>(state, run, 8);
  store<i32>(state, lastSign, 12);
  store<f64>(acc, bits);
}

// ---- msDecode: msDecodeCodesBare's decoding loop (decodeBlock of src-main/core/codec/mscoder.ts, coders 2 and 4) ----
// The same model updates and the same integer range-coder arithmetic (the reference's doubles hold integers below
// 2^32 there, so u32 operations give the same values), so it returns the reference's codes or fails where it fails.

const TOP: u32 = 16777216;
const MS_ERR_TRUNCATED: i32 = 1;
const MS_ERR_RESIDUAL: i32 = 2;

let rcRange: u32 = 0;
let rcCode: u32 = 0;
let rcPos: usize = 0;
let rcEnd: usize = 0;
let rcErr: i32 = 0;

/** Read position after the last msDecode or binDecode, relative to its data (the caller's end-of-data check). */
export function decodedBytes(data: usize): i32 {
  return <i32>(rcPos - data);
}

// @ts-ignore: decorator
@inline
function rcNext(): u32 {
  if (rcPos < rcEnd) return <u32>load<u8>(rcPos++);
  rcPos++;
  if (rcPos > rcEnd + 5) rcErr = MS_ERR_TRUNCATED;
  return 0;
}

/** A new decoder of data[0, len) (Dec's constructor: its first 5 bytes); rcErr where they are past the end. */
function rcStart(data: usize, len: i32): i32 {
  rcPos = data;
  rcEnd = data + <usize>len;
  rcErr = 0;
  rcRange = 0xffffffff;
  rcCode = 0;
  for (let i = 0; i < 5; i++) rcCode = (rcCode << 8) + rcNext();
  return rcErr;
}

function rcNorm(): void {
  while (rcRange < TOP) {
    rcRange = rcRange << 8;
    rcCode = (rcCode << 8) + rcNext();
  }
}

// @ts-ignore: decorator
@inline
function rcBit(at: usize): i32 {
  const p: u32 = load<u16>(at);
  const bound = (rcRange >>> 11) * p;
  // selects, not branches: the bit is as good as random, and a mispredicted branch costs more than both sides
  const b = rcCode >= bound;
  rcRange = select<u32>(rcRange - bound, bound, b);
  rcCode = select<u32>(rcCode - bound, rcCode, b);
  store<u16>(at, <u16>adapted<u32>(p, b));
  if (rcRange < TOP) rcNorm();
  return <i32>b;
}

// @ts-ignore: decorator
@inline
function rcDirect(m: i32): u32 {
  rcRange = rcRange >>> m;
  let d = rcCode / rcRange;
  if (d >= (<u32>1 << m)) d = (<u32>1 << m) - 1;
  rcCode -= d * rcRange;
  if (rcRange < TOP) rcNorm();
  return d;
}

// @ts-ignore: decorator
@inline
function symbolOf(c: u32, radius: u32): i32 {
  // selects, not branches (the symbols of real codes are unpredictable): c == radius gives |v| = 0, class 0
  return select<i32>(ESC_SYM, 32 - <i32>clz(select<u32>(c - radius, radius - c, c > radius)), c == 0);
}

// The line context's segments (mscoder.ts CodeLines) as msEncode and msDecode walk them: segment segIdx of segCount
// starts at code segStart and has lines of segLine codes; the next one starts at segNext. From the code visited to
// segBoundary, the code one line back is segBack codes back (0: none, a segment's first line): the walk is
// recomputed only where such a piece ends (segmentPiece), not checked at every code.
let segCount = 0;
let segStarts: usize = 0;
let segLines: usize = 0;
let segIdx = 0;
let segStart = 0;
let segNext = 0;
let segLine = 0;
let segBoundary = 0;
let segBack = 0;

function startSegments(starts: usize, lines: usize, segs: i32): void {
  segCount = segs;
  segStarts = starts;
  segLines = lines;
  segIdx = 0;
  segStart = segs > 0 ? load<i32>(starts) : 0;
  segNext = segs > 1 ? load<i32>(starts + 4) : 0x7fffffff;
  segLine = segs > 0 ? load<i32>(lines) : 0;
  segBoundary = 0;
  segBack = 0;
}

/** The piece of code i (i == segBoundary): its segment, whether it lies past the segment's first line, where it ends. */
function segmentPiece(i: i32): void {
  while (segIdx + 1 < segCount && i >= segNext) {
    segIdx++;
    segStart = segNext;
    segNext = segIdx + 1 < segCount ? load<i32>(segStarts + (<usize>(segIdx + 1) << 2)) : 0x7fffffff;
    segLine = load<i32>(segLines + (<usize>segIdx << 2));
  }
  const lineEnd = segStart + segLine;
  segBack = select<i32>(segLine, 0, segLine > 0 && i >= lineEnd);
  segBoundary = select<i32>(segNext, select<i32>(min<i32>(lineEnd, segNext), segNext, segLine > 0), segBack != 0);
}

/** How far back the code one line back from code i is (0: none), i visited in ascending order from startSegments. */
// @ts-ignore: decorator
@inline
function lineBack(i: i32): i32 {
  if (i == segBoundary) segmentPiece(i);
  return segBack;
}

/**
 * The code one line back from code i (mscoder.ts fillBack), or `radius` (a zero residual) on a segment's first line,
 * i visited in ascending order from startSegments.
 */
// @ts-ignore: decorator
@inline
function codeUp(codes: usize, i: i32, radius: u32): u32 {
  const back = lineBack(i);
  // back 0: the load reads code i itself (in a decoder, not decoded yet), which the select drops
  return select<u32>(load<u32>(codes + (<usize>(i - back) << 2)), radius, back != 0);
}

/** rans.ts / mscoder.ts signState of code c: 0 a zero residual or an escape, 1 negative, 2 positive. */
// @ts-ignore: decorator
@inline
function signState(c: u32, radius: u32): i32 {
  return select<i32>(select<i32>(2, 1, c > radius), 0, c != radius && c != 0);
}

/**
 * The symbol context of code i (mscoder.ts symbolContext): with segments (coder 4) the previous symbol and the symbol
 * of the code one line back in `codes` (those before i), or the run's bucket x whether that code is zero; without
 * (coder 2) the previous two symbols, or the run's bucket.
 */
// @ts-ignore: decorator
@inline
function symbolContext(up: i32, run: i32, s1: i32, s2: i32): i32 {
  if (segCount > 0) return run >= 4 ? 24 + runBucket(run) + (up ? 6 : 0) : (s1 < 7 ? s1 : 7) * 3 + (up == 0 ? 0 : up <= 2 ? 1 : 2);
  return run >= 4 ? 24 + runBucket(run) : (s1 < 7 ? s1 : 7) * 3 + (s2 == 0 ? 0 : s2 <= 2 ? 1 : 2);
}

/**
 * mscoder.ts signContext: the sign bit's context from the previous residual's sign (0 none since a zero, 1
 * negative, 2 positive) and class min(k, 3); coder 6 (lineSigns) also from the sign of the code one line back.
 */
// @ts-ignore: decorator
@inline
function msSignContext(lineSigns: bool, lastSign: i32, upCode: u32, radius: u32, k: i32): i32 {
  const kc = k > 3 ? 3 : k;
  return select<i32>((lastSign * 3 + signState(upCode, radius)) * 4 + kc, lastSign * 4 + kc, lineSigns);
}

/** mscoder.ts upRelation: how the code one line back relates to a residual of class k (0 none .. 4 larger class) */
// @ts-ignore: decorator
@inline
function upRelation(up: u32, radius: u32, k: i32): i32 {
  const v: u32 = select<u32>(up - radius, radius - up, up > radius);
  const ku = 31 - <i32>clz(v);
  const top: i32 = select<i32>(<i32>((v >>> <u32>(ku - 1)) & 1), 0, ku >= 1);
  const rel = select<i32>(1, select<i32>(4, 2 + top, ku > k), ku < k);
  return select<i32>(0, rel, up == radius || up == 0);
}

/**
 * Decodes n codes into out (u32[n]) from data[0, len). Model: freq u32[contexts x 18], totals u32[contexts], sign
 * u16[36], mant u16[16], as mscoder.ts's Tables starts them. Line context (coders 4 and 6) where segs > 0: segment k
 * of the codes starts at starts[k] (i32) and has lines of lines[k] codes; lineSigns (coder 6): the sign bit's context
 * also from the sign of the code one line back. Returns 0, or 1 (the data end early) or 2 (a residual beyond the
 * radius), where the reference throws.
 */
export function msDecode(data: usize, len: i32, out: usize, n: i32, radius: u32, freq: usize, totals: usize, sign: usize, mant: usize, starts: usize, lines: usize, segs: i32, lineSigns: bool): i32 {
  if (rcStart(data, len)) return rcErr;
  let s1 = 0;
  let s2 = 0;
  let run = 0;
  let lastSign = 0;
  startSegments(starts, lines, segs);
  for (let i = 0; i < n; i++) {
    const up = codeUp(out, i, radius);
    const ctx = symbolContext(symbolOf(up, radius), run, s1, s2);
    const row = freq + (<usize>(ctx * NSYM) << 2);
    const tAt = totals + (<usize>ctx << 2);
    const total = load<u32>(tAt);
    const r = rcRange / total;
    let target = rcCode / r;
    if (target >= total) target = total - 1;
    let s = 0;
    let cum: u32 = 0;
    let f = load<u32>(row);
    while (cum + f <= target && s < NSYM - 1) {
      cum += f;
      s++;
      f = load<u32>(row + (<usize>s << 2));
    }
    rcCode -= r * cum;
    rcRange = r * f;
    if (rcRange < TOP) rcNorm();
    bump(row, tAt, s, f, total);
    let c: u32;
    if (s == 0) {
      c = radius;
      lastSign = 0;
    } else if (s == ESC_SYM) c = 0;
    else {
      const k = s - 1;
      const sg = rcBit(sign + (<usize>msSignContext(lineSigns, lastSign, up, radius, k) << 1));
      lastSign = 1 + sg;
      let v: u32 = 1;
      if (k >= 1) {
        v = 2 | <u32>rcBit(mant + (<usize>select<i32>(k * 5 + upRelation(up, radius, k), k, lineSigns) << 1));
        let nb = k - 1;
        while (nb > 0) {
          const m = nb > 12 ? 12 : nb;
          nb -= m;
          v = (v << m) + rcDirect(m);
        }
      }
      if (rcErr) return rcErr;
      if (v >= radius) return MS_ERR_RESIDUAL;
      c = sg ? radius + v : radius - v;
    }
    if (rcErr) return rcErr;
    store<u32>(out + (<usize>i << 2), c);
    run = s == 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  return 0;
}

// ---- msEncode: msEncodeCodesBare's coding loop (encodeBlock and Enc of mscoder.ts, coders 2 and 4) ----
// Enc's `low` is a double below 2^33 there: a u64 here. The same bytes.

let ecLow: u64 = 0;
let ecRange: u32 = 0;
let ecCache: u32 = 0;
let ecCacheSize: u32 = 0;
let ecPos: usize = 0;
/** End of the room the encoder was given: bytes past it are counted, not written (ecFinish then fails). */
let ecEnd: usize = 0;

function ecShiftLow(): void {
  const low = ecLow;
  if (low < 0xff000000 || low >= 4294967296) {
    const carry = <u32>(low >> 32);
    let temp = ecCache;
    do {
      if (ecPos < ecEnd) store<u8>(ecPos, <u8>((temp + carry) & 0xff));
      ecPos++;
      temp = 0xff;
    } while (--ecCacheSize != 0);
    ecCache = <u32>(low >> 24) & 0xff;
  }
  ecCacheSize++;
  ecLow = (low & 0xffffff) << 8;
}

/** A new encoder writing at `out`, `room` bytes. */
function ecStart(out: usize, room: i32): void {
  ecLow = 0;
  ecRange = 0xffffffff;
  ecCache = 0;
  ecCacheSize = 1;
  ecPos = out;
  ecEnd = out + <usize>room;
}

/** Flushes the encoder (Enc.finish); the bytes written from `out`, or -1 where they did not fit its room. */
function ecFinish(out: usize): i32 {
  for (let i = 0; i < 5; i++) ecShiftLow();
  return ecPos > ecEnd ? -1 : <i32>(ecPos - out);
}

// @ts-ignore: decorator
@inline
function ecNorm(): void {
  while (ecRange < TOP) {
    ecRange = ecRange << 8;
    ecShiftLow();
  }
}

// @ts-ignore: decorator
@inline
function ecBit(at: usize, b: i32): void {
  const p: u32 = load<u16>(at);
  const bound = (ecRange >>> 11) * p;
  // selects, not branches (as rcBit)
  const one = b != 0;
  ecLow += select<u64>(<u64>bound, 0, one);
  ecRange = select<u32>(ecRange - bound, bound, one);
  store<u16>(at, <u16>adapted<u32>(p, one));
  if (ecRange < TOP) ecNorm();
}

/**
 * Codes codes[0, n) into out (`room` bytes) with the model and line segments of msDecode; returns the number of
 * bytes written, or -1 where they do not fit (the caller runs the reference, whose buffer grows).
 */
export function msEncode(codes: usize, n: i32, radius: u32, freq: usize, totals: usize, sign: usize, mant: usize, starts: usize, lines: usize, segs: i32, lineSigns: bool, out: usize, room: i32): i32 {
  ecStart(out, room);
  let s1 = 0;
  let s2 = 0;
  let run = 0;
  let lastSign = 0;
  startSegments(starts, lines, segs);
  for (let i = 0; i < n; i++) {
    const c = load<u32>(codes + (<usize>i << 2));
    // the symbol, and for residuals (1 <= s <= 16) |v| in [2^k, 2^(k+1))
    const s = symbolOf(c, radius);
    const v: u32 = c > radius ? c - radius : radius - c;
    const k = s - 1;
    const up = codeUp(codes, i, radius);
    const ctx = symbolContext(symbolOf(up, radius), run, s1, s2);
    const row = freq + (<usize>(ctx * NSYM) << 2);
    const tAt = totals + (<usize>ctx << 2);
    const total = load<u32>(tAt);
    // (a zero residual, most codes at loose bounds, sums nothing: a branch the predictor gets right there)
    const cum = s == 0 ? 0 : cumBelow(row, s);
    const fAt = row + (<usize>s << 2);
    const f = load<u32>(fAt);
    // Enc.sym
    const r = ecRange / total;
    ecLow += <u64>(r * cum);
    ecRange = r * f;
    if (ecRange < TOP) ecNorm();
    bump(row, tAt, s, f, total);
    if (s == 0) lastSign = 0;
    else if (s != ESC_SYM) {
      const sg: i32 = c > radius ? 1 : 0;
      ecBit(sign + (<usize>msSignContext(lineSigns, lastSign, up, radius, k) << 1), sg);
      lastSign = 1 + sg;
      if (k >= 1) {
        ecBit(mant + (<usize>select<i32>(k * 5 + upRelation(up, radius, k), k, lineSigns) << 1), <i32>((v >>> (k - 1)) & 1));
        let nb = k - 1;
        while (nb > 0) {
          const m = nb > 12 ? 12 : nb;
          nb -= m;
          // Enc.direct
          ecRange = ecRange >>> m;
          ecLow += <u64>(((v >>> nb) & ((<u32>1 << m) - 1)) * ecRange);
          if (ecRange < TOP) ecNorm();
        }
      }
    }
    run = s == 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  return ecFinish(out);
}

/**
 * Returns the model cost in bits of codes[0, n) as msEncode codes them with line segments (coders 4 and 6): its
 * loop, with log2 sums (table at `log2`) instead of the range coder's steps (mscoder.ts costBlock with `back`).
 * Kept apart from msCost: this loop with no segments gives coder 2's cost too, but 1.4 times slower (0.87 against
 * 0.61 ms for 130 k codes; planning runs coder 2's some 17 times a field).
 */
export function msCostLines(codes: usize, n: i32, radius: u32, freq: usize, totals: usize, sign: usize, mant: usize, starts: usize, lines: usize, segs: i32, lineSigns: bool, log2: usize): f64 {
  let s1 = 0;
  let s2 = 0;
  let run = 0;
  let lastSign = 0;
  let bits: f64 = 0;
  startSegments(starts, lines, segs);
  for (let i = 0; i < n; i++) {
    const c = load<u32>(codes + (<usize>i << 2));
    const s = symbolOf(c, radius);
    const v: u32 = c > radius ? c - radius : radius - c;
    const k = s - 1;
    const up = codeUp(codes, i, radius);
    const ctx = symbolContext(symbolOf(up, radius), run, s1, s2);
    const row = freq + (<usize>(ctx * NSYM) << 2);
    const tAt = totals + (<usize>ctx << 2);
    const f = load<u32>(row + (<usize>s << 2));
    const t = load<u32>(tAt);
    bits += load<f64>(log2 + (<usize>t << 3)) - load<f64>(log2 + (<usize>f << 3));
    bump(row, tAt, s, f, t);
    if (s == 0) lastSign = 0;
    else if (s != ESC_SYM) {
      const sg = c > radius;
      bits += bitCost(sign + (<usize>msSignContext(lineSigns, lastSign, up, radius, k) << 1), sg, log2);
      lastSign = 1 + <i32>sg;
      if (k >= 1) {
        bits += bitCost(mant + (<usize>select<i32>(k * 5 + upRelation(up, radius, k), k, lineSigns) << 1), ((v >>> (k - 1)) & 1) != 0, log2);
        bits += <f64>(k - 1);
      }
    }
    run = s == 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  return bits;
}

// ---- binEncode / binDecode: rangecoder.ts's rangeEncodeCodes / rangeDecodeCodes loops (entropy coder 1) ----
// The binary coder's decisions through the same Enc/Dec steps as above (ecBit, rcBit: LZMA's coder, 11-bit
// probabilities, shift 5), the same model layout: zero u16[9 x 4], cls u16[8 x 16], sign u16[8], mant u16[16 x 16].

const ESC_CLASS: i32 = 15;

/** Codes codes[0, n) into out (`room` bytes); returns the bytes written, or -1 where they do not fit. */
export function binEncode(codes: usize, n: i32, radius: u32, zero: usize, cls: usize, sign: usize, mant: usize, out: usize, room: i32): i32 {
  ecStart(out, room);
  let b1 = 0;
  let b2 = 0;
  let lastCls = 0;
  for (let i = 0; i < n; i++) {
    const c = load<u32>(codes + (<usize>i << 2));
    const ctx = b1 * 3 + b2;
    if (c == radius) {
      ecBit(zero + (<usize>ctx << 1), 0);
      b2 = b1;
      b1 = 0;
      lastCls = 0;
      continue;
    }
    ecBit(zero + (<usize>ctx << 1), 1);
    const cc = lastCls > 6 ? 6 : lastCls;
    const base = cls + (<usize>(cc * 16) << 1);
    let k: i32;
    let v: u32 = 0;
    if (c == 0) k = ESC_CLASS;
    else {
      v = c > radius ? c - radius : radius - c;
      k = 31 - <i32>clz(v);
    }
    for (let j = 0; j < k; j++) ecBit(base + (<usize>j << 1), 1);
    if (k < ESC_CLASS) ecBit(base + (<usize>k << 1), 0);
    if (k != ESC_CLASS) {
      ecBit(sign + (<usize>cc << 1), c > radius ? 1 : 0);
      for (let j = k - 1; j >= 0; j--) ecBit(mant + (<usize>(k * 16 + (j > 14 ? 14 : j)) << 1), <i32>((v >>> j) & 1));
    }
    b2 = b1;
    b1 = c == 0 ? 2 : v == 1 ? 1 : 2;
    lastCls = k + 1;
  }
  return ecFinish(out);
}

/** Decodes n codes into out from data[0, len); returns 0, 1 (the data end early) or 2 (a residual beyond the radius). */
export function binDecode(data: usize, len: i32, out: usize, n: i32, radius: u32, zero: usize, cls: usize, sign: usize, mant: usize): i32 {
  if (rcStart(data, len)) return rcErr;
  let b1 = 0;
  let b2 = 0;
  let lastCls = 0;
  for (let i = 0; i < n; i++) {
    const ctx = b1 * 3 + b2;
    if (rcBit(zero + (<usize>ctx << 1)) == 0) {
      if (rcErr) return rcErr;
      store<u32>(out + (<usize>i << 2), radius);
      b2 = b1;
      b1 = 0;
      lastCls = 0;
      continue;
    }
    const cc = lastCls > 6 ? 6 : lastCls;
    const base = cls + (<usize>(cc * 16) << 1);
    let k = 0;
    while (k < ESC_CLASS && rcBit(base + (<usize>k << 1)) == 1) k++;
    let c: u32;
    let v: u32 = 0;
    if (k == ESC_CLASS) c = 0;
    else {
      const s = rcBit(sign + (<usize>cc << 1));
      v = 1;
      for (let j = k - 1; j >= 0; j--) v = (v << 1) | <u32>rcBit(mant + (<usize>(k * 16 + (j > 14 ? 14 : j)) << 1));
      if (rcErr) return rcErr;
      if (v >= radius) return MS_ERR_RESIDUAL;
      c = s ? radius + v : radius - v;
    }
    if (rcErr) return rcErr;
    store<u32>(out + (<usize>i << 2), c);
    b2 = b1;
    b1 = c == 0 ? 2 : v == 1 ? 1 : 2;
    lastCls = k + 1;
  }
  return 0;
}

// ---- mask2Encode / mask2Decode: maskcoder.ts model 2 (a validity mask, one adaptive bit per point) ----
// Enc.bit16 / Dec.bit16 of mscoder.ts: 16-bit probabilities adapting fast, then slowly, by a per-context count.

/** The adaptation shift by a context's count (mscoder.ts RATE) */
// @ts-ignore: decorator
@inline
function rate(c: u32): u32 {
  return c < 2 ? 2 : c < 6 ? 3 : c < 14 ? 4 : c < 30 ? 5 : c < 62 ? 6 : 7;
}

/** maskcoder.ts ctxAt: ten causal neighbours of point i (x, y in its slice; `slices`: a slice before it) */
// @ts-ignore: decorator
@inline
function maskContext(m: usize, i: i32, x: i32, w: i32, y: i32, slices: bool, plane: i32): u32 {
  const at = m + <usize>i;
  const l: u32 = x >= 1 ? load<u8>(at - 1) : 1;
  const l2: u32 = x >= 2 ? load<u8>(at - 2) : l;
  const u: u32 = y >= 1 ? load<u8>(at - <usize>w) : 1;
  const ul: u32 = y >= 1 && x >= 1 ? load<u8>(at - <usize>w - 1) : u;
  const ur: u32 = y >= 1 && x + 1 < w ? load<u8>(at - <usize>w + 1) : u;
  const u2: u32 = y >= 2 ? load<u8>(at - <usize>(2 * w)) : u;
  let p = u, pl = ul, pr = ur, pu = u2;
  if (slices) {
    const j = at - <usize>plane;
    p = load<u8>(j);
    pl = x >= 1 ? load<u8>(j - 1) : p;
    pr = x + 1 < w ? load<u8>(j + 1) : p;
    pu = y >= 1 ? load<u8>(j - <usize>w) : p;
  }
  return l | (l2 << 1) | (u << 2) | (ul << 3) | (ur << 4) | (u2 << 5) | (p << 6) | (pl << 7) | (pr << 8) | (pu << 9);
}

/** The probability at `pAt` (count at `cAt`) after coding bit b, as bit16 updates it */
// @ts-ignore: decorator
@inline
function adapt16(pAt: usize, cAt: usize, p: u32, b: i32): void {
  const c: u32 = load<u8>(cAt);
  const sh = rate(c);
  if (c < 255) store<u8>(cAt, <u8>(c + 1));
  let q = b == 0 ? p + ((65536 - p) >> sh) : p - (p >> sh);
  if (q < 32) q = 32;
  else if (q > 65504) q = 65504;
  store<u16>(pAt, <u16>q);
}

/** Enc.bit16: bit b with the probability at `pAt` (count at `cAt`), adapted after */
// @ts-ignore: decorator
@inline
function ecBit16(pAt: usize, cAt: usize, b: i32): void {
  const p: u32 = load<u16>(pAt);
  const bound = (ecRange >>> 16) * p;
  if (b == 0) ecRange = bound;
  else {
    ecLow += bound;
    ecRange -= bound;
  }
  adapt16(pAt, cAt, p, b);
  if (ecRange < TOP) ecNorm();
}

/** Dec.bit16: the bit the probability at `pAt` (count at `cAt`) decodes, adapted after */
// @ts-ignore: decorator
@inline
function rcBit16(pAt: usize, cAt: usize): i32 {
  const p: u32 = load<u16>(pAt);
  const bound = (rcRange >>> 16) * p;
  let b = 0;
  if (rcCode < bound) rcRange = bound;
  else {
    rcCode -= bound;
    rcRange -= bound;
    b = 1;
  }
  adapt16(pAt, cAt, p, b);
  if (rcRange < TOP) rcNorm();
  return b;
}

/**
 * Codes the n mask bytes at `mask` (rows of w points, slices of `plane`) into out (`room` bytes) with the model at
 * probs (u16[1024], all 32768) and counts (u8[1024], all 0); returns the bytes written, or -1 where they do not fit.
 */
export function mask2Encode(mask: usize, n: i32, w: i32, plane: i32, probs: usize, counts: usize, out: usize, room: i32): i32 {
  ecStart(out, room);
  const h = plane / w;
  let x = 0, y = 0;
  for (let i = 0; i < n; i++) {
    const ctx = maskContext(mask, i, x, w, y, i >= plane, plane);
    ecBit16(probs + (<usize>ctx << 1), counts + <usize>ctx, load<u8>(mask + <usize>i) ? 1 : 0);
    if (++x == w) {
      x = 0;
      if (++y == h) y = 0;
    }
  }
  return ecFinish(out);
}

/** Decodes n mask points into out (u8[n]) from data[0, len) with mask2Encode's model; returns 0, or 1 (the data end early). */
export function mask2Decode(data: usize, len: i32, out: usize, n: i32, w: i32, plane: i32, probs: usize, counts: usize): i32 {
  if (rcStart(data, len)) return rcErr;
  const h = plane / w;
  let x = 0, y = 0;
  for (let i = 0; i < n; i++) {
    const ctx = maskContext(out, i, x, w, y, i >= plane, plane);
    const b = rcBit16(probs + (<usize>ctx << 1), counts + <usize>ctx);
    if (rcErr) return rcErr;
    store<u8>(out + <usize>i, <u8>b);
    if (++x == w) {
      x = 0;
      if (++y == h) y = 0;
    }
  }
  return 0;
}

// maskcoder.ts's model 3 (maskEncode3, maskDecode3): model 2 with segments of MASK_SEGMENT points equal to their
// reference row's skipped; a whole segment compared or copied in one 16-byte lane.

const MASK_SEGMENT: i32 = 16;

/** maskcoder.ts uniformOf: 0 where the len points at `at` hold both values, else 1 + their value */
// @ts-ignore: decorator
@inline
function segmentUniform(at: usize, len: i32): u32 {
  const v: u32 = load<u8>(at);
  if (len == MASK_SEGMENT) return i8x16.all_true(i8x16.eq(v128.load(at), i8x16.splat(<i8>v))) ? 1 + v : 0;
  for (let k = 1; k < len; k++) if (<u32>load<u8>(at + <usize>k) != v) return 0;
  return 1 + v;
}

/** maskcoder.ts sameSegment */
// @ts-ignore: decorator
@inline
function segmentSame(a: usize, b: usize, len: i32): i32 {
  if (len == MASK_SEGMENT) return i8x16.all_true(i8x16.eq(v128.load(a), v128.load(b))) ? 1 : 0;
  for (let k = 0; k < len; k++) if (load<u8>(a + <usize>k) != load<u8>(b + <usize>k)) return 0;
  return 1;
}

/** maskcoder.ts's segment context: the segment before equal, the one a row before equal, the references' kinds */
// @ts-ignore: decorator
@inline
function segmentContext(m: usize, i: i32, x: i32, y: i32, w: i32, plane: i32, ref: i32, len: i32, before: u32, above: u32): u32 {
  const slices = i >= plane;
  const rowAbove: u32 = y >= 1 && slices ? segmentUniform(m + <usize>(i - w + x), len) : 0;
  return before | (above << 1) | (<u32>slices << 2) | (segmentUniform(m + <usize>(ref + x), len) << 3) | (rowAbove << 5);
}

/**
 * maskcoder.ts walkModel3: model 3's walk over the n mask points at m, one body for the coder and the decoder so both
 * build the same contexts in the same order (`decoding`, a constant at each call, is folded away): decoding, each bit
 * from the range decoder into m (equal segments copied), else each bit of m coded. Model 2's model at probs and
 * counts, the segments' at segProbs (u16[96], all 32768) and segCounts (u8[96], all 0), each segment's flag a row
 * before at rowAbove (u8[ceil(w / 16)], all 1). Returns 0, or the decoder's error.
 */
// @ts-ignore: decorator
@inline
function mask3Walk(m: usize, n: i32, w: i32, plane: i32, probs: usize, counts: usize, segProbs: usize, segCounts: usize, rowAbove: usize, decoding: bool): i32 {
  const h = plane / w;
  for (let i = 0, y = 0; i < n; i += w) {
    const ref = i >= plane ? i - plane : i >= w ? i - w : -1;
    let before: u32 = 1;
    for (let x = 0, s = 0; x < w; x += MASK_SEGMENT, s++) {
      const seg = min<i32>(MASK_SEGMENT, w - x);
      let same = 0;
      if (ref >= 0) {
        const ctx = segmentContext(m, i, x, y, w, plane, ref, seg, before, <u32>load<u8>(rowAbove + <usize>s));
        if (decoding) {
          same = rcBit16(segProbs + (<usize>ctx << 1), segCounts + <usize>ctx);
          if (rcErr) return rcErr;
        } else {
          same = segmentSame(m + <usize>(i + x), m + <usize>(ref + x), seg);
          ecBit16(segProbs + (<usize>ctx << 1), segCounts + <usize>ctx, same);
        }
        store<u8>(rowAbove + <usize>s, <u8>same);
        before = <u32>same;
      }
      if (same) {
        if (decoding) memory.copy(m + <usize>(i + x), m + <usize>(ref + x), <usize>seg);
        continue;
      }
      for (let k = x; k < x + seg; k++) {
        const ctx = maskContext(m, i + k, k, w, y, i + k >= plane, plane);
        if (decoding) {
          const b = rcBit16(probs + (<usize>ctx << 1), counts + <usize>ctx);
          if (rcErr) return rcErr;
          store<u8>(m + <usize>(i + k), <u8>b);
        } else ecBit16(probs + (<usize>ctx << 1), counts + <usize>ctx, load<u8>(m + <usize>(i + k)) ? 1 : 0);
      }
    }
    if (++y == h) y = 0;
  }
  return 0;
}

/** maskEncode3: the n mask bytes at `mask` into out (`room` bytes); returns the bytes written, or -1 where they do not fit. */
export function mask3Encode(mask: usize, n: i32, w: i32, plane: i32, probs: usize, counts: usize, segProbs: usize, segCounts: usize, rowAbove: usize, out: usize, room: i32): i32 {
  ecStart(out, room);
  mask3Walk(mask, n, w, plane, probs, counts, segProbs, segCounts, rowAbove, false);
  return ecFinish(out);
}

/** Decodes n mask points into out (u8[n]) from data[0, len) with mask3Encode's model; returns 0, or 1 (the data end early). */
export function mask3Decode(data: usize, len: i32, out: usize, n: i32, w: i32, plane: i32, probs: usize, counts: usize, segProbs: usize, segCounts: usize, rowAbove: usize): i32 {
  if (rcStart(data, len)) return rcErr;
  return mask3Walk(out, n, w, plane, probs, counts, segProbs, segCounts, rowAbove, true);
}

// ---- ransSymbolise / ransEncode / ransDecode: ransEncodeCodesBare's two passes (symboliseBlock and encodeBlock of
// src-main/core/codec/rans.ts, entropy coders 3 and 5) and ransDecodeCodesBare's loop (decodeBlock) ----
// The same contexts, counts, low bits and rANS state updates (all integers below 2^31 there), so the same bytes
// and codes.

const RANS_SCALE_BITS: i32 = 12;
const RANS_STATE_LOW: u32 = 1 << 23;
const RANS_RENORM_UNIT: u32 = (RANS_STATE_LOW >>> RANS_SCALE_BITS) << 8;
const RANS_SLOT_MASK: u32 = (1 << RANS_SCALE_BITS) - 1;
const RANS_ACTIVITY_LEVELS: i32 = 12;
const RANS_SIGN_SYMS: i32 = 4;
const RANS_NO_SYMBOL: i32 = 255;
/** rans.ts NO_SIGN: no sign-top step (a zero or an escape) in the u16 sign-top indices */
const RANS_NO_SIGN: i32 = 0xffff;
const RANS_LINE_ACTIVITY_LEVELS: i32 = 6;
/** coder 5's run contexts follow its 8 x 8 x 6 class contexts */
const RANS_LINE_RUN_BASE: i32 = 8 * 8 * RANS_LINE_ACTIVITY_LEVELS;

// @ts-ignore: decorator
@inline
function ransRunBucket(run: i32): i32 {
  // rans.ts RUN_CONTEXT's buckets (< 8, 16, 32, 64, 128, more) for a run of 4 or more (the callers' selects drop it
  // below): floor(log2 run) - 2, at most 5
  return min<i32>(29 - <i32>clz(run | 4), 5);
}

/**
 * rans.ts contextOf: coder 3 (no segments) from the previous class and the activity's level, coder 5 (withLines:
 * segments, startSegments) with the class of the symbol one line back (up). Inlined: a constant withLines folds.
 */
// @ts-ignore: decorator
@inline
function ransContext(up: i32, prevClass: i32, activity: i32, run: i32, activityLevel: usize, withLines: bool): i32 {
  const level = <i32>load<u8>(activityLevel + <usize>activity);
  if (withLines) {
    return select<i32>(
      RANS_LINE_RUN_BASE + 2 * ransRunBucket(run) + <i32>(up != 0),
      (prevClass * 8 + select<i32>(up, 7, up < 7)) * RANS_LINE_ACTIVITY_LEVELS + (level >> 1),
      run >= 4,
    );
  }
  return select<i32>(8 * RANS_ACTIVITY_LEVELS + ransRunBucket(run), prevClass * RANS_ACTIVITY_LEVELS + level, run >= 4);
}


/**
 * The decoder's byte per code (ransDecode's `info`): its symbol (bits 0-4), its sign state (signState, bits 5-6) and
 * the top bit below its leading one (bit 7; the sign-top symbol's), all the line context reads of the code one line
 * back, kept as decoded rather than worked out again from the code.
 */
// @ts-ignore: decorator
@inline
function codeInfo(s: i32, signState: i32, top: i32): u32 {
  return <u32>(s | (signState << 5) | (top << 7));
}

/** codeUp's line-back code as its codeInfo byte (0 where there is none: a zero residual's) */
// @ts-ignore: decorator
@inline
function infoUp(info: usize, i: i32): u32 {
  const back = lineBack(i);
  return select<u32>(<u32>load<u8>(info + <usize>(i - back)), 0, back != 0);
}

/**
 * rans.ts signContextOf for coder 5, from the line-back code's codeInfo byte: the previous sign, the line-back code's
 * sign state, the class min(k, 5) and the line-back code's relation to k
 */
// @ts-ignore: decorator
@inline
function ransLineSignContext(lastSign: i32, upInfo: u32, k: i32): i32 {
  const kc = select<i32>(k, 5, k < 5);
  const su = <i32>(upInfo & 31);
  // upRelation: its class ku = su - 1 against k, or at k the top bit; 0 for a zero residual or an escape
  const ku = su - 1;
  const rel = select<i32>(1, select<i32>(4, 2 + <i32>(upInfo >> 7), ku > k), ku < k);
  return ((lastSign * 3 + <i32>((upInfo >> 5) & 3)) * 6 + kc) * 5 + select<i32>(0, rel, su == 0 || su == ESC_SYM);
}

/** rans.ts signContextOf without the line context: the previous sign x class min(k, 5) (coder 5: ransLineSignContext) */
// @ts-ignore: decorator
@inline
function ransSignContext(lastSign: i32, k: i32): i32 {
  return lastSign * 6 + select<i32>(k, 5, k < 5);
}

/**
 * The forward pass over codes[0, n): per code its symbol's table index (u16 at symbolIndex) and sign-top index (u16
 * at signIndex; 0xffff for zeros and escapes), the counts (u32 at counts, signCounts), the low mantissa bits LSB
 * first at low (room bytes). activityLevel: rans.ts's ACTIVITY_LEVEL (u8[1024]). segs > 0: coder 5's line context, the
 * segments of msDecode. info: room for n bytes (each code's codeInfo byte). Returns the low bits' byte length, -1
 * where they would not fit the room, or -2 where a code is 2 x radius or more.
 *
 * Two loops: the first reads the codes (their codeInfo bytes and low bits, nothing carried but the bit packer), the
 * second the bytes alone (the contexts, carried from code to code, with the line-back code's byte as the decoder
 * keeps it). One loop doing both held too many values for the registers, and took 13.4 ns a code (etopo5, rel 1e-3:
 * 40 % of a chunk's encoding); the two take 9.
 */
export function ransSymbolise(codes: usize, n: i32, radius: u32, symbolIndex: usize, signIndex: usize, counts: usize, signCounts: usize, activityLevel: usize, low: usize, room: i32, starts: usize, lines: usize, segs: i32, info: usize): i32 {
  // a code adds at most 30 low bits (14 below 2 x radius, radius <= 2^16; 30 for any u32 a caller may pass): with
  // 4 n + 8 bytes of room the per-code check cannot fail, and nothing is written past the room
  const lowBytes = room < 4 * n + 8 ? codeBytes(codes, n, radius, info, low, room, true) : codeBytes(codes, n, radius, info, low, room, false);
  if (lowBytes < 0) return lowBytes;
  if (!ransUpSignReady) ransUpSignTable();
  startSegments(starts, lines, segs);
  // one loop per case, each compiled with its constants folded (the line context's selects)
  if (segs > 0) symbolContexts(info, n, symbolIndex, signIndex, counts, signCounts, activityLevel, true);
  else symbolContexts(info, n, symbolIndex, signIndex, counts, signCounts, activityLevel, false);
  return lowBytes;
}

/**
 * ransSymbolise's first loop: each code's codeInfo byte and its k - 1 low bits. Returns the low bits' byte length, -1
 * where they would not fit the room (or the radius is past the rANS coders' 2^16), -2 where a code is 2 x radius or
 * more (looked for before the loop).
 */
// @ts-ignore: decorator
@inline
function codeBytes(codes: usize, n: i32, radius: u32, info: usize, low: usize, room: i32, checked: bool): i32 {
  // a code of 2 x radius or more has no symbol in the tables: looked for first, so that the loop below holds one
  // value fewer (its bit packer's then stay in registers); the rANS coders take radii up to 2^16 (rans.ts)
  if (radius > 65536) return -1;
  if (largestCode(codes, n) >= 2 * radius) return -2;
  // the low bits LSB first through a 32-bit accumulator, 4 bytes stored at a time (the room keeps 8 spare): below
  // 2 x radius a residual has at most 14 low bits, on top of at most 7 waiting
  let acc: u32 = 0, nbits: u32 = 0;
  let out = low;
  const roomEnd = low + <usize>room;
  const end = codes + (<usize>n << 2);
  for (let at = codes, byte = info; at < end; at += 4, byte++) {
    const c = load<u32>(at);
    const positive: i32 = <i32>(c > radius);
    const v: u32 = select<u32>(c - radius, radius - c, positive);
    const s = symbolOf(c, radius);
    // a residual: symbols 1-16 (not a zero, not an escape); compared unsigned, as `&&` compiled to a branch, which
    // real codes mispredict
    const residual = <u32>(s - 1) < <u32>(ESC_SYM - 1);
    const k = s - 1;
    const top: i32 = select<i32>(<i32>((v >>> <u32>(k - 1)) & 1), 0, k >= 1);
    store<u8>(byte, <u8>codeInfo(s, select<i32>(1 + positive, 0, residual), top));
    // the k - 1 low bits (none below k = 2: symbols 3-16)
    const nb: u32 = select<u32>(<u32>(k - 1), 0, <u32>(s - 3) < <u32>(ESC_SYM - 3));
    acc |= (v & ((<u32>1 << nb) - 1)) << nbits;
    nbits += nb;
    if (checked && out + 8 > roomEnd) return -1;
    store<u32>(out, acc);
    // nbits < 8 + 14: at most two whole bytes
    const whole = nbits >> 3;
    out += <usize>whole;
    acc >>>= whole << 3;
    nbits &= 7;
  }
  if (nbits > 0) {
    if (out + 8 > roomEnd) return -1;
    store<u32>(out, acc);
    out++;
  }
  return <i32>(out - low);
}

/** The largest of codes[0, n), four at a time. */
function largestCode(codes: usize, n: i32): u32 {
  let most = i32x4.splat(0);
  const whole = codes + (<usize>(n & ~3) << 2);
  let at = codes;
  for (; at < whole; at += 16) most = i32x4.max_u(most, v128.load(at));
  let largest = max<u32>(max<u32>(<u32>i32x4.extract_lane(most, 0), <u32>i32x4.extract_lane(most, 1)), max<u32>(<u32>i32x4.extract_lane(most, 2), <u32>i32x4.extract_lane(most, 3)));
  for (const end = codes + (<usize>n << 2); at < end; at += 4) largest = max<u32>(largest, load<u32>(at));
  return largest;
}

/**
 * ransSymbolise's second loop, from the codes' codeInfo bytes: the symbol and sign-top indices and their counts
 * (rans.ts contextOf and signContextOf; withLines: coder 5's, the line-back code's byte read as ransDecode reads it).
 */
// @ts-ignore: decorator
@inline
function symbolContexts(info: usize, n: i32, symbolIndex: usize, signIndex: usize, counts: usize, signCounts: usize, activityLevel: usize, withLines: bool): void {
  let prevClass = 0, activity = 0, run = 0, lastSign = 0;
  for (let i = 0; i < n; i++) {
    const me = <i32>load<u8>(info + <usize>i);
    const s = me & 31;
    const upInfo = withLines ? infoUp(info, i) : 0;
    const ctx = ransContext(<i32>(upInfo & 31), prevClass, activity, run, activityLevel, withLines);
    const j = ctx * NSYM + s;
    store<u16>(symbolIndex + (<usize>i << 1), <u16>j);
    const cAt = counts + (<usize>j << 2);
    store<u32>(cAt, load<u32>(cAt) + 1);
    // the sign state: 0 a zero or an escape, else 1 + positive
    const sign = (me >> 5) & 3;
    const residual = sign != 0;
    // the sign context: with lines, its part from the line-back byte and the class from a table
    const sc = withLines
      ? lastSign * RANS_LINE_SIGN_STEP + <i32>load<u16>(RANS_UP_SIGN + ((<usize>upInfo << 6) | (<usize>s << 1)))
      : ransSignContext(lastSign, s - 1);
    const js = select<i32>(sc * RANS_SIGN_SYMS + (sign - 1) * 2 + (me >> 7), RANS_NO_SIGN, residual);
    const sAt = signCounts + (<usize>select<i32>(js, 0, residual) << 2);
    store<u32>(sAt, load<u32>(sAt) + <u32>residual);
    store<u16>(signIndex + (<usize>i << 1), <u16>js);
    lastSign = select<i32>(lastSign, sign, s == ESC_SYM);
    run = select<i32>(run + 1, 0, s == 0);
    prevClass = min<i32>(s, 7);
    activity = (activity * 3 + select<i32>(16, s, s == ESC_SYM) * 64) >>> 2;
  }
}

/**
 * ransLineSignContext without its previous-sign term, per line-back codeInfo byte (256) and symbol (32, of which
 * the residuals' 1-16 are read): ((its sign state x 6 + min(k, 5)) x 5 + its relation to k), u16.
 */
const RANS_UP_SIGN = memory.data(2 * 256 * 32, 16);
/** ransLineSignContext's step per previous sign (its line-back sign state x 6 classes x 5 relations) */
const RANS_LINE_SIGN_STEP: i32 = 3 * 6 * 5;
let ransUpSignReady = false;

function ransUpSignTable(): void {
  for (let up = 0; up < 256; up++) {
    for (let s = 1; s < 32; s++) store<u16>(RANS_UP_SIGN + ((<usize>up << 6) | (<usize>s << 1)), <u16>ransLineSignContext(0, <u32>up, s - 1));
  }
  ransUpSignReady = true;
}

/**
 * The backward pass: codes values n-1 down to 0 from their indices with the frequencies and cumulative frequencies
 * (u16 at freq, cum, signFreq, signCum), writing the pushed bytes downwards from out + room, so they end in the order
 * the decoder reads them. The final states go to states (i32 x0, x1). Returns the bytes pushed, or -1 where they
 * would not fit the room.
 */
export function ransEncode(symbolIndex: usize, signIndex: usize, n: i32, freq: usize, cum: usize, signFreq: usize, signCum: usize, out: usize, room: i32, states: usize): i32 {
  if (!ransDivisorsReady) ransDivisors();
  let x0: u32 = RANS_STATE_LOW, x1: u32 = RANS_STATE_LOW;
  let at = out + <usize>room;
  for (let i = n - 1; i >= 0; i--) {
    // at most 4 bytes pushed below: two per state
    if (at < out + 4) return -1;
    const js = <i32>load<u16>(signIndex + (<usize>i << 1));
    // decoded after the value's symbol, so coded before it; a zero or an escape has none (x1 stays). Both ways
    // run, a select keeps one: whether a code is a residual is as unpredictable as the data
    const signed = js != RANS_NO_SIGN;
    const jsAt = <usize>select<i32>(js, 0, signed) << 1;
    const sf: u32 = load<u16>(signFreq + jsAt);
    const x1Pushed = select<i32>(pushBytes(x1, sf, at), 0, signed);
    x1 = select<u32>(ransPut(x1 >>> (<u32>x1Pushed << 3), sf, <u32>load<u16>(signCum + jsAt)), x1, signed);
    at -= <usize>x1Pushed;
    const j = <usize>load<u16>(symbolIndex + (<usize>i << 1));
    const f: u32 = load<u16>(freq + (j << 1));
    const x0Pushed = pushBytes(x0, f, at);
    at -= <usize>x0Pushed;
    x0 = ransPut(x0 >>> (<u32>x0Pushed << 3), f, <u32>load<u16>(cum + (j << 1)));
    const t = x0;
    x0 = x1;
    x1 = t;
  }
  store<u32>(states, x0);
  store<u32>(states, x1, 4);
  return <i32>(out + <usize>room - at);
}

/**
 * The renormalisation of rans.ts's encodeBlock without its loop: state x must come below RENORM_UNIT x f, which
 * takes 0, 1 or 2 low bytes off (x < 2^31, RENORM_UNIT x f >= 2^19); both candidates are stored below `at` (the
 * next pushes overwrite what was not pushed). Returns how many bytes were pushed.
 */
// @ts-ignore: decorator
@inline
function pushBytes(x: u32, f: u32, at: usize): i32 {
  const xMax = RANS_RENORM_UNIT * f;
  store<u8>(at - 1, <u8>x);
  store<u8>(at - 2, <u8>(x >>> 8));
  return <i32>(x >= xMax) + <i32>((x >>> 8) >= xMax);
}

/**
 * x / f without a division, for every renormalised state x (< RANS_RENORM_UNIT x f <= 2^31) and frequency f in
 * [1, 2^12]: floor(x M / 2^k) with k = 31 + ceil(log2 f) and M = ceil(2^k / f) (ransDivisors). Exact: M f - 2^k < f
 * and x < 2^31, so x (M f - 2^k) < 2^k, which keeps x M / 2^k below the next integer above x / f; and x M < 2^31 x
 * 2^33 fits 64 bits. A division was a third of the encoder's backward pass.
 */
const RANS_DIVISORS = memory.data(8 * ((1 << RANS_SCALE_BITS) + 1), 8);
let ransDivisorsReady = false;

function ransDivisors(): void {
  for (let f: u32 = 1; f <= <u32>(1 << RANS_SCALE_BITS); f++) {
    const k = <u64>(31 + 32 - <i32>clz(f - 1));
    store<u64>(RANS_DIVISORS + (<usize>f << 3), ((<u64>1 << k) + <u64>f - 1) / <u64>f);
  }
  ransDivisorsReady = true;
}

/** rANS's coding step: state x (renormalised) codes the symbol of frequency f and cumulative frequency c. */
// @ts-ignore: decorator
@inline
function ransPut(x: u32, f: u32, c: u32): u32 {
  const q = <u32>((<u64>x * load<u64>(RANS_DIVISORS + (<usize>f << 3))) >>> <u64>(31 + 32 - <i32>clz(f - 1)));
  return (q << RANS_SCALE_BITS) + (x - q * f) + c;
}

/**
 * rans.ts's decodeBlock over all n codes: the two states x0, x1 (read by the caller from the data's first 8 bytes),
 * the renormalisation bytes data[0, len), the low bits low[0, lowLen), the frequencies (u16 at freq, cum, signFreq,
 * signCum) and per context the ends of its symbols' slot ranges (u16 x 24 at ends, cum + freq of symbols 0..17, then
 * 0xffff; u16 x 8 at signEnds: 4 symbols, 0xffff; all 0 in a context without a table), the segments of msDecode for
 * coder 5. A slot's symbol is how many ends are at or below it (the one whose range holds it; an empty range's end is
 * its start), counted in SIMD lanes: the reference's 4096-slot lookup per context (1.6 MB for coder 5's 414 contexts)
 * missed the caches on every code, these 19 KB stay in them. Writes the codes (u32 at out) and the final x0, x1 and
 * bytes read (u32 at states). Returns 0, or where the reference throws: 1 the data end early, 2 a residual beyond the
 * radius, 3 a context without a table, 4 a sign context without one, 5 the low bits end early.
 */
export function ransDecode(
  x0: u32, x1: u32, data: usize, len: i32, low: usize, lowLen: i32, ends: usize, signEnds: usize, freq: usize, cum: usize, signFreq: usize,
  signCum: usize, radius: u32, out: usize, n: i32, activityLevel: usize, starts: usize, lines: usize, segs: i32, states: usize, info: usize,
): i32 {
  // one loop per context model, each compiled with its constant folded (coder 3 has no line back to look up)
  return segs > 0
    ? ransDecodeLoop(x0, x1, data, len, low, lowLen, ends, signEnds, freq, cum, signFreq, signCum, radius, out, n, activityLevel, starts, lines, segs, states, info, true)
    : ransDecodeLoop(x0, x1, data, len, low, lowLen, ends, signEnds, freq, cum, signFreq, signCum, radius, out, n, activityLevel, starts, lines, segs, states, info, false);
}

// @ts-ignore: decorator
@inline
function ransDecodeLoop(
  x0: u32, x1: u32, data: usize, len: i32, low: usize, lowLen: i32, ends: usize, signEnds: usize, freq: usize, cum: usize, signFreq: usize,
  signCum: usize, radius: u32, out: usize, n: i32, activityLevel: usize, starts: usize, lines: usize, segs: i32, states: usize, info: usize, withLines: bool,
): i32 {
  // Branch-free where the data decide (the renormalisations, the low bits' lengths), which a branch predictor cannot
  // guess: each step runs, selects keep what the reference would have done. Not the sign-top step: it runs only for
  // a residual (a branch), because the next symbol is decoded from that step's state, and with a select a zero or an
  // escape waited on the step it then threw away (5-11 % of the decode on navy winds and etopo5, whatever the share of
  // zeros). Reads reach up to 8 bytes past data and low (the caller leaves them mapped); the checks against len and
  // lowLen are exact.
  let p: i32 = 0;
  let bitPos: i64 = 0;
  const lowBits: i64 = <i64>lowLen << 3;
  let prevClass = 0, activity = 0, run = 0, lastSign = 0;
  startSegments(starts, lines, segs);
  for (let i = 0; i < n; i++) {
    const upInfo = withLines ? infoUp(info, i) : 0;
    const ctx = ransContext(<i32>(upInfo & 31), prevClass, activity, run, activityLevel, withLines);
    const slot = x0 & RANS_SLOT_MASK;
    const slots = i16x8.splat(<i16>slot);
    const at = ends + <usize>ctx * 48;
    // symbols 0-7 first: the larger ones (all eight ends at or below the slot) are rare, and a branch skips them
    let s = <i32>popcnt<i32>(i16x8.bitmask(i16x8.le_u(v128.load(at), slots)));
    if (s == 8) s += <i32>popcnt<i32>(i16x8.bitmask(i16x8.le_u(v128.load(at, 16), slots))) + <i32>popcnt<i32>(i16x8.bitmask(i16x8.le_u(v128.load(at, 32), slots)));
    if (s >= NSYM) return 3;
    const j = <usize>(ctx * NSYM + s);
    x0 = <u32>load<u16>(freq + (j << 1)) * (x0 >>> RANS_SCALE_BITS) + slot - <u32>load<u16>(cum + (j << 1));
    // x0 >= 2^11 here (f >= 1, x0 >= 2^23 before): 0, 1 or 2 bytes bring it back to [2^23, 2^31)
    const need0 = (<i32>clz(x0) - 1) >> 3;
    if (p + need0 > len) return 1;
    x0 = ransTake(x0, need0, data + <usize>p);
    p += need0;
    // the sign-top symbol of a residual (not a zero, not an escape) from the other state
    const residual = s != 0 && s != ESC_SYM;
    const k = s - 1;
    let st = 0;
    if (residual) {
      const sc = withLines ? ransLineSignContext(lastSign, upInfo, k) : ransSignContext(lastSign, k);
      const signSlot = x1 & RANS_SLOT_MASK;
      st = <i32>popcnt<i32>(i16x8.bitmask(i16x8.le_u(v128.load(signEnds + (<usize>sc << 4)), i16x8.splat(<i16>signSlot))));
      if (st >= RANS_SIGN_SYMS) return 4;
      const js = <usize>(sc * RANS_SIGN_SYMS + st);
      const x1Next = <u32>load<u16>(signFreq + (js << 1)) * (x1 >>> RANS_SCALE_BITS) + signSlot - <u32>load<u16>(signCum + (js << 1));
      const need1 = (<i32>clz(x1Next) - 1) >> 3;
      if (p + need1 > len) return 1;
      x1 = ransTake(x1Next, need1, data + <usize>p);
      p += need1;
    }
    // |v|: 1, or 2 + the top bit, then the k - 1 low bits (LSB first, BitReader.get)
    const m: i32 = select<i32>(k - 1, 0, residual && k >= 2);
    if (bitPos + <i64>m > lowBits) return 5;
    const bits = <u32>(load<u64>(low + <usize>(bitPos >>> 3)) >>> <u64>(bitPos & 7)) & ((<u32>1 << <u32>m) - 1);
    bitPos += <i64>m;
    const v: u32 = (select<u32>(2 | <u32>(st & 1), 1, k >= 1) << <u32>m) | bits;
    if (residual && v >= radius) return 2;
    const positive = (st >> 1) & 1;
    const c: u32 = select<u32>(select<u32>(radius + v, radius - v, positive != 0), select<u32>(radius, 0, s == 0), residual);
    lastSign = select<i32>(1 + positive, select<i32>(0, lastSign, s == 0), residual);
    store<u32>(out + (<usize>i << 2), c);
    if (withLines) store<u8>(info + <usize>i, <u8>codeInfo(s, select<i32>(1 + positive, 0, residual), st & 1));
    run = select<i32>(run + 1, 0, s == 0);
    prevClass = select<i32>(s, 7, s < 7);
    activity = (activity * 3 + select<i32>(16, s, s == ESC_SYM) * 64) >>> 2;
    const t = x0;
    x0 = x1;
    x1 = t;
  }
  store<u32>(states, x0);
  store<u32>(states, x1, 4);
  store<u32>(states, <u32>p, 8);
  return 0;
}

/** x shifted up by `need` (0-2) bytes read big end first from `at` (rans.ts decodeBlock's renormalisation loop) */
// @ts-ignore: decorator
@inline
function ransTake(x: u32, need: i32, at: usize): u32 {
  const two: u32 = (<u32>load<u8>(at) << 8) | <u32>load<u8>(at, 1);
  // need 0: x unchanged (the shift by 16 leaves no byte); a shift by 32 would be by 0 in WebAssembly, so x << 8 twice
  return ((x << <u32>(need << 2)) << <u32>(need << 2)) | (two >>> <u32>((2 - need) << 3));
}

// ---- The predictors' encoders: interpQuantize (run of src-main/core/codec/predictors/interp.ts) and lorenzoQuantize
// (run1-run4 of predictors/lorenzo.ts), each with LinearQuantizer's quantizeAt (quantizer.ts) ----
// The same predictions, the same float64 expressions in the same order, the same quantizeAt (roundForCode, the
// float32 rounding, the check), so the same codes and escapes. Reconstructions are float64 here (a float32 field's
// are float32 values either way).

// The quantizer's state: its bound (setFactor), the codes and escapes so far. gridHalf >= 0: grid.ts's GridQuantizer
// of that half width (grid indices in, their bins of width 2h + 1), else a LinearQuantizer of bound e0.
let qE: f64 = 0, qTwoE: f64 = 0, qInv: f64 = 0, qRad: f64 = 0;
let qRadius: i32 = 0;
let qF32: bool = false;
let qE0: f64 = 0, qGridHalf: i32 = -1, qWidth: f64 = 1;
let qCodes: usize = 0, qNCodes: i32 = 0, qEscapes: usize = 0, qNEscapes: i32 = 0, qEscapeRoom: i32 = 0;

/** The quantizer's parameters, at its stream bound (both directions) */
function quantizerSet(e0: f64, gridHalf: i32, radius: i32, f32: bool): void {
  qE0 = e0;
  qGridHalf = gridHalf;
  setFactor(1);
  qRadius = radius;
  qRad = <f64>radius;
  qF32 = f32;
}

function quantizerStart(e0: f64, gridHalf: i32, radius: i32, f32: bool, codes: usize, escapes: usize, escapeRoom: i32): void {
  quantizerSet(e0, gridHalf, radius, f32);
  qCodes = codes;
  qNCodes = 0;
  qEscapes = escapes;
  qNEscapes = 0;
  qEscapeRoom = escapeRoom;
}

/** LinearQuantizer.setFactor, GridQuantizer.setFactor */
function setFactor(factor: f64): void {
  if (qGridHalf >= 0) {
    const h = factor > 1 ? Math.floor(<f64>qGridHalf / factor) : <f64>qGridHalf;
    qWidth = 2 * h + 1;
    return;
  }
  const e = factor > 1 ? qE0 / factor : qE0;
  qE = e;
  qTwoE = 2 * e;
  qInv = 1 / (2 * e);
}

/** roundForCode of quantizer.ts: Math.round but for the sign of a zero */
// @ts-ignore: decorator
@inline
function roundForCode(v: f64): f64 {
  if (Math.abs(v) < 2251799813685248) {
    // the nearest whole number, ties to even (as mathRound), then a tie taken up: floor(v + 0.5)'s value, and its +0
    // for v in [-0.5, 0.5) (the sum and difference give +0 there); f64.floor was the bulk of the predictors' loops
    const n = v + 6755399441055744.0 - 6755399441055744.0;
    return n + select<f64>(1, 0, v - n == 0.5);
  }
  const r = Math.floor(v + 0.5);
  return r - 0.5 > v ? r - 1 : r;
}

/**
 * quantizeAt with the code stored at `at`: LinearQuantizer's (the float32 rounding, the check) or GridQuantizer's; the
 * reconstruction (an escape's: the value itself, code 0). listEscape: the escape's value appended to the escapes
 * (else the caller lists them from the codes afterwards: lorenzoRows).
 */
// @ts-ignore: decorator
@inline
function quantizeInto(at: usize, xv: f64, p: f64, listEscape: bool): f64 {
  if (qGridHalf >= 0) {
    const pg = roundForCode(p);
    const qg = roundForCode((xv - pg) / qWidth);
    if (qg > -qRad && qg < qRad) {
      store<u32>(at, <u32>(<i32>qg + qRadius));
      return pg + qg * qWidth;
    }
  } else {
    const q = roundForCode((xv - p) * qInv);
    if (q > -qRad && q < qRad) {
      let r = p + q * qTwoE;
      if (qF32) r = <f64><f32>r;
      if (Math.abs(r - xv) <= qE) {
        store<u32>(at, <u32>(<i32>q + qRadius));
        return r;
      }
    }
  }
  store<u32>(at, 0);
  // counted past the room (the caller then runs the reference), stored within it
  if (listEscape) {
    if (qNEscapes < qEscapeRoom) store<f64>(qEscapes + (<usize>qNEscapes << 3), xv);
    qNEscapes++;
  }
  return xv;
}

/** quantizeAt with the code appended (quantizeInto), its escape listed; the reconstruction */
// @ts-ignore: decorator
@inline
function quantizeNext(xv: f64, p: f64): f64 {
  const at = qCodes + (<usize>qNCodes << 2);
  qNCodes++;
  return quantizeInto(at, xv, p, true);
}

// The decoders' state: the codes and escapes to read, where reading is, and whether it ran past them (a stream the
// caller did not check: it then runs the reference, which fails or decodes as it does)
let dCodes: usize = 0, dNCodes: i32 = 0, dPos: i32 = 0, dEscapes: usize = 0, dNEscapes: i32 = 0, dEscPos: i32 = 0;
let dOverrun: bool = false;
/**
 * Reconstructions rounded to float32 (interp.ts decodes an unmasked float32 field in place, its output as the
 * reconstructions: an escape that is not a float32 value predicts its neighbours rounded)
 */
let dRoundR: bool = false;

function recoverStart(e0: f64, gridHalf: i32, radius: i32, f32: bool, codes: usize, nCodes: i32, escapes: usize, nEscapes: i32): void {
  quantizerSet(e0, gridHalf, radius, f32);
  dCodes = codes;
  dNCodes = nCodes;
  dPos = 0;
  dEscapes = escapes;
  dNEscapes = nEscapes;
  dEscPos = 0;
  dOverrun = false;
}

/** roundExact of quantizer.ts: Math.round bit for bit (a zero takes v's sign) */
// @ts-ignore: decorator
@inline
function roundExact(v: f64): f64 {
  const r = roundForCode(v);
  return r == 0 ? 0 * v : r;
}

/** recoverAt of LinearQuantizer or GridQuantizer, from the next code: the reconstruction */
// @ts-ignore: decorator
@inline
function recoverNext(p: f64): f64 {
  if (dPos >= dNCodes) {
    dOverrun = true;
    return 0;
  }
  const c = load<u32>(dCodes + (<usize>dPos << 2));
  dPos++;
  if (c == 0) {
    if (dEscPos >= dNEscapes) {
      dOverrun = true;
      return 0;
    }
    const v = load<f64>(dEscapes + (<usize>dEscPos << 3));
    dEscPos++;
    return v;
  }
  return recoverCode(c, p);
}

/** recoverAt of a code that is not an escape, against prediction p: the reconstruction */
// @ts-ignore: decorator
@inline
function recoverCode(c: u32, p: f64): f64 {
  const d = <f64>c - qRad;
  if (qGridHalf >= 0) return roundExact(p) + d * qWidth;
  const r = p + d * qTwoE;
  return qF32 ? <f64><f32>r : r;
}

/** The decoders' output: point i of `out` (float32 or float64) */
// @ts-ignore: decorator
@inline
function storeValue(out: usize, outF32: bool, i: i32, v: f64): void {
  if (outF32) store<f32>(out + (<usize>i << 2), <f32>v);
  else store<f64>(out + (<usize>i << 3), v);
}

/** The decoders' result: -1 where they ran past the codes or escapes, else 0; the counts read at counts (i32 x 2). */
function recoverEnd(counts: usize): i32 {
  store<i32>(counts, dPos);
  store<i32>(counts, dEscPos, 4);
  return dOverrun ? -1 : 0;
}

// @ts-ignore: decorator
@inline
function valueAt(x: usize, xF32: bool, i: i32): f64 {
  return xF32 ? <f64>load<f32>(x + (<usize>i << 2)) : load<f64>(x + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function skipped(skip: usize, i: i32): bool {
  return skip != 0 && load<u8>(skip + <usize>i) == 1;
}

/** A skipped point's reconstruction: its prediction, 0 where that is not finite */
// @ts-ignore: decorator
@inline
function finiteOr0(p: f64): f64 {
  return p - p == 0 ? p : 0;
}

// interpQuantize: line by line, in the codes' order (interp.ts's masked path; its unmasked rowMajorPass goes in
// memory order but writes each code where this loop does and puts its escapes back in code order).

// interp.ts's Stencil
const ST_MID = 0, ST_CUBIC = 1, ST_CUBIC_NO_LEFT = 2, ST_CUBIC_NO_RIGHT = 3, ST_EXTRAPOLATE = 4, ST_COPY = 5;

/** interp.ts's stencilAt */
// @ts-ignore: decorator
@inline
function stencilAt(cubic: bool, t: i32, s: i32, L: i32): i32 {
  if (t + s >= L) return t >= 3 * s ? ST_EXTRAPOLATE : ST_COPY;
  if (!cubic) return ST_MID;
  const l3 = t >= 3 * s;
  const r3 = t + 3 * s < L;
  return l3 && r3 ? ST_CUBIC : r3 ? ST_CUBIC_NO_LEFT : l3 ? ST_CUBIC_NO_RIGHT : ST_MID;
}

/** predictRun's expression for one point (R the reconstructions, f64 or f32 when those are all float32 values, neighbours ss apart) */
// @ts-ignore: decorator
@inline
function predictAt<T>(stencil: i32, R: usize, idx: i32, ss: i32): f64 {
  const a = R + (<usize>idx << alignof<T>());
  const o1 = <usize>ss << alignof<T>();
  const o3 = <usize>(3 * ss) << alignof<T>();
  switch (stencil) {
    case ST_MID: return (<f64>load<T>(a - o1) + <f64>load<T>(a + o1)) * 0.5;
    case ST_CUBIC: return (-<f64>load<T>(a - o3) + 9 * <f64>load<T>(a - o1) + 9 * <f64>load<T>(a + o1) - <f64>load<T>(a + o3)) * 0.0625;
    case ST_CUBIC_NO_LEFT: return (3 * <f64>load<T>(a - o1) + 6 * <f64>load<T>(a + o1) - <f64>load<T>(a + o3)) * 0.125;
    case ST_CUBIC_NO_RIGHT: return (-<f64>load<T>(a - o3) + 6 * <f64>load<T>(a - o1) + 3 * <f64>load<T>(a + o1)) * 0.125;
    case ST_EXTRAPOLATE: return 1.5 * <f64>load<T>(a - o1) - 0.5 * <f64>load<T>(a - o3);
    default: return <f64>load<T>(a - o1);
  }
}

/** A pass's runs of one stencil: [first ti, length, stencil] (i32 each); a line has at most 6 */
const RUNS = memory.data(16 * 12);

/** m points idx + i * step of one stencil: predicted, then quantized or skipped */
// @ts-ignore: decorator
@inline
function quantizeRun<T>(stencil: i32, x: usize, xF32: bool, skip: usize, R: usize, idx: i32, step: i32, m: i32, ss: i32, checked: bool): void {
  for (let i = 0; i < m; i++, idx += step) {
    const p = predictAt<T>(stencil, R, idx, ss);
    storeReconstruction<T>(R, idx, skipped(skip, idx) ? finiteOr0(p) : quantizeNext(valueAt(x, xF32, idx), p), checked);
  }
}

/**
 * Whether a reconstruction was not a float32 value in a walk keeping them as float32 (interpWalk<f32>): the walk is
 * then run again with float64 ones, so that every prediction is the reference's
 */
let rInexact = false;

/** Reconstruction r of point idx kept in R (float64, or float32 where it is one: checked, rInexact says where it was not) */
// @ts-ignore: decorator
@inline
function storeReconstruction<T>(R: usize, idx: i32, r: f64, checked: bool): void {
  if (sizeof<T>() == 4 && checked && <f64><f32>r != r) rInexact = true;
  store<T>(R + (<usize>idx << alignof<T>()), <T>r);
}

/** m points idx + i * step of one stencil decoded: predicted, then recovered into R and out, or skipped */
// @ts-ignore: decorator
@inline
function recoverRun<T>(stencil: i32, out: usize, outF32: bool, skip: usize, R: usize, idx: i32, step: i32, m: i32, ss: i32, checked: bool): void {
  for (let i = 0; i < m; i++, idx += step) {
    const p = predictAt<T>(stencil, R, idx, ss);
    if (skipped(skip, idx)) storeReconstruction<T>(R, idx, finiteOr0(p), checked);
    else {
      const r = recoverNext(p);
      storeReconstruction<T>(R, idx, dRoundR ? <f64><f32>r : r, checked);
      storeValue(out, outF32, idx, r);
    }
  }
}

/**
 * interp.ts's run: the first point, then level by level and dim by dim the passes, line by line in the codes' order,
 * each line as runs of one stencil; encoding x (quantizeNext) or decoding into x (recoverNext), R the reconstructions.
 */
// @ts-ignore: decorator
@inline
function interpWalk<T>(encode: bool, x: usize, xF32: bool, skip: usize, sh: usize, cubic: bool, factors: usize, R: usize, checked: bool): void {
  const s0 = load<i32>(sh), s1 = load<i32>(sh, 4), s2 = load<i32>(sh, 8), s3 = load<i32>(sh, 12);
  const tuned = factors != 0;
  if (tuned) setFactor(load<f64>(factors));
  // the first point, predicted as 0
  if (skipped(skip, 0)) storeReconstruction<T>(R, 0, 0, checked);
  else if (encode) storeReconstruction<T>(R, 0, quantizeNext(valueAt(x, xF32, 0), 0), checked);
  else {
    const r0 = recoverNext(0);
    storeReconstruction<T>(R, 0, dRoundR ? <f64><f32>r0 : r0, checked);
    storeValue(x, xF32, 0, r0);
  }
  let maxDim = 1;
  maxDim = max(maxDim, s0); maxDim = max(maxDim, s1); maxDim = max(maxDim, s2); maxDim = max(maxDim, s3);
  let levels = 0;
  while ((1 << levels) < maxDim) levels++;
  const str0 = s1 * s2 * s3, str1 = s2 * s3, str2 = s3;
  for (let lv = levels; lv >= 1; lv--) {
    if (tuned) setFactor(load<f64>(factors + (<usize>lv << 3)));
    const s = 1 << (lv - 1);
    for (let d = 0; d < 4; d++) {
      const L = d == 0 ? s0 : d == 1 ? s1 : d == 2 ? s2 : s3;
      if (L <= s) continue;
      // the other dims a < b < c: those before d step by s, those after by 2s
      const a = d == 0 ? 1 : 0;
      const b = d <= 1 ? 2 : 1;
      const c = d <= 2 ? 3 : 2;
      const na = a == 0 ? s0 : s1, nb = b == 1 ? s1 : s2, nc = c == 2 ? s2 : s3;
      const ta = a == 0 ? str0 : str1, tb = b == 1 ? str1 : str2, tc = c == 2 ? str2 : 1;
      const sa = a < d ? s : 2 * s, sb = b < d ? s : 2 * s, sc = c < d ? s : 2 * s;
      const st = d == 0 ? str0 : d == 1 ? str1 : d == 2 ? str2 : 1;
      const ss = s * st;
      const P = (L - s - 1) / (2 * s) + 1;
      // the points of a line as runs of one stencil, the same for every line of the pass (interp.ts's stencilRuns)
      let runs = 0;
      for (let ti = 0; ti < P; ) {
        const stencil = stencilAt(cubic, s + 2 * s * ti, s, L);
        let end = ti + 1;
        while (end < P && stencilAt(cubic, s + 2 * s * end, s, L) == stencil) end++;
        store<i32>(RUNS + (<usize>runs * 12), ti);
        store<i32>(RUNS + (<usize>runs * 12), end - ti, 4);
        store<i32>(RUNS + (<usize>runs * 12), stencil, 8);
        runs++;
        ti = end;
      }
      for (let ia = 0; ia < na; ia += sa) {
        for (let ib = 0; ib < nb; ib += sb) {
          for (let ic = 0; ic < nc; ic += sc) {
            const base = ia * ta + ib * tb + ic * tc;
            for (let r = 0; r < runs; r++) {
              const at = RUNS + (<usize>r * 12);
              const idx0 = base + (s + 2 * s * load<i32>(at)) * st;
              const m = load<i32>(at, 4);
              const stencil = load<i32>(at, 8);
              // the common stencils' loops with their prediction inlined alone
              if (encode) {
                if (stencil == ST_MID) quantizeRun<T>(ST_MID, x, xF32, skip, R, idx0, 2 * ss, m, ss, checked);
                else if (stencil == ST_CUBIC) quantizeRun<T>(ST_CUBIC, x, xF32, skip, R, idx0, 2 * ss, m, ss, checked);
                else quantizeRun<T>(stencil, x, xF32, skip, R, idx0, 2 * ss, m, ss, checked);
              } else if (stencil == ST_MID) recoverRun<T>(ST_MID, x, xF32, skip, R, idx0, 2 * ss, m, ss, checked);
              else if (stencil == ST_CUBIC) recoverRun<T>(ST_CUBIC, x, xF32, skip, R, idx0, 2 * ss, m, ss, checked);
              else recoverRun<T>(stencil, x, xF32, skip, R, idx0, 2 * ss, m, ss, checked);
            }
          }
        }
      }
    }
  }
}

// interpWalk's three kinds, each compiled once: float64 reconstructions; float32 ones known to be float32 values;
// float32 ones checked (rInexact false where every one was)
function walkF64(encode: bool, x: usize, xF32: bool, skip: usize, sh: usize, cubic: bool, factors: usize, R: usize): void {
  interpWalk<f64>(encode, x, xF32, skip, sh, cubic, factors, R, false);
}

function walkF32(encode: bool, x: usize, xF32: bool, skip: usize, sh: usize, cubic: bool, factors: usize, R: usize): void {
  rInexact = false;
  interpWalk<f32>(encode, x, xF32, skip, sh, cubic, factors, R, false);
}

function walkF32Checked(encode: bool, x: usize, xF32: bool, skip: usize, sh: usize, cubic: bool, factors: usize, R: usize): void {
  rInexact = false;
  interpWalk<f32>(encode, x, xF32, skip, sh, cubic, factors, R, true);
}

/**
 * Encodes x (n values, float32 or float64 by xF32) of the 4D shape sh (i32[4]) with the interpolation predictor:
 * skip (u8 per point, 1 = skipped; 0 = none), R (room for a float64 per point: the reconstructions, kept as float32
 * where they are float32 values; on the float32 walk R may be x itself, each point read before it is replaced), factors (f64 per level 1..levels
 * at factors[lv], and the first point's at factors[0]; null = no tuning), e0 the bound (gridHalf < 0) or gridHalf the
 * grid quantizer's half width (x then holds grid indices), radius, f32 (reconstructions rounded to float32). Codes (u32) to codes, escapes (f64) to escapes (room for escapeRoom of them); returns the code
 * count, the escape count and the zero residuals' (codes equal to radius) at counts (i32 x 2).
 */
export function interpQuantize(x: usize, xF32: bool, skip: usize, sh: usize, cubic: bool, factors: usize, e0: f64, gridHalf: i32, radius: i32, f32: bool, R: usize, codes: usize, escapes: usize, escapeRoom: i32, counts: usize): i32 {
  quantizerStart(e0, gridHalf, radius, f32, codes, escapes, escapeRoom);
  // the reconstructions as float32 where they are float32 values: half the memory the walk strides through. A float32
  // field's are (rounded so, or its own values); grid indices are where below 2^24, checked (rInexact), and the walk
  // run again as float64 where one was not
  rInexact = true;
  if (skip == 0 && gridHalf < 0 && f32 && xF32) walkF32(true, x, xF32, skip, sh, cubic, factors, R);
  else if (skip == 0 && gridHalf >= 0) walkF32Checked(true, x, xF32, skip, sh, cubic, factors, R);
  if (rInexact) {
    quantizerStart(e0, gridHalf, radius, f32, codes, escapes, escapeRoom);
    walkF64(true, x, xF32, skip, sh, cubic, factors, R);
  }
  store<i32>(counts, qNEscapes);
  store<i32>(counts, countCode(codes, qNCodes, radius), 4);
  return qNCodes;
}

/**
 * Decodes the points interpQuantize coded, into out (float32 or float64 by outF32; skipped points left as they are):
 * codes[0, nCodes) and escapes[0, nEscapes) read in order, the rest as interpQuantize's. Returns 0, or -1 where the
 * codes or escapes ran out; the counts read at counts (i32 x 2).
 */
export function interpRecover(out: usize, outF32: bool, skip: usize, sh: usize, cubic: bool, factors: usize, e0: f64, gridHalf: i32, radius: i32, f32: bool, R: usize, codes: usize, nCodes: i32, escapes: usize, nEscapes: i32, counts: usize): i32 {
  recoverStart(e0, gridHalf, radius, f32, codes, nCodes, escapes, nEscapes);
  dRoundR = skip == 0 && outF32 && f32;
  // as interpQuantize: float32 reconstructions where they are float32 values (rounded so: dRoundR), grid indices
  // where they are (checked: a stream need not be one this encoder wrote), else again as float64
  rInexact = true;
  if (dRoundR && gridHalf < 0) walkF32(false, out, outF32, skip, sh, cubic, factors, R);
  else if (skip == 0 && gridHalf >= 0) walkF32Checked(false, out, outF32, skip, sh, cubic, factors, R);
  if (rInexact) {
    recoverStart(e0, gridHalf, radius, f32, codes, nCodes, escapes, nEscapes);
    walkF64(false, out, outF32, skip, sh, cubic, factors, R);
  }
  dRoundR = false;
  return recoverEnd(counts);
}

/**
 * run1-run4 of lorenzo.ts: every point in memory order predicted from the padded reconstructions P (cleared here),
 * then encoded (quantizeNext), decoded into x (recoverNext) or dual-quantized (dqNext, P the grid indices; 4D's sum
 * is lorenzoSum's order already). 2-4-D fields are encoded, and decoded where every code is there, four rows at a
 * time (lorenzoRows); point by point here only 1-D fields, dual quantization and decoding codes that end early.
 */
function lorenzoWalk(mode: i32, x: usize, xF32: bool, skip: usize, k: i32, sh: usize, P: usize): void {
  const n0 = load<i32>(sh), n1 = load<i32>(sh, 4), n2 = load<i32>(sh, 8), n3 = load<i32>(sh, 12);
  // rows interleaved (decoding: where every code is there)
  const n = n0 * select<i32>(n1, 1, k >= 2) * select<i32>(n2, 1, k >= 3) * select<i32>(n3, 1, k >= 4);
  if (k >= 2 && (mode == WALK_QUANTIZE || (mode == WALK_RECOVER && dNCodes >= n - (skip != 0 ? countSkipped(skip, n) : 0)))) {
    if (skip != 0) lorenzoRowsMasked(mode, x, xF32, skip, k, sh, P, n);
    else lorenzoRowsPlain(mode, x, xF32, k, sh, P, n);
    return;
  }
  if (k == 1) {
    let prev: f64 = 0;
    for (let i = 0; i < n0; i++) {
      if (mode == WALK_QUANTIZE) prev = skipped(skip, i) ? prev : quantizeNext(valueAt(x, xF32, i), prev);
      else if (mode == WALK_DQ) prev = skipped(skip, i) ? 0 + prev : dqNext(valueAt(x, xF32, i), 0 + prev);
      else {
        // run1 writes skipped points too (their prediction, the previous reconstruction)
        if (!skipped(skip, i)) prev = recoverNext(prev);
        storeValue(x, xF32, i, prev);
      }
    }
  } else if (k == 2) {
    const W = n1 + 1;
    memory.fill(P, 0, <usize>((n0 + 1) * W) << 3);
    let idx = 0;
    for (let i = 0; i < n0; i++) {
      let p = P + (<usize>((i + 1) * W + 1) << 3);
      for (let j = 0; j < n1; j++, p += 8, idx++) {
        const w = <usize>W << 3;
        // dq: dq-lorenzo.ts's lorenzoSum order (its sums of large indices can round)
        const pred = mode == WALK_DQ ? 0 + load<f64>(p - w) + load<f64>(p - 8) - load<f64>(p - w - 8) : lorenzoPred(2, p, w, 0, 0);
        store<f64>(p, lorenzoPoint(mode, x, xF32, skip, idx, pred));
      }
    }
  } else if (k == 3) {
    const W = n2 + 1, S = (n1 + 1) * W;
    memory.fill(P, 0, <usize>((n0 + 1) * S) << 3);
    const w = <usize>W << 3, sS = <usize>S << 3;
    let idx = 0;
    for (let i = 0; i < n0; i++) {
      for (let j = 0; j < n1; j++) {
        let p = P + (<usize>((i + 1) * S + (j + 1) * W + 1) << 3);
        for (let l = 0; l < n2; l++, p += 8, idx++) {
          const pred = mode == WALK_DQ
            ? 0 + load<f64>(p - sS) + load<f64>(p - w) - load<f64>(p - sS - w) + load<f64>(p - 8) - load<f64>(p - sS - 8) - load<f64>(p - w - 8) + load<f64>(p - sS - w - 8)
            : lorenzoPred(3, p, w, sS, 0);
          store<f64>(p, lorenzoPoint(mode, x, xF32, skip, idx, pred));
        }
      }
    }
  } else {
    const W = n3 + 1, S = (n2 + 1) * W, V = (n1 + 1) * S;
    memory.fill(P, 0, <usize>((n0 + 1) * V) << 3);
    const w = <usize>W << 3, sS = <usize>S << 3, v = <usize>V << 3;
    let idx = 0;
    for (let i = 0; i < n0; i++) {
      for (let j = 0; j < n1; j++) {
        for (let l = 0; l < n2; l++) {
          let p = P + (<usize>((i + 1) * V + (j + 1) * S + (l + 1) * W + 1) << 3);
          for (let o = 0; o < n3; o++, p += 8, idx++) {
            store<f64>(p, lorenzoPoint(mode, x, xF32, skip, idx, lorenzoPred(4, p, w, sS, v)));
          }
        }
      }
    }
  }
}

/**
 * run2-run4's prediction at p from the padded reconstructions (byte strides w a row, sS a plane, v a volume), in their
 * order: float64 sums round, so the order is the format's. 4D's is also dq-lorenzo.ts's lorenzoSum order.
 */
// @ts-ignore: decorator
@inline
function lorenzoPred(k: i32, p: usize, w: usize, sS: usize, v: usize): f64 {
  if (k == 2) return load<f64>(p - 8) + load<f64>(p - w) - load<f64>(p - w - 8);
  if (k == 3) return load<f64>(p - 8) + load<f64>(p - w) + load<f64>(p - sS) - load<f64>(p - w - 8) - load<f64>(p - sS - 8) - load<f64>(p - sS - w) + load<f64>(p - sS - w - 8);
  // run4's 15 terms in its order, from 0
  return 0 + load<f64>(p - v) + load<f64>(p - sS) - load<f64>(p - v - sS) + load<f64>(p - w) - load<f64>(p - v - w) - load<f64>(p - sS - w) + load<f64>(p - v - sS - w) +
    load<f64>(p - 8) - load<f64>(p - v - 8) - load<f64>(p - sS - 8) + load<f64>(p - v - sS - 8) - load<f64>(p - w - 8) + load<f64>(p - v - w - 8) + load<f64>(p - sS - w - 8) -
    load<f64>(p - v - sS - w - 8);
}

/** Rows lorenzoRows walks side by side */
const ROW_GROUP = 4;
/** Per row of a group: its first point in P, its first index, its next code and (decoding) its next escape */
const GROUP_ROWS = memory.data(8 * ROW_GROUP, 16);
const GROUP_INDEX = memory.data(4 * ROW_GROUP, 16);
const GROUP_CODE = memory.data(4 * ROW_GROUP, 16);
const GROUP_ESCAPE = memory.data(4 * ROW_GROUP, 16);

// lorenzoRows compiled once per case: with skipped points (a byte each to test) and without
function lorenzoRowsPlain(mode: i32, x: usize, xF32: bool, k: i32, sh: usize, P: usize, n: i32): void {
  lorenzoRows(mode, x, xF32, 0, k, sh, P, n, false);
}

function lorenzoRowsMasked(mode: i32, x: usize, xF32: bool, skip: usize, k: i32, sh: usize, P: usize, n: i32): void {
  lorenzoRows(mode, x, xF32, skip, k, sh, P, n, true);
}

/**
 * lorenzoWalk's encoding and decoding, the same reconstructions, codes and escapes. A point's prediction waits on the
 * reconstruction just before it (a chain of float64 additions in the format's order, then the quantizer: ~60 cycles
 * a point, 15 ns on WRF's 3-D fields, whatever the core's width); a row needs of the row before only its points up
 * to its own. So ROW_GROUP consecutive rows are walked together, each a point behind the one before: their chains
 * are independent and overlap. Each row's codes start after those of the rows before it (its points less those
 * skipped); the encoder lists the escapes from the codes afterwards (in code order, as quantizeNext would), the
 * decoder starts each row's escapes after the zero codes of the rows before it.
 */
// @ts-ignore: decorator
@inline
function lorenzoRows(mode: i32, x: usize, xF32: bool, skip: usize, k: i32, sh: usize, P: usize, n: i32, masked: bool): void {
  const n0 = load<i32>(sh), n1 = load<i32>(sh, 4), n2 = load<i32>(sh, 8), n3 = load<i32>(sh, 12);
  // rows of L points; R rows a plane (the padded layout's), planes of (R + 1) x (L + 1), volumes of n1 + 1 planes (4D)
  const L = k == 2 ? n1 : k == 3 ? n2 : n3;
  const R = k == 2 ? n0 : k == 3 ? n1 : n2;
  const W = L + 1, S = (R + 1) * W, V = (n1 + 1) * S;
  memory.fill(P, 0, <usize>(k == 2 ? S : k == 3 ? (n0 + 1) * S : (n0 + 1) * V) << 3);
  const w = <usize>W << 3, sS = <usize>S << 3, v = <usize>V << 3;
  const rows = n / L;
  // the next row's first code
  let codeAt = 0;
  let r = 0;
  for (; r + ROW_GROUP <= rows; r += ROW_GROUP) {
    let escapeAt = dEscPos;
    for (let g = 0; g < ROW_GROUP; g++) {
      store<usize>(GROUP_ROWS + (<usize>g << 3), rowStart(k, r + g, R, n1, W, S, V, P));
      store<i32>(GROUP_INDEX + (<usize>g << 2), (r + g) * L);
      store<i32>(GROUP_CODE + (<usize>g << 2), codeAt);
      const rowCodes = masked ? L - countSkipped(skip + <usize>((r + g) * L), L) : L;
      if (mode == WALK_RECOVER) {
        store<i32>(GROUP_ESCAPE + (<usize>g << 2), escapeAt);
        escapeAt += countCode(dCodes + (<usize>codeAt << 2), rowCodes, 0);
      }
      codeAt += rowCodes;
    }
    // the first and last steps, where some rows are before their start or past their end
    for (let t = 0; t < ROW_GROUP - 1; t++) groupEdge(mode, k, x, xF32, skip, masked, t, L, w, sS, v);
    const p0 = load<usize>(GROUP_ROWS), p1 = load<usize>(GROUP_ROWS, 8), p2 = load<usize>(GROUP_ROWS, 16), p3 = load<usize>(GROUP_ROWS, 24);
    let c0 = load<i32>(GROUP_CODE), c1 = load<i32>(GROUP_CODE, 4), c2 = load<i32>(GROUP_CODE, 8), c3 = load<i32>(GROUP_CODE, 12);
    const i0 = r * L;
    for (let t = ROW_GROUP - 1; t < L; t++) {
      const o = <usize>t << 3;
      c0 += rowPoint(mode, k, x, xF32, skip, masked, p0 + o, i0 + t, c0, w, sS, v, 0);
      c1 += rowPoint(mode, k, x, xF32, skip, masked, p1 + o - 8, i0 + L + t - 1, c1, w, sS, v, 1);
      c2 += rowPoint(mode, k, x, xF32, skip, masked, p2 + o - 16, i0 + 2 * L + t - 2, c2, w, sS, v, 2);
      c3 += rowPoint(mode, k, x, xF32, skip, masked, p3 + o - 24, i0 + 3 * L + t - 3, c3, w, sS, v, 3);
    }
    store<i32>(GROUP_CODE, c0);
    store<i32>(GROUP_CODE, c1, 4);
    store<i32>(GROUP_CODE, c2, 8);
    store<i32>(GROUP_CODE, c3, 12);
    for (let t = max<i32>(L, ROW_GROUP - 1); t < L + ROW_GROUP - 1; t++) groupEdge(mode, k, x, xF32, skip, masked, t, L, w, sS, v);
    if (mode == WALK_RECOVER) dEscPos = escapeAt;
  }
  // the rows left, one by one
  for (; r < rows; r++) {
    const p = rowStart(k, r, R, n1, W, S, V, P);
    store<i32>(GROUP_ESCAPE, dEscPos);
    for (let t = 0; t < L; t++) codeAt += rowPoint(mode, k, x, xF32, skip, masked, p + (<usize>t << 3), r * L + t, codeAt, w, sS, v, 0);
    if (mode == WALK_RECOVER) dEscPos = load<i32>(GROUP_ESCAPE);
  }
  if (mode == WALK_QUANTIZE) {
    qNCodes = codeAt;
    listEscapes(x, xF32, skip, masked, n);
  } else dPos = codeAt;
}

/** How many of the bytes at[0, len) are 1 (skipped points) */
function countSkipped(at: usize, len: i32): i32 {
  const one = i8x16.splat(1);
  let count = 0;
  let i = 0;
  for (; i + 16 <= len; i += 16) count += <i32>popcnt<u32>(i8x16.bitmask(i8x16.eq(v128.load(at + <usize>i), one)));
  for (; i < len; i++) count += <i32>(load<u8>(at + <usize>i) == 1);
  return count;
}

/** The first point in P of row r (r / R its plane, 4D: of volume r / R / n1) */
// @ts-ignore: decorator
@inline
function rowStart(k: i32, r: i32, R: i32, n1: i32, W: i32, S: i32, V: i32, P: usize): usize {
  const plane = r / R, j = r - plane * R;
  const planeAt = k == 2 ? 0 : k == 3 ? (plane + 1) * S : (plane / n1 + 1) * V + (plane % n1 + 1) * S;
  return P + (<usize>(planeAt + (j + 1) * W + 1) << 3);
}

/** Step t of a row group where some of its rows are before their start or past their end (row g is at point t - g) */
// @ts-ignore: decorator
@inline
function groupEdge(mode: i32, k: i32, x: usize, xF32: bool, skip: usize, masked: bool, t: i32, L: i32, w: usize, sS: usize, v: usize): void {
  for (let g = 0; g < ROW_GROUP; g++) {
    const o = t - g;
    if (o < 0 || o >= L) continue;
    const p = load<usize>(GROUP_ROWS + (<usize>g << 3)) + (<usize>o << 3);
    const codeAt = GROUP_CODE + (<usize>g << 2);
    const c = load<i32>(codeAt);
    store<i32>(codeAt, c + rowPoint(mode, k, x, xF32, skip, masked, p, load<i32>(GROUP_INDEX + (<usize>g << 2)) + o, c, w, sS, v, g));
  }
}

/**
 * A point of row g of a group at p (index idx, code `code` unless skipped): skipped (its finite prediction), encoded
 * into its code, or decoded into x; its reconstruction into P. Returns the codes it took (0 or 1).
 */
// @ts-ignore: decorator
@inline
function rowPoint(mode: i32, k: i32, x: usize, xF32: bool, skip: usize, masked: bool, p: usize, idx: i32, code: i32, w: usize, sS: usize, v: usize, g: i32): i32 {
  const pred = lorenzoPred(k, p, w, sS, v);
  if (masked && load<u8>(skip + <usize>idx) == 1) {
    store<f64>(p, finiteOr0(pred));
    return 0;
  }
  if (mode == WALK_QUANTIZE) {
    store<f64>(p, quantizeInto(qCodes + (<usize>code << 2), valueAt(x, xF32, idx), pred, false));
    return 1;
  }
  const c = load<u32>(dCodes + (<usize>code << 2));
  let r: f64;
  if (c != 0) r = recoverCode(c, pred);
  else {
    // the row's next escape
    const at = GROUP_ESCAPE + (<usize>g << 2);
    const e = load<i32>(at);
    if (e < dNEscapes) {
      r = load<f64>(dEscapes + (<usize>e << 3));
      store<i32>(at, e + 1);
    } else {
      dOverrun = true;
      r = 0;
    }
  }
  storeValue(x, xF32, idx, r);
  store<f64>(p, r);
  return 1;
}

/**
 * The escapes (code 0) of the qNCodes codes appended in code order, their values from x (the points not skipped, in
 * index order), as quantizeNext lists them
 */
// @ts-ignore: decorator
@inline
function listEscapes(x: usize, xF32: bool, skip: usize, masked: bool, n: i32): void {
  if (countCode(qCodes, qNCodes, 0) == 0) return;
  for (let i = 0, c = 0; i < n; i++) {
    if (masked && load<u8>(skip + <usize>i) == 1) continue;
    if (load<u32>(qCodes + (<usize>c << 2)) == 0) {
      if (qNEscapes < qEscapeRoom) store<f64>(qEscapes + (<usize>qNEscapes << 3), valueAt(x, xF32, i));
      qNEscapes++;
    }
    c++;
  }
}

/**
 * Encodes x (n values, float32 or float64 by xF32) of the k-dim shape sh (i32[4], k = 1..4) with the Lorenzo
 * predictor: skip as interpQuantize's, P f64 room for the padded reconstructions (one leading zero plane per dim,
 * cleared here), e the bound or gridHalf, then as interpQuantize.
 */
export function lorenzoQuantize(x: usize, xF32: bool, skip: usize, k: i32, sh: usize, e: f64, gridHalf: i32, radius: i32, f32: bool, P: usize, codes: usize, escapes: usize, escapeRoom: i32, counts: usize): i32 {
  quantizerStart(e, gridHalf, radius, f32, codes, escapes, escapeRoom);
  lorenzoWalk(WALK_QUANTIZE, x, xF32, skip, k, sh, P);
  store<i32>(counts, qNEscapes);
  store<i32>(counts, countCode(codes, qNCodes, radius), 4);
  return qNCodes;
}

/**
 * Encodes x with dual-quantization Lorenzo (dq-lorenzo.ts: Lorenzo on the values' grid indices of step 2e, every
 * residual an integer; a point whose index's value is off by more than e escapes): as lorenzoQuantize, P the padded
 * indices.
 */
export function dqLorenzoQuantize(x: usize, xF32: bool, skip: usize, k: i32, sh: usize, e: f64, radius: i32, f32: bool, P: usize, codes: usize, escapes: usize, escapeRoom: i32, counts: usize): i32 {
  quantizerStart(e, -1, radius, f32, codes, escapes, escapeRoom);
  lorenzoWalk(WALK_DQ, x, xF32, skip, k, sh, P);
  store<i32>(counts, qNEscapes);
  store<i32>(counts, countCode(codes, qNCodes, radius), 4);
  return qNCodes;
}

/** What a Lorenzo walk does at each point: quantize, recover, or dual-quantize (dq-lorenzo.ts) */
const WALK_QUANTIZE = 0, WALK_RECOVER = 1, WALK_DQ = 2;

/**
 * dq-lorenzo.ts's encoder at one point: its grid index (dq.ts's prequantize: gridIndex, and whether the index's value
 * is within the bound), the residual against the integer prediction coded as pushResidual does; the index
 */
// @ts-ignore: decorator
@inline
function dqNext(xv: f64, pred: f64): f64 {
  const t = xv * qInv;
  const g = t < 4e15 && t > -4e15 ? mathRound(t) : 0;
  let r = g * qTwoE;
  if (qF32) r = <f64><f32>r;
  const res = g - pred;
  const at = qCodes + (<usize>qNCodes << 2);
  qNCodes++;
  if (Math.abs(r - xv) <= qE && res > -qRad && res < qRad) store<u32>(at, <u32>(<i32>res + qRadius));
  else {
    store<u32>(at, 0);
    if (qNEscapes < qEscapeRoom) store<f64>(qEscapes + (<usize>qNEscapes << 3), xv);
    qNEscapes++;
  }
  return g;
}

/**
 * A Lorenzo point of lorenzoWalk's 2-4-D walk (dual-quantized, or decoded where codes are missing; the others go
 * row by row, lorenzoRows): skipped (its finite prediction; dq: its prediction), dual-quantized, or recovered into x;
 * its reconstruction
 */
// @ts-ignore: decorator
@inline
function lorenzoPoint(mode: i32, x: usize, xF32: bool, skip: usize, idx: i32, pred: f64): f64 {
  if (mode == WALK_DQ) return skipped(skip, idx) ? pred : dqNext(valueAt(x, xF32, idx), pred);
  if (skipped(skip, idx)) return finiteOr0(pred);
  const r = recoverNext(pred);
  storeValue(x, xF32, idx, r);
  return r;
}

/**
 * Decodes the points lorenzoQuantize coded, into out as interpRecover (the same reading of codes and escapes).
 */
export function lorenzoRecover(out: usize, outF32: bool, skip: usize, k: i32, sh: usize, e: f64, gridHalf: i32, radius: i32, f32: bool, P: usize, codes: usize, nCodes: i32, escapes: usize, nEscapes: i32, counts: usize): i32 {
  recoverStart(e, gridHalf, radius, f32, codes, nCodes, escapes, nEscapes);
  lorenzoWalk(WALK_RECOVER, out, outF32, skip, k, sh, P);
  return recoverEnd(counts);
}

// ---- gridIndices: toGridIndices of src-main/core/codec/grid.ts ----
// The same arithmetic (Math.round, then the value's float32 or float64 rounding and the on-grid test), so the same
// indices and the same points off the grid.

/** Math.round bit for bit: half-way cases up, a zero with v's sign */
// @ts-ignore: decorator
@inline
function mathRound(v: f64): f64 {
  let r: f64;
  if (Math.abs(v) < 2251799813685248) {
    // the nearest whole number, ties to even (1.5 x 2^52 added and taken off: exact, the sum's unit is 1), then a tie
    // taken up: f64.floor (roundsd) here was 7 of this loop's 11 ns a value on this machine
    const n = v + 6755399441055744.0 - 6755399441055744.0;
    r = n + select<f64>(1, 0, v - n == 0.5);
  } else {
    r = Math.floor(v);
    if (v - r >= 0.5) r += 1;
  }
  return select<f64>(copysign<f64>(0, v), r, r == 0);
}

/**
 * grid.ts fromGridIndices without skipped points, in place: the n grid indices (f64 at k) become the values they
 * stand for, offset + index x step, rounded to float32 (then stored as f32 from k on, over the indices already read)
 * or not (f64, where they were).
 */
export function gridValues(k: usize, n: i32, offset: f64, step: f64, f32: bool): void {
  if (f32) for (let i = 0; i < n; i++) store<f32>(k + (<usize>i << 2), <f32>(offset + load<f64>(k + (<usize>i << 3)) * step));
  else for (let i = 0; i < n; i++) store<f64>(k + (<usize>i << 3), offset + load<f64>(k + (<usize>i << 3)) * step);
}

/**
 * x (n values, float32 or float64 by xF32; skip as interpQuantize's) as indices on the grid offset + k * step
 * (k f64 at k, 0 at skipped points and points off the grid, whose indices go to off as i32, room for offRoom of them;
 * counted past it). Returns how many points are off the grid.
 */
export function gridIndices(x: usize, xF32: bool, skip: usize, n: i32, offset: f64, step: f64, tolerance: f64, f32: bool, k: usize, off: usize, offRoom: i32): i32 {
  const inv = 1 / step;
  let nOff = 0;
  // Two points at a time in f64x2 lanes: the scalar steps below in the same order (so the same bits), kept where both
  // points are unskipped, well inside mathRound's fast range, on the grid and (at tolerance 0) not zero; any other pair
  // goes through the scalar steps point by point
  const offs = f64x2.splat(offset);
  const invs = f64x2.splat(inv);
  const steps = f64x2.splat(step);
  const tol = f64x2.splat(tolerance);
  const magic = f64x2.splat(6755399441055744.0);
  const half = f64x2.splat(0.5);
  const one = f64x2.splat(1);
  const fast = f64x2.splat(2251799813685248);
  const signBit = i64x2.splat(<i64>0x8000000000000000);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    if (skip == 0 || load<u16>(skip + <usize>i) == 0) {
      const v = xF32 ? f64x2.promote_low_f32x4(v128.load64_zero(x + (<usize>i << 2))) : v128.load(x + (<usize>i << 3));
      const t = f64x2.mul(f64x2.sub(v, offs), invs);
      const nearest = f64x2.sub(f64x2.add(t, magic), magic);
      let j = f64x2.add(nearest, v128.and(f64x2.eq(f64x2.sub(t, nearest), half), one));
      // a zero index takes t's sign (mathRound's copysign)
      j = v128.bitselect(v128.and(t, signBit), j, f64x2.eq(j, f64x2.splat(0)));
      let r = f64x2.add(offs, f64x2.mul(j, steps));
      if (f32) r = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(r));
      const on = tolerance == 0 ? v128.and(f64x2.eq(r, v), f64x2.ne(r, f64x2.splat(0))) : f64x2.le(f64x2.abs(f64x2.sub(r, v)), tol);
      if (i64x2.all_true(v128.and(on, f64x2.lt(f64x2.abs(t), fast)))) {
        v128.store(k + (<usize>i << 3), j);
        continue;
      }
    }
    nOff = gridIndexAt(x, xF32, skip, i, offset, step, inv, tolerance, f32, k, off, offRoom, nOff);
    nOff = gridIndexAt(x, xF32, skip, i + 1, offset, step, inv, tolerance, f32, k, off, offRoom, nOff);
  }
  if (i < n) nOff = gridIndexAt(x, xF32, skip, i, offset, step, inv, tolerance, f32, k, off, offRoom, nOff);
  return nOff;
}

/** gridIndices's steps for point i: its index into k (0 where skipped or off the grid, i then listed); returns nOff */
// @ts-ignore: decorator
@inline
function gridIndexAt(x: usize, xF32: bool, skip: usize, i: i32, offset: f64, step: f64, inv: f64, tolerance: f64, f32: bool, k: usize, off: usize, offRoom: i32, nOff: i32): i32 {
  store<f64>(k + (<usize>i << 3), 0);
  if (skipped(skip, i)) return nOff;
  const v = valueAt(x, xF32, i);
  const j = mathRound((v - offset) * inv);
  let r = offset + j * step;
  if (f32) r = <f64><f32>r;
  // bit for bit at tolerance 0 (so -0 is not 0)
  const on = tolerance == 0 ? r == v && (r != 0 || 1 / r == 1 / v) : Math.abs(r - v) <= tolerance;
  if (on && Math.abs(j) < 4503599627370496) store<f64>(k + (<usize>i << 3), j);
  else {
    if (nOff < offRoom) store<i32>(off + (<usize>nOff << 2), i);
    nOff++;
  }
  return nOff;
}

/**
 * bound.ts finiteRange over x[0, n) (float32 or float64 by xF32): the smallest and largest finite value (f64 at out
 * and out + 8, meaningful where some value is finite) and how many values are finite (returned). Four float32 or two
 * float64 lanes, each keeping `v < min ? v : min` (pmin, the reference's comparison); a non-finite value (v - v is not
 * 0) enters as +-Infinity and is counted out. The lanes do not know which zero came first: the caller gives a zero
 * range end its sign (the first zero's).
 */
export function finiteRange(x: usize, n: i32, xF32: bool, out: usize): i32 {
  let finite = 0;
  let i = 0;
  let mn: f64 = Infinity, mx: f64 = -Infinity;
  if (xF32) {
    let lo = f32x4.splat(Infinity), hi = f32x4.splat(-Infinity), count = i32x4.splat(0);
    const zero = f32x4.splat(0), posInf = f32x4.splat(Infinity), negInf = f32x4.splat(-Infinity);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const ok = f32x4.eq(f32x4.sub(v, v), zero);
      lo = f32x4.pmin(lo, v128.bitselect(v, posInf, ok));
      hi = f32x4.pmax(hi, v128.bitselect(v, negInf, ok));
      count = i32x4.sub(count, ok);
    }
    for (let lane = 0; lane < 4; lane++) {
      const a = <f64>f32x4.extract_lane(lo, 0), b = <f64>f32x4.extract_lane(hi, 0);
      lo = v128.shuffle<u32>(lo, lo, 1, 2, 3, 0);
      hi = v128.shuffle<u32>(hi, hi, 1, 2, 3, 0);
      if (a < mn) mn = a;
      if (b > mx) mx = b;
    }
    finite = i32x4.extract_lane(count, 0) + i32x4.extract_lane(count, 1) + i32x4.extract_lane(count, 2) + i32x4.extract_lane(count, 3);
  } else {
    let lo = f64x2.splat(Infinity), hi = f64x2.splat(-Infinity), count = i64x2.splat(0);
    const zero = f64x2.splat(0), posInf = f64x2.splat(Infinity), negInf = f64x2.splat(-Infinity);
    for (; i + 2 <= n; i += 2) {
      const v = v128.load(x + (<usize>i << 3));
      const ok = f64x2.eq(f64x2.sub(v, v), zero);
      lo = f64x2.pmin(lo, v128.bitselect(v, posInf, ok));
      hi = f64x2.pmax(hi, v128.bitselect(v, negInf, ok));
      count = i64x2.sub(count, ok);
    }
    mn = f64x2.extract_lane(lo, 0);
    mx = f64x2.extract_lane(hi, 0);
    const a = f64x2.extract_lane(lo, 1), b = f64x2.extract_lane(hi, 1);
    if (a < mn) mn = a;
    if (b > mx) mx = b;
    finite = <i32>(i64x2.extract_lane(count, 0) + i64x2.extract_lane(count, 1));
  }
  // the values past the last whole lane group (a float32 value compares as its float64 promotion, exactly)
  for (; i < n; i++) {
    const v = valueAt(x, xF32, i);
    if (v - v != 0) continue;
    finite++;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  store<f64>(out, mn);
  store<f64>(out, mx, 8);
  return finite;
}

/**
 * The pass over a masked block x[0, n) (float32 or float64 by xF32; mask[0, n), 0 = masked) that bound.ts validRange
 * and envelope.ts scanExceptions make: skip[i] = 1 where masked (u8); at out the smallest and largest valid finite
 * value (f64; the lanes do not know which zero came first: the caller gives a zero end the sign of the first valid
 * zero's, as the references keep `v < min` in index order), then (i32) how many valid values are not finite and how
 * many masked values are not `fill` (Object.is: the same zero, any NaN for a NaN; hasFill false: every masked value);
 * returns the valid finite count. Four float32 or two float64 lanes a step, the skip bytes sixteen (one value at a
 * time it took 2.3 ns a value on Levitus salinity, a tenth of its fast compression).
 */
export function maskedScan(x: usize, xF32: bool, mask: usize, n: i32, fill: f64, hasFill: bool, skip: usize, out: usize): i32 {
  maskedSkip(mask, n, skip);
  let mn: f64 = Infinity, mx: f64 = -Infinity;
  let finite = 0, nonfinite = 0, notFill = 0;
  let i = 0;
  const fillNaN = fill != fill;
  if (xF32) {
    // a float32 lane equals the float64 fill only where the fill is a float32 value
    const fill32 = <f32>fill;
    const fillIsF32 = <f64>fill32 == fill;
    const zero = f32x4.splat(0), posInf = f32x4.splat(Infinity), negInf = f32x4.splat(-Infinity);
    const fillV = f32x4.splat(fill32), fillBits = i32x4.splat(reinterpret<i32>(fill32));
    let lo = posInf, hi = negInf, nFinite = i32x4.splat(0), nNonfinite = i32x4.splat(0), nNotFill = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const valid = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(mask + <usize>i))), i32x4.splat(0));
      const v = v128.load(x + (<usize>i << 2));
      const fin = f32x4.eq(f32x4.sub(v, v), zero);
      const ok = v128.and(fin, valid);
      lo = f32x4.pmin(lo, v128.bitselect(v, posInf, ok));
      hi = f32x4.pmax(hi, v128.bitselect(v, negInf, ok));
      nFinite = i32x4.sub(nFinite, ok);
      nNonfinite = i32x4.sub(nNonfinite, v128.andnot(valid, fin));
      nNotFill = i32x4.sub(nNotFill, v128.not(v128.or(valid, sameAsFillF32(v, fillV, fillBits, fillIsF32, fillNaN, hasFill))));
    }
    for (let lane = 0; lane < 4; lane++) {
      const a = <f64>f32x4.extract_lane(lo, 0), b = <f64>f32x4.extract_lane(hi, 0);
      lo = v128.shuffle<u32>(lo, lo, 1, 2, 3, 0);
      hi = v128.shuffle<u32>(hi, hi, 1, 2, 3, 0);
      if (a < mn) mn = a;
      if (b > mx) mx = b;
    }
    finite = laneSum(nFinite);
    nonfinite = laneSum(nNonfinite);
    notFill = laneSum(nNotFill);
  } else {
    const zero = f64x2.splat(0), posInf = f64x2.splat(Infinity), negInf = f64x2.splat(-Infinity);
    const fillV = f64x2.splat(fill), fillBits = i64x2.splat(reinterpret<i64>(fill));
    let lo = posInf, hi = negInf, nFinite = i64x2.splat(0), nNonfinite = i64x2.splat(0), nNotFill = i64x2.splat(0);
    for (; i + 2 <= n; i += 2) {
      const m = i64x2.extend_low_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load16_splat(mask + <usize>i))));
      const valid = v128.not(i64x2.eq(m, i64x2.splat(0)));
      const v = v128.load(x + (<usize>i << 3));
      const fin = f64x2.eq(f64x2.sub(v, v), zero);
      const ok = v128.and(fin, valid);
      lo = f64x2.pmin(lo, v128.bitselect(v, posInf, ok));
      hi = f64x2.pmax(hi, v128.bitselect(v, negInf, ok));
      nFinite = i64x2.sub(nFinite, ok);
      nNonfinite = i64x2.sub(nNonfinite, v128.andnot(valid, fin));
      // the same zero (its bits) or any other equal value, or a NaN for a NaN fill
      let same = v128.and(f64x2.eq(v, fillV), v128.or(f64x2.ne(v, zero), i64x2.eq(v, fillBits)));
      if (fillNaN) same = v128.or(same, f64x2.ne(v, v));
      if (!hasFill) same = i64x2.splat(0);
      nNotFill = i64x2.sub(nNotFill, v128.not(v128.or(valid, same)));
    }
    mn = min<f64>(f64x2.extract_lane(lo, 0), f64x2.extract_lane(lo, 1));
    mx = max<f64>(f64x2.extract_lane(hi, 0), f64x2.extract_lane(hi, 1));
    finite = <i32>(i64x2.extract_lane(nFinite, 0) + i64x2.extract_lane(nFinite, 1));
    nonfinite = <i32>(i64x2.extract_lane(nNonfinite, 0) + i64x2.extract_lane(nNonfinite, 1));
    notFill = <i32>(i64x2.extract_lane(nNotFill, 0) + i64x2.extract_lane(nNotFill, 1));
  }
  // the values past the last whole lane group, one at a time
  for (; i < n; i++) {
    const v = valueAt(x, xF32, i);
    if (load<u8>(mask + <usize>i) != 0) {
      if (v - v == 0) {
        finite++;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      } else nonfinite++;
    } else {
      const same = v == fill ? v != 0 || reinterpret<u64>(v) == reinterpret<u64>(fill) : v != v && fillNaN;
      notFill += <i32>!(hasFill && same);
    }
  }
  store<f64>(out, mn);
  store<f64>(out, mx, 8);
  store<i32>(out, nonfinite, 16);
  store<i32>(out, notFill, 20);
  return finite;
}

/**
 * maskedScan's float32 lanes that are the fill as its reference compares them (Object.is on the float64 values): equal
 * to it where it is a float32 value, and the same zero (its bits); any NaN for a NaN fill; none without a fill.
 */
// @ts-ignore: decorator
@inline
function sameAsFillF32(v: v128, fillV: v128, fillBits: v128, fillIsF32: bool, fillNaN: bool, hasFill: bool): v128 {
  let same = fillIsF32 ? v128.and(f32x4.eq(v, fillV), v128.or(f32x4.ne(v, f32x4.splat(0)), i32x4.eq(v, fillBits))) : i32x4.splat(0);
  if (fillNaN) same = v128.or(same, f32x4.ne(v, v));
  return hasFill ? same : i32x4.splat(0);
}

/** The four i32 lanes' sum. */
// @ts-ignore: decorator
@inline
function laneSum(lanes: v128): i32 {
  return i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1) + i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3);
}

/** skip[i] = 1 where mask[i] is 0, else 0: sixteen bytes a step. */
function maskedSkip(mask: usize, n: i32, skip: usize): void {
  let i = 0;
  const one = i8x16.splat(1), none = i8x16.splat(0);
  for (; i + 16 <= n; i += 16) v128.store(skip + <usize>i, v128.and(i8x16.eq(v128.load(mask + <usize>i), none), one));
  for (; i < n; i++) store<u8>(skip + <usize>i, <u8>(load<u8>(mask + <usize>i) == 0));
}

/** How many of codes[0, n) (u32) equal c (the encoders' zero residuals, a decoder's escapes), in four lanes. */
export function countCode(codes: usize, n: i32, c: i32): i32 {
  const wanted = i32x4.splat(c);
  let lanes = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) lanes = i32x4.sub(lanes, i32x4.eq(v128.load(codes + (<usize>i << 2)), wanted));
  let count = i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1) + i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3);
  for (; i < n; i++) count += <i32>(load<i32>(codes + (<usize>i << 2)) == c);
  return count;
}

/**
 * metrics ErrorAccumulator.add over orig[0, n) against recon[0, n) (each float32 or float64 by its flag), mask[0, n)
 * (0 = left out; mask 0: none): the running sums at acc (f64 x 4: min, max, largest error, sum of squared errors,
 * continued from what they hold, in index order, so the double sums are the reference's to the bit), then (i32) the
 * valid finite count, the points over `bound` and 1 where a valid non-finite value was not given back exactly (the
 * same infinity, or NaN for NaN). The comparisons are the reference's (a NaN error is over the bound and stays the largest).
 */
export function errorSums(orig: usize, origF32: bool, recon: usize, reconF32: bool, mask: usize, n: i32, bound: f64, acc: usize): void {
  let mn = load<f64>(acc), mx = load<f64>(acc, 8), maxErr = load<f64>(acc, 16), sse = load<f64>(acc, 24);
  let count = 0, over = 0, inexact = 0;
  for (let i = 0; i < n; i++) {
    if (mask != 0 && load<u8>(mask + <usize>i) == 0) continue;
    const x = valueAt(orig, origF32, i);
    const y = valueAt(recon, reconF32, i);
    if (x - x != 0) {
      if (!(x == y || (x != x && y != y))) inexact = 1;
      continue;
    }
    count++;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    const e = Math.abs(x - y);
    if (!(e <= bound)) over++;
    if (e > maxErr || e != e) maxErr = e;
    sse += e * e;
  }
  store<f64>(acc, mn);
  store<f64>(acc, mx, 8);
  store<f64>(acc, maxErr, 16);
  store<f64>(acc, sse, 24);
  store<i32>(acc, count, 32);
  store<i32>(acc, over, 36);
  store<i32>(acc, inexact, 40);
}

// ---- reverseAxes: reverseAxes of src-main/core/codec/predictors/axes.ts ----

/**
 * Square tiles of this many elements a side: 8 rows of the source and 8 of the output stay in the L1 cache even where
 * a power-of-two stride maps them all to one set (8 x 512 x 512 float32: 16 ms with tiles of 32, 7 with 8).
 */
const REVERSE_TILE: i32 = 8;

/**
 * One [a, e] matrix of the source, element T, rows `srcRow` apart from `srcBase`, into the output transposed:
 * element (i, m) to dstBase + m * dstRow + i. Tile by tile, so that neither side is walked with a large stride alone.
 */
// @ts-ignore: decorator
@inline
function transposeTiles<T>(src: usize, dst: usize, a: i32, e: i32, srcBase: usize, srcRow: usize, dstBase: usize, dstRow: usize): void {
  const size = <usize>sizeof<T>();
  for (let i0 = 0; i0 < a; i0 += REVERSE_TILE) {
    const i1 = min(i0 + REVERSE_TILE, a);
    for (let m0 = 0; m0 < e; m0 += REVERSE_TILE) {
      const m1 = min(m0 + REVERSE_TILE, e);
      for (let i = i0; i < i1; i++) {
        const from = src + (srcBase + <usize>i * srcRow) * size;
        const to = dst + (dstBase + <usize>i) * size;
        for (let m = m0; m < m1; m++) store<T>(to + <usize>m * dstRow * size, load<T>(from + <usize>m * size));
      }
    }
  }
}

/** The reference's permutation for elements of type T: the first and last axes swap tile by tile, the middle ones reverse. */
function reverseAxesOf<T>(src: usize, dst: usize, k: i32, sh: usize): void {
  const a = load<i32>(sh);
  if (k == 1) {
    memory.copy(dst, src, <usize>a * sizeof<T>());
    return;
  }
  const e = load<i32>(sh + ((<usize>k - 1) << 2));
  if (k == 2) {
    transposeTiles<T>(src, dst, a, e, 0, <usize>e, 0, <usize>a);
    return;
  }
  const b = load<i32>(sh, 4);
  if (k == 3) {
    // element (i, j, m) to m * a * b + j * a + i
    for (let j = 0; j < b; j++) transposeTiles<T>(src, dst, a, e, <usize>j * e, <usize>b * e, <usize>j * a, <usize>a * b);
    return;
  }
  const c = load<i32>(sh, 8);
  // k == 4: element (i, j, l, m) to m * a * b * c + l * a * b + j * a + i
  for (let j = 0; j < b; j++) {
    for (let l = 0; l < c; l++) {
      transposeTiles<T>(src, dst, a, e, (<usize>j * c + l) * e, <usize>b * c * e, <usize>l * a * b + <usize>j * a, <usize>a * b * c);
    }
  }
}

/**
 * src (C order, the k <= 4 dims at sh, i32) with its axes in reverse order into dst (C order, the reversed dims),
 * elements of `size` bytes (1, 4 or 8) copied bit for bit.
 */
export function reverseAxes(src: usize, dst: usize, size: i32, k: i32, sh: usize): void {
  if (size == 1) reverseAxesOf<u8>(src, dst, k, sh);
  else if (size == 4) reverseAxesOf<u32>(src, dst, k, sh);
  else reverseAxesOf<u64>(src, dst, k, sh);
}

// ---- sortFloat64: sortFloat64 of src-main/core/stats/sort.ts ----

/**
 * x[0, n) (f64) sorted ascending in place as the reference sorts (TypedArray order: -0 before +0; no NaN), with
 * tmp[0, n) (u64) as the other buffer and counts (256 x u32) for the histogram: a least-significant-digit radix sort
 * of keys that order as the numbers do (positives' sign bit set, negatives' every bit flipped), a pass per byte,
 * skipped where every key has the same byte there.
 */
export function sortFloat64(x: usize, n: i32, tmp: usize, counts: usize): void {
  for (let i = 0; i < n; i++) {
    const at = x + (<usize>i << 3);
    const b = load<u64>(at);
    store<u64>(at, (b >> 63) != 0 ? ~b : b | 0x8000000000000000);
  }
  let from = x, to = tmp;
  for (let shift: u64 = 0; shift < 64; shift += 8) {
    memory.fill(counts, 0, 256 << 2);
    for (let i = 0; i < n; i++) {
      const c = counts + (<usize>((load<u64>(from + (<usize>i << 3)) >> shift) & 255) << 2);
      store<u32>(c, load<u32>(c) + 1);
    }
    if (load<u32>(counts + (<usize>((load<u64>(from) >> shift) & 255) << 2)) == <u32>n) continue;
    let sum: u32 = 0;
    for (let b = 0; b < 256; b++) {
      const c = counts + (<usize>b << 2);
      const k = load<u32>(c);
      store<u32>(c, sum);
      sum += k;
    }
    for (let i = 0; i < n; i++) {
      const key = load<u64>(from + (<usize>i << 3));
      const c = counts + (<usize>((key >> shift) & 255) << 2);
      const pos = load<u32>(c);
      store<u32>(c, pos + 1);
      store<u64>(to + (<usize>pos << 3), key);
    }
    const t = from;
    from = to;
    to = t;
  }
  for (let i = 0; i < n; i++) {
    const key = load<u64>(from + (<usize>i << 3));
    store<u64>(x + (<usize>i << 3), (key >> 63) != 0 ? key & 0x7fffffffffffffff : ~key);
  }
}
