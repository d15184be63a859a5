/**
 * Canonical Huffman coding of quantization codes: what the decoder reads back is what was coded, call after call,
 * whatever alphabets and symbol counts come in between (the encoder keeps its per-symbol memory between calls for
 * alphabets up to 2^17: counts left behind by one call would change the next call's table).
 */
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { huffmanDecode, huffmanEncode } from '../../../src-main/core/codec/huffman.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';

function coded(syms: Uint32Array, alphabet: number): Uint8Array {
  const w = new ByteWriter(64);
  huffmanEncode(syms, syms.length, alphabet, w);
  return w.finish();
}

/** n symbols of the alphabet, two-sided geometric around its middle with the given spread */
function symbols(n: number, alphabet: number, spread: number, seed: number): Uint32Array {
  const next = rng32(seed);
  return Uint32Array.from({ length: n }, () => {
    const u = (next() + 1) / 2 ** 32;
    const s = Math.floor(alphabet / 2) + Math.round(spread * Math.log(u) * (next() & 1 ? 1 : -1));
    return Math.min(alphabet - 1, Math.max(0, s));
  });
}

describe('huffmanEncode', () => {
  it('codes what it is given back exactly, over alphabets of 2 to 2^21 symbols in any order, and the same bytes for the same symbols each time', () => {
    const cases: [number, number, number][] = [[65536, 3, 1], [1 << 21, 50, 2], [256, 4, 3], [65536, 400, 4], [2, 1, 5], [1 << 17, 9, 6], [65536, 3, 1]];
    const first = new Map<string, string>();
    for (const [alphabet, spread, seed] of cases) {
      for (const n of [0, 1, 5000]) {
        const syms = symbols(n, alphabet, spread, seed);
        const bytes = coded(syms, alphabet);
        expect(Array.from(huffmanDecode(new ByteReader(bytes, 'chunk 0'), alphabet, n)), `${alphabet} ${n}`).toEqual(Array.from(syms));
        const key = `${alphabet} ${spread} ${seed} ${n}`;
        const hex = Buffer.from(bytes).toString('hex');
        if (first.has(key)) expect(hex, key).toBe(first.get(key));
        first.set(key, hex);
      }
    }
  });

  it('one symbol repeated (no bits), then many: the second table holds only the second call\'s symbols', () => {
    const one = new Uint32Array(100).fill(7);
    expect(Array.from(huffmanDecode(new ByteReader(coded(one, 65536), 'chunk 0'), 65536, 100))).toEqual(Array.from(one));
    const many = Uint32Array.from({ length: 300 }, (_, i) => 1000 + (i % 3));
    const bytes = coded(many, 65536);
    // 3 used symbols: the table's count comes first
    expect(bytes[0]).toBe(3);
    expect(Array.from(huffmanDecode(new ByteReader(bytes, 'chunk 0'), 65536, 300))).toEqual(Array.from(many));
  });
});
