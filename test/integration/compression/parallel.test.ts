import { afterAll, describe, expect, it } from 'vitest';
import { compressField, decompressStream, closePools } from '../../../src-main/services/compression/index.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { FERRET, field, haveFerret } from '../../unit/codec/helpers.ts';

afterAll(() => closePools());

describe.runIf(haveFerret)('parallel chunks in worker threads (needs ferret-datasets)', () => {
  it('identical bytes for 0 (in-thread), 1 and 2 workers; decoding with 2 workers gives the same values', async () => {
    const f = await field(`${FERRET}/levitus_climatology.cdf`, 'SALT');
    const opts = { bound: { mode: 'rel' as const, value: 1e-3 }, chunkValues: 200_000 };
    const a = await compressField(f, { ...opts, workers: 0 });
    const b = await compressField(f, { ...opts, workers: 1 });
    const progress: number[] = [];
    const c = await compressField(f, { ...opts, workers: 2, onProgress: (x) => progress.push(x) });
    expect(a.plan.chunkRows.length).toBeGreaterThan(2);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(Buffer.from(c.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(c.verification!.pointsOverBound).toBe(0);
    const d0 = await decompressStream(a.bytes, { workers: 0 });
    const d2 = await decompressStream(a.bytes, { workers: 2 });
    expect(Buffer.from(d2.field.values.buffer).equals(Buffer.from(d0.field.values.buffer))).toBe(true);
    // a slice decodes alone
    const s = await decompressStream(a.bytes, { workers: 2, rows: [5, 7] });
    const rs = 180 * 360;
    expect(Array.from(s.field.values.subarray(0, 100))).toEqual(Array.from(d0.field.values.subarray(5 * rs, 5 * rs + 100)));
  });
  it('chunks copied into the buffers earlier tasks sent back: two fields of one shape in turn, each the bytes of in-thread encoding', async () => {
    // chunks of 4 levels (1 MB): the pool copies the next chunks into the buffers the workers send back (its spares)
    const opts = { bound: { mode: 'rel' as const, value: 1e-3 }, chunkValues: 300_000 };
    for (const v of ['SALT', 'TEMP', 'SALT']) {
      const f = await field(`${FERRET}/levitus_climatology.cdf`, v);
      const two = await compressField(f, { ...opts, workers: 2 });
      const one = await compressField(f, { ...opts, workers: 0 });
      expect(two.plan.chunkRows.length).toBeGreaterThan(4);
      expect(Buffer.from(two.bytes).equals(Buffer.from(one.bytes)), v).toBe(true);
      expect(two.verification!.pointsOverBound).toBe(0);
    }
  });
  it('an aborted signal cancels with a FieldpackError CANCELLED, and the pool still works afterwards', async () => {
    const f = await field(`${FERRET}/levitus_climatology.cdf`, 'SALT');
    const ac = new AbortController();
    ac.abort();
    const err = await compressField(f, { bound: { mode: 'rel', value: 1e-2 }, workers: 2, signal: ac.signal }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FieldpackError);
    expect((err as FieldpackError).code).toBe('CANCELLED');
    const after = await compressField(f, { bound: { mode: 'rel', value: 1e-2 }, workers: 2, chunkValues: 200_000 });
    expect(after.verification!.pointsOverBound).toBe(0);
  });
});
