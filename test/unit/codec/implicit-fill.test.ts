/**
 * A fill value the file does not declare (land written as -9999, the zeros of a sparse field) is coded as a mask where
 * the planning blocks say it is smaller: its points come back exactly, the decoded field has no mask (the file had
 * none), and the bound, taken from the range with the fill in it as the user gave it, holds everywhere.
 */
import { describe, expect, it } from 'vitest';
import { decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { readHeader } from '../../../src-main/core/codec/stream/format.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { coastsField } from '../../helpers/crafted-fields.ts';
import { fieldStats, implicitFillCandidates } from '../../../src-main/core/compressors/classic/codec.ts';

const encode = (f: Field, value: number, mode = 'abs', params: Record<string, unknown> = {}, codec = 'auto') =>
  encodeField(f, { codec, bound: { mode, value } as never, params, workers: 0, verify: false });

/** The largest error over the bound, every point (the fill's too), and whether each fill point came back the same float. */
function checked(f: Field, back: Field, bound: number, fill: number): { over: number; fillExact: boolean } {
  let over = 0;
  let fillExact = true;
  for (let i = 0; i < f.values.length; i++) {
    const v = f.values[i]!;
    over = Math.max(over, Math.abs(v - back.values[i]!) / bound);
    if (Object.is(v, fill) && !Object.is(back.values[i]!, fill)) fillExact = false;
  }
  return { over, fillExact };
}

describe('an undeclared fill', () => {
  it('land written as -9999 in a salinity-like field (12 x 160 x 320): coded as a declared fill is, within 2 %; exact, no mask out', async () => {
    const f = coastsField([12, 160, 320], -9999);
    const land = Uint8Array.from(f.values, (v) => (v === -9999 ? 0 : 1));
    // the default (effort fast on these 0.6 M values) and the best effort
    for (const [codec, bound] of [['auto', 1e-2], ['auto', 1e-4], ['best', 1e-2], ['best', 1e-4]] as const) {
      const r = await encode(f, bound, 'abs', {}, codec);
      const declared = await encode({ ...f, mask: land }, bound, 'abs', {}, codec);
      const h = readHeader(r.bytes);
      expect(h.implicitFill).toBe(true);
      expect(h.fillValue).toBe(-9999);
      // without it: 7.5 x (abs 1e-2) and 2.4 x (1e-4) the declared fill's bytes
      expect(r.bytes.length, `${codec} abs ${bound}`).toBeLessThanOrEqual(1.02 * declared.bytes.length);
      const d = await decodeStream(r.bytes, { workers: 0 });
      expect(d.field.mask).toBeUndefined();
      const c = checked(f, d.field, bound, -9999);
      expect(c.over).toBeLessThanOrEqual(1);
      expect(c.fillExact).toBe(true);
    }
  }, 60_000);

  it('a relative bound is the range with the fill in it, as given (the fill only changes the size)', async () => {
    const f = coastsField([12, 160, 320], -9999);
    const r = await encode(f, 1e-5, 'rel');
    const h = readHeader(r.bytes);
    expect(h.implicitFill).toBe(true);
    let max = -Infinity;
    for (const v of f.values) max = Math.max(max, v);
    expect(h.bound.abs).toBeCloseTo(1e-5 * (max + 9999), 12);
  }, 60_000);

  it('zeros of a sparse field, a few of them -0: the zeros come back exactly, the -0 within the bound; chunks all fill; any chunking and workers', async () => {
    // rain-like: 70 % zeros in patches, a time step with no rain at all, and -0 on a few points
    const shape = [6, 96, 128];
    const values = new Float32Array(6 * 96 * 128);
    for (let i = 0; i < values.length; i++) {
      const t = Math.floor(i / (96 * 128));
      const y = Math.floor(i / 128) % 96;
      const x = i % 128;
      const r = Math.sin(x / 11 + t) * Math.cos(y / 13 - t) - 0.45;
      values[i] = t === 2 || r <= 0 ? (i % 997 === 0 ? -0 : 0) : 5 * r * r + 0.01 * (1 + Math.sin(i));
    }
    const f: Field = { name: 'RAIN', shape, dims: ['t', 'y', 'x'], values, sourceDtype: 'float32', attributes: {} };
    const bytes: Uint8Array[] = [];
    for (const [params, workers] of [[{}, 0], [{ chunkValues: 12288 }, 0], [{ chunkValues: 12288 }, 2]] as const) {
      const r = await encodeField(f, { codec: 'auto', bound: { mode: 'abs', value: 1e-3 }, params, workers, verify: false });
      if (workers === 0) bytes.push(r.bytes);
      else expect(Buffer.from(r.bytes).equals(Buffer.from(bytes[1]!))).toBe(true);
      const h = readHeader(r.bytes);
      expect(h.implicitFill).toBe(true);
      const d = await decodeStream(r.bytes, { workers });
      expect(d.field.mask).toBeUndefined();
      expect(h.fillValue).toBe(0);
      expect(Object.is(h.fillValue, -0)).toBe(false);
      // the zeros the mask marks come back exactly; the few -0 are coded, within the bound
      const c = checked(f, d.field, 1e-3, 0);
      expect(c.over).toBeLessThanOrEqual(1);
      expect(c.fillExact).toBe(true);
    }
  }, 60_000);

  it('land as NaN, no fill declared: coded as a declared fill is (float32 and float64); NaNs of other bits and infinities kept bit for bit', async () => {
    for (const f64 of [false, true]) {
      const coasts = coastsField([12, 160, 320], NaN);
      const values = f64 ? Float64Array.from(coasts.values) : coasts.values;
      const f: Field = { ...coasts, values, sourceDtype: f64 ? 'float64' : 'float32' };
      // a payload NaN, a negative one and the infinities among the land and the sea
      const words = f64 ? 2 : 1;
      const bits = new Uint32Array(values.buffer);
      const odd: Record<number, number> = { 3000: f64 ? 0xfff80000 : 0xffc00000, 5000: f64 ? 0x7ff80001 : 0x7fc00123, 7000: f64 ? 0x7ff00000 : 0x7f800000 };
      for (const [i, hi] of Object.entries(odd)) {
        bits[Number(i) * words + words - 1] = hi;
        if (f64) bits[Number(i) * 2] = Number(i) === 5000 ? 0xabc : 0;
      }
      const land = Uint8Array.from(values, (v, i) => (v !== v && !(i in odd) ? 0 : 1));
      const r = await encode(f, 1e-3);
      const declared = await encode({ ...f, mask: land }, 1e-3);
      const h = readHeader(r.bytes);
      expect(h.implicitFill).toBe(true);
      expect(h.fillValue).toBeNaN();
      expect(r.bytes.length, f64 ? 'float64' : 'float32').toBeLessThanOrEqual(1.02 * declared.bytes.length);
      const d = await decodeStream(r.bytes, { workers: 0 });
      expect(d.field.mask).toBeUndefined();
      const back = new Uint32Array(d.field.values.buffer, d.field.values.byteOffset, values.length * words);
      let over = 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v === v && Number.isFinite(v)) over = Math.max(over, Math.abs(v - d.field.values[i]!) / 1e-3);
        else for (let w = 0; w < words; w++) expect(back[i * words + w], `point ${i}`).toBe(bits[i * words + w]);
      }
      expect(over).toBeLessThanOrEqual(1);
    }
  }, 60_000);

  it('a field of NaN alone, and one value beside NaN land: exact', async () => {
    for (const fill of [NaN, 7]) {
      const values = Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 64 < 20 ? NaN : fill));
      const f: Field = { name: 'N', shape: [64, 64], dims: ['y', 'x'], values, sourceDtype: 'float32', attributes: {} };
      const r = await encode(f, 1e-2, 'rel');
      const d = await decodeStream(r.bytes, { workers: 0 });
      expect(d.field.mask).toBeUndefined();
      expect(Array.from(d.field.values, (v) => (v !== v ? 'NaN' : v))).toEqual(Array.from(values, (v) => (v !== v ? 'NaN' : v)));
    }
  });

  it('a field whose smallest value is merely common is coded as it was where a mask would not pay (a smooth ramp clipped at 0)', async () => {
    // the clipped points are a large, simple region: prediction codes them as well as a mask would
    const shape = [64, 256];
    const values = Float32Array.from({ length: 64 * 256 }, (_, i) => Math.max(0, (i % 256) / 256 - 0.02 + 0.001 * Math.sin(i / 7)));
    const f: Field = { name: 'CLIP', shape, dims: ['y', 'x'], values, sourceDtype: 'float32', attributes: {} };
    const r = await encode(f, 1e-2, 'rel');
    const d = await decodeStream(r.bytes, { workers: 0 });
    expect(checked(f, d.field, readHeader(r.bytes).bound.abs, 0).over).toBeLessThanOrEqual(1);
    expect(d.field.mask).toBeUndefined();
    expect(readHeader(r.bytes).implicitFill).toBeUndefined();
  });

  it('an extreme on one edge row of the grid next to the row beside it is no candidate; land a few points wide, far from the data, is', () => {
    // a curvilinear grid's latitudes: the southern edge row holds the smallest value (1 row of 200: 0.5 % of the points)
    const [ny, nx] = [200, 300];
    const lat = Float32Array.from({ length: ny * nx }, (_, i) => -78 + 0.8 * Math.floor(i / nx) + 0.3 * Math.sin((i % nx) / 40) * Math.min(1, Math.floor(i / nx)));
    const sample = (values: Float32Array) => ({ values, mask: null, shape: [ny, nx] });
    expect(implicitFillCandidates(fieldStats(lat, null), lat.length, [sample(lat)])).toEqual([]);
    // the same share as -9999 (islands) is sized as a fill, as is a large share next to the data (clear sky's zeros)
    const islands = Float32Array.from(lat, (v, i) => (i % 997 < 5 ? -9999 : v));
    expect(implicitFillCandidates(fieldStats(islands, null), islands.length, [sample(islands)]).map((c) => c.fill)).toEqual([-9999]);
    const clear = Float32Array.from(lat, (v, i) => (i % 50 === 0 ? Math.fround(-78) : v));
    expect(implicitFillCandidates(fieldStats(clear, null), clear.length, [sample(clear)]).map((c) => c.fill)).toEqual([Math.fround(-78)]);
  });

  it('small islands as -9999 (0.1 % of the points): sized both ways, no larger than with the fill declared; exact, within the bound elsewhere', async () => {
    const f = coastsField([4, 200, 300], -9999);
    // the islands alone: every land point but those of three small discs is sea again
    const values = Float32Array.from(f.values, (v, i) => {
      const y = Math.floor(i / 300) % 200;
      const x = i % 300;
      const island = [[40, 50], [150, 220], [90, 260]].some(([cy, cx]) => (y - cy!) ** 2 + (x - cx!) ** 2 < 9);
      return island ? -9999 : v === -9999 ? 34 + Math.sin(y / 17) * Math.cos(x / 23) : v;
    });
    const islands: Field = { ...f, values };
    const r = await encode(islands, 1e-3);
    // so few land points cost less in the exact-value list than a mask, which takes the line context from the codes
    const declared = await encode({ ...islands, mask: Uint8Array.from(values, (v) => (v === -9999 ? 0 : 1)) }, 1e-3);
    expect(r.bytes.length).toBeLessThanOrEqual(declared.bytes.length);
    const d = await decodeStream(r.bytes, { workers: 0 });
    const c = checked(islands, d.field, readHeader(r.bytes).bound.abs, -9999);
    expect(c.over).toBeLessThanOrEqual(1);
    expect(c.fillExact).toBe(true);
  }, 60_000);
});
