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
  const n = freq.length;
  const lens = new Uint8Array(n);
  let used = 0;
  let last = -1;
  for (let i = 0; i < n; i++) if (freq[i]) { used++; last = i; }
  if (used === 0) return lens;
  if (used === 1) { lens[last] = 1; return lens; }
  let f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = freq[i]!;
  for (;;) {
    computeLengths(f, lens);
    let maxL = 0;
    for (let i = 0; i < n; i++) if (lens[i]! > maxL) maxL = lens[i]!;
    if (maxL <= MAX_LEN) return lens;
    // flatten the distribution and retry (rare: needs Fibonacci-like frequencies)
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) g[i] = f[i] ? Math.max(1, Math.floor(f[i]! / 2)) : 0;
    f = g;
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
function canonical(lens: Uint8Array): { codes: Uint32Array; sorted: Int32Array; count: Int32Array } {
  const count = new Int32Array(MAX_LEN + 1);
  for (let i = 0; i < lens.length; i++) count[lens[i]!]++;
  count[0] = 0;
  const next = new Int32Array(MAX_LEN + 2);
  let code = 0;
  for (let l = 1; l <= MAX_LEN; l++) {
    code = (code + count[l - 1]!) << 1;
    next[l] = code;
  }
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

/** Writes table + bit stream for `syms[0..n)` into w. */
export function huffmanEncode(syms: Uint32Array, n: number, alphabet: number, w: ByteWriter): void {
  const freq = new Uint32Array(alphabet);
  for (let i = 0; i < n; i++) freq[syms[i]!]++;
  const lens = huffmanLengths(freq);
  // table: count of used symbols, then (delta symbol, length)
  let used = 0;
  for (let i = 0; i < alphabet; i++) if (lens[i]) used++;
  w.varint(used);
  let prev = 0;
  for (let i = 0; i < alphabet; i++) {
    if (!lens[i]) continue;
    w.varint(i - prev);
    w.u8(lens[i]!);
    prev = i;
  }
  w.varint(n);
  if (used <= 1) return; // a single symbol needs no bits
  const { codes } = canonical(lens);
  let bits = 0;
  for (let i = 0; i < alphabet; i++) if (freq[i]) bits += freq[i]! * lens[i]!;
  const nbytes = Math.ceil(bits / 8);
  w.varint(nbytes);
  w.ensure(nbytes + 4);
  const out = w.buf;
  let pos = w.pos;
  let acc = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const s = syms[i]!;
    const l = lens[s]!;
    acc = (acc << l) | codes[s]!;
    nb += l;
    while (nb >= 8) {
      nb -= 8;
      out[pos++] = acc >>> nb;
    }
  }
  if (nb > 0) out[pos++] = acc << (8 - nb);
  w.pos = pos;
}

/** Reads what huffmanEncode wrote; returns the symbols. */
export function huffmanDecode(r: ByteReader, alphabet: number, out?: Uint32Array): Uint32Array {
  const used = r.varint('huffman table size');
  if (used > alphabet) throw new FieldpackError('BAD_STREAM', `corrupted stream: huffman table in ${r.what} has ${used} symbols (max ${alphabet})`);
  const lens = new Uint8Array(alphabet);
  let sym = 0;
  let only = -1;
  for (let i = 0; i < used; i++) {
    sym += r.varint('huffman symbol');
    const l = r.u8('huffman length');
    if (sym >= alphabet || l === 0 || l > MAX_LEN) throw new FieldpackError('BAD_STREAM', `corrupted stream: bad huffman table entry in ${r.what}`);
    lens[sym] = l;
    only = sym;
  }
  const n = r.varint('symbol count');
  const syms = out && out.length >= n ? out : new Uint32Array(n);
  if (used === 0) {
    if (n !== 0) throw new FieldpackError('BAD_STREAM', `corrupted stream: ${n} symbols but an empty huffman table in ${r.what}`);
    return syms;
  }
  if (used === 1) {
    syms.fill(only, 0, n);
    return syms;
  }
  const nbytes = r.varint('huffman stream length');
  const data = r.bytes(nbytes, 'huffman stream');
  const { codes, sorted, count } = canonical(lens);
  // Kraft check: a complete prefix code, or the stream is corrupted
  let kraft = 0;
  for (let l = 1; l <= MAX_LEN; l++) kraft += count[l]! * Math.pow(2, -l);
  if (Math.abs(kraft - 1) > 1e-9) throw new FieldpackError('BAD_STREAM', `corrupted stream: huffman table in ${r.what} is not a complete code`);
  // fast table: FAST_BITS-bit prefix -> (symbol << 5) | length, 0 = long code
  const fast = new Int32Array(1 << FAST_BITS);
  for (let s = 0; s < alphabet; s++) {
    const l = lens[s]!;
    if (!l || l > FAST_BITS) continue;
    const base = codes[s]! << (FAST_BITS - l);
    const entry = (s << 5) | l;
    for (let k = 0; k < 1 << (FAST_BITS - l); k++) fast[base + k] = entry;
  }
  const first = new Int32Array(MAX_LEN + 1);
  const offs = new Int32Array(MAX_LEN + 1);
  {
    let code = 0;
    let off = 0;
    for (let l = 1; l <= MAX_LEN; l++) {
      code = (code + (l > 1 ? count[l - 1]! : 0)) << 1;
      if (l === 1) code = 0;
      first[l] = code;
      offs[l] = off;
      off += count[l]!;
    }
  }
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
    const e = fast[(buf >>> (nb - FAST_BITS)) & fmask]!;
    if (e !== 0) {
      syms[i] = e >>> 5;
      nb -= e & 31;
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
    if (l > MAX_LEN) throw new FieldpackError('BAD_STREAM', `corrupted stream: invalid huffman code in ${r.what}`);
  }
  const consumedBits = pos * 8 - nb;
  if (consumedBits > nbytes * 8) throw new FieldpackError('BAD_STREAM', `truncated stream: huffman data in ${r.what} ends early`);
  return syms;
}
