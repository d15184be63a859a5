import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { decodeCompact, encodeCompact } from '../../../src-main/core/codec/stream/compact.ts';
import { readText, textCodedBits, writeText } from '../../../src-main/core/codec/stream/text.ts';
import { msDecodeCodes, msEncodeCodes } from '../../../src-main/core/codec/mscoder.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';

const roundTrip = (v: unknown) => {
  const w = new ByteWriter();
  encodeCompact(v, w);
  const b = w.finish();
  const r = new ByteReader(b, 'test');
  const out = decodeCompact(r, 'test');
  expect(r.remaining()).toBe(0);
  return { out, bytes: b.length };
};

describe('compact header values (format v2)', () => {
  it('round-trips JSON values as JSON would (numbers, strings, nesting, repeats, unicode)', () => {
    const v = {
      variable: 'XLONG', units: 'degree_east', dims: ['dim0', 'dim1'], n: [0, 1, -1, 2 ** 40, -(2 ** 40), 0.5, 1e-3, -1e34, 3.4e38, 1e300],
      attributes: { units: 'degree_east', long_name: 'Température ✓', empty: '', t: true, f: false, z: null, nested: [[1], { a: 'x'.repeat(200) }] },
      skipped: undefined,
    };
    expect(roundTrip(v).out).toEqual(JSON.parse(JSON.stringify(v)));
  });
  it('keeps non-finite numbers, which JSON would make null (a NaN _FillValue is the variable\'s fill)', () => {
    const { out } = roundTrip({ attributes: { _FillValue: NaN, valid_max: Infinity, lows: [-Infinity, 1.5, NaN], date: new Date(0) } });
    expect(out).toEqual({ attributes: { _FillValue: NaN, valid_max: Infinity, lows: [-Infinity, 1.5, NaN], date: '1970-01-01T00:00:00.000Z' } });
    // NaN as a float32 (5 bytes), as an infinity
    expect(roundTrip({ _FillValue: NaN }).bytes).toBe(roundTrip({ _FillValue: Infinity }).bytes);
  });
  it('is much smaller than JSON for CF metadata', () => {
    const v = [{ predictor: 'lorenzo', auto: 1 }, { variable: 'XLAT', units: 'degree_north', dims: ['dim0', 'dim1', 'dim2'], sourceDtype: 'float32', attributes: { FieldType: 104, MemoryOrder: 'XY ', units: 'degree_north', stagger: '', coordinates: 'XLONG XLAT' } }];
    expect(roundTrip(v).bytes).toBeLessThan(JSON.stringify(v).length / 4);
  });
  it('codes printable ASCII strings with the static text model where that is shorter, any string round-trips', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    const strings = ['', ' ', '~', 'a', 'XY ', 'Z  ', '~~~~~~~~~~~~~~~~~~~~', 'LONGITUDE, WEST IS NEGATIVE', 'x'.repeat(5000)];
    for (let i = 0; i < 300; i++) strings.push(String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 40) }, () => 32 + Math.floor(rnd() * 95))));
    const v = { list: strings, keyed: Object.fromEntries(strings.slice(0, 50).map((x, i) => [x + i, x])), again: strings.slice(0, 20) };
    expect(roundTrip(v).out).toEqual(v);
    // text-coded where shorter: WRF's self-description ~35 % smaller than its UTF-8
    const wrf = { variable: 'XLONG_U', source: 'wrf_katrina.nc', attributes: { description: 'LONGITUDE, WEST IS NEGATIVE', coordinates: 'XLONG_U XLAT_U' } };
    const plain = 1 + 7 + 1 + 14 + 1 + 27 + 1 + 14;
    const strs = roundTrip(wrf).bytes - 1 - 1 - 1 - 1 - 1 - 1 - 1 - 1; // two objects, their counts and the dictionary keys
    expect(strs).toBeLessThan(plain * 0.7);
    // outside printable ASCII, or no shorter: UTF-8 as before
    expect(textCodedBits('Température')).toBe(-1);
    expect(textCodedBits('tab\there')).toBe(-1);
  });

  it('refuses text codes past the data, a count the bytes cannot hold, and padding that is not zeros', () => {
    const bad = (b: number[], n: number) => expect(() => readText(new ByteReader(new Uint8Array(b), 'test'), n, 'test')).toThrow(FieldpackError);
    const w = new ByteWriter();
    writeText('abc', w);
    const b = [...w.finish()];
    expect(readText(new ByteReader(new Uint8Array(b), 'test'), 3, 'test')).toBe('abc');
    bad(b, 2 ** 30);
    bad(b.slice(0, -1), 3);
    const bits = textCodedBits('abc');
    if (bits % 8) bad([...b.slice(0, -1), b.at(-1)! | 1], 3);
    // a blob of zeros read as text: at most 2^20 characters of a blob are text-coded, decoded at once
    const zeros = new Uint8Array(1 << 22);
    zeros.set([8, 2, 11, 0x80, 0x80, 0x40]);
    const t0 = performance.now();
    expect((decodeCompact(new ByteReader(zeros, 'test'), 'test') as string[])[0]!.length).toBe(2 ** 20);
    expect(performance.now() - t0).toBeLessThan(1000);
    zeros.set([8, 2, 11, 0x81, 0x80, 0x40]);
    expect(() => decodeCompact(new ByteReader(zeros, 'test'), 'test')).toThrow(FieldpackError);
    for (const g of [[11, 0x80, 0x80, 0x80, 0x80, 0x08, 1], [11, 200], [63, 255], [48]]) {
      expect(() => decodeCompact(new ByteReader(new Uint8Array(g), 'test'), 'test')).toThrow(FieldpackError);
    }
  });

  it('rejects garbage with BAD_STREAM', () => {
    for (const b of [[11], [9, 1, 3, 1], [10, 0], [8, 200], [255]]) {
      expect(() => decodeCompact(new ByteReader(new Uint8Array(b), 'test'), 'test')).toThrow(FieldpackError);
    }
  });
});

describe('multi-symbol range coder', () => {
  it('round-trips zeros, runs, small and large residuals and escapes', () => {
    const radius = 32768;
    const n = 50000;
    const codes = new Uint32Array(n);
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < n; i++) {
      const u = rnd();
      codes[i] = i > 20000 && i < 30000 ? radius : u < 0.01 ? 0 : u < 0.02 ? radius + Math.floor(rnd() * 32767) - 16383 : radius + Math.round((rnd() - 0.5) * 40);
      if (codes[i] === 0 && u >= 0.01) codes[i] = radius;
    }
    codes[5] = 1;
    codes[6] = 2 * radius - 1;
    const w = new ByteWriter();
    msEncodeCodes(codes, n, radius, w);
    const out = msDecodeCodes(new ByteReader(w.finish(), 'test'), radius);
    expect(out).toEqual(codes);
  });
});
