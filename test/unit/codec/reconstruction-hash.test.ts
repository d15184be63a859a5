/**
 * An anchor or a base is named in a stream by its reconstructionHash (services/codecs/dependencies.ts): sha256 of a
 * header with the shape, the values as float32 with invalid points as 0, then the mask. Streams keep these hashes, so
 * the digest is fixed by that definition, however the bytes are fed to sha256 (block by block since session 32).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reconstructionHash } from '../../../src-main/services/codecs/dependencies.ts';

/** the definition, in one piece */
function definition(values: ArrayLike<number>, shape: number[], mask?: Uint8Array): string {
  const v = Float32Array.from({ length: values.length }, (_, i) => (mask && !mask[i] ? 0 : values[i]!));
  const h = createHash('sha256').update(`fieldpack-recon\n${shape.join('x')}\n`).update(new Uint8Array(v.buffer));
  if (mask) h.update(mask);
  return h.digest('hex');
}

describe('reconstructionHash', () => {
  // 3 x 300 x 301 = 270 900 values: four whole blocks of the hash's and a tail
  const shape = [3, 300, 301];
  const n = 3 * 300 * 301;
  const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 977) * 1e3 + i * 1e-7);
  const mask = Uint8Array.from({ length: n }, (_, i) => (i % 4099 < 700 ? 0 : 1));

  it('is the definition over float64, float32 and plain values, with and without a mask', () => {
    for (const v of [values, Float32Array.from(values), Array.from(values.subarray(0, 1000))]) {
      const s = v.length === n ? shape : [v.length];
      expect(reconstructionHash({ values: v, shape: s })).toBe(definition(v, s));
      expect(reconstructionHash({ values: v, shape: s, mask: mask.subarray(0, v.length) })).toBe(definition(v, s, mask.subarray(0, v.length)));
    }
  });

  it('keeps the digests that streams already hold', () => {
    expect(reconstructionHash({ values: [1, NaN, 3], shape: [3] })).toBe('2c3cb69c81cb297692b15ccdaaec5eab6b3fa9f7ebb5d62dcd6968b453c2d175');
    expect(reconstructionHash({ values: new Float32Array(0), shape: [0] })).toBe('a148507c25fbbedfbba328f97183a5d5bcb4268117c19e06f4d3dfa7d40c6f10');
    expect(reconstructionHash({ values, shape, mask })).toBe(definition(values, shape, mask));
  });
});
