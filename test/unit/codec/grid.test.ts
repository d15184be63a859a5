/**
 * Fields already on a grid (packed int16, rounded products): the classic codec codes their grid indices when a
 * sample says it is smaller. What a user checks: every point within the bound, values bit for bit below half the
 * step and at bound 0, a smaller stream than coding the values, identical bytes for any worker count, and a
 * stream edited to claim a grid it does not carry refused.
 */
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { declaredGrid, findGridPlan, gridPlanFor } from '../../../src-main/core/codec/grid.ts';
import { readHeader } from '../../../src-main/core/codec/stream/format.ts';
import { makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import type { Field } from '../../../src-main/core/field.ts';
import type { BoundSpec } from '../../../src-main/core/codec/bound.ts';
import { overBound } from './helpers.ts';
import { roundedPatchField as roundedPatch } from '../../helpers/crafted-fields.ts';

/** A smooth field with small-scale texture, rounded to `step` (as a GRIB product is). */
function rounded(shape: number[], step: number, f64 = false): Field {
  return makeField('T', shape, { step, noise: 0.5, f64, seed: 31 });
}

/** Packed int16 with a scale_factor that is no round number, unpacked as the NetCDF reader does. */
function packed(shape: number[]): Field {
  const src = makeField('SLP', shape, { noise: 0.5, seed: 33 });
  const scale = Math.fround(0.0123457);
  const offset = Math.fround(271.3);
  const values = new Float32Array(src.values.length);
  for (let i = 0; i < values.length; i++) values[i] = Math.round((src.values[i]! - offset) / scale) * scale + offset;
  return { ...src, values, sourceDtype: 'int16', attributes: { scale_factor: scale, add_offset: offset } };
}

function roundTrip(f: Pick<Field, 'values' | 'shape' | 'mask' | 'attributes' | 'sourceDtype'>, bound: BoundSpec, grid = true) {
  const { bytes, plan } = compressClassic(f, { bound, grid, declaredGrid: declaredGrid(f) }, zstdBackend);
  const d = decompressClassic(bytes).field;
  return { bytes, plan, d };
}

function bitExact(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (Object.is(a[i], b[i])) same++;
  return same;
}

describe('coding values that lie on a grid', () => {
  it('below half the step: every value comes back bit for bit, in a smaller stream than coding the values', () => {
    const f = rounded([40, 64], 0.01);
    for (const e of [0, 1e-4, 0.004]) {
      const on = roundTrip(f, { mode: 'abs', value: e });
      const off = roundTrip(f, { mode: 'abs', value: e }, false);
      expect(on.plan.grid, `abs ${e}`).toBeDefined();
      expect(bitExact(on.d.values, f.values)).toBe(f.values.length);
      // the gain is largest where the value bins (2e) are finest: at 1e-4 the values cost 3 more bits each
      expect(on.bytes.length, `abs ${e}`).toBeLessThan(off.bytes.length * (e < 1e-3 ? 0.7 : 1));
    }
  });

  it('near and above the step: the bound holds on every point, float32 and float64, 2D to 4D', () => {
    const cases: [Field, number][] = [
      [rounded([40, 64], 0.01), 0.01],
      [rounded([6, 20, 24], 0.1, true), 0.1],
      [rounded([3, 4, 12, 16], 1), 1],
      [packed([30, 50]), 0.0123457],
    ];
    for (const [f, step] of cases) {
      for (const k of [0.3, 0.5, 0.51, 1, 1.5, 2.49, 3, 7.9, 20]) {
        const e = k * step;
        const { d, plan } = roundTrip(f, { mode: 'abs', value: e });
        expect(overBound(f.values, d.values, f.mask, plan.bound.abs), `${f.name} [${f.shape}] e=${k} steps`).toBe(0);
      }
    }
  });

  it('coded exactly on its grid, a field sizes no level-dependent bounds (they would change no code); a few steps wide, it does', () => {
    // land-use-like classes: whole numbers in smooth patches, where interpolation wins at a fraction of a bit per value
    const f = rounded([96, 128], 1);
    f.values.forEach((v, i) => (f.values[i] = Math.round((v - 270) / 1.5)));
    const exact = roundTrip(f, { mode: 'rel', value: 1e-3 });
    expect(exact.plan.grid?.half).toBe(0);
    expect(exact.plan.predictor).toMatch(/^interp/);
    expect(Object.keys(exact.plan.autoScores ?? {}).filter((k) => k.includes('@'))).toEqual([]);
    expect(bitExact(exact.d.values, f.values)).toBe(f.values.length);
    const wide = roundTrip(f, { mode: 'abs', value: 3 });
    expect(wide.plan.grid?.half ?? 3).toBeGreaterThan(0);
    expect(Object.keys(wide.plan.autoScores ?? {}).some((k) => k.includes('@'))).toBe(true);
  });

  it('a packed variable: its declared scale_factor / add_offset is the grid, values exact at half the step', () => {
    const f = packed([30, 50]);
    expect(declaredGrid(f)).toEqual({ offset: Math.fround(271.3), step: Math.fround(0.0123457) });
    const { plan, d } = roundTrip(f, { mode: 'abs', value: 0.006 });
    expect(plan.grid?.step).toBe(Math.fround(0.0123457));
    expect(bitExact(d.values, f.values)).toBe(f.values.length);
  });

  it('masked, NaN, infinite and off-grid points come back exactly; the rest within the bound', () => {
    const f = makeField('T', [20, 30], { step: 0.01, noise: 2, masked: 0.2, nonFinite: 0.02, seed: 17 });
    // a few points off the grid (an edited value): stored exactly, not forced onto it
    for (let i = 5; i < f.values.length; i += 401) if (f.mask![i] && Number.isFinite(f.values[i])) f.values[i] = f.values[i]! + 0.0031;
    const { plan, d } = roundTrip(f, { mode: 'abs', value: 0.004 });
    expect(plan.grid).toBeDefined();
    expect(Array.from(d.mask!)).toEqual(Array.from(f.mask!));
    for (let i = 0; i < f.values.length; i++) {
      if (!f.mask![i]) continue;
      if (!Number.isFinite(f.values[i])) expect(Object.is(d.values[i], f.values[i])).toBe(true);
      else expect(Math.abs(d.values[i]! - f.values[i]!)).toBeLessThanOrEqual(0.004);
    }
    expect(overBound(f.values, d.values, f.mask, 0.004)).toBe(0);
  });

  it('a grid only the planning sample lies on is left: a rounded centre of a field that is not, and a rounded field in an unrounded frame', () => {
    // under half the step: on the grid, the rounded points are coded exactly and each other one is stored as it is
    const bound: BoundSpec = { mode: 'rel', value: 1e-4 };
    // 12 x 240 x 240 (691 k values, spread blocks): the centre 120 x 120 rounded, where the sample lies (on the grid:
    // 4.7 x the bytes)
    const centre = roundedPatch([12, 240, 240], 60, 180, 0.01);
    const a = roundTrip(centre, bound);
    expect(a.plan.grid).toBeUndefined();
    expect(overBound(centre.values, a.d.values, null, a.plan.bound.abs)).toBe(0);
    expect(a.bytes.length).toBeLessThanOrEqual(1.02 * roundTrip(centre, bound, false).bytes.length);
    // a wider rounded centre: screening kept only grid candidates, so those off the grid are sized on the sample then
    const wide = roundTrip(roundedPatch([12, 240, 240], 40, 200, 0.01), { mode: 'rel', value: 3e-5 });
    expect(wide.plan.grid).toBeUndefined();
    expect(Object.keys(wide.plan.autoScores ?? {}).some((k) => !k.includes('+grid'))).toBe(true);
    // 12 x 160 x 160 (307 k values, too small for them): 112 x 112 rounded, the sample inside it; each chunk is
    // coded on the grid (4.3 x the bytes) and off it, the smaller kept
    const frame = roundedPatch([12, 160, 160], 24, 136, 0.01);
    const b = roundTrip(frame, bound);
    expect(overBound(frame.values, b.d.values, null, b.plan.bound.abs)).toBe(0);
    const off = roundTrip(frame, bound, false).bytes.length;
    expect(b.bytes.length, `${b.bytes.length} bytes, ${off} with the grid off`).toBeLessThanOrEqual(1.02 * off);
    // every chunk off the grid: the header gives none
    expect(readHeader(b.bytes).params.grid).toBeUndefined();
  });
  it('a step read a little off from neighbouring values (3.28 m over hundreds of steps, float32): the grid still found, from the span', () => {
    const step = 3.2799993;
    for (let seed = 1; seed < 6; seed++) {
      let s = seed * 7919;
      const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
      const values = new Float32Array(128 * 256);
      for (let y = 0, i = 0; y < 128; y++) for (let x = 0; x < 256; x++, i++) values[i] = 6297.6 + Math.round(400 + 300 * Math.sin(y / 20) * Math.cos(x / 30) + 120 * rnd()) * step;
      // (effort fast's 2 k values for the step; 3 of these 5 found none before)
      const grid = findGridPlan(values, null, 0.97, 14000, true, undefined, 2048);
      expect(grid, `seed ${seed}`).not.toBeNull();
      expect(grid!.half, `seed ${seed}`).toBe(0);
      expect(Math.abs(grid!.step - step), `seed ${seed}`).toBeLessThan(2e-6);
    }
  });

  it('fields not on a grid are left alone (no grid, same bytes as with the grid off)', () => {
    const f = makeField('T', [40, 64], { noise: 0.5, seed: 35 });
    const a = roundTrip(f, { mode: 'rel', value: 1e-4 });
    const b = roundTrip(f, { mode: 'rel', value: 1e-4 }, false);
    expect(a.plan.grid).toBeUndefined();
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });

  it('a bound under float resolution: a field within one binade (1e5 + 1e-3 noise: 3 distinct floats, 24 odd points) is coded on its ulp grid, exactly', () => {
    const shape = [24, 96, 144];
    const values = new Float32Array(shape[0]! * shape[1]! * shape[2]!).fill(1e5);
    const ulp = 2 ** -7;
    for (let j = 0; j < 24; j++) values[(j * 104_729) % values.length] = 1e5 + (j % 3 === 0 ? -ulp : ulp);
    const f = { values, shape, sourceDtype: 'float32' as const, attributes: {} };
    const sizes = [1e-2, 1e-3, 1e-4].map((rel) => {
      const on = roundTrip(f, { mode: 'rel', value: rel });
      const off = roundTrip(f, { mode: 'rel', value: rel }, false);
      expect(on.plan.grid, `rel ${rel}`).toMatchObject({ offset: 0, step: ulp, half: 0 });
      expect(bitExact(on.d.values, values)).toBe(values.length);
      // bins of 2e make each odd point thousands of bins at 1e-4: the grid codes it as one step
      expect(on.bytes.length, `rel ${rel}`).toBeLessThan(off.bytes.length);
      return on.bytes.length;
    });
    // on the grid the bound no longer matters
    expect(new Set(sizes).size).toBe(1);
    // values spread over several binades are not all on the largest one's ulp grid: no grid
    const spread = Float32Array.from({ length: 4096 }, (_, i) => 20 + 280 * Math.abs(Math.sin(i * 0.37)));
    expect(findGridPlan(spread, null, 1e-9, 300, true)).toBeNull();
  });

  it('the plan: h keeps h x step plus float rounding within the bound; no grid when the bound spans many steps', () => {
    const g = { offset: 0, step: 0.01 };
    expect(gridPlanFor(g, 0.004, 300, true).half).toBe(0);
    expect(gridPlanFor(g, 0.01005, 300, true).half).toBe(0); // tolerance and rounding at 300 (2 x 3e-5) leave no room for a step
    expect(gridPlanFor(g, 0.0105, 300, true).half).toBe(1);
    const f = rounded([40, 64], 0.01);
    expect(findGridPlan(f.values, null, 1, 300, true)).toBeNull();
    expect(findGridPlan(f.values, null, 0.004, 300, true)?.step).toBe(0.01);
    // 9 steps a half bound: on the grid; 19 (readers take up to 31): bins of 2e are as fine, the encoder leaves it
    expect(findGridPlan(f.values, null, 0.1, 300, true)?.half).toBe(9);
    expect(gridPlanFor(g, 0.2, 300, true).half).toBe(19);
    expect(findGridPlan(f.values, null, 0.2, 300, true)).toBeNull();
  });

  it('the codec service gives identical bytes with 0, 1 and 2 workers, and the header says the grid', async () => {
    const f = rounded([64, 4096], 0.01);
    const bytes: Buffer[] = [];
    for (const workers of [0, 1, 2]) {
      const r = await encodeField(f, { codec: 'auto', bound: { mode: 'abs', value: 0.002 }, params: { chunkValues: 1 << 16 }, workers, verify: true });
      expect(r.verification!.pointsOverBound).toBe(0);
      expect(String(r.details.choice)).toContain('on grid 0.01');
      bytes.push(Buffer.from(r.bytes));
    }
    expect(bytes[1]!.equals(bytes[0]!) && bytes[2]!.equals(bytes[0]!)).toBe(true);
    expect(readHeader(bytes[0]!).params.grid).toEqual([0, 0.01, 0]);
    const d = await decodeStream(bytes[0]!, { workers: 2 });
    expect(bitExact(d.field.values, f.values)).toBe(f.values.length);
  });
});
