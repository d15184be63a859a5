/**
 * Adaptive binary range coder (LZMA's rc: 11-bit probabilities, shift-5 adaptation) and a context-modelled
 * coding of quantization codes, used instead of Huffman when most codes are "zero" (large bounds), where
 * Huffman's 1 bit per symbol floor costs most. Codes: 0 = escape, radius = zero residual.
 *
 * Binarization of v = code - radius: zero flag (context: magnitude classes of the two previous codes);
 * else class k = floor(log2 |v|) in unary (15 = escape), sign, then k mantissa bits (adaptive per (k, bit)).
 */
import { FieldpackError } from '../errors.ts';
import { ByteWriter, ByteReader } from './bytes.ts';
import { KERNEL_MAX_CODES, binDecodeKernel, binEncodeKernel } from './wasm-kernels.ts';

const TOP = 16777216; // 2^24
const PROB_INIT = 1024;
const SHIFT = 5;
const ESC_CLASS = 15;

class Encoder {
  low = 0;
  range = 0xffffffff;
  cache = 0;
  cacheSize = 1;
  out: Uint8Array;
  pos = 0;
  constructor(cap: number) {
    this.out = new Uint8Array(Math.max(64, cap));
  }
  private put(b: number): void {
    if (this.pos === this.out.length) {
      const nb = new Uint8Array(this.out.length * 2);
      nb.set(this.out);
      this.out = nb;
    }
    this.out[this.pos++] = b;
  }
  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 4294967296) {
      const carry = this.low >= 4294967296 ? 1 : 0;
      let temp = this.cache;
      do {
        this.put((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % TOP) * 256;
  }
  bit(probs: Uint16Array, i: number, bit: number): void {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    if (bit === 0) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> SHIFT);
    } else {
      this.low += bound;
      this.range -= bound;
      probs[i] = p - (p >>> SHIFT);
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }
  finish(): Uint8Array {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return this.out.subarray(0, this.pos);
  }
}

/**
 * The decoder reads zeros past the end of its data, as the encoder's flush implies, but at most 5: reading further
 * means the data ended early, which the callers' final check would report anyway, so it stops there at once (a
 * corrupted count never makes it decode on for millions of symbols).
 */
class Decoder {
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
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i]!;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> SHIFT);
      b = 0;
    } else {
      this.code -= bound;
      this.range -= bound;
      probs[i] = p - (p >>> SHIFT);
      b = 1;
    }
    while (this.range < TOP) {
      this.range = (this.range * 256) >>> 0;
      this.code = ((this.code * 256) >>> 0) + this.next();
    }
    return b;
  }
}

function classOf(v: number): number {
  // v = |residual| >= 1 -> floor(log2 v)
  return 31 - Math.clz32(v);
}

class Model {
  zero = new Uint16Array(9 * 4).fill(PROB_INIT);
  cls = new Uint16Array(8 * 16).fill(PROB_INIT);
  sign = new Uint16Array(8).fill(PROB_INIT);
  mant = new Uint16Array(16 * 16).fill(PROB_INIT);
}

/** magnitude bucket of a code for contexts: 0 zero, 1 |v|=1, 2 |v|>=2 or escape */
function bucket(code: number, radius: number): number {
  if (code === 0) return 2;
  const v = code > radius ? code - radius : radius - code;
  return v === 0 ? 0 : v === 1 ? 1 : 2;
}

/**
 * `path` 'fast': the same loop compiled to WebAssembly (wasm-kernels.ts; the same bytes) where the engine has it,
 * else the reference.
 */
export function rangeEncodeCodes(codes: Uint32Array, n: number, radius: number, w: ByteWriter, path: 'fast' | 'reference' = 'fast'): void {
  const kernel = path === 'fast' && n <= KERNEL_MAX_CODES ? binEncodeKernel() : null;
  const coded = kernel?.(codes, n, radius, new Model());
  if (coded) {
    w.varint(n);
    w.block(coded);
    return;
  }
  const enc = new Encoder(n >>> 2);
  const m = new Model();
  let b1 = 0;
  let b2 = 0;
  let lastCls = 0;
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    const ctx = b1 * 3 + b2;
    if (c === radius) {
      enc.bit(m.zero, ctx, 0);
      b2 = b1;
      b1 = 0;
      lastCls = 0;
      continue;
    }
    enc.bit(m.zero, ctx, 1);
    const cc = (lastCls > 6 ? 6 : lastCls) + (b1 === 0 ? 0 : 1) * 0;
    const base = cc * 16;
    let k: number;
    let v = 0;
    if (c === 0) k = ESC_CLASS;
    else {
      v = c > radius ? c - radius : radius - c;
      k = classOf(v);
    }
    for (let j = 0; j < k; j++) enc.bit(m.cls, base + j, 1);
    if (k < ESC_CLASS) enc.bit(m.cls, base + k, 0);
    if (k !== ESC_CLASS) {
      enc.bit(m.sign, cc, c > radius ? 1 : 0);
      for (let j = k - 1; j >= 0; j--) enc.bit(m.mant, k * 16 + (j > 14 ? 14 : j), (v >>> j) & 1);
    }
    b2 = b1;
    b1 = c === 0 ? 2 : v === 1 ? 1 : 2;
    lastCls = k + 1;
  }
  const bytes = enc.finish();
  w.varint(n);
  w.block(bytes);
}

/**
 * Most binary decisions `len` bytes of this coder can hold: a probability never exceeds 2017/2048 (the shift-5
 * update stops there), so each decision costs >= 0.022 bit, n of them need >= n / 364 bytes (plus the 5 the decoder
 * may read past the end). Every code and every mask point is at least one decision. A margin of 40 %.
 */
export function binaryMaxDecisions(len: number): number {
  return 512 * (len + 16);
}

/**
 * `expected`: the number of codes the caller needs (checked before anything is allocated from the stream's count).
 * `path` 'fast': the same loop compiled to WebAssembly (the same codes, the same failures) where the engine has it.
 * `into`: `expected` codes of the caller's memory to decode into (returned), else a new array.
 */
export function rangeDecodeCodes(r: ByteReader, radius: number, expected?: number, path: 'fast' | 'reference' = 'fast', into?: Uint32Array): Uint32Array {
  const n = r.varint('symbol count');
  if (expected !== undefined && n !== expected) throw new FieldpackError('BAD_STREAM', `corrupted stream: ${r.what} has ${n} range-coded symbols, expected ${expected}`);
  const len = r.varint('range coder length');
  r.need(len, 'range coder data');
  if (n > binaryMaxDecisions(len)) throw new FieldpackError('BAD_STREAM', `truncated stream: ${len} bytes of range-coded data in ${r.what} cannot hold ${n} codes`);
  const start = r.pos;
  r.pos += len;
  const ends = () => new FieldpackError('BAD_STREAM', `truncated stream: range-coded data in ${r.what} ends early`);
  const beyond = () => new FieldpackError('BAD_STREAM', `corrupted stream: range-coded residual out of range in ${r.what}`);
  const kernel = path === 'fast' && n <= KERNEL_MAX_CODES ? binDecodeKernel() : null;
  if (kernel) {
    const d = kernel(r.buf.subarray(start, start + len), len, n, radius, new Model(), into);
    if (d.error === 1 || d.bytesRead > len + 5) throw ends();
    if (d.error === 2) throw beyond();
    if (d.codes) return d.codes;
  }
  const dec = new Decoder(r.buf, start, start + len, `range-coded data in ${r.what}`);
  const codes = into ?? new Uint32Array(n);
  const m = new Model();
  let b1 = 0;
  let b2 = 0;
  let lastCls = 0;
  for (let i = 0; i < n; i++) {
    const ctx = b1 * 3 + b2;
    if (dec.bit(m.zero, ctx) === 0) {
      codes[i] = radius;
      b2 = b1;
      b1 = 0;
      lastCls = 0;
      continue;
    }
    const cc = lastCls > 6 ? 6 : lastCls;
    const base = cc * 16;
    let k = 0;
    while (k < ESC_CLASS && dec.bit(m.cls, base + k) === 1) k++;
    let c: number;
    let v = 0;
    if (k === ESC_CLASS) c = 0;
    else {
      const s = dec.bit(m.sign, cc);
      v = 1;
      for (let j = k - 1; j >= 0; j--) v = (v << 1) | dec.bit(m.mant, k * 16 + (j > 14 ? 14 : j));
      if (v >= radius) throw beyond();
      c = s ? radius + v : radius - v;
    }
    codes[i] = c;
    b2 = b1;
    b1 = c === 0 ? 2 : v === 1 ? 1 : 2;
    lastCls = k + 1;
  }
  if (dec.pos > start + len + 5) throw ends();
  return codes;
}

export { bucket };

/**
 * Context-coded bit mask (1 = valid): each bit is coded with an adaptive probability chosen by its left, upper
 * and previous-slice neighbours (w = fastest dim, plane = last two dims), far smaller than a zstd'd bitmap.
 */
export function rangeEncodeMask(mask: Uint8Array, w: number, plane: number, out: ByteWriter): void {
  const enc = new Encoder(mask.length >>> 6);
  const probs = new Uint16Array(8).fill(PROB_INIT);
  for (let i = 0; i < mask.length; i++) {
    const ctx = (i >= 1 ? mask[i - 1]! : 1) | ((i >= w ? mask[i - w]! : 1) << 1) | ((i >= plane ? mask[i - plane]! : 1) << 2);
    enc.bit(probs, ctx, mask[i] ? 1 : 0);
  }
  out.block(enc.finish());
}

export function rangeDecodeMask(r: ByteReader, n: number, w: number, plane: number): Uint8Array {
  const len = r.varint('mask length');
  r.need(len, 'mask');
  if (n > binaryMaxDecisions(len)) throw new FieldpackError('BAD_STREAM', `truncated stream: a ${len}-byte mask in ${r.what} cannot hold ${n} points`);
  const start = r.pos;
  r.pos += len;
  const dec = new Decoder(r.buf, start, start + len, `mask in ${r.what}`);
  const mask = new Uint8Array(n);
  const probs = new Uint16Array(8).fill(PROB_INIT);
  for (let i = 0; i < n; i++) {
    const ctx = (i >= 1 ? mask[i - 1]! : 1) | ((i >= w ? mask[i - w]! : 1) << 1) | ((i >= plane ? mask[i - plane]! : 1) << 2);
    mask[i] = dec.bit(probs, ctx);
  }
  if (dec.pos > start + len + 5) throw new FieldpackError('BAD_STREAM', `truncated stream: mask in ${r.what} ends early`);
  return mask;
}
