/**
 * Canonical Huffman coding of quantization codes (symbols 0..alphabet-1), as in SZ3's HuffmanEncoder:
 * the table is written as (symbol delta, code length) pairs for used symbols, then the bit stream (MSB first).
 * Code lengths are limited to MAX_LEN so the decoder's 32-bit window always holds a whole code.
 */
import { FieldpackError } from '../errors.ts';
import { ByteWriter, ByteReader } from './bytes.ts';

const MAX_LEN = 24;
const FAST_BITS = 11;

/** Code lengths for each symbol (0 = unused), limited to MAX_LEN. */
export function huffmanLengths(freq: Uint32Array): Uint8Array {
  const used = usedSymbols(freq);
  const usedLens = usedLengths(used, freq);
  const lens = new Uint8Array(freq.length);
  for (let j = 0; j < used.length; j++) lens[used[j]!] = usedLens[j]!;
  return lens;
}

/** The symbols with a frequency, ascending, listed in one pass through `room` (as long as freq, its contents lost). */
function usedSymbols(freq: Uint32Array, room = new Uint32Array(freq.length)): Int32Array {
  let m = 0;
  for (let i = 0; i < freq.length; i++) if (freq[i]) room[m++] = i;
  return Int32Array.from(room.subarray(0, m));
}

/**
 * The code lengths of the used symbols (ascending, as usedSymbols lists them), limited to MAX_LEN: the work is in
 * the used symbols alone, where a pass over an alphabet of 2^16 (the quantizer's codes) cost ~1 ms a chunk.
 */
function usedLengths(used: Int32Array, freq: Uint32Array): Uint8Array {
  const m = used.length;
  const lens = new Uint8Array(m);
  if (m === 0) return lens;
  if (m === 1) {
    lens[0] = 1;
    return lens;
  }
  let f = Float64Array.from(used, (s) => freq[s]!);
  for (;;) {
    computeLengths(f, lens);
    let maxL = 0;
    for (let j = 0; j < m; j++) if (lens[j]! > maxL) maxL = lens[j]!;
    if (maxL <= MAX_LEN) return lens;
    // flatten the distribution and retry (rare: needs Fibonacci-like frequencies)
    f = f.map((x) => Math.max(1, Math.floor(x / 2)));
  }
}

/** Plain Huffman tree via two sorted queues (leaves sorted by frequency, internal nodes in creation order). */
function computeLengths(f: Float64Array, lens: Uint8Array): void {
  const n = f.length;
  const syms: number[] = [];
  for (let i = 0; i < n; i++) if (f[i]) syms.push(i);
  syms.sort((a, b) => f[a]! - f[b]! || a - b);
  const m = syms.length;
  const weight = new Float64Array(2 * m);
  const parent = new Int32Array(2 * m).fill(-1);
  for (let i = 0; i < m; i++) weight[i] = f[syms[i]!]!;
  let leaf = 0;
  let inner = m;
  let next = m;
  const pick = (): number => {
    if (leaf < m && (inner >= next || weight[leaf]! <= weight[inner]!)) return leaf++;
    return inner++;
  };
  while (next < 2 * m - 1) {
    const a = pick();
    const b = pick();
    weight[next] = weight[a]! + weight[b]!;
    parent[a] = next;
    parent[b] = next;
    next++;
  }
  const depth = new Int32Array(2 * m);
  for (let i = 2 * m - 3; i >= 0; i--) depth[i] = depth[parent[i]!]! + 1;
  for (let i = 0; i < m; i++) lens[syms[i]!] = depth[i]!;
}

/** Canonical codes from lengths: shorter first, then by symbol. */
export function canonical(lens: Uint8Array): { codes: Uint32Array; sorted: Int32Array; count: Int32Array } {
  const count = new Int32Array(MAX_LEN + 1);
  for (let i = 0; i < lens.length; i++) count[lens[i]!]++;
  count[0] = 0;
  const next = firstCodes(count);
  const codes = new Uint32Array(lens.length);
  const offs = new Int32Array(MAX_LEN + 2);
  for (let l = 1; l <= MAX_LEN; l++) offs[l + 1] = offs[l]! + count[l]!;
  const total = offs[MAX_LEN + 1]!;
  const sorted = new Int32Array(total);
  for (let i = 0; i < lens.length; i++) {
    const l = lens[i]!;
    if (l) {
      codes[i] = next[l]!++;
      sorted[offs[l]!++] = i;
    }
  }
  return { codes, sorted, count };
}

/** The first canonical code of each length, from the count of codes of each length (count[0] = 0); MAX_LEN + 2 entries. */
function firstCodes(count: Int32Array): Int32Array {
  const next = new Int32Array(MAX_LEN + 2);
  for (let l = 1, code = 0; l <= MAX_LEN; l++) {
    code = (code + count[l - 1]!) << 1;
    next[l] = code;
  }
  return next;
}

/**
 * huffmanEncode's per-symbol memory for alphabets up to KEPT_ALPHABET, kept between calls (a chunk's alphabet is 2^16:
 * three fresh arrays of it and two passes over it took 0.2 of the 0.3 ms a 32 k-code block's coding took): the
 * counts, all zero between calls, and each used symbol's canonical code and length (code << 5 | length).
 */
const KEPT_ALPHABET = 1 << 17;
let keptCounts = new Uint32Array(0);
let keptCodes = new Uint32Array(0);

/** Writes table + bit stream for `syms[0..n)` into w. */
export function huffmanEncode(syms: Uint32Array, n: number, alphabet: number, w: ByteWriter): void {
  if (alphabet <= KEPT_ALPHABET && keptCounts.length < alphabet) {
    keptCounts = new Uint32Array(KEPT_ALPHABET);
    keptCodes = new Uint32Array(KEPT_ALPHABET);
  }
  const kept = alphabet <= KEPT_ALPHABET;
  const freq = kept ? keptCounts.subarray(0, alphabet) : new Uint32Array(alphabet);
  const entry = kept ? keptCodes : new Uint32Array(alphabet);
  for (let i = 0; i < n; i++) freq[syms[i]!]++;
  const used = usedSymbols(freq, entry);
  const lens = usedLengths(used, freq);
  // table: count of used symbols, then (delta symbol, length)
  w.varint(used.length);
  let prev = 0;
  for (let j = 0; j < used.length; j++) {
    w.varint(used[j]! - prev);
    w.u8(lens[j]!);
    prev = used[j]!;
  }
  w.varint(n);
  // canonical codes (canonical's: shorter first, then by symbol), per symbol for the loop below
  const count = new Int32Array(MAX_LEN + 1);
  for (let j = 0; j < used.length; j++) count[lens[j]!]++;
  const next = firstCodes(count);
  let bits = 0;
  for (let j = 0; j < used.length; j++) {
    const s = used[j]!;
    const l = lens[j]!;
    entry[s] = (next[l]!++ << 5) | l;
    bits += freq[s]! * l;
    // (the kept counts are all zero again when this returns)
    freq[s] = 0;
  }
  if (used.length <= 1) return; // a single symbol needs no bits
  const nbytes = Math.ceil(bits / 8);
  w.varint(nbytes);
  w.ensure(nbytes + 4);
  const out = w.buf;
  let pos = w.pos;
  let acc = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const e = entry[syms[i]!]!;
    const l = e & 31;
    acc = (acc << l) | (e >>> 5);
    nb += l;
    while (nb >= 8) {
      nb -= 8;
      out[pos++] = acc >>> nb;
    }
  }
  if (nb > 0) out[pos++] = acc << (8 - nb);
  w.pos = pos;
}

/**
 * Reads what huffmanEncode wrote; returns the symbols. `expected`: the number of symbols the caller needs (checked
 * before anything is allocated from the stream's count). Work and memory are linear in the table and the symbols:
 * the table is kept sparse (a radius of 2^20 costs nothing until used), every code of a table with two or more
 * symbols takes at least one bit, so the count is checked against the coded length first.
 */
export function huffmanDecode(r: ByteReader, alphabet: number, expected?: number): Uint32Array {
  const bad = (msg: string) => new FieldpackError('BAD_STREAM', `corrupted stream: ${msg} in ${r.what}`);
  const used = r.varint('huffman table size');
  // each entry takes at least two bytes (varint delta, u8 length)
  if (used > alphabet || 2 * used > r.remaining()) throw bad(`huffman table has ${used} symbols (alphabet ${alphabet}, ${r.remaining()} bytes left)`);
  const tsym = new Int32Array(used);
  const tlen = new Uint8Array(used);
  let sym = 0;
  for (let i = 0; i < used; i++) {
    const d = r.varint('huffman symbol');
    sym += d;
    const l = r.u8('huffman length');
    if ((i > 0 && d === 0) || sym >= alphabet || l === 0 || l > MAX_LEN) throw bad('bad huffman table entry');
    tsym[i] = sym;
    tlen[i] = l;
  }
  const n = r.varint('symbol count');
  if (expected !== undefined && n !== expected) throw bad(`${n} huffman-coded symbols, expected ${expected}`);
  if (used === 0) {
    if (n !== 0) throw bad(`${n} symbols but an empty huffman table`);
    return new Uint32Array(0);
  }
  if (used === 1) return new Uint32Array(n).fill(tsym[0]!);
  const nbytes = r.varint('huffman stream length');
  const data = r.bytes(nbytes, 'huffman stream');
  if (n > nbytes * 8) throw new FieldpackError('BAD_STREAM', `truncated stream: huffman data in ${r.what} holds ${nbytes * 8} bits for ${n} symbols`);
  // canonical code: by length, then by symbol (the table lists symbols in increasing order)
  const count = new Int32Array(MAX_LEN + 1);
  for (let i = 0; i < used; i++) count[tlen[i]!]++;
  // Kraft check: a complete prefix code, or the stream is corrupted
  let kraft = 0;
  for (let l = 1; l <= MAX_LEN; l++) kraft += count[l]! * Math.pow(2, -l);
  if (Math.abs(kraft - 1) > 1e-9) throw bad('huffman table is not a complete code');
  const first = new Int32Array(MAX_LEN + 1);
  const offs = new Int32Array(MAX_LEN + 2);
  {
    let code = 0;
    for (let l = 1; l <= MAX_LEN; l++) {
      code = l === 1 ? 0 : (code + count[l - 1]!) << 1;
      first[l] = code;
      offs[l + 1] = offs[l]! + count[l]!;
    }
  }
  const sorted = new Int32Array(used);
  const fill = offs.slice();
  for (let i = 0; i < used; i++) sorted[fill[tlen[i]!]!++] = tsym[i]!;
  // fast table: FAST_BITS-bit prefix -> symbol and length (length 0 = a longer code)
  const fastSym = new Int32Array(1 << FAST_BITS);
  const fastLen = new Uint8Array(1 << FAST_BITS);
  for (let l = 1; l <= FAST_BITS; l++) {
    for (let j = 0; j < count[l]!; j++) {
      const base = (first[l]! + j) << (FAST_BITS - l);
      const s = sorted[offs[l]! + j]!;
      for (let k = 0; k < 1 << (FAST_BITS - l); k++) {
        fastSym[base + k] = s;
        fastLen[base + k] = l;
      }
    }
  }
  const syms = new Uint32Array(n);
  let pos = 0;
  let buf = 0;
  let nb = 0;
  const len = data.length;
  const fmask = (1 << FAST_BITS) - 1;
  for (let i = 0; i < n; i++) {
    while (nb <= 24) {
      buf = (buf << 8) | (pos < len ? data[pos]! : 0);
      pos++;
      nb += 8;
    }
    const f = (buf >>> (nb - FAST_BITS)) & fmask;
    const fl = fastLen[f]!;
    if (fl !== 0) {
      syms[i] = fastSym[f]!;
      nb -= fl;
      continue;
    }
    let l = FAST_BITS + 1;
    for (; l <= MAX_LEN; l++) {
      const c = (buf >>> (nb - l)) & ((1 << l) - 1);
      const d = c - first[l]!;
      if (d >= 0 && d < count[l]!) {
        syms[i] = sorted[offs[l]! + d]!;
        nb -= l;
        break;
      }
    }
    if (l > MAX_LEN) throw bad('invalid huffman code');
  }
  const consumedBits = pos * 8 - nb;
  if (consumedBits > nbytes * 8) throw new FieldpackError('BAD_STREAM', `truncated stream: huffman data in ${r.what} ends early`);
  return syms;
}
