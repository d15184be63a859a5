import { describe, expect, it } from 'vitest';
import { correlateFields, fieldHistogram, readSlice2D } from '../../../src-main/services/data/explore.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { listSamples } from '../../../src-main/services/data/samples.ts';
import { WRF, available, fixturePath } from './helpers.ts';

const SAMPLE = listSamples()[0]!.files[0]!;

describe('exploration helpers', () => {
  it('2-D slice of the last two axes at chosen leading indices, masked points marked', async () => {
    const s = await readSlice2D(SAMPLE, 'SST', [6]);
    expect(s.dims).toEqual(['COADSY', 'COADSX']);
    expect(s.shape).toEqual([90, 180]);
    expect(s.at).toEqual({ TIME: 6 });
    expect(s.mask!.some((m) => m === 0)).toBe(true);
    const whole = await (await openDataFile(SAMPLE)).readField('SST');
    expect(s.values[45 * 180 + 10]).toEqual(whole.values[6 * 90 * 180 + 45 * 180 + 10]);
    await expect(readSlice2D(SAMPLE, 'SST', [12])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('every stride-th row and column of a slab, read a few rows at a time: the same values, mask, min, max and invalid count as the whole slab', async () => {
    const whole = await readSlice2D(SAMPLE, 'SST', [6]);
    for (const [stride, bandValues] of [[3, 180 * 7], [4, 180], [1, 180 * 10]] as const) {
      // bands of 7, 1 and 10 rows' worth: several reads, rounded to whole strides
      const s = await readSlice2D(SAMPLE, 'SST', [6], { stride, bandValues });
      const [oh, ow] = [Math.ceil(90 / stride), Math.ceil(180 / stride)];
      expect(s.shape).toEqual([oh, ow]);
      expect(s.sourceShape).toEqual([90, 180]);
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          const k = y * stride * 180 + x * stride;
          expect(s.mask![y * ow + x]).toBe(whole.mask![k]);
          if (whole.mask![k] === 1) expect(s.values[y * ow + x]).toBe(whole.values[k]);
        }
      }
      expect([s.min, s.max, s.invalidCount]).toEqual([whole.min, whole.max, whole.invalidCount]);
    }
    expect(whole.invalidCount).toBe(whole.mask!.filter((m) => m !== 1).length);
  });

  it('histogram of valid values; past a limit, of the central block, and says so', async () => {
    const h = await fieldHistogram(SAMPLE, 'AIRT', { bins: 20 });
    expect(h.counts).toHaveLength(20);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.validCount);
    expect(h.sampled).toBeUndefined();
    // AIRT is [12, 90, 180]: with a limit of 2 time steps, steps 5 and 6
    const part = await fieldHistogram(SAMPLE, 'AIRT', { bins: 20, maxValues: 2 * 90 * 180 });
    expect(part.sampled).toEqual({ values: 2 * 90 * 180, of: 12 * 90 * 180 });
    const block = await fieldHistogram(SAMPLE, 'AIRT', { bins: 20, slice: [[5, 7]] });
    expect(part.counts).toEqual(block.counts);
  });

  it.skipIf(!available('wrf'))('correlation across staggered WRF fields (needs the WRF Katrina file)', async () => {
    const r = await correlateFields(['T', 'QVAPOR', 'U', 'W'].map((name) => ({ path: WRF, name })));
    expect(r.fields.map((f) => f.matchedBy)).toEqual(['same-grid', 'same-grid', 'destagger-average', 'destagger-average']);
    expect(r.values.r[0]![1]).toBeCloseTo(-0.93, 2);
  });

  it('large variables are read in pieces with identical values (HDF5, NetCDF-3)', async () => {
    for (const [path, name] of [[SAMPLE, 'SLP'], [fixturePath('synthetic_nc3'), 'sst']] as const) {
      const f = await openDataFile(path);
      const whole = await f.readField(name);
      const steps: number[] = [];
      const pieces = await f.readField(name, { chunkBytes: 100, onProgress: (x) => steps.push(x) });
      expect(steps.length).toBeGreaterThan(2);
      expect(Array.from(pieces.values)).toEqual(Array.from(whole.values));
      expect(pieces.mask).toEqual(whole.mask);
      f.close();
    }
  });
});
