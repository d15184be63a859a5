/**
 * A mask handed over with 255 (or any non-zero byte) for valid points, as numpy bool views and image tools write
 * them: the codec service reads it as 1 (binaryMask). The mask coders take each byte as one context bit, and such a
 * mask ran their WebAssembly loops out of bounds ("memory access out of bounds") before.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closePools, decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { binaryMask } from '../../../src-main/core/field.ts';

afterAll(() => closePools());

describe('masks of other bytes than 0 and 1', () => {
  const [nz, ny, nx] = [3, 20, 64];
  const values = new Float32Array(nz * ny * nx).map((_, i) => 10 * Math.sin(i / 50));
  // land in a corner of each level, growing with depth; valid points 255, one 7
  const mask = new Uint8Array(values.length).map((_, i) => {
    const [z, y, x] = [Math.floor(i / (ny * nx)), Math.floor(i / nx) % ny, i % nx];
    return x > 40 - 4 * z && y > 5 ? 0 : i === 100 ? 7 : 255;
  });

  it('binaryMask: the same array where already 0 and 1, else a copy of 0 and 1', () => {
    const ones = new Uint8Array([1, 0, 1]);
    expect(binaryMask(ones)).toBe(ones);
    expect(Array.from(binaryMask(new Uint8Array([255, 0, 2])))).toEqual([1, 0, 1]);
    // read four bytes a step: a stray byte found at any offset of views that start and end off a 4-byte boundary
    const backing = new Uint8Array(40).fill(1);
    for (let start = 0; start < 4; start++) {
      for (let at = start; at < 40 - start; at++) {
        const view = backing.subarray(start, 40 - start);
        expect(binaryMask(view)).toBe(view);
        backing[at] = 2;
        expect(Array.from(binaryMask(view)), `view from ${start}, 2 at ${at}`).toEqual(new Array(view.length).fill(1));
        backing[at] = 1;
      }
    }
  });

  it.each(['auto', 'fast'])('%s: compressed with 0 and 2 workers, the same bytes; decoded with the same valid points, within the bound', async (codec) => {
    const field = { values, shape: [nz, ny, nx], mask };
    const [r0, r2] = [await encodeField(field, { codec, bound: { mode: 'rel', value: 1e-3 }, workers: 0, verify: true, metadata: {} }), await encodeField(field, { codec, bound: { mode: 'rel', value: 1e-3 }, workers: 2, verify: true, metadata: {} })];
    expect(Buffer.from(r2.bytes).equals(Buffer.from(r0.bytes))).toBe(true);
    expect(r0.verification!.pointsOverBound).toBe(0);
    const d = await decodeStream(r0.bytes, { workers: 0 });
    expect(Array.from(d.field.mask!)).toEqual(Array.from(mask, (b) => (b ? 1 : 0)));
    // the caller's mask is left as given
    expect(mask[0]).toBe(255);
  });
});
