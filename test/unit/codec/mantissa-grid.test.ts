/**
 * Bit-rounded float32 fields (netCDF's quantize BitRound, bfloat16 outputs of ML models): the low mantissa bits of
 * every value are zero, so the values lie on a grid whose step doubles with each binade. The classic codec codes their
 * bits, shifted, as integers where a sample says that is smaller (grid.ts, the mantissa grid). What a user checks: at
 * bounds below the rounding every value comes back bit for bit in a smaller stream than coding the values (which
 * cost more bits the tighter the bound, though the data hold no more); NaN, infinities, -0, masked and unrounded
 * points exact; identical bytes for any worker count; the result names the grid; a stream whose header breaks it
 * refused by name.
 */
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { decodeStream, encodeField, inspectStream } from '../../../src-main/services/codecs/index.ts';
import { findGridPlan, findMantissaGridPlan, fromGridIndices, toGridIndices } from '../../../src-main/core/codec/grid.ts';
import { readHeader, writeStream, type HeaderInput, type StreamHeader } from '../../../src-main/core/codec/stream/format.ts';
import { bitGroom, bitRound, makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import type { BoundSpec } from '../../../src-main/core/codec/bound.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { overBound } from './helpers.ts';

function roundTrip(f: Pick<Field, 'values' | 'shape' | 'mask'>, bound: BoundSpec, grid = true) {
  const { bytes, plan } = compressClassic(f, { bound, grid }, zstdBackend);
  return { bytes, plan, d: decompressClassic(bytes).field };
}

function bitExact(a: ArrayLike<number>, b: ArrayLike<number>, mask?: Uint8Array | null): boolean {
  for (let i = 0; i < a.length; i++) if ((!mask || mask[i]) && !Object.is(a[i], b[i])) return false;
  return true;
}

/** A field over four decades, smooth in its logarithm, bit-rounded (mantissa bits kept): on no grid of one step. */
const rounded = (bits: number, shape = [6, 40, 64], seed = 51) => makeField('Q', shape, { decades: true, bitRound: bits, noise: 0.01, seed });

describe('bit-rounded float32 fields: the mantissa grid', () => {
  it('indices: ordered as the values, one step apart for neighbouring floats, back to the same bits; other values are off it', () => {
    const bits = 7;
    const xs = new Float32Array(4000);
    for (let i = 0; i < xs.length; i++) xs[i] = (i % 2 ? -1 : 1) * 10 ** (-44 + (82 * i) / xs.length) * (1 + (i % 13) / 13);
    bitRound(xs, bits);
    // the chunk's own mapping (toGridIndices, fromGridIndices) over the whole float32 range, subnormals included
    const plan = { offset: 0, step: 1, half: 0, tolerance: 0, mantissaBits: bits };
    const sorted = Float32Array.from(Array.from(xs).filter((x) => !Object.is(x, -0)).sort((a, b) => a - b)); // -0: below
    const { k, offGrid } = toGridIndices(sorted, null, plan, true);
    expect(offGrid).toEqual([]);
    for (let i = 1; i < k.length; i++) expect(k[i]!, `${sorted[i]}`).toBeGreaterThanOrEqual(k[i - 1]!);
    for (const out of [new Float32Array(k.length), new Float64Array(k.length)]) {
      fromGridIndices(k, out, null, plan, true);
      for (let i = 0; i < k.length; i++) expect(Object.is(out[i], sorted[i]), `${sorted[i]}`).toBe(true);
    }
    // 1 and the next float on a 7-bit grid: one step
    const pair = toGridIndices(Float32Array.of(1, 1 + 2 ** -7), null, plan, true).k;
    expect(pair[1]! - pair[0]!).toBe(1);
    // -0, NaN, infinities and unrounded values are off the grid (stored exactly); 0 is index 0
    const odd = toGridIndices(Float32Array.of(-0, NaN, Infinity, -Infinity, 1 + 2 ** -20, 0.1, 0), null, plan, true);
    expect(odd.offGrid).toEqual([0, 1, 2, 3, 4, 5]);
    expect(odd.k[6]).toBe(0);
    // an index no finite float32 has decodes to NaN, never to another value
    // (a hostile escape: too large, fractional, not a number)
    for (const out of [new Float32Array(5), new Float64Array(5)]) {
      fromGridIndices(Float64Array.from([2 ** 30, 0.5, 12.25, NaN, -Infinity]), out, null, plan, true);
      for (const x of out) expect(x).toBeNaN();
    }
  });

  it('the sample finds the bits kept; ordinary, constant and float64 fields have no mantissa grid', () => {
    for (const bits of [3, 7, 12, 19]) expect(findMantissaGridPlan(rounded(bits).values, null)?.mantissaBits, `${bits} bits`).toBe(bits);
    expect(findMantissaGridPlan(makeField('Q', [6, 40, 64], { decades: true, noise: 0.01 }).values, null)).toBeNull();
    expect(findMantissaGridPlan(new Float32Array(5000), null)).toBeNull();
    expect(findMantissaGridPlan(makeField('T', [6, 40, 64], { f64: true }).values, null)).toBeNull();
    // a few unrounded points (an edited value) leave the grid to the rest
    const f = rounded(9);
    f.values[17] = 0.0123456;
    expect(findMantissaGridPlan(f.values, null)?.mantissaBits).toBe(9);
  });

  it('an integer-valued field (heights in m) lies on both grids; only its linear grid, never finer, is sized', () => {
    const f = makeField('H', [20, 90, 120], { noise: 0.5, seed: 57 });
    for (let i = 0; i < f.values.length; i++) f.values[i] = Math.round(30 * (f.values[i]! - 280));
    let maxAbs = 0;
    for (const x of f.values) maxAbs = Math.max(maxAbs, Math.abs(x));
    const linear = findGridPlan(f.values, null, 0.4, maxAbs, true);
    expect(findMantissaGridPlan(f.values, null)?.mantissaBits).toBeGreaterThan(0);
    expect(linear).toMatchObject({ step: 1 });
    expect(findMantissaGridPlan(f.values, null, linear)).toBeNull();
    // a bit-rounded field over decades lies on the linear grid of its finest step, which is finer at the top: both sized
    const q = rounded(7);
    expect(findMantissaGridPlan(q.values, null, { offset: 0, step: 2 ** -30 })?.mantissaBits).toBe(7);
    const { plan, d } = roundTrip(f, { mode: 'abs', value: 0.4 });
    const sized = Object.keys(plan.autoScores ?? {});
    expect(sized.some((k) => k.includes('+grid'))).toBe(true);
    expect(sized.some((k) => k.includes('+mantissa'))).toBe(false);
    expect(overBound(f.values, d.values, null, 0.4)).toBe(0);
  });

  it('below the rounding: every value bit for bit, in a smaller stream than the values coded at that bound', () => {
    const f = rounded(7);
    for (const bound of [{ mode: 'abs', value: 0 }, { mode: 'rel', value: 1e-6 }, { mode: 'rel', value: 1e-5 }] as BoundSpec[]) {
      const on = roundTrip(f, bound);
      const off = roundTrip(f, bound, false);
      const what = `${bound.mode} ${bound.value}`;
      expect(on.plan.grid?.mantissaBits, what).toBe(7);
      expect(bitExact(on.d.values, f.values), what).toBe(true);
      expect(on.bytes.length, what).toBeLessThan(0.8 * off.bytes.length);
      expect(readHeader(on.bytes).params.mantissaBits, what).toBe(7);
    }
  });

  it('at loose bounds the values are coded as before where that is smaller; the bound holds on every point', () => {
    const f = rounded(12);
    for (const rel of [1e-2, 1e-3]) {
      const on = roundTrip(f, { mode: 'rel', value: rel });
      const off = roundTrip(f, { mode: 'rel', value: rel }, false);
      expect(on.bytes.length, `rel ${rel}`).toBeLessThanOrEqual(off.bytes.length);
      expect(overBound(f.values, on.d.values, null, on.plan.bound.abs)).toBe(0);
    }
  });

  it('BitGroom (every other value one ulp below the grid): on the grid at bounds of an ulp or more, each value within one ulp', () => {
    const f = makeField('Q', [6, 40, 64], { decades: true, noise: 0.01, seed: 53 });
    bitGroom(f.values as Float32Array, 9);
    const groomed = roundTrip(f, { mode: 'rel', value: 1e-6 });
    const off = roundTrip(f, { mode: 'rel', value: 1e-6 }, false);
    expect(groomed.plan.grid).toMatchObject({ mantissaBits: 9, oneUlpBelow: true });
    expect(groomed.bytes.length).toBeLessThan(0.8 * off.bytes.length);
    expect(overBound(f.values, groomed.d.values, null, groomed.plan.bound.abs)).toBe(0);
    for (let i = 0; i < f.values.length; i++) {
      const x = f.values[i]!;
      // the even values exactly, the odd ones as the grid point one ulp above
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
      expect(Math.abs(groomed.d.values[i]! - x), `${i}`).toBeLessThanOrEqual(i % 2 ? ulp : 0);
    }
    // lossless: half the values are off the grid, so no mantissa grid, and every value bit for bit
    const exact = roundTrip(f, { mode: 'abs', value: 0 });
    expect(exact.plan.grid?.mantissaBits).toBeUndefined();
    expect(bitExact(exact.d.values, f.values)).toBe(true);
  });

  it('masked, NaN, infinite, -0 and unrounded points come back exactly', () => {
    const f = makeField('Q', [4, 20, 30], { decades: true, bitRound: 7, noise: 0.01, masked: 0.2, nonFinite: 0.02, seed: 43 });
    const odd: number[] = [];
    for (let i = 3; i < f.values.length; i += 401) {
      if (!f.mask![i] || !Number.isFinite(f.values[i])) continue;
      f.values[i] = odd.length % 2 ? -0 : f.values[i]! + 1e-3;
      odd.push(i);
    }
    const { plan, d } = roundTrip(f, { mode: 'abs', value: 0 });
    expect(plan.grid?.mantissaBits).toBe(7);
    expect(odd.length).toBeGreaterThan(2);
    expect(Array.from(d.mask!)).toEqual(Array.from(f.mask!));
    expect(bitExact(d.values, f.values, f.mask)).toBe(true);
  });

  it('the codec service: identical bytes with 0, 1 and 2 workers, and the result and inspect name the grid', async () => {
    const f = rounded(8, [24, 96, 128]);
    const bytes: Buffer[] = [];
    for (const workers of [0, 1, 2]) {
      const r = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-5 }, params: { chunkValues: 1 << 16 }, workers, verify: true });
      expect(r.verification!.pointsOverBound).toBe(0);
      expect(String(r.details.choice)).toContain('on 8-bit mantissas');
      bytes.push(Buffer.from(r.bytes));
    }
    expect(readHeader(bytes[0]!).chunks.length).toBeGreaterThan(2);
    expect(bytes[1]!.equals(bytes[0]!) && bytes[2]!.equals(bytes[0]!)).toBe(true);
    expect(JSON.stringify(inspectStream(bytes[0]!))).toContain('8 mantissa bits');
    const d = await decodeStream(bytes[0]!, { workers: 2 });
    expect(bitExact(d.field.values, f.values)).toBe(true);
  });

  it('a header that breaks the mantissa grid is refused by name', async () => {
    const { bytes } = roundTrip(rounded(7), { mode: 'abs', value: 0 });
    const edit = (fn: (h: HeaderInput) => void) => {
      const h = readHeader(bytes);
      const input = structuredClone({ ...h }) as unknown as HeaderInput & { chunks: StreamHeader['chunks'] };
      fn(input);
      return writeStream(input, [bytes.subarray(h.headerBytes)]);
    };
    const refused = async (b: Uint8Array, message: RegExp) => {
      const e = await decodeStream(b, { workers: 0 }).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(FieldpackError);
      expect((e as FieldpackError).code).toBe('BAD_STREAM');
      expect((e as Error).message).toMatch(message);
    };
    for (const v of [-1, 23, 7.5, 'x']) await refused(edit((h) => (h.params.mantissaBits = v)), /classic mantissaBits/);
    await refused(edit((h) => (h.dtype = 'float64')), /classic mantissaBits 7 .*float32 streams only/);
    await refused(edit((h) => (h.params.grid = [0, 0.01, 0])), /both a grid and a mantissa grid/);
    await refused(edit((h) => delete h.params.mantissaBits), /coded on a grid the header does not give/);
  });
});
