/**
 * Fields whose slices each lie on a grid of their own (GRIB messages: every level and time its own reference value,
 * one step over the variable; NCEP's fields through cfgrib): no one grid holds them, so the classic codec codes each
 * slice's grid indices on that slice's offset, stored in its chunk. What a user checks: every point within the bound,
 * a smaller stream than coding the values at bounds under the step, identical bytes for any worker count, both
 * efforts, 2-D to 4-D, and a stream edited to claim what it does not carry refused.
 */
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { compressClassic, decompressClassic } from '../../../src-main/core/compressors/classic/codec.ts';
import { decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { readHeader, writeStream } from '../../../src-main/core/codec/stream/format.ts';
import { makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { crc32 } from '../../../src-main/core/codec/crc32.ts';
import type { Field } from '../../../src-main/core/field.ts';
import type { BoundSpec } from '../../../src-main/core/codec/bound.ts';
import { overBound } from './helpers.ts';

/** Slices along all but the last two dims on grids of `step` with offsets of their own. */
function sliced(shape: number[], step: number, o: { f64?: boolean; masked?: number; nonFinite?: number } = {}): Field {
  return makeField('T', shape, { step, sliceOffsets: true, noise: 2, seed: 71, ...o });
}

/** A 2-D field of levels x the points of a reduced grid, each level's row on a grid of `step` with its own offset. */
function rows(levels: number, points: number, step: number): Field {
  const f = makeField('T', [levels * points], { noise: 2, seed: 73 });
  const values = new Float32Array(f.values.length);
  for (let l = 0, i = 0; l < levels; l++) {
    const offset = 0.37 * step * Math.sin(l + 1);
    for (let p = 0; p < points; p++, i++) values[i] = offset + Math.round((f.values[i]! + 3 * l - offset) / step) * step;
  }
  return { ...f, shape: [levels, points], dims: ['lev', 'values'], values };
}

function roundTrip(f: Field, bound: BoundSpec, grid = true, effort: 'best' | 'fast' = 'best') {
  const { bytes, plan } = compressClassic(f, { bound, grid, effort }, zstdBackend);
  const d = decompressClassic(bytes).field;
  expect(overBound(f.values, d.values, f.mask ?? null, plan.bound.abs), `${f.shape} ${bound.value}`).toBe(0);
  return { bytes, plan, d };
}

describe('slices each on a grid of their own', () => {
  it('3-D levels on a 0.25 grid, each its own offset: coded on them under the step (both efforts), smaller than coding the values', () => {
    const f = sliced([12, 40, 50], 0.25);
    for (const e of [0.001, 0.01, 0.1]) {
      for (const effort of ['best', 'fast'] as const) {
        const on = roundTrip(f, { mode: 'abs', value: e }, true, effort);
        const off = roundTrip(f, { mode: 'abs', value: e }, false, effort);
        expect(on.plan.grid, `abs ${e} ${effort}`).toMatchObject({ step: 0.25, sliceDims: 1 });
        expect(readHeader(on.bytes).params.grid).toEqual([0, 0.25, 0, 1]);
        // off the grids, the values are coded in bins of 2e, or at 0.001 exactly (their byte planes, smaller there)
        expect(on.bytes.length, `abs ${e} ${effort}`).toBeLessThan(off.bytes.length * (e === 0.01 ? 0.7 : 1));
      }
    }
  });

  it('4-D (time x level planes), 2-D (levels x points of a reduced grid), float64, masked and non-finite points: the bound holds, the points kept exactly', () => {
    const cases: [Field, number][] = [
      [sliced([3, 4, 20, 30], 0.5), 2],
      [rows(10, 600, 0.1), 1],
      [sliced([6, 20, 30], 0.25, { f64: true }), 1],
      [sliced([6, 20, 30], 0.25, { masked: 0.2, nonFinite: 0.02 }), 1],
    ];
    for (const [f, sliceDims] of cases) {
      const r = roundTrip(f, { mode: 'abs', value: 0.004 });
      expect(r.plan.grid?.sliceDims, `${f.shape}`).toBe(sliceDims);
      for (let i = 0; i < f.values.length; i++) {
        if (!Number.isFinite(f.values[i]!) && (!f.mask || f.mask[i])) expect(Object.is(r.d.values[i], f.values[i]), `${f.shape} point ${i}`).toBe(true);
      }
    }
  });

  it('slices 10^20 steps apart (a crafted field): each keeps its own indices, and every point comes back within the bound', () => {
    const f = sliced([6, 20, 30], 0.25);
    const values = Float32Array.from(f.values, (v, i) => (Math.floor(i / 600) === 3 ? v + 2.5e19 : v));
    for (const e of [0.01, 0]) {
      const r = roundTrip({ ...f, values }, { mode: 'abs', value: e });
      if (e === 0) expect(bitExactCount(r.d.values, values)).toBe(values.length);
    }
  });

  it('a field on one grid keeps its one grid; a field on none is on none', () => {
    expect(roundTrip(makeField('T', [6, 20, 30], { step: 0.25, noise: 2, seed: 71 }), { mode: 'abs', value: 0.01 }).plan.grid).toMatchObject({ step: 0.25, offset: 0 });
    expect(roundTrip(makeField('T', [6, 20, 30], { noise: 2, seed: 71 }), { mode: 'abs', value: 0.01 }).plan.grid).toBeUndefined();
  });

  it('the codec service gives identical bytes with 0, 1 and 2 workers over several chunks', async () => {
    const f = sliced([16, 64, 64], 0.25);
    const bytes: Buffer[] = [];
    for (const workers of [0, 1, 2]) {
      const r = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-4 }, params: { chunkValues: 1 << 14 }, workers, verify: true });
      expect(r.verification!.pointsOverBound).toBe(0);
      expect(String(r.details.choice)).toContain('(an offset per slice)');
      bytes.push(Buffer.from(r.bytes));
    }
    expect(readHeader(bytes[0]!).chunks.length).toBeGreaterThan(2);
    expect(bytes[1]!.equals(bytes[0]!) && bytes[2]!.equals(bytes[0]!)).toBe(true);
    const d = await decodeStream(bytes[0]!, { workers: 2 });
    expect(overBound(f.values, d.field.values, null, readHeader(bytes[0]!).bound.abs)).toBe(0);
  });

  it('a header whose grid names sliced dims the field does not have, or a chunk whose offsets are cut short or not finite, is refused as a bad stream', async () => {
    const { bytes } = roundTrip(sliced([6, 20, 30], 0.25), { mode: 'abs', value: 0.01 });
    const h = readHeader(bytes);
    const payload = bytes.subarray(h.headerBytes);
    const refused = async (b: Uint8Array, message: RegExp) => {
      const e = await decodeStream(b, { workers: 0 }).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(FieldpackError);
      expect((e as FieldpackError).code).toBe('BAD_STREAM');
      expect((e as Error).message).toMatch(message);
    };
    for (const sliceDims of [0, 3, 1.5]) await refused(writeStream({ ...h, params: { ...h.params, grid: [0, 0.25, 0, sliceDims] } }, [payload]), /classic grid/);
    // the chunk stored raw, its first offset (after the predictor, flags and tuning bytes) made NaN, or the payload cut
    const rawChunk = (edit: (p: Uint8Array) => Uint8Array) => {
      const raw = decompressedChunk(bytes);
      const p = edit(raw);
      return writeStream({ ...h, chunks: [{ rows: 6, storedBytes: p.length, rawBytes: p.length, crc: crc32(p, 0, p.length), raw: true }] }, [p]);
    };
    // the offsets follow the predictor byte, the flags and the tuning byte where flag 8 is set (no mask, no lists)
    const at = (p: Uint8Array) => 2 + (p[1]! & 8 ? 1 : 0);
    await refused(rawChunk((p) => p.slice(0, at(p) + 3)), /grid slice offsets/);
    await refused(rawChunk((p) => {
      const q = p.slice();
      new DataView(q.buffer).setFloat32(at(q) + 4, NaN, true);
      return q;
    }), /grid slice offset NaN/);
  });
});

function bitExactCount(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (Object.is(a[i], b[i])) same++;
  return same;
}

/** The stream's one chunk's payload, out of the lossless stage. */
function decompressedChunk(bytes: Uint8Array): Uint8Array {
  const h = readHeader(bytes);
  const c = h.chunks[0]!;
  const stored = bytes.subarray(c.offset, c.offset + c.storedBytes);
  return c.raw ? stored.slice() : zstdBackend.decompress(stored, c.rawBytes);
}
