/**
 * Every real file (Debian's ferret-datasets, the WRF Katrina NetCDF-4 file) and the synthetic fixtures
 * read with the values, masks and stats that /usr/bin/python3 netCDF4 reads (fixture: expected.json,
 * made by test/fixtures/data/make_fixtures.py).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fieldStats } from '../../../src-main/core/stats/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { EXPECTED, PYTHON, available, fixturePath, hasPythonNetcdf4 } from './helpers.ts';

const FORMATS: Record<string, string> = { NETCDF3_CLASSIC: 'netcdf3-classic', NETCDF3_64BIT_OFFSET: 'netcdf3-64bit-offset', NETCDF3_64BIT_DATA: 'netcdf3-64bit-data', NETCDF4: 'netcdf4-hdf5' };

function close(a: number, b: number, rel: number) {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
}

for (const key of Object.keys(EXPECTED)) {
  const exp = EXPECTED[key]!;
  describe.skipIf(!available(key))(`${key} (needs ${exp.path})`, () => {
    it('lists variables, reads values and masks as netCDF4-python does', async () => {
      const file = await openDataFile(fixturePath(key));
      try {
        expect(file.format).toBe(FORMATS[exp.format]);
        const names = file.variables.map((v) => v.name);
        expect(names.sort()).toEqual(Object.keys(exp.variables).sort());
        for (const [name, e] of Object.entries(exp.variables)) {
          const info = file.variable(name);
          expect(info.readable, name).toBe(e.readable);
          if (!e.readable) {
            await expect(file.readField(name)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
            continue;
          }
          expect(info.dims, name).toEqual(e.dims);
          expect(info.shape, name).toEqual(e.shape);
          expect(info.units ?? null, name).toEqual(e.units ?? null);
          const field = await file.readField(name);
          expect(field.shape).toEqual(e.shape);
          const packed = !!info.fill.packing;
          let masked = 0;
          for (let i = 0; i < field.values.length; i++) if (field.mask && field.mask[i] === 0) masked++;
          expect(masked, `${name} masked points`).toBe(e.masked);
          e.indices!.forEach((idx, k) => {
            const want = e.values![k];
            const valid = !field.mask || field.mask[idx] === 1;
            if (want === null) expect(valid, `${name}[${idx}] masked`).toBe(false);
            else if (typeof want === 'string') {
              // NaN / +-Inf that are not the fill: valid values, as netCDF4-python reads them
              expect(valid, `${name}[${idx}] valid`).toBe(true);
              expect(field.values[idx], `${name}[${idx}]`).toBe(Number(want));
            } else {
              expect(valid, `${name}[${idx}] valid`).toBe(true);
              if (packed) close(field.values[idx]!, want!, 1e-6);
              else expect(field.values[idx], `${name}[${idx}]`).toBe(want);
            }
          });
          // stats cover the finite valid points
          const s = fieldStats(field, { scaleFactor: info.fill.packing?.scaleFactor });
          expect(s.validCount).toBe(field.values.length - e.masked! - (e.nonFinite ?? 0));
          if (e.min !== null) {
            close(s.min!, e.min!, packed ? 1e-6 : 0);
            close(s.max!, e.max!, packed ? 1e-6 : 0);
            close(s.mean!, e.mean!, 1e-9);
            close(s.std!, e.std!, 1e-7);
          }
        }
      } finally {
        file.close();
      }
    });
  });
}

describe.skipIf(!available('etopo5'))('etopo5 (9.3 M values) (needs ferret-datasets)', () => {
  it('reads in slices with progress, detects whole metres', async () => {
    const file = await openDataFile(fixturePath('etopo5'));
    const fractions: number[] = [];
    const t0 = performance.now();
    const rose = await file.readField('ROSE', { onProgress: (f) => fractions.push(f) });
    const ms = performance.now() - t0;
    expect(rose.shape).toEqual([2161, 4320]);
    expect(fractions.length).toBeGreaterThan(1);
    expect(fractions.at(-1)).toBe(1);
    const s = fieldStats(rose);
    expect(s.quantization).toMatchObject({ detected: true, step: 1, source: 'values' });
    expect(s.distinct.exact).toBe(true);
    // a slice of rows equals the same rows of the whole field
    const part = await file.readField('ROSE', { slice: [[1000, 1003], [10, 20]] });
    expect(part.shape).toEqual([3, 10]);
    expect(part.values[0]).toBe(rose.values[1000 * 4320 + 10]);
    expect(part.values[29]).toBe(rose.values[1002 * 4320 + 19]);
    console.log(`etopo5 ROSE read in ${ms.toFixed(0)} ms`);
  });

  it('stops when aborted', async () => {
    const file = await openDataFile(fixturePath('etopo5'));
    const ac = new AbortController();
    ac.abort();
    await expect(file.readField('ROSE', { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('synthetic files', () => {
  it('NetCDF-4: groups, packed int16, big-endian, valid_range, int64 read as exact doubles', async () => {
    const file = await openDataFile(fixturePath('synthetic_nc4'));
    try {
      const t = file.variable('temp_packed');
      expect(t.fill.packing).toEqual({ scaleFactor: Math.fround(0.01), addOffset: 280, unpackedDtype: 'float32' });
      expect(t.fill.fillValue).toBe(-32767);
      const temp = await file.readField('temp_packed');
      expect(temp.sourceDtype).toBe('int16');
      expect(temp.values).toBeInstanceOf(Float32Array);
      const q = fieldStats(temp, { scaleFactor: t.fill.packing!.scaleFactor }).quantization;
      expect(q).toMatchObject({ detected: true, source: 'packing' });
      expect(q.step).toBeCloseTo(0.01, 9);
      // the detection from values alone finds the same step
      const q2 = fieldStats({ ...temp, attributes: {} }).quantization;
      expect(q2.detected).toBe(true);
      expect(q2.step).toBe(0.01);
      expect(file.variable('lat').isCoordinate).toBe(true);
      expect(file.variable('forecast/wind').dims).toEqual(['step', 'lat', 'lon']);
      // 64-bit integers (xarray's integer arrays) are read as doubles where each is one exactly
      const ids = await file.readField('ids');
      expect(ids.values).toBeInstanceOf(Float64Array);
      expect(Array.from(ids.values)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      const slice = await file.readField('forecast/wind', { slice: [[1, 2], [2, 3]] });
      expect(slice.shape).toEqual([1, 1, 30]);
      expect(slice.mask?.[3]).toBe(0); // the -999 missing_value at [1, 2, 3]
      expect(file.globalAttributes['title']).toBe('Fieldpack synthetic NetCDF-4 test file');
    } finally {
      file.close();
    }
  });

  it('NetCDF-3 64-bit offset with record variables; slices across records', async () => {
    const file = await openDataFile(fixturePath('synthetic_nc3'));
    expect(file.format).toBe('netcdf3-64bit-offset');
    expect(file.dimensions).toEqual({ time: 4, y: 5, x: 7 });
    const h = await file.readField('height', { slice: [[1, 3], [2, 4], [5, 7]] });
    expect(h.shape).toEqual([2, 2, 2]);
    // height[r, y, x] = 10 * (7 y + x) + r
    expect(Array.from(h.values)).toEqual([191, 201, 261, 271, 192, 202, 262, 272]);
    await expect(file.readField('height', { slice: [[3, 5]] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

/**
 * The three classic-model versions written by netCDF4-python (CDF-1, CDF-2, and CDF-5 with its unsigned and 64-bit
 * types: PnetCDF's format, E3SM's output), two record variables (each record padded), a signed byte _FillValue, a
 * char attribute: read as netCDF4-python reads them (values, masks, attributes, dimensions).
 */
describe.runIf(hasPythonNetcdf4())('NetCDF classic model: CDF-1, CDF-2 and CDF-5 as netCDF4-python reads them (needs python3-netcdf4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldpack-cdf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const PY = String.raw`
import json, sys, numpy as np, netCDF4
out, fmt = sys.argv[1], sys.argv[2]
d = netCDF4.Dataset(out, 'w', format=fmt)
d.title = 'cdf test'
d.createDimension('t', None); d.createDimension('y', 3); d.createDimension('x', 5)
a = np.arange(30, dtype='f8').reshape(2, 3, 5)
v = d.createVariable('temp', 'f4', ('t', 'y', 'x')); v.units = 'K'; v[:] = 280 + a / 7
b = d.createVariable('flag', 'i1', ('t', 'y', 'x'), fill_value=np.int8(-127)); b[:] = (a % 9 - 4).astype('i1'); b[1, 2, 4] = np.ma.masked
s = d.createVariable('level', 'i2', ('y',)); s[:] = [-3, 0, 7]
types = ['u1', 'u2', 'u4', 'i8'] if fmt == 'NETCDF3_64BIT_DATA' else []
for t in types:
    u = d.createVariable('v_' + t, t, ('y', 'x')); u[:] = (np.arange(15).reshape(3, 5) * (200 if t != 'u1' else 17)).astype(t)
if types:
    d.createVariable('x', 'i8', ('x',))[:] = [0, 10, 20, 2**40, -50]
d.close()
r = netCDF4.Dataset(out)
res = {'dims': {k: len(x) for k, x in r.dimensions.items()}, 'title': r.title, 'vars': {}}
for name, x in r.variables.items():
    x.set_auto_mask(True)
    val = x[:]
    m = np.ma.getmaskarray(val)
    res['vars'][name] = {'dtype': str(x.dtype), 'shape': list(x.shape), 'values': [None if mm else float(vv) for vv, mm in zip(np.ma.getdata(val).ravel(), m.ravel())]}
print(json.dumps(res))
`;
  for (const [fmt, format] of [['NETCDF3_CLASSIC', 'netcdf3-classic'], ['NETCDF3_64BIT_OFFSET', 'netcdf3-64bit-offset'], ['NETCDF3_64BIT_DATA', 'netcdf3-64bit-data']] as const) {
    it(`${fmt} reads as ${format}`, async () => {
      const path = join(dir, `${fmt}.nc`);
      const ref = JSON.parse(execFileSync(PYTHON, ['-c', PY, path, fmt], { encoding: 'utf8' })) as { dims: Record<string, number>; title: string; vars: Record<string, { dtype: string; shape: number[]; values: (number | null)[] }> };
      const file = await openDataFile(path);
      try {
        expect(file.format).toBe(format);
        expect(file.dimensions).toEqual(ref.dims);
        expect(file.unlimited).toEqual(['t']);
        expect(file.globalAttributes['title']).toBe(ref.title);
        expect(file.variables.map((v) => v.name).sort()).toEqual(Object.keys(ref.vars).sort());
        for (const [name, r] of Object.entries(ref.vars)) {
          // 64-bit integers, coordinates and data, are read as doubles (exact here)
          const f = await file.readField(name);
          expect(f.shape, name).toEqual(r.shape);
          expect(Array.from(f.values, (x, i) => (f.mask && f.mask[i] === 0 ? null : x)), name).toEqual(r.values.map((x) => (x === null ? null : name === 'temp' ? Math.fround(x) : x)));
        }
        expect(file.variable('flag').attributes['_FillValue']).toBe(-127);
      } finally {
        file.close();
      }
    });
  }
});
