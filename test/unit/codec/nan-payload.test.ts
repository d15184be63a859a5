/** Non-finite values come back bit for bit: NaN sign and payload, a signalling NaN, both infinities (float32 and float64, 0 and 2 workers). */
import { afterAll, describe, expect, it } from 'vitest';
import { closePools, decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';

afterAll(closePools);

describe('non-finite values are kept bit for bit', () => {
  it.each([0, 2])('float32 and float64 with %i workers, lossless and at rel:1e-3', async (workers) => {
    const f32 = new Float32Array(1000).map((_, i) => Math.sin(i / 10));
    const u = new Uint32Array(f32.buffer);
    const at32: Record<number, number> = { 3: 0x7fc00123, 10: 0xffc00000, 20: 0x7f800001, 30: 0x7f800000, 40: 0xff800000 };
    for (const [i, bits] of Object.entries(at32)) u[Number(i)] = bits;
    const f64 = new Float64Array(1000).map((_, i) => Math.cos(i / 10));
    const u64 = new BigUint64Array(f64.buffer);
    const at64: Record<number, bigint> = { 5: 0x7ff8000000000abcn, 15: 0xfff8000000000000n, 25: 0x7ff0000000000000n };
    for (const [i, bits] of Object.entries(at64)) u64[Number(i)] = bits;
    for (const bound of [{ mode: 'abs' as const, value: 0 }, { mode: 'rel' as const, value: 1e-3 }]) {
      const r32 = await encodeField({ values: f32, shape: [1000] }, { codec: 'auto', bound, workers });
      const d32 = new Uint32Array((await decodeStream(r32.bytes, { workers })).field.values.buffer);
      for (const [i, bits] of Object.entries(at32)) expect(d32[Number(i)]!.toString(16), `float32 ${bound.mode} point ${i}`).toBe(bits.toString(16));
      const r64 = await encodeField({ values: f64, shape: [1000] }, { codec: 'auto', bound, workers });
      const d64 = new BigUint64Array((await decodeStream(r64.bytes, { workers })).field.values.buffer);
      for (const [i, bits] of Object.entries(at64)) expect(d64[Number(i)]!.toString(16), `float64 ${bound.mode} point ${i}`).toBe(bits.toString(16));
    }
  });
});
