/**
 * Positions and times in an archive, as WRF files carry them (XLAT, XLONG and XTIME are auxiliary coordinates, named
 * in the fields' `coordinates`, not CF coordinate variables): restored exactly, whatever the archive's bound, and no
 * _FillValue added to a variable that had none. A restore once gave XTIME 720.36 for 720 and XLAT off by 0.006°.
 * And what is not a field but the file needs (the grid_mapping scalar the fields name, WRF's char Times): kept as
 * stored and written back; a restore once dropped them, leaving T2's grid_mapping naming nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, listArchive, restoreArchive } from '../../../src-main/services/archive/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { notCarriedReason } from '../../../src-main/services/archive/carried.ts';
import { CARRIED_MAX_SOURCE_BYTES } from '../../../src-main/services/archive/format.ts';
import { PYTHON, hasPythonNetcdf4 } from '../data/helpers.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { fieldpack } from '../../helpers/cli.ts';

describe.runIf(hasPythonNetcdf4())('archive: auxiliary coordinates and 1-D variables kept exactly (needs python3-netcdf4)', () => {
  const tmp = tempDir('fieldpack-archive-coords-');
  afterAll(() => tmp.cleanup());

  it('XLAT, XLONG and XTIME come back bit for bit at rel:1e-2, also with --vars T2; T within its bound; no _FillValue where there was none', async () => {
    const src = join(tmp.dir, 'wrfout.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('Time', None); ds.createDimension('south_north', 30); ds.createDimension('west_east', 40)
y, x = np.mgrid[0:30, 0:40]
lat = ds.createVariable('XLAT', 'f4', ('Time', 'south_north', 'west_east')); lat[:] = np.stack([20 + 0.123457 * y] * 3)
lon = ds.createVariable('XLONG', 'f4', ('Time', 'south_north', 'west_east')); lon[:] = np.stack([-95 + 0.135791 * x] * 3)
t = ds.createVariable('XTIME', 'f4', ('Time',)); t.units = 'minutes since 2005-08-28 00:00:00'; t[:] = [720, 900, 1080]
T = ds.createVariable('T2', 'f4', ('Time', 'south_north', 'west_east')); T.coordinates = 'XLONG XLAT XTIME'; T.units = 'K'
T[:] = 290 + 5 * np.sin(x / 7.0) * np.cos(y / 5.0) + np.arange(3)[:, None, None]
ds.close()
`, src]);
    const out = join(tmp.dir, 'arc');
    await buildArchive({ inputs: [src], out, bound: 'rel:1e-2', crossfield: 'off' });
    const r = await restoreArchive(out, join(tmp.dir, 'restored'));
    // --vars T2, at build or at restore, keeps what T2's `coordinates` names (they were dropped, leaving T2 naming nothing)
    const selectedOut = join(tmp.dir, 'arc-T2');
    await buildArchive({ inputs: [src], out: selectedOut, bound: 'rel:1e-2', crossfield: 'off', vars: ['T2'] });
    const selected = [await restoreArchive(selectedOut, join(tmp.dir, 'restored-T2')), await restoreArchive(out, join(tmp.dir, 'restored-vars-T2'), { vars: ['T2'] })];
    for (const s of selected) expect(s.files[0]!.variables.sort()).toEqual(['T2', 'XLAT', 'XLONG', 'XTIME']);
    // a second file with positions but no T2: restore --vars T2 leaves it out (it came back as a file of XLAT alone)
    const grid = join(tmp.dir, 'grid-only.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('south_north', 30); ds.createDimension('west_east', 40)
lat = ds.createVariable('XLAT', 'f4', ('south_north', 'west_east')); lat[:] = 20 + 0.1 * np.mgrid[0:30, 0:40][0]
h = ds.createVariable('HGT', 'f4', ('south_north', 'west_east')); h.coordinates = 'XLAT'; h[:] = np.mgrid[0:30, 0:40][1]
ds.close()
`, grid]);
    const both = join(tmp.dir, 'arc-both');
    await buildArchive({ inputs: [src, grid], out: both, bound: 'rel:1e-2', crossfield: 'off' });
    const onlyT2 = await restoreArchive(both, join(tmp.dir, 'restored-both-T2'), { vars: ['T2'] });
    expect(onlyT2.files.map((f) => [basename(f.path), f.variables.sort()])).toEqual([['wrfout.nc', ['T2', 'XLAT', 'XLONG', 'XTIME']]]);
    const a = await openDataFile(src);
    const b = await openDataFile(r.files[0]!.path);
    try {
      for (const name of ['XLAT', 'XLONG', 'XTIME']) {
        const x = await a.readField(name);
        const y = await b.readField(name);
        expect(Buffer.from(y.values.buffer).equals(Buffer.from(x.values.buffer)), name).toBe(true);
        expect(b.variable(name).attributes['_FillValue'], name).toBeUndefined();
      }
      const x = await a.readField('T2');
      const y = await b.readField('T2');
      let worst = 0;
      for (let i = 0; i < x.values.length; i++) worst = Math.max(worst, Math.abs(x.values[i]! - y.values[i]!));
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(Number(b.variable('T2').attributes['fieldpack_bound']));
    } finally {
      a.close();
      b.close();
    }
  });

  it('scalars and char variables (crs, a packed scalar, Times) come back as stored, whatever --vars selects; attributes keep their types; what would not come back is named as left out', async () => {
    for (const format of ['NETCDF3_CLASSIC', 'NETCDF4']) {
      const src = join(tmp.dir, `carried-${format}.nc`);
      execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w', format=sys.argv[2]); ds.createDimension('Time', None); ds.createDimension('DateStrLen', 19)
ds.createDimension('y', 20); ds.createDimension('x', 30)
times = ds.createVariable('Times', 'S1', ('Time', 'DateStrLen'))
crs = ds.createVariable('crs', 'i4', ()); crs.grid_mapping_name = 'lambert_conformal_conic'; crs.latitude_of_projection_origin = 38.5
crs.semi_major_axis = 6378137.0; crs.standard_parallel = [30.0, 60.0]
p = ds.createVariable('p_top', 'i2', (), fill_value=np.int16(-999)); p.scale_factor = np.float32(2.0); p.units = 'Pa'
T = ds.createVariable('T2', 'f4', ('Time', 'y', 'x')); T.grid_mapping = 'crs'; T.units = 'K'; T.offset = np.float32(2.0); T.FieldType = np.int32(104)
ds.DX = np.float32(12000.0); ds.HALF = 0.5
Q = ds.createVariable('Q2', 'f4', ('Time', 'y', 'x'))
for i in range(3):
    times[i] = netCDF4.stringtochar(np.array(['2005-08-28_%02d:00:00' % i], 'S19'))
    T[i] = 280 + np.add.outer(np.arange(20), np.arange(30)) / 10.0 + i
    Q[i] = 0.01 + i / 1000.0
crs.assignValue(0)
p.set_auto_maskandscale(False); p.assignValue(2000)
ds.createDimension('n', 3)
label = ds.createVariable('label', 'S1', ('n',)); label[:] = np.array([b'A', b'\\xe9', b'B'], 'S1')
odd = ds.createVariable('my scalar', 'f8', ()); odd.assignValue(1.5)
if sys.argv[2] == 'NETCDF4':
    s = ds.createVariable('station', str, ('Time',)); s[0] = 'KMSY'
    big = ds.createVariable('big', 'i8', ()); big.assignValue(2**60 + 1)
ds.close()
`, src, format]);
      const out = join(tmp.dir, `carried-${format}-arc`);
      await buildArchive({ inputs: [src], out, bound: 'rel:1e-3', crossfield: 'off', vars: ['T2'] });
      const listed = await listArchive(out);
      // ('my scalar' is a netCDF name: netCDF-C takes a space inside a name)
      expect(listed.sources[0]!.carried.sort(), format).toEqual(['Times', 'crs', 'my scalar', 'p_top']);
      // what would not come back as stored is named, not carried (an archive that builds must restore)
      const skipped = Object.fromEntries(listed.sources[0]!.skipped.map((x) => [x.name, x.reason]));
      expect(Object.keys(skipped).sort(), format).toEqual(format === 'NETCDF4' ? ['Q2', 'big', 'label', 'station'] : ['Q2', 'label']);
      expect(skipped['label']).toMatch(/past ASCII/);
      if (format === 'NETCDF4') expect(skipped['big']).toMatch(/not read as stored: .*past 2\^53/);
      const restored = join(tmp.dir, `carried-${format}-out`);
      const r = await restoreArchive(out, restored);
      const back = JSON.parse(execFileSync(PYTHON, ['-c', `
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1]); p = ds['p_top']; p.set_auto_maskandscale(False)
print(json.dumps({'vars': sorted(ds.variables), 'times': [str(t) for t in netCDF4.chartostring(ds['Times'][:])], 'unlimited': ds.dimensions['Time'].isunlimited(),
  'crs': int(ds['crs'][...]), 'crs_attrs': {k: [str(ds['crs'].getncattr(k)), type(ds['crs'].getncattr(k)).__name__ if isinstance(ds['crs'].getncattr(k), str) else str(np.asarray(ds['crs'].getncattr(k)).dtype)] for k in ds['crs'].ncattrs()}, 'grid_mapping': ds['T2'].grid_mapping,
  'attr_types': [str(np.asarray(ds.DX).dtype), str(np.asarray(ds.HALF).dtype), str(np.asarray(ds['T2'].offset).dtype), str(np.asarray(ds['T2'].FieldType).dtype)],
  'p_top': [int(p[...]), str(p.dtype), float(p.scale_factor), str(np.asarray(p.scale_factor).dtype), int(p._FillValue), p.units], 'p_top_unpacked': repr(netCDF4.Dataset(sys.argv[1])['p_top'][...].item())}))
`, r.files[0]!.path], { encoding: 'utf8' }));
      expect(back, format).toEqual({
        vars: ['T2', 'Times', 'crs', 'my scalar', 'p_top'],
        times: ['2005-08-28_00:00:00', '2005-08-28_01:00:00', '2005-08-28_02:00:00'],
        unlimited: true,
        crs: 0,
        // attributes in their stored types: 6378137.0 and [30.0, 60.0] stay float64, a float32 scale_factor of 2.0 float32
        crs_attrs: {
          grid_mapping_name: ['lambert_conformal_conic', 'str'], latitude_of_projection_origin: ['38.5', 'float64'],
          semi_major_axis: ['6378137.0', 'float64'], standard_parallel: ['[30. 60.]', 'float64'],
        },
        grid_mapping: 'crs',
        // a field's and the file's attributes keep their stored types too (a float32 12000.0 was written as an int)
        attr_types: ['float32', 'float64', 'float32', 'int32'],
        p_top: [2000, 'int16', 2, 'float32', -999, 'Pa'],
        p_top_unpacked: '4000.0',
      });
      // an edited manifest is not believed: a type an attribute's value does not fit is not used, and carried values
      // that are not of their dtype are refused before anything is written
      const manifestPath = join(out, 'manifest.json');
      const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const crs = m.sources[0].carried.find((c: { name: string }) => c.name === 'crs');
      crs.attributeTypes.semi_major_axis = 'int8';
      delete m.manifestSha256;
      writeFileSync(manifestPath, JSON.stringify(m));
      await restoreArchive(out, join(tmp.dir, `carried-${format}-edited`));
      crs.data.numbers = [1.5];
      writeFileSync(manifestPath, JSON.stringify(m));
      // a source that cannot be restored is named, not thrown (the others would still come back)
      expect(await restoreArchive(out, join(tmp.dir, `carried-${format}-edited2`))).toMatchObject({ files: [], failed: [{ message: expect.stringMatching(/crs: values that are not int32 values/) }] });
      // a file of many char variables does not swell the manifest past 16 MiB
      const df = await openDataFile(src);
      try {
        expect(notCarriedReason(df.variable('Times'), df, CARRIED_MAX_SOURCE_BYTES - 10)).toMatch(/already take \d+ bytes of the 16777216/);
      } finally {
        df.close();
      }
      expect(existsSync(join(tmp.dir, `carried-${format}-edited2`, `carried-${format}.nc`))).toBe(false);
    }
  });

  it('a resumed build refuses a source written since it started (same size, other values): its finished members hold the old ones', async () => {
    const src = join(tmp.dir, 'edited.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 20); ds.createDimension('x', 30)
ds.createVariable('T', 'f4', ('y', 'x'))[:] = np.add.outer(np.arange(20), np.arange(30)); ds.close()
`, src]);
    const out = join(tmp.dir, 'edited-arc');
    await buildArchive({ inputs: [src], out, bound: 'rel:1e-3', crossfield: 'off' });
    // an edit in place keeps the size; its modification time says it
    execFileSync(PYTHON, ['-c', "import sys, netCDF4; d = netCDF4.Dataset(sys.argv[1], 'a'); d['T'][0, 0] = 5.0; d.close()", src]);
    utimesSync(src, new Date(), new Date(Date.now() + 5000));
    await expect(buildArchive({ inputs: [src], out, bound: 'rel:1e-3', crossfield: 'off' })).rejects.toThrow(/edited\.nc changed since this build started/);
  });

  it('an int64 variable past 2^53 is left out with the reason (no double holds it), and the rest of its file archived', async () => {
    const src = join(tmp.dir, 'int64.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('y', 2); ds.createDimension('x', 3)
ds.createVariable('ids', 'i8', ('y', 'x'))[:] = np.array([[2**60 + 1, 2, 3], [4, 5, 6]], 'i8')
ds.createVariable('T', 'f4', ('y', 'x'))[:] = np.arange(6).reshape(2, 3); ds.close()
`, src]);
    const out = join(tmp.dir, 'int64-arc');
    await buildArchive({ inputs: [src], out, bound: 'rel:1e-3', crossfield: 'off' });
    const listed = await listArchive(out);
    expect(listed.members.map((m) => m.variable)).toEqual(['T']);
    expect(listed.sources[0]!.skipped).toEqual([{ name: 'ids', reason: expect.stringMatching(/holds 1152921504606846977 .*past 2\^53/) }]);
    // restore says what the restored file lacks
    const r = await fieldpack('archive', 'restore', out, '-o', join(tmp.dir, 'int64-out'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/int64\.nc: T \(from int64\.nc\)\nnot archived from int64\.nc: ids \(the 64-bit integer variable/);
  });

  it('names netCDF allows (a digit first, a space, past ASCII) and an HDF5 dimension scale kept in a group come back; a name the NetCDF-4 writer cannot take is left out at build, named, and the rest restore', async () => {
    // they built and verified, then restore refused their whole source file
    const names = join(tmp.dir, 'names.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w', format='NETCDF3_CLASSIC'); ds.createDimension('y', 6); ds.createDimension('x', 5)
for k, n in enumerate(['T', '2m_temp', 'air temp', 'temp\u00e9rature']): ds.createVariable(n, 'f4', ('y', 'x'))[:] = np.arange(30).reshape(6, 5) * (k + 1)
ds.close()
`, names]);
    const { loadH5wasm } = await import('../../../src-main/services/data/readers/h5.ts');
    const h5 = await loadH5wasm();
    type W = { create_group(n: string): void; create_dataset(a: object): { make_scale(n: string): void; attach_scale(i: number, p: string): void }; close(): void };
    const plain = join(tmp.dir, 'scales.h5');
    const w = new h5.File(plain, 'w') as unknown as W;
    w.create_group('coords');
    w.create_dataset({ name: 'coords/lat', data: new Float64Array([-10, -6, -2, 2, 6, 10]), shape: [6] }).make_scale('lat');
    const t = w.create_dataset({ name: 'T', data: new Float32Array(30).map((_, i) => i), shape: [6, 5] });
    t.attach_scale(0, '/coords/lat');
    w.create_dataset({ name: '-x', data: new Float32Array(30), shape: [6, 5] });
    w.create_group('-notes');
    // a scale of 6 attached to an axis of 7: the restore refused the whole file after the archive verified
    w.create_dataset({ name: 'longer', data: new Float32Array(7), shape: [7] }).attach_scale(0, '/coords/lat');
    w.close();
    const out = join(tmp.dir, 'names-arc');
    await buildArchive({ inputs: [names, plain], out, bound: 'abs:1e-3', crossfield: 'off' });
    expect((await listArchive(out)).sources.find((s) => s.name === 'scales.h5')!.skipped).toContainEqual({ name: '-x', reason: expect.stringMatching(/name the NetCDF-4 writer does not take/) });
    expect((await listArchive(out)).sources.find((s) => s.name === 'scales.h5')!.skipped).toContainEqual({ name: 'longer', reason: 'its axis 0 is 7 long, its dimension coords/lat 6, so not archived' });
    expect((await listArchive(out)).sources.find((s) => s.name === 'scales.h5')!.skipped).toContainEqual({ name: '-notes/', reason: expect.stringMatching(/a group with a name the NetCDF-4 writer does not take/) });
    const r = await restoreArchive(out, join(tmp.dir, 'names-out'));
    expect(r.failed).toEqual([]);
    // a file with nothing to archive says why each variable was left out (it said "nothing to archive" alone)
    const onlyBad = join(tmp.dir, 'only-bad.h5');
    const b = new h5.File(onlyBad, 'w') as unknown as W;
    b.create_dataset({ name: 'temp ', data: new Float32Array(20), shape: [4, 5] });
    b.close();
    await expect(buildArchive({ inputs: [onlyBad], out: join(tmp.dir, 'only-bad-arc'), bound: 'rel:1e-3', crossfield: 'off' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/nothing to archive in .*only-bad\.h5: temp  \(a name the NetCDF-4 writer does not take, so not archived\)/) });
    const back = JSON.parse(execFileSync(PYTHON, ['-c', `
import sys, json, netCDF4
a = netCDF4.Dataset(sys.argv[1]); b = netCDF4.Dataset(sys.argv[2])
print(json.dumps({'names': sorted(a.variables), 'err': float(max(abs(a[n][:] - (k + 1) * a['T'][:] / 1).max() for k, n in enumerate(['T', '2m_temp', 'air temp', 'temp\u00e9rature']))),
  'dims': list(b['T'].dimensions), 'lat': [float(v) for v in b['lat'][:]]}))
`, ...['names.nc', 'scales.nc'].map((f) => r.files.find((x) => basename(x.path) === f)!.path)], { encoding: 'utf8' }));
    expect(back.names).toEqual(['2m_temp', 'T', 'air temp', 'temp\u00e9rature']);
    expect(back.err).toBeLessThanOrEqual(2e-3);
    expect(back.dims[0]).toBe('lat');
    expect(back.lat).toEqual([-10, -6, -2, 2, 6, 10]);
  });

  it('a NetCDF-4 group with dimensions of its own comes back with them, its variables and a nested group\'s along them, its attributes in their types, and groups that hold only attributes', async () => {
    const src = join(tmp.dir, 'groups.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], 'w'); ds.createDimension('x', 10); ds.createVariable('top', 'f4', ('x',))[:] = np.arange(10)
g = ds.createGroup('g1'); g.createDimension('q', 7); g.createVariable('inner', 'f4', ('q',))[:] = np.linspace(0, 1, 7)
g.createGroup('g2').createVariable('deep', 'f4', ('q', 'x'))[:] = np.outer(np.arange(7), np.ones(10))
g.createDimension('n', 3); g.createVariable('label', 'S1', ('n',))[:] = np.array([b'A', b'B', b'C'], 'S1')
g.createDimension('rec', None); g.createVariable('series', 'f4', ('rec', 'q'))[:] = np.arange(21).reshape(3, 7)
for k in range(12): g.setncattr(f'a{11 - k:02d}', k)
g.title = 'inner group'; g.version = np.int16(3); g.weights = np.array([0.5, 1.5]); g.missing = np.float32(np.nan)
e = ds.createGroup('empty'); e.note = 'kept'; e.createGroup('deeper')
e.setncattr_string('labels', ['one', 'two', 'three']); ds.scale_factor = 2.5; ds.setncattr_string('sources', ['a', 'b'])
ds.close()
`, src]);
    const out = join(tmp.dir, 'groups-arc');
    await buildArchive({ inputs: [src], out, bound: 'abs:1e-3', crossfield: 'off' });
    const r = await restoreArchive(out, join(tmp.dir, 'groups-out'));
    // a char variable along the group's own dimension is kept as stored there too
    expect(r.failed).toEqual([]);
    expect(r.files[0]!.variables.sort()).toEqual(['g1/g2/deep', 'g1/inner', 'g1/label', 'g1/series', 'top']);
    const back = JSON.parse(execFileSync(PYTHON, ['-c', `
import sys, json, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1]); g = ds.groups['g1']
print(json.dumps({'root': list(ds.dimensions), 'g1': {k: len(d) for k, d in g.dimensions.items()}, 'rec': g.dimensions['rec'].isunlimited(), 'series': g['series'][:].tolist(), 'inner': list(g['inner'].dimensions), 'label': str(netCDF4.chartostring(g['label'][:])),
  'deep': list(g.groups['g2']['deep'].dimensions), 'err': float(max(abs(g['inner'][:] - np.linspace(0, 1, 7)).max(), abs(g.groups['g2']['deep'][:] - np.outer(np.arange(7), np.ones(10))).max())),
  'g1attrs': {k: [str(np.asarray(g.getncattr(k)).dtype), str(np.asarray(g.getncattr(k)).tolist())] for k in g.ncattrs()},
  'empty': {k: ds.groups['empty'].getncattr(k) for k in ds.groups['empty'].ncattrs()}, 'deeper': list(ds.groups['empty'].groups),
  'globals': {k: ds.getncattr(k) for k in ['scale_factor', 'sources']}}))
`, r.files[0]!.path], { encoding: 'utf8' }));
    // a group's record dimension (it was read 0 long: the archive verified, then its file did not restore)
    expect(back).toMatchObject({ root: ['x'], g1: { q: 7, n: 3, rec: 3 }, rec: true, inner: ['q'], deep: ['q', 'x'], label: 'ABC' });
    expect(back.series.flat()).toEqual(Array.from({ length: 21 }, (_, i) => expect.closeTo(i, 2)));
    // in the source's order (a group of more than 8 attributes came back in hash order)
    expect(Object.keys(back.g1attrs)).toEqual([...Array.from({ length: 12 }, (_, k) => `a${String(11 - k).padStart(2, '0')}`), 'title', 'version', 'weights', 'missing']);
    expect(back.g1attrs).toMatchObject({ title: ['<U11', 'inner group'], version: ['int16', '3'], weights: ['float64', '[0.5, 1.5]'], missing: ['float32', 'nan'] });
    // a list of strings stays a list (it came back as one string of JSON), and the file's own scale_factor stays
    expect(back.empty).toEqual({ note: 'kept', labels: ['one', 'two', 'three'] });
    expect(back.globals).toEqual({ scale_factor: 2.5, sources: ['a', 'b'] });
    expect(back.deeper).toEqual(['deeper']);
    expect(back.err).toBeLessThanOrEqual(1e-3);
  });
});
