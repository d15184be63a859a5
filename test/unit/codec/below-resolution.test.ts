/**
 * Bounds below the values' float resolution (abs 1e-9 on float32 near 1, whose ulp is 1.2e-7; an NRMSE target of
 * 1e-8): every value must come back bit for bit anyway, and its quantization codes cost up to twice the exact coding.
 * What a user checks: the stream is never larger than the lossless one, decodes within the bound (exactly), with the
 * same bytes for any worker count, and a looser bound is never larger than a tighter one.
 */
import { describe, expect, it } from 'vitest';
import { decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import type { BoundSpec } from '../../../src-main/core/codec/bound.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { FERRET, field, haveFerret, overBound } from './helpers.ts';
import { type ClassicPlan, codedOneWay, encodeChunk, planCompression, settleChunk, smallestCoding } from '../../../src-main/core/compressors/classic/codec.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';

const sizeAt = async (f: Field, bound: BoundSpec, workers = 0) => (await encodeField(f, { codec: 'auto', bound, workers, verify: false })).bytes;

/** A smooth float32 field on [-3, 5]: no grid, values of many binades. */
function smooth(): Field {
  const [ny, nx] = [300, 400];
  const values = new Float32Array(ny * nx);
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) values[y * nx + x] = 1 + 4 * Math.sin(x / 37) * Math.cos(y / 23) + 1e-3 * Math.sin(x * y);
  return { name: 'S', shape: [ny, nx], values } as Field;
}

describe('bounds below float resolution', () => {
  it('a smooth float32 field at abs 1e-9 and NRMSE 1e-8 is no larger than lossless, and comes back exactly', async () => {
    const f = smooth();
    const lossless = (await sizeAt(f, { mode: 'abs', value: 0 })).length;
    for (const bound of [{ mode: 'abs', value: 1e-9 }, { mode: 'nrmse', value: 1e-8 }, { mode: 'rel', value: 1e-10 }] as BoundSpec[]) {
      const r = await encodeField(f, { codec: 'auto', bound, workers: 0, verify: true });
      expect(r.bytes.length, JSON.stringify(bound)).toBeLessThanOrEqual(lossless + 8);
      const d = await decodeStream(r.bytes);
      expect(overBound(f.values, d.field.values, null, r.bound.abs)).toBe(0);
      for (const workers of [1, 2]) expect(Buffer.from(await sizeAt(f, bound, workers)).equals(Buffer.from(r.bytes))).toBe(true);
    }
    // the sizes only shrink as the bound loosens
    const sizes = [];
    for (const value of [1e-9, 1e-7, 1e-5, 1e-3]) sizes.push((await sizeAt(f, { mode: 'abs', value })).length);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!, sizes.join(', ')).toBeLessThanOrEqual(sizes[i - 1]!);
  });

  it.skipIf(!haveFerret)('COADS SST at abs 1e-9: no larger than lossless (it was 1.25 x), exact (needs ferret-datasets)', async () => {
    const sst = await field(`${FERRET}/coads_climatology.cdf`, 'SST');
    const lossless = (await sizeAt(sst, { mode: 'abs', value: 0 })).length;
    const r = await encodeField(sst, { codec: 'auto', bound: { mode: 'abs', value: 1e-9 }, workers: 0, verify: false });
    const tight = r.bytes;
    expect(tight.length).toBeLessThanOrEqual(lossless + 8);
    // and says so where it reports its choice
    expect(r.details.choice).toBe('none: values kept exactly (smaller than their codes at this bound)');
    const d = await decodeStream(tight);
    expect(overBound(sst.values, d.field.values, sst.mask, 0)).toBe(0);
  });
});

describe('exact chunks and codings coded apart', () => {
  it('a chunk whose codings straddle the exact-coding threshold is stored the same whether its codings were coded together or apart (workers, a hedge\'s probe)', () => {
    const [ny, nx] = [256, 256];
    const shape = [ny, nx];
    const alt = { predictor: 'lorenzo', maxDims: 1, tune: 0 } as const;
    let straddled = 0;
    for (const [fx, fy] of [[3, 5], [5, 13], [9, 40], [3, 40]]) {
      // values near a 0.5 step (off it by a noise of 4e-3), coded at a bound far below it: codes near the exact
      // coding's size (on the step exactly, their few distinct codes repeat, and Huffman codes through zstd take a
      // fraction of it)
      let seed = 7;
      const noise = () => 4e-3 * ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5);
      const values = new Float32Array(ny * nx);
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) values[y * nx + x] = Math.round((Math.sin(x / fx) * Math.cos(y / fy) + 0.5 * Math.sin((x + y) / (fx / 2))) * 16) * 0.5 + noise();
      const base = planCompression({ values, shape }, { bound: { mode: 'abs', value: 1e-4 }, grid: false }, zstdBackend);
      const plan = { ...base, predictor: 'interp-cubic', maxDims: 4, tune: 0, reversedAxes: undefined, alternative: alt, contest: undefined, hedged: undefined } as ClassicPlan;
      const together = settleChunk(encodeChunk(plan, values, null, shape, zstdBackend));
      const own = encodeChunk(codedOneWay(plan), values, null, shape, zstdBackend);
      const other = encodeChunk(codedOneWay(plan, alt), values, null, shape, zstdBackend);
      const apart = settleChunk(smallestCoding(own, [{ coding: alt, chunk: other }]));
      expect(Buffer.from(apart.stored).equals(Buffer.from(together.stored)), `${fx} ${fy}`).toBe(true);
      if (!!own.exactCoded !== !!other.exactCoded) straddled++;
    }
    // the case the rule is for: one coding past the threshold, the other not
    expect(straddled).toBeGreaterThan(0);
  });
});
