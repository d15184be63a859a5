/**
 * Coordinates travel (issue 10 item 5): `fieldpack compress` stores the coordinate variables of the field's
 * dimensions in the stream header and `fieldpack export X.fpk` writes them back, so the decompressed NetCDF
 * keeps its georeferencing. Checked with /usr/bin/python3 netCDF4 against the source file: each coordinate
 * variable's values bit for bit (and dtype), its attributes identical, the data within the bound.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FERRET, PYTHON, ROOT, hasPythonNetcdf4 } from './helpers.ts';
import { WRF_KATRINA } from '../../helpers/data-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-coords-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, FIELDPACK_DB: join(dir, 'cli.db') } });
  if (r.status !== 0) throw new Error(`fieldpack ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Comparison {
  dims: string[];
  coords: Record<string, { present: boolean; dtype: [string, string]; bitsEqual: boolean; n: [number, number]; attrs: [Record<string, unknown>, Record<string, unknown>] }>;
  variables: string[];
  maskEqual: boolean;
  maxError: number;
  /** fieldpack_bound_abs of the exported variable (a decompressed .fpk), null otherwise */
  boundAbs: number | null;
}

/** Source variable (optionally sliced) vs the exported one, as netCDF4-python sees them. */
function compare(source: string, exported: string, name: string, slice: Array<[number, number]> = []): Comparison {
  const code = `
import json, sys, netCDF4, numpy as np
src = netCDF4.Dataset(sys.argv[1]); out = netCDF4.Dataset(sys.argv[2]); name = sys.argv[3]
sl = json.loads(sys.argv[4])
def j(x):
    if isinstance(x, np.ndarray): return [j(y) for y in x.tolist()] if x.size != 1 else j(x.item())
    if isinstance(x, (np.floating, np.integer)): return x.item()
    return x
attrs = lambda v: {k: j(v.getncattr(k)) for k in v.ncattrs()}
vs, vo = src.variables[name], out.variables[name]
idx = tuple(slice(*sl[i]) if i < len(sl) else slice(None) for i in range(len(vs.dimensions)))
coords = {}
for i, d in enumerate(vs.dimensions):
    a = np.asarray(src.variables[d][idx[i]].data if np.ma.isMaskedArray(src.variables[d][idx[i]]) else src.variables[d][idx[i]])
    if d not in out.variables:
        coords[d] = {'present': False}; continue
    b = out.variables[d][:]
    b = np.asarray(b.data if np.ma.isMaskedArray(b) else b)
    coords[d] = {'present': True, 'dtype': [str(a.dtype), str(b.dtype)], 'n': [int(a.size), int(b.size)],
                 'bitsEqual': a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(),
                 'attrs': [attrs(src.variables[d]), attrs(out.variables[d])]}
x = vs[idx].astype('f8'); y = vo[:].astype('f8')
mx, my = np.ma.getmaskarray(x), np.ma.getmaskarray(y)
err = float(np.abs(x.data - y.data)[~mx].max()) if (~mx).any() else 0.0
print(json.dumps({'dims': list(vo.dimensions), 'coords': coords, 'variables': list(out.variables), 'maskEqual': bool((mx == my).all()),
                  'maxError': err, 'boundAbs': float(vo.getncattr('fieldpack_bound_abs')) if 'fieldpack_bound_abs' in vo.ncattrs() else None}))`;
  return JSON.parse(execFileSync(PYTHON, ['-c', code, source, exported, name, JSON.stringify(slice)], { encoding: 'utf8' }));
}

function expectCoordinatesTravel(c: Comparison, dims: string[]): void {
  expect(c.dims).toEqual(dims);
  for (const d of dims) {
    const e = c.coords[d]!;
    expect(e.present, `${d} written`).toBe(true);
    expect(e.n[1], `${d} length`).toBe(e.n[0]);
    expect(e.dtype[1], `${d} dtype`).toBe(e.dtype[0]);
    expect(e.bitsEqual, `${d} values bit for bit`).toBe(true);
    expect(e.attrs[1], `${d} attributes`).toEqual(e.attrs[0]);
  }
  expect(c.maskEqual).toBe(true);
  expect(c.boundAbs).toBeGreaterThan(0);
  expect(c.maxError).toBeLessThanOrEqual(c.boundAbs!);
}

const COADS = join(FERRET, 'coads_climatology.cdf');
const LEVITUS = join(FERRET, 'levitus_climatology.cdf');
const ready = existsSync(COADS) && existsSync(LEVITUS) && hasPythonNetcdf4();

describe.skipIf(!ready)('coordinates travel through .fpk (needs ferret-datasets and python3-netcdf4)', () => {
  it('COADS SST [TIME, COADSY, COADSX]: compress -> export keeps TIME, COADSY, COADSX', () => {
    const fpk = join(dir, 'sst.fpk');
    const nc = join(dir, 'sst.nc');
    cli('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '-o', fpk);
    cli('export', fpk, '--var', 'SST', '-o', nc);
    const c = compare(COADS, nc, 'SST');
    expectCoordinatesTravel(c, ['TIME', 'COADSY', 'COADSX']);
    expect(c.coords['TIME']!.attrs[1]).toMatchObject({ units: 'hour since 0000-01-01 00:00:00', time_origin: '1-JAN-0000 00:00:00' });
    // the .fpk lists them as coordinate variables too
    expect(cli('inspect', fpk)).toMatch(/coordinates:[\s\S]*COADSX[\s\S]*degrees_east/);
  });

  it('levitus TEMP [depth, lat, lon] (irregular depths), whole and sliced', () => {
    const fpk = join(dir, 'temp.fpk');
    cli('compress', LEVITUS, '--var', 'TEMP', '--bound', 'rel:1e-3', '-o', fpk);
    const nc = join(dir, 'temp.nc');
    cli('export', fpk, '--var', 'TEMP', '-o', nc);
    expectCoordinatesTravel(compare(LEVITUS, nc, 'TEMP'), ['ZAXLEVITR', 'YAXLEVITR', 'XAXLEVITR']);
    // a hyperslab of the .fpk: coordinates cut the same way
    const part = join(dir, 'temp-part.nc');
    cli('export', fpk, '--var', 'TEMP', '--slice', '3:9,40:100,350:360', '-o', part);
    expectCoordinatesTravel(compare(LEVITUS, part, 'TEMP', [[3, 9], [40, 100], [350, 360]]), ['ZAXLEVITR', 'YAXLEVITR', 'XAXLEVITR']);
  });

  it('coordinates in their own dtypes (int32 time, float32 latitudes, int16 levels) come back in them', () => {
    const src = join(dir, 'typed.nc');
    execFileSync(PYTHON, ['-c', `
import sys, netCDF4, numpy as np
d = netCDF4.Dataset(sys.argv[1], 'w', format='NETCDF3_CLASSIC')
d.createDimension('time', 5); d.createDimension('lev', 4); d.createDimension('lat', 33); d.createDimension('lon', 40)
t = d.createVariable('time', 'i4', ('time',)); t[:] = [0, 6, 12, 24, 1000000]; t.units = 'hours since 1990-01-01'; t.calendar = 'noleap'
l = d.createVariable('lev', 'i2', ('lev',)); l[:] = [1000, 850, 500, 250]; l.units = 'hPa'; l.positive = 'down'
y = d.createVariable('lat', 'f4', ('lat',)); y[:] = np.sin(np.linspace(-1.4, 1.4, 33)) * 90; y.units = 'degrees_north'; y.axis = 'Y'; y.valid_range = np.array([-90, 90], 'f4')
x = d.createVariable('lon', 'f8', ('lon',)); x[:] = np.arange(40) * 9.0 - 180; x.units = 'degrees_east'
v = d.createVariable('ta', 'f4', ('time', 'lev', 'lat', 'lon')); v.units = 'K'
v[:] = 250 + 30 * np.cos(np.arange(5 * 4 * 33 * 40).reshape(5, 4, 33, 40) / 97.0)
d.close()`, src]);
    const fpk = join(dir, 'typed.fpk');
    const nc = join(dir, 'typed-out.nc');
    cli('compress', src, '--var', 'ta', '--bound', 'abs:0.01', '-o', fpk);
    cli('export', fpk, '--var', 'ta', '-o', nc);
    const c = compare(src, nc, 'ta');
    expectCoordinatesTravel(c, ['time', 'lev', 'lat', 'lon']);
    expect(Object.fromEntries(Object.entries(c.coords).map(([k, v]) => [k, v.dtype[1]]))).toEqual({ time: 'int32', lev: 'int16', lat: 'float32', lon: 'float64' });
    const rangeType = execFileSync(PYTHON, ['-c', 'import sys, netCDF4; print(netCDF4.Dataset(sys.argv[1])["lat"].getncattr("valid_range").dtype)', nc], { encoding: 'utf8' }).trim();
    expect(rangeType).toBe('float32');
  });

  it('exporting from the source file gives the same coordinates (one path through the readers)', () => {
    const nc = join(dir, 'sst-direct.nc');
    cli('export', COADS, '--var', 'SST', '--slice', '2:5', '-o', nc);
    const c = compare(COADS, nc, 'SST', [[2, 5]]);
    for (const d of ['TIME', 'COADSY', 'COADSX']) {
      expect(c.coords[d]!.bitsEqual, d).toBe(true);
      expect(c.coords[d]!.attrs[1], d).toEqual(c.coords[d]!.attrs[0]);
    }
    expect(c.coords['TIME']!.n).toEqual([3, 3]);
    expect(c.maxError).toBe(0);
  });

  it('an export from the source keeps the stored types of the field\'s and the file\'s numeric attributes (WRF DX, a float32 12000, was written as an int)', () => {
    const wrf = WRF_KATRINA;
    const nc = join(dir, 't2.nc');
    cli('export', wrf, '--var', 'T2', '-o', nc);
    const mismatches = JSON.parse(execFileSync(PYTHON, ['-c', `
import sys, json, numpy as np, netCDF4
a, b = netCDF4.Dataset(sys.argv[1]), netCDF4.Dataset(sys.argv[2])
out = []
for (x, y, where) in [(a, b, ''), (a['T2'], b['T2'], 'T2.')]:
    for k in x.ncattrs():
        if k in y.ncattrs() and not isinstance(x.getncattr(k), str):
            tx, ty = str(np.asarray(x.getncattr(k)).dtype), str(np.asarray(y.getncattr(k)).dtype)
            if tx != ty: out.append(where + k + ' ' + tx + ' -> ' + ty)
print(json.dumps({'bad': out, 'DX': str(np.asarray(b.DX).dtype)}))
`, wrf, nc], { encoding: 'utf8' }));
    expect(mismatches).toEqual({ bad: [], DX: 'float32' });
  });
});
