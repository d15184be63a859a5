/**
 * Features of real files that readers got silently wrong or refused whole (found by a sweep of files made with
 * netCDF4-python, h5py and xarray): what a user checks is that the values and masks are netCDF4-python's, bit for
 * bit, that the other variables of such a file still read, and that what is not a field says why.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { writeFieldNetcdf4 } from '../../../src-main/services/data/writers/netcdf4.ts';
import { readVariable } from '../../../src-main/services/compression/runs.ts';
import { FIXTURES, PYTHON, hasPythonNetcdf4 } from './helpers.ts';

/** Values as netCDF4-python gives them (masked points null), float32 bits kept: the JSON of a Python snippet. */
function python<T>(code: string, ...args: string[]): T {
  return JSON.parse(execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8' })) as T;
}

const dir = mkdtempSync(join(tmpdir(), 'fp-quirks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A field's values with its masked points as null. */
async function read(path: string, name: string, slice?: [number, number][]) {
  const file = await openDataFile(path);
  try {
    const f = await file.readField(name, slice ? { slice } : {});
    return { shape: f.shape, values: Array.from(f.values, (x, i) => (f.mask && f.mask[i] === 0 ? null : x)), f32: f.values instanceof Float32Array };
  } finally {
    file.close();
  }
}

describe.runIf(hasPythonNetcdf4())('NetCDF files as netCDF4-python reads them (needs python3-netcdf4)', () => {
  it('_Unsigned variables: a negative stored _FillValue, missing_value and valid_range mask what they say (-1b is 255)', async () => {
    for (const format of ['NETCDF3_CLASSIC', 'NETCDF4']) {
      const path = join(dir, `unsigned-${format}.nc`);
      const ref = python<Record<string, (number | null)[]>>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w', format=sys.argv[2]); ds.createDimension('x', 8)
raw = np.array([0, 1, 100, -128, -2, -1, -1, 5], 'i1')
v = ds.createVariable('ub', 'i1', ('x',), fill_value=np.int8(-1)); v._Unsigned = 'true'; v[:] = raw
w = ds.createVariable('us', 'i2', ('x',), fill_value=np.int16(-2)); w._Unsigned = 'true'; w.scale_factor = np.float32(0.5)
w.set_auto_maskandscale(False); w[:] = np.array([0, 1, 1000, -2, -2, 3, -32768, 7], 'i2')
m = ds.createVariable('ub_mv', 'i1', ('x',)); m._Unsigned = 'true'; m.missing_value = np.int8(-2); m[:] = raw
r = ds.createVariable('ub_vr', 'i1', ('x',)); r._Unsigned = 'true'; r.valid_range = np.array([1, -3], 'i1'); r[:] = raw
ds.close()
ds = netCDF4.Dataset(sys.argv[1])
print(json.dumps({k: [None if x is np.ma.masked else float(x) for x in ds[k][:]] for k in ['ub', 'us', 'ub_mv', 'ub_vr']}))
`, path, format);
      for (const [name, values] of Object.entries(ref)) expect((await read(path, name)).values, `${format} ${name}`).toEqual(values);
      expect(ref['ub']).toEqual([0, 1, 100, 128, 254, null, null, 5]);
    }
  });

  it('attributes netCDF4-python does not use are not used: a float64 valid_range, valid_min or missing_value a float32 variable cannot hold exactly, a fractional missing_value on integers, an array scale_factor (no unpacking at all); scale_factor 0 keeps -0', async () => {
    for (const format of ['NETCDF3_CLASSIC', 'NETCDF4']) {
      const path = join(dir, `unsafe-${format}.nc`);
      const ref = python<Record<string, (number | null)[]>>(`
import sys, json, warnings, numpy as np, netCDF4
warnings.simplefilter('ignore')
ds = netCDF4.Dataset(sys.argv[1], 'w', format=sys.argv[2]); ds.createDimension('x', 12)
f = np.linspace(-0.6, 0.6, 12).astype('f4'); i = np.arange(-6, 6).astype('i2')
def var(name, dt, data, **attrs):
    v = ds.createVariable(name, dt, ('x',)); v.setncatts(attrs); v.set_auto_maskandscale(False); v[:] = data
var('vr64', 'f4', f, valid_range=np.array([-0.3, 0.3], 'f8'))
var('vr32', 'f4', f, valid_range=np.array([-0.3, 0.3], 'f4'))
var('vr64_min', 'f4', f, valid_range=np.array([-0.3, 0.3], 'f8'), valid_min=np.float32(-0.1))
var('vmin64', 'f4', f, valid_min=np.float64(-0.3))
var('mv64', 'f4', f, missing_value=np.float64(0.6))
var('mv_frac', 'i2', i, missing_value=np.float64(3.5))
var('mv_whole', 'i2', i, missing_value=np.float64(3.0))
var('sf_array', 'i2', i, scale_factor=np.array([0.5, 2.0], 'f4'), add_offset=np.float32(10))
var('sf_zero', 'i2', i, scale_factor=np.float32(0))
var('sf_zero_ao', 'i2', i, scale_factor=np.float32(0), add_offset=np.float32(0))
ds.close()
ds = netCDF4.Dataset(sys.argv[1])
print(json.dumps({k: [None if x is np.ma.masked else float(x) for x in ds[k][:]] for k in ds.variables}))
`, path, format);
      for (const [name, values] of Object.entries(ref)) {
        const got = (await read(path, name)).values;
        expect(got, `${format} ${name}`).toEqual(values);
        // -0 and +0 are equal to toEqual: the signs checked one by one
        expect(got.map((x) => (x === 0 ? Object.is(x, -0) : null)), `${format} ${name} signs`).toEqual(values.map((x) => (x === 0 ? Object.is(x, -0) : null)));
      }
      // what netCDF4-python did, so the test says what it checks
      expect(ref['vr64']!.every((x) => x !== null)).toBe(true);
      expect(ref['vr32']!.filter((x) => x === null)).toHaveLength(6);
      expect(ref['mv_whole']!.filter((x) => x === null)).toHaveLength(1);
      expect(ref['sf_array']![0]).toBe(-6);
      expect(Object.is(ref['sf_zero']![0], -0)).toBe(true);
      expect(Object.is(ref['sf_zero_ao']![0], 0)).toBe(true);
    }
  });

  it('int8/int16 packed with float32 scale_factor and add_offset: float32 arithmetic, bit for bit; int32 unpacks to float64', async () => {
    const path = join(dir, 'packed-f32.nc');
    const ref = python<Record<string, { dtype: string; values: number[] }>>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('x', 2000)
rng = np.random.default_rng(5)
for name, dt in [('s16', 'i2'), ('u16', 'u2'), ('s8', 'i1'), ('s32', 'i4')]:
    v = ds.createVariable(name, dt, ('x',)); v.scale_factor = np.float32(0.37); v.add_offset = np.float32(98000.5)
    info = np.iinfo(dt); v.set_auto_maskandscale(False); v[:] = rng.integers(info.min + 2, info.max - 1, 2000).astype(dt)
ds.close()
ds = netCDF4.Dataset(sys.argv[1])
print(json.dumps({k: {'dtype': str(ds[k][:].dtype), 'values': [float(x) for x in ds[k][:]]} for k in ['s16', 'u16', 's8', 's32']}))
`, path);
    for (const [name, r] of Object.entries(ref)) {
      const got = await read(path, name);
      expect(got.f32 ? 'float32' : 'float64', name).toBe(r.dtype);
      expect(got.values, name).toEqual(r.values);
    }
  });

  it('a NetCDF-4 variable written to fewer records than its unlimited dimension has: as long as the dimension, the rest masked', async () => {
    const path = join(dir, 'ragged.nc');
    const ref = python<Record<string, (number | null)[][]>>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('time', None); ds.createDimension('x', 3)
a = ds.createVariable('long', 'f4', ('time', 'x')); a[:] = np.arange(15, dtype='f4').reshape(5, 3)
b = ds.createVariable('short', 'f4', ('time', 'x'), fill_value=np.float32(-1)); b[:2] = np.full((2, 3), 2.5, 'f4')
c = ds.createVariable('short_nofill', 'i2', ('time', 'x')); c[:3] = np.arange(9, dtype='i2').reshape(3, 3)
ds.close()
ds = netCDF4.Dataset(sys.argv[1])
print(json.dumps({k: [[None if x is np.ma.masked else float(x) for x in row] for row in ds[k][:]] for k in ['short', 'short_nofill']}))
`, path);
    const file = await openDataFile(path);
    try {
      expect(file.dimensions['time']).toBe(5);
      expect(file.variable('short').shape).toEqual([5, 3]);
    } finally {
      file.close();
    }
    for (const [name, rows] of Object.entries(ref)) {
      const whole = await read(path, name);
      expect(whole.shape).toEqual([5, 3]);
      expect(whole.values, name).toEqual(rows.flat());
      // slices across the written end, and wholly past it
      expect((await read(path, name, [[1, 4]])).values, `${name} 1:4`).toEqual(rows.slice(1, 4).flat());
      expect((await read(path, name, [[4, 5], [1, 3]])).values, `${name} 4:5`).toEqual(rows[4]!.slice(1, 3));
    }
  });

  it('a NetCDF-4 variable defined in no-fill mode and never written reads as netCDF4-python reads it (0), not as whatever another variable left in memory', async () => {
    const path = join(dir, 'nofill.nc');
    const ref = python<number[]>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 100); ds.createDimension('x', 100)
ds.createVariable('a', 'f4', ('y', 'x'))[:] = np.full((100, 100), 777.0, 'f4')
ds.createVariable('b', 'f4', ('y', 'x'), fill_value=False)
ds.close()
print(json.dumps(sorted(set(netCDF4.Dataset(sys.argv[1])['b'][:].ravel().tolist()))))
`, path);
    expect(ref).toEqual([0]);
    await read(path, 'a');
    for (let k = 0; k < 3; k++) expect([...new Set((await read(path, 'b')).values)]).toEqual([0]);
  });

  it('a NetCDF-3 file (classic, 64-bit offset, CDF-5) with two record variables and no records: its fixed variables read, the record ones listed as empty', async () => {
    // netCDF-C places the second record variable's offset past the end of such a file: it was refused as truncated
    for (const format of ['NETCDF3_CLASSIC', 'NETCDF3_64BIT_OFFSET', 'NETCDF3_64BIT_DATA']) {
      const path = join(dir, `zero-records-${format}.nc`);
      python<null>(`
import sys, json, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w', format=sys.argv[2]); ds.createDimension('time', None); ds.createDimension('x', 3)
ds.createVariable('a', 'f4', ('time', 'x')); ds.createVariable('b', 'f4', ('time', 'x'))
ds.createVariable('lon', 'f4', ('x',))[:] = [0, 10, 20]
ds.close(); print('null')
`, path, format);
      const file = await openDataFile(path);
      try {
        expect(file.dimensions['time'], format).toBe(0);
        expect(file.variable('b').shape, format).toEqual([0, 3]);
      } finally {
        file.close();
      }
      expect((await read(path, 'lon')).values, format).toEqual([0, 10, 20]);
    }
  });

  it('64-bit integer data (xarray writes integer arrays so): doubles, the fill masked, as netCDF4-python reads them', async () => {
    const path = join(dir, 'int64.nc');
    const ref = python<(number | null)[]>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 3); ds.createDimension('x', 4)
c = ds.createVariable('counts', 'i8', ('y', 'x'), fill_value=np.int64(-999)); c[:] = np.arange(12).reshape(3, 4) * 1000003; c[1, 2] = np.ma.masked
ds.close()
print(json.dumps([None if x is np.ma.masked else float(x) for x in netCDF4.Dataset(sys.argv[1])['counts'][:].ravel()]))
`, path);
    expect((await read(path, 'counts')).values).toEqual(ref);
    expect(ref[6]).toBeNull();
    // scalars: 2^60 is a double exactly (it was refused), 2^55 + 1 is not, and is said as stored (it read ...970)
    const scalars = join(dir, 'int64-scalars.nc');
    python<null>(`
import sys, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createVariable('s60', 'i8').assignValue(2**60); ds.createVariable('s55', 'i8').assignValue(2**55 + 1); ds.close(); print('null')
`, scalars);
    expect((await read(scalars, 's60')).values).toEqual([2 ** 60]);
    await expect(read(scalars, 's55')).rejects.toThrow(/holds 36028797018963969 at 0, which a double cannot hold exactly/);
  });

  it('64-bit integer data with fill points past 2^53 (netCDF\'s default fill, declared or not; uint64 too): those points masked as netCDF4-python masks them; a value a double cannot tell from the fill refused with the reason', async () => {
    for (const format of ['NETCDF4', 'NETCDF3_64BIT_DATA']) {
      const path = join(dir, `int64-fills-${format}.nc`);
      const ref = python<Record<string, (number | null)[]>>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w', format=sys.argv[2]); ds.createDimension('y', 4); ds.createDimension('x', 5)
d = ds.createVariable('declared', 'i8', ('y', 'x'), fill_value=np.int64(-9223372036854775806)); d.set_auto_maskandscale(False)\nf = np.arange(20).reshape(4, 5); f[0, :] = -9223372036854775806; d[:] = f  # (a masked write would store -2**63: netCDF4-python goes through a double)
u = ds.createVariable('unwritten', 'i8', ('y', 'x')); u[:2] = np.arange(10).reshape(2, 5)
m = ds.createVariable('missing', 'i8', ('y', 'x')); m.missing_value = np.int64(-1); m[:] = np.arange(20).reshape(4, 5) - 3
w = ds.createVariable('unsigned', 'u8', ('y', 'x')); w[:3] = np.arange(15, dtype='u8').reshape(3, 5) * 2**40
x = ds.createVariable('int64min', 'i8', ('y', 'x')); x[:] = np.arange(20).reshape(4, 5); x[3, 4] = np.int64(-2**63)\nds.createDimension('t', None); ds.createVariable('long', 'f4', ('t', 'x'))[:4] = np.ones((4, 5)); ds.createVariable('short', 'i8', ('t', 'x'))[:2] = np.arange(10).reshape(2, 5)
ds.close()
r = netCDF4.Dataset(sys.argv[1])
print(json.dumps({k: [None if v is np.ma.masked else float(v) for v in r[k][:].ravel()] for k in ['declared', 'unwritten', 'missing', 'unsigned', 'short']}))
`, path, format);
      // (short: 2 of the unlimited dim's 4 records written, the rest netCDF's fill)
      for (const name of ['declared', 'unwritten', 'missing', 'unsigned', 'short']) expect((await read(path, name)).values, `${format} ${name}`).toEqual(ref[name]);
      expect(ref['short']!.filter((v) => v === null)).toHaveLength(10);
      expect(ref['declared']!.slice(0, 6)).toEqual([null, null, null, null, null, 5]);
      expect(ref['unwritten']!.filter((v) => v === null)).toHaveLength(10);
      await expect(read(path, 'int64min')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/-9223372036854775808 at 19, which a double cannot tell from its fill value -9223372036854775806/) });
    }
  });

  it('a variable of a group exports into that group', async () => {
    const src = join(dir, 'groups.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 4); ds.createDimension('x', 5)
g = ds.createGroup('forecast').createGroup('surface'); v = g.createVariable('temp', 'f4', ('y', 'x')); v.units = 'K'
v[:] = np.arange(20, dtype='f4').reshape(4, 5) / 3
ds.close()
`, src]);
    const field = await readVariable(src, 'forecast/surface/temp');
    const out = join(dir, 'exported.nc');
    await writeFieldNetcdf4(field, out);
    const back = python<{ units: string; values: number[] }>(`
import sys, json, netCDF4
v = netCDF4.Dataset(sys.argv[1])['forecast/surface/temp']
print(json.dumps({'units': v.units, 'values': [float(x) for x in v[:].ravel()]}))
`, out);
    expect(back.units).toBe('K');
    expect(back.values).toEqual(Array.from(field.values));
  });
});

describe.runIf(hasPythonNetcdf4())('dimensions from the variables\' DIMENSION_LIST (needs python3-netcdf4)', () => {
  it('a NetCDF-4 file of 300 variables in nested groups: every variable\'s dims as netCDF4-python names them, HDF5 never asked per axis (that search made opening take time in N^2)', async () => {
    const path = join(dir, 'many-vars.nc');
    const ref = python<Record<string, string[]>>(`
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w', format='NETCDF4')
ds.createDimension('time', None); ds.createDimension('y', 6); ds.createDimension('x', 6); ds.createDimension('z', 3)
g = ds.createGroup('inner'); g.createDimension('x', 4); h = g.createGroup('deeper')
dims = {}
for i in range(300):
    where, shape = [(ds, ('time', 'y', 'x')), (ds, ('z', 'x', 'y')), (g, ('y', 'x')), (h, ('time', 'x', 'z'))][i % 4]
    v = where.createVariable(f'v{i}', 'f4', shape); v[:] = np.zeros([2 if d == 'time' else len(where.dimensions[d]) if d in where.dimensions else len(g.dimensions[d]) if d in g.dimensions else len(ds.dimensions[d]) for d in shape], 'f4')
    dims[(where.path.strip('/') + '/' if where.path != '/' else '') + f'v{i}'] = list(v.dimensions)
ds.close()
print(json.dumps(dims))
`, path);
    const { default: h5 } = await import('h5wasm/node');
    const proto = h5.Dataset.prototype as unknown as { get_attached_scales: (i: number) => string[] };
    const asked = proto.get_attached_scales;
    let calls = 0;
    proto.get_attached_scales = function (this: unknown, i: number) {
      calls++;
      return asked.call(this, i);
    };
    try {
      const file = await openDataFile(path);
      try {
        for (const [name, dims] of Object.entries(ref)) expect(file.variable(name).dims.map((d) => d.split('/').pop()), name).toEqual(dims);
      } finally {
        file.close();
      }
    } finally {
      proto.get_attached_scales = asked;
    }
    expect(calls).toBe(0);
  });
});

describe('dimension scales reached by several links, and dangling links, in plain HDF5 (h5wasm writes them)', () => {
  it('an axis is named by its scale\'s own link (not an alias, soft or hard), and the variables keep the walk\'s order; links to no dataset of the file (dangling, external) are listed with why', async () => {
    const { loadH5wasm } = await import('../../../src-main/services/data/readers/h5.ts');
    const h5 = await loadH5wasm();
    type W = { create_dataset(a: object): { make_scale(n: string): void; attach_scale(i: number, p: string): void }; create_soft_link(t: string, n: string): void; create_hard_link(t: string, n: string): void; create_external_link(f: string, t: string, n: string): void; close(): void };
    const data = new Float32Array(12).map((_, i) => i);
    const dims: Record<string, string[][]> = {};
    for (const alias of ['soft', 'hard'] as const) {
      const path = join(dir, `alias-${alias}.h5`);
      const w = new h5.File(path, 'w') as unknown as W;
      w.create_dataset({ name: 'zs', data: new Float32Array([0, 1, 2]), shape: [3] }).make_scale('zs');
      if (alias === 'soft') w.create_soft_link('/zs', 'a_alias');
      else w.create_hard_link('/zs', 'a_alias');
      w.create_soft_link('/nowhere', 'b_dangling');
      // (h5wasm does not follow it: it was left out without a word)
      w.create_external_link('elsewhere.h5', '/x', 'c_external');
      w.create_dataset({ name: 'v', data, shape: [3, 4] }).attach_scale(0, '/zs');
      w.close();
      const file = await openDataFile(path);
      try {
        expect(file.variables.map((v) => v.name), alias).toEqual(['a_alias', 'b_dangling', 'c_external', 'v', 'zs']);
        expect(file.variable('c_external').unreadable).toBe('an external link to "/x" in elsewhere.h5, which is read by opening that file');
        dims[alias] = [file.variable('v').dims];
      } finally {
        file.close();
      }
    }
    expect(dims).toEqual({ soft: [['zs', 'phony_dim_0']], hard: [['zs', 'phony_dim_0']] });
  });
});

describe('a long-lived process (the browser door, an archive build over a folder)', () => {
  it('opens a plain HDF5 file of 200 datasets 100 times and still reads it (a throw from within h5wasm per dataset without a DIMENSION_LIST leaked its stack: it aborted after ~75 opens)', async () => {
    const { loadH5wasm } = await import('../../../src-main/services/data/readers/h5.ts');
    const h5 = await loadH5wasm();
    const path = join(dir, 'plain200.h5');
    const w = new h5.File(path, 'w');
    for (let i = 0; i < 200; i++) w.create_dataset({ name: `v${i}`, data: new Float32Array([1, 2, 3, 4, 5, 6].map((x) => x + i)), shape: [2, 3] });
    w.close();
    for (let k = 0; k < 100; k++) {
      const file = await openDataFile(path);
      try {
        if (k % 33 === 0 || k === 99) expect(Array.from((await file.readField('v7')).values), `open ${k}`).toEqual([8, 9, 10, 11, 12, 13]);
      } finally {
        file.close();
      }
    }
  }, 60_000);
});

describe('HDF5 files as h5py writes them (fixture h5py_links.h5, made by make_fixtures.py)', () => {
  const path = join(FIXTURES, 'h5py_links.h5');

  it('reads behind a 4096-byte user block; a dangling soft link and an empty (null) dataset are listed with reasons; phony dimensions as netCDF-C names them', async () => {
    const file = await openDataFile(path);
    try {
      expect(file.format).toBe('netcdf4-hdf5');
      const f = await file.readField('data');
      expect(f.shape).toEqual([6, 10]);
      expect(Array.from(f.values)).toEqual(Array.from({ length: 60 }, (_, i) => Math.fround(i / 3)));
      expect(file.variable('dangling')).toMatchObject({ readable: false, unreadable: expect.stringMatching(/soft link to "\/does\/not\/exist".*dangling/) });
      expect(file.variable('nothing')).toMatchObject({ readable: false, unreadable: expect.stringMatching(/null dataspace/) });
      // phony dimensions as netCDF-C names them: one name, one length; a square dataset takes two of its length
      expect(file.variable('data').dims).toEqual(['phony_dim_0', 'phony_dim_1']);
      expect(file.variable('square').dims).toEqual(['phony_dim_1', 'phony_dim_2']);
      expect(file.dimensions).toMatchObject({ phony_dim_0: 6, phony_dim_1: 10, phony_dim_2: 10 });
    } finally {
      file.close();
    }
  });

  it('compressing what is not a field says what it is', async () => {
    await expect(readVariable(path, 'nothing')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/"nothing" is not a field to compress: empty/) });
    await expect(readVariable(path, 'dangling')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/"dangling" is not a field to compress: a soft link/) });
    await expect(readVariable(path, 'height')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/"height" is not a field to compress: a scalar/) });
  });

  it('a reconstruction exported with the source\'s valid_range (or valid_min/max) keeps every valid point valid: the range is widened to hold the values, the source\'s kept beside it', async () => {
    const src = join(dir, 'vr.nc');
    python<null>(`
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 30); ds.createDimension('x', 40)
f = (20 * np.sin(np.linspace(0, 6, 30))[:, None] * np.cos(np.linspace(0, 4, 40))[None, :]).astype('f4')
v = ds.createVariable('X', 'f4', ('y', 'x'), fill_value=np.float32(-999)); v.valid_range = np.array([-20, 20], 'f4'); v[:] = f; v[0, 0] = np.ma.masked
w = ds.createVariable('W', 'f4', ('y', 'x')); w.valid_min = np.float32(-20); w[:] = f
ds.close(); print('null')
`, src);
    for (const name of ['X', 'W']) {
      const field = await readVariable(src, name);
      // a reconstruction: within 0.5 of the source, so past -20 and 20 where the source touches them
      const values = Float32Array.from(field.values, (x, i) => x + (i % 2 ? 0.5 : -0.5));
      const out = join(dir, `vr-${name}.nc`);
      await writeFieldNetcdf4({ ...field, values }, out);
      const back = python<{ masked: number; attrs: Record<string, number[]> }>(`
import sys, json, netCDF4, numpy as np
v = netCDF4.Dataset(sys.argv[1])[sys.argv[2]]
print(json.dumps({'masked': int(np.ma.getmaskarray(v[:]).sum()), 'attrs': {k: np.atleast_1d(v.getncattr(k)).astype(float).tolist() for k in v.ncattrs() if 'valid' in k}}))
`, out, name);
      expect(back.masked, name).toBe(name === 'X' ? 1 : 0);
      if (name === 'X') {
        expect(back.attrs['valid_range']![0]).toBeLessThan(-20);
        expect(back.attrs['fieldpack_source_valid_range']).toEqual([-20, 20]);
      } else {
        expect(back.attrs['valid_min']![0]).toBeLessThan(-20);
        expect(back.attrs['fieldpack_source_valid_min']).toEqual([-20]);
      }
    }
  });

  it('a reconstruction exported with the source\'s missing_value keeps every valid point valid: a missing value some reconstruction lands on is dropped, kept beside as fieldpack_source_missing_value', async () => {
    const src = join(dir, 'mv.nc');
    python<null>(`
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 20); ds.createDimension('x', 30)
v = ds.createVariable('M', 'f4', ('y', 'x')); v.missing_value = np.array([-999, 1e20], 'f4')
f = (-998 + (np.arange(600) % 3)).reshape(20, 30).astype('f4'); f[0, :4] = -999; f[1, 0] = 1e20; v[:] = f
ds.close(); print('null')
`, src);
    const field = await readVariable(src, 'M');
    expect(field.mask!.reduce((a, m) => a + (m ? 0 : 1), 0)).toBe(5);
    // a reconstruction within 1 of the source: 1 below it, so its -998s become -999, a missing value
    const values = Float32Array.from(field.values, (x) => x - 1);
    const out = join(dir, 'mv-out.nc');
    await writeFieldNetcdf4({ ...field, values }, out);
    const back = python<{ masked: number; missing: number[]; source: number[] }>(`
import sys, json, netCDF4, numpy as np
v = netCDF4.Dataset(sys.argv[1])['M']
print(json.dumps({'masked': int(np.ma.getmaskarray(v[:]).sum()), 'missing': np.atleast_1d(getattr(v, 'missing_value', [])).astype(float).tolist(), 'source': np.atleast_1d(v.fieldpack_source_missing_value).astype(float).tolist()}))
`, out);
    expect(back.masked).toBe(5);
    expect(back.missing).toEqual([1e20].map(Math.fround));
    expect(back.source).toEqual([-999, Math.fround(1e20)]);
  });
});
