/**
 * Static coding of short metadata strings (names, units, descriptions) in the compact header encoding.
 * A 9 k-value field compresses to ~100 bytes at large bounds, where its ~60-100 characters of self-description are
 * a third of the stream; no adaptive coder learns from so few characters, so the model is fixed: canonical Huffman
 * codes of the printable ASCII characters (32..126), one code per class of the previous character (start, upper
 * case, lower case, digit, space, other), built from the character counts of TEXT_CORPUS plus one. About 5 bits a
 * character on metadata unlike the corpus's (measured leaving a file's strings out), against 8 plain.
 * Bits are written MSB first and the last byte padded with zeros; the reader is told the character count.
 */
import { FieldpackError } from '../../errors.ts';
import type { ByteReader, ByteWriter } from '../bytes.ts';
import { canonical, huffmanLengths } from '../huffman.ts';
import { TEXT_CORPUS } from './text-corpus.ts';

const FIRST_CHAR = 32;
const ALPHABET = 95;
const CLASSES = 6;

/** The class of the character before, the model's context (0: no character before). */
function charClass(code: number): number {
  if (code < 0) return 0;
  if (code >= 65 && code <= 90) return 1;
  if (code >= 97 && code <= 122) return 2;
  if (code >= 48 && code <= 57) return 3;
  return code === 32 ? 4 : 5;
}

/** Codes of up to FAST_BITS bits decode with one table lookup (the model's codes are 2 to ~14 bits long). */
const FAST_BITS = 10;

interface ContextCode {
  lens: Uint8Array;
  codes: Uint32Array;
  /** decoding: the next FAST_BITS bits -> character code << 5 | code length, or 0 where the code is longer */
  fast: Uint16Array;
  /** decoding: first canonical code, and index into `sorted`, of each length */
  first: Int32Array;
  offset: Int32Array;
  count: Int32Array;
  sorted: Int32Array;
}

function buildModel(): ContextCode[] {
  const counts = Array.from({ length: CLASSES }, () => new Uint32Array(ALPHABET).fill(1));
  for (const s of TEXT_CORPUS) {
    let prev = -1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      counts[charClass(prev)]![c - FIRST_CHAR]!++;
      prev = c;
    }
  }
  return counts.map((freq) => {
    const lens = huffmanLengths(freq);
    const { codes, sorted, count } = canonical(lens);
    const first = new Int32Array(count.length);
    const offset = new Int32Array(count.length);
    let code = 0;
    let index = 0;
    for (let l = 1; l < count.length; l++) {
      code = (code + count[l - 1]!) << 1;
      first[l] = code;
      offset[l] = index;
      index += count[l]!;
    }
    const fast = new Uint16Array(1 << FAST_BITS);
    for (let c = 0; c < ALPHABET; c++) {
      const len = lens[c]!;
      if (len > FAST_BITS) continue;
      const base = codes[c]! << (FAST_BITS - len);
      fast.fill(((c + FIRST_CHAR) << 5) | len, base, base + (1 << (FAST_BITS - len)));
    }
    return { lens, codes, fast, first, offset, count, sorted };
  });
}

let model: ContextCode[] | null = null;
const textModel = (): ContextCode[] => (model ??= buildModel());

/** Bits of `s` coded with the text model, or -1 when it has a character outside printable ASCII. */
export function textCodedBits(s: string): number {
  const m = textModel();
  let bits = 0;
  let prev = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < FIRST_CHAR || c >= FIRST_CHAR + ALPHABET) return -1;
    bits += m[charClass(prev)]!.lens[c - FIRST_CHAR]!;
    prev = c;
  }
  return bits;
}

/** Writes the codes of `s` (printable ASCII only: check with textCodedBits first). */
export function writeText(s: string, w: ByteWriter): void {
  const m = textModel();
  let acc = 0;
  let held = 0;
  let prev = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const code = m[charClass(prev)]!;
    const len = code.lens[c - FIRST_CHAR]!;
    // codes are at most 24 bits and at most 7 bits are held: the accumulator stays within 31 bits
    acc = (acc << len) | code.codes[c - FIRST_CHAR]!;
    held += len;
    while (held >= 8) {
      held -= 8;
      w.u8((acc >>> held) & 255);
    }
    acc &= (1 << held) - 1;
    prev = c;
  }
  if (held > 0) w.u8((acc << (8 - held)) & 255);
}

/** Reads `n` characters written by writeText; a code that runs past the data or is not in the model is BAD_STREAM. */
export function readText(r: ByteReader, n: number, label: string): string {
  const m = textModel();
  const bad = () => new FieldpackError('BAD_STREAM', `corrupted header: bad text in ${label}`);
  const { buf, pos: start } = r;
  const bitsThere = 8 * (r.end - start);
  // every code is at least one bit: n characters need at least n bits
  if (n > bitsThere) throw bad();
  // the 24 bits from bit position `at` (zeros past the data: a code that needs them fails the length check below)
  const windowAt = (at: number) => {
    const i = start + (at >>> 3);
    const w = ((i < r.end ? buf[i]! : 0) << 24) | ((i + 1 < r.end ? buf[i + 1]! : 0) << 16) | ((i + 2 < r.end ? buf[i + 2]! : 0) << 8) | (i + 3 < r.end ? buf[i + 3]! : 0);
    return (w << (at & 7)) >>> 8;
  };
  // characters go out in blocks (a hostile count of many millions costs its string, not an array of numbers)
  const block = new Uint16Array(Math.min(n, 4096));
  const parts: string[] = [];
  let filled = 0;
  let at = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const code = m[charClass(prev)]!;
    const window = windowAt(at);
    const hit = code.fast[window >>> (24 - FAST_BITS)]!;
    let len = hit & 31;
    if (hit !== 0) prev = hit >>> 5;
    else {
      // a longer code: canonical decoding bit by bit from FAST_BITS + 1
      len = FAST_BITS;
      let value = window >>> (24 - FAST_BITS);
      for (;;) {
        if (++len >= code.count.length || len > 24) throw bad();
        value = (value << 1) | ((window >>> (24 - len)) & 1);
        const k = value - code.first[len]!;
        if (k >= 0 && k < code.count[len]!) {
          prev = code.sorted[code.offset[len]! + k]! + FIRST_CHAR;
          break;
        }
      }
    }
    at += len;
    if (at > bitsThere) throw bad();
    block[filled++] = prev;
    if (filled === block.length) {
      parts.push(String.fromCharCode(...block));
      filled = 0;
    }
  }
  // the padding of the last byte is zeros (a stream with other bits there was not written by writeText)
  if (at & 7 && windowAt(at) >>> (16 + (at & 7)) !== 0) throw bad();
  r.pos = start + Math.ceil(at / 8);
  if (filled) parts.push(String.fromCharCode(...block.subarray(0, filled)));
  return parts.join('');
}
