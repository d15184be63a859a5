/** The embedded demo dataset: small, real, identical to the COADS source, ready for the first start. */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { correlationMatrix } from '../../../src-main/core/stats/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { describeSample, listSamples } from '../../../src-main/services/data/samples.ts';
import { available, fixturePath } from './helpers.ts';

describe('embedded sample', () => {
  it('is listed, small, and describes as a one-grid dataset with 8 fields', async () => {
    const [s] = listSamples();
    expect(s!.id).toBe('coads-climatology');
    expect(statSync(s!.files[0]!).size).toBeLessThan(3 * 1024 * 1024);
    const { dataset } = await describeSample();
    expect(dataset.name).toBe(s!.name);
    expect(dataset.fields.map((f) => f.name)).toEqual(s!.fields);
    const g = dataset.grids.find((x) => x.fields.includes('SST'))!;
    expect(g.fields).toEqual(['SST', 'AIRT', 'SPEH', 'WSPD', 'UWND', 'VWND', 'SLP']);
    expect(g.axes.map((a) => [a.kind, a.recognisedBy])).toEqual([
      ['time', 'cf-axis'],
      ['latitude', 'cf-axis'],
      ['longitude', 'cf-axis'],
    ]);
    const sst = dataset.fields.find((f) => f.name === 'SST')!;
    expect(sst.stats.fillFraction).toBeGreaterThan(0.4);
  });

  it.skipIf(!available('coads'))('holds exactly the source values; SST vs AIRT r = 0.99 (needs ferret-datasets)', async () => {
    const [s] = listSamples();
    const a = await openDataFile(fixturePath('coads'));
    const b = await openDataFile(s!.files[0]!);
    const fields = [];
    for (const name of ['SST', 'AIRT', 'SPEH']) {
      const x = await a.readField(name);
      const y = await b.readField(name);
      expect(y.shape).toEqual(x.shape);
      for (let i = 0; i < x.values.length; i++) {
        if ((x.mask?.[i] ?? 1) !== (y.mask?.[i] ?? 1)) throw new Error(`${name}: mask differs at ${i}`);
        if ((x.mask?.[i] ?? 1) === 1 && x.values[i] !== y.values[i]) throw new Error(`${name}: value differs at ${i}`);
      }
      fields.push(y);
    }
    const c = correlationMatrix(fields);
    expect(c.values.r[0]![1]).toBeCloseTo(0.99, 2);
    expect(c.values.r[1]![2]).toBeCloseTo(0.95, 2);
    const land = await b.readField('land_mask');
    expect(land.sourceDtype).toBe('int8');
    expect(land.mask).toBeUndefined();
  });
});
