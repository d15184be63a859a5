/**
 * Writers: a field round-trips through the NetCDF-4 writer and reads back identical (values, mask,
 * attributes) with our h5wasm reader and with /usr/bin/python3 netCDF4; raw + sidecar round-trips;
 * nothing half-written is left behind on failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Field } from '../../../src-main/core/field.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { writeFieldNetcdf4 } from '../../../src-main/services/data/writers/netcdf4.ts';
import { writeFieldRaw } from '../../../src-main/services/data/writers/raw.ts';
import { closePools, compressField, metadataOf } from '../../../src-main/services/compression/index.ts';
import { PYTHON, WRF, available, fixturePath, hasPythonNetcdf4 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-writers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectSameField(a: Field, b: Field) {
  expect(b.shape).toEqual(a.shape);
  expect(b.dims).toEqual(a.dims);
  expect(b.values.constructor).toBe(a.values.constructor);
  for (let i = 0; i < a.values.length; i++) {
    const va = !a.mask || a.mask[i] === 1;
    const vb = !b.mask || b.mask[i] === 1;
    if (va !== vb) throw new Error(`mask differs at ${i}`);
    if (va && a.values[i] !== b.values[i]) throw new Error(`value differs at ${i}: ${a.values[i]} vs ${b.values[i]}`);
  }
}

/** What python netCDF4 sees: dims, dtype, attributes, masked count and a checksum of valid values. */
function pythonView(path: string, name: string): { dims: string[]; dtype: string; attrs: Record<string, unknown>; masked: number; sum: number; first: number[]; format: string } {
  const code = `
import json, sys, netCDF4, numpy as np
d = netCDF4.Dataset(sys.argv[1]); v = d.variables[sys.argv[2]]
a = np.ma.masked_invalid(np.ma.asarray(v[:])).astype('f8')
def j(x):
    if isinstance(x, np.ndarray): return [j(y) for y in x.tolist()] if x.size != 1 else j(x.item())
    if isinstance(x, (np.floating, np.integer)): return x.item()
    return x
print(json.dumps({'format': d.data_model, 'dims': list(v.dimensions), 'dtype': str(v.dtype), 'attrs': {k: j(v.getncattr(k)) for k in v.ncattrs()},
  'masked': int(np.ma.getmaskarray(a).sum()), 'sum': float(a.sum()), 'first': [float(x) for x in a.compressed()[:5]]}))`;
  return JSON.parse(execFileSync(PYTHON, ['-c', code, path, name], { encoding: 'utf8' }));
}

/** COADS SST with its coordinates through the NetCDF-4 writer, once; read back by h5wasm and by netCDF4-python. */
let coadsWritten: Promise<{ out: string; sst: Field; coordinates: Record<string, { values: ArrayLike<number>; attributes: Record<string, unknown> }> }> | undefined;
function writeCoadsSst() {
  coadsWritten ??= (async () => {
    const src = await openDataFile(fixturePath('coads'));
    const sst = await src.readField('SST');
    const coordinates: Record<string, { values: ArrayLike<number>; attributes: Record<string, unknown> }> = {};
    for (const d of sst.dims) {
      const c = await src.readField(d);
      coordinates[d] = { values: c.values, attributes: c.attributes };
    }
    src.close();
    const out = join(dir, 'sst.nc');
    await writeFieldNetcdf4(sst, out, { provenance: { codec: 'classic-lorenzo', bound: 0.01, bound_mode: 'abs' }, coordinates, globalAttributes: { title: 'COADS SST' } });
    return { out, sst, coordinates };
  })();
  return coadsWritten;
}

/** WRF's staggered U through the NetCDF-4 writer, once. */
let wrfWritten: Promise<{ out: string; u: Field }> | undefined;
function writeWrfU() {
  wrfWritten ??= (async () => {
    const src = await openDataFile(WRF);
    const u = await src.readField('U');
    src.close();
    const out = join(dir, 'u.nc');
    await writeFieldNetcdf4(u, out, { provenance: { codec: 'none' } });
    return { out, u };
  })();
  return wrfWritten;
}

describe.skipIf(!available('coads'))('NetCDF-4 writer (needs ferret-datasets)', () => {
  it('round-trips a masked COADS field with coordinates and attributes (h5wasm)', async () => {
    const { out, sst, coordinates } = await writeCoadsSst();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const back = await openDataFile(out);
    try {
      expect(back.format).toBe('netcdf4-hdf5');
      expect(back.variables.map((v) => v.name).sort()).toEqual(['COADSX', 'COADSY', 'SST', 'TIME']);
      expect(back.variable('COADSX').isCoordinate).toBe(true);
      const f = await back.readField('SST');
      expectSameField(sst, f);
      for (const [k, v] of Object.entries(sst.attributes)) expect(f.attributes[k], k).toEqual(v);
      expect(f.attributes).toMatchObject({ fieldpack_codec: 'classic-lorenzo', fieldpack_bound: 0.01, fieldpack_bound_mode: 'abs', fieldpack_source_variable: 'SST' });
      expect(typeof f.attributes['fieldpack_version']).toBe('string');
      expect(back.globalAttributes['title']).toBe('COADS SST');
      const x = await back.readField('COADSX');
      expect(Array.from(x.values)).toEqual(Array.from(coordinates['COADSX']!.values));
    } finally {
      back.close();
    }
  });

  it.skipIf(!hasPythonNetcdf4())('netCDF4-python reads the written COADS field as it reads the source (needs python3-netcdf4)', async () => {
    const { out } = await writeCoadsSst();
    const py = pythonView(out, 'SST');
    const orig = pythonView(fixturePath('coads'), 'SST');
    expect(py.format).toBe('NETCDF4');
    expect(py.dims).toEqual(['TIME', 'COADSY', 'COADSX']);
    expect(py.dtype).toBe('float32');
    expect(py.masked).toBe(orig.masked);
    expect(py.sum).toBe(orig.sum);
    expect(py.first).toEqual(orig.first);
    for (const k of ['units', 'long_name', 'history', 'missing_value', '_FillValue']) expect(py.attrs[k], k).toEqual(orig.attrs[k]);
    expect(py.attrs['fieldpack_codec']).toBe('classic-lorenzo');
    expect(py.attrs['fieldpack_bound']).toBe(0.01);
  });

  it.skipIf(!available('wrf'))('writes a staggered WRF field with pure dimensions (needs the WRF Katrina file)', async () => {
    const { out, u } = await writeWrfU();
    const back = await openDataFile(out);
    expect(back.variables.map((v) => v.name)).toEqual(['U']);
    expect(back.dimensions).toEqual({ Time: 4, bottom_top: 14, south_north: 48, west_east_stag: 49 });
    expectSameField(u, await back.readField('U'));
    back.close();
  });

  it.skipIf(!available('wrf') || !hasPythonNetcdf4())('netCDF4-python reads the staggered WRF field with its dimensions and attributes (needs the WRF Katrina file and python3-netcdf4)', async () => {
    const { out } = await writeWrfU();
    const py = pythonView(out, 'U');
    expect(py.dims).toEqual(['Time', 'bottom_top', 'south_north', 'west_east_stag']);
    expect(py.attrs['stagger']).toBe('X');
    expect(py.attrs['FieldType']).toBe(104);
    expect(py.masked).toBe(0);
  });

  it.skipIf(!hasPythonNetcdf4())('writes a variable along one dimension twice (a covariance n x n): one dimension, read back by h5wasm and netCDF4-python (needs python3-netcdf4)', async () => {
    const values = Float32Array.from({ length: 48 * 48 }, (_, k) => Math.exp(-Math.abs(Math.floor(k / 48) - (k % 48)) / 5));
    const cov = { name: 'cov', shape: [48, 48], dims: ['n', 'n'], values, sourceDtype: 'float32', attributes: { long_name: 'covariance' } } as Field;
    const out = join(dir, 'cov.nc');
    await writeFieldNetcdf4(cov, out);
    const back = await openDataFile(out);
    expect(back.dimensions).toEqual({ n: 48 });
    expectSameField(cov, await back.readField('cov'));
    back.close();
    const py = pythonView(out, 'cov');
    expect(py.dims).toEqual(['n', 'n']);
    expect(py.sum).toBeCloseTo(values.reduce((a, v) => a + v, 0), 2);
  });

  it('unpacks a packed int16 variable: values kept, scale_factor dropped', async () => {
    const src = await openDataFile(fixturePath('synthetic_nc4'));
    const t = await src.readField('temp_packed');
    src.close();
    const out = join(dir, 'temp.nc');
    await writeFieldNetcdf4(t, out);
    const back = await openDataFile(out);
    const f = await back.readField('temp_packed');
    back.close();
    expectSameField(t, f);
    expect(f.attributes['scale_factor']).toBeUndefined();
    expect(f.attributes['fieldpack_unpacked_from']).toMatch(/int16 with scale_factor 0.01/);
    expect(f.attributes['fieldpack_source_dtype']).toBe('int16');
  });

  it('writes a decompressed .fpk stream (which carries its own fieldpack_ attributes) within its bound', async () => {
    const src = await openDataFile(fixturePath('coads'));
    const sst = await src.readField('SST');
    src.close();
    const { bytes, absBound } = await compressField(sst, { bound: { mode: 'rel', value: 1e-3 }, metadata: metadataOf(sst, 'coads_climatology.cdf') });
    const fpk = join(dir, 'sst.fpk');
    writeFileSync(fpk, bytes);
    const decoded = await openDataFile(fpk);
    const recon = await decoded.readField('SST');
    decoded.close();
    expect(recon.attributes['fieldpack_source_file']).toBe('coads_climatology.cdf');
    const out = join(dir, 'sst-decompressed.nc');
    await writeFieldNetcdf4(recon, out, { provenance: { source_file: fpk } });
    const back = await openDataFile(out);
    const f = await back.readField('SST');
    back.close();
    expect(f.attributes['fieldpack_bound_mode']).toBe('rel');
    for (let i = 0; i < sst.values.length; i++) {
      const valid = !sst.mask || sst.mask[i] === 1;
      expect(!f.mask || f.mask[i] === 1).toBe(valid);
      if (valid && Math.abs(f.values[i]! - sst.values[i]!) > absBound) throw new Error(`point ${i} over the bound`);
    }
    await closePools();
  });

  it('refuses dimension and attribute names HDF5 cannot hold (empty, "/" or NUL, from a stream or a file of elsewhere) before writing anything', async () => {
    const src = await openDataFile(fixturePath('synthetic_nc3'));
    const f = await src.readField('sst');
    const out = join(dir, 'bad-names.nc');
    // (a group's dimension along a variable outside the group is written as the root's dimension of its own name,
    // unless the root has one of that name)
    await expect(writeFieldNetcdf4({ ...f, dims: ['time', 'y/x', 'x'], coordinates: undefined }, out)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/dimension name "y\/x" cannot be written to NetCDF-4 \(it contains "\/"\)/) });
    await expect(writeFieldNetcdf4({ ...f, attributes: { ...f.attributes, '': 1 } }, out)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/attribute "" of sst cannot be written to NetCDF-4 \(it is empty\)/) });
    await expect(writeFieldNetcdf4({ ...f, attributes: { ...f.attributes, 'a\u0000b': 'x' } }, out)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/contains a NUL character/) });
    expect(readdirSync(dir).filter((n) => n.startsWith('bad-names'))).toEqual([]);
  });

  it('leaves nothing behind when the target folder is missing', async () => {
    const src = await openDataFile(fixturePath('synthetic_nc3'));
    const f = await src.readField('sst');
    await expect(writeFieldNetcdf4(f, join(dir, 'nope', 'x.nc'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('raw writer', () => {
  it('round-trips through the raw reader with its sidecar, masked points as NaN', async () => {
    const src = await openDataFile(fixturePath('synthetic_nc3'));
    const f = await src.readField('sst');
    const out = join(dir, 'sst.f32');
    const res = await writeFieldRaw(f, out, { provenance: { codec: 'none' } });
    expect(res.sidecar).toBe(`${out}.json`);
    const side = JSON.parse(readFileSync(res.sidecar!, 'utf8'));
    expect(side).toMatchObject({ shape: [4, 5, 7], dtype: 'float32', endianness: 'little', name: 'sst', dims: ['time', 'y', 'x'], units: 'degC' });
    const back = await openDataFile(out);
    expect(back.format).toBe('raw');
    expectSameField(f, await back.readField('sst'));
    const be = join(dir, 'sst_be.f64');
    await writeFieldRaw(f, be, { dtype: 'float64', endianness: 'big', fillValue: -9999 });
    const back2 = await (await openDataFile(be)).readField('sst');
    expect(back2.values).toBeInstanceOf(Float64Array);
    for (let i = 0; i < f.values.length; i++) {
      expect(back2.mask?.[i] ?? 1).toBe(f.mask?.[i] ?? 1);
      if (f.mask?.[i] !== 0) expect(back2.values[i]).toBe(f.values[i]);
    }
  });

  it('refuses float32 output of values or a fill float32 cannot hold (they would be written as Infinity), and writes nothing', async () => {
    const values = Float64Array.from({ length: 12 }, (_, i) => (i === 5 ? -1e300 : i === 7 ? 4e38 : i));
    const mask = Uint8Array.from({ length: 12 }, (_, i) => (i === 7 ? 0 : 1));
    const f: Field = { name: 'wide', dims: ['y', 'x'], shape: [3, 4], values, mask, attributes: {}, sourceDtype: 'float64' };
    const out = join(dir, 'wide.f32');
    // the masked 4e38 is the fill's business, not a value
    await expect(writeFieldRaw(f, out, { dtype: 'float32' })).rejects.toThrow(/wide: 1 value is past float32's range .*e\.g\. -1e\+300.*--dtype float64/);
    await expect(writeFieldRaw({ ...f, values: Float64Array.from(values, (v) => (v === -1e300 ? 1 : v)) }, out, { dtype: 'float32', fillValue: 1e39 })).rejects.toThrow(/fill value 1e\+39 is past float32's range/);
    expect(readdirSync(dir).filter((x) => x.startsWith('wide'))).toEqual([]);
    await writeFieldRaw(f, join(dir, 'wide.f64'), { dtype: 'float64' });
  });
});
