import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { correlationMatrix } from '../../../src-main/core/stats/index.ts';
import { centralSlice, datasetName, describeDataset, recogniseAxis } from '../../../src-main/services/data/describe.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { readSlice2D } from '../../../src-main/services/data/explore.ts';
import { PYTHON, WRF, available, fixturePath, hasPythonNetcdf4 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-describe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('describeDataset', () => {
  it.skipIf(!available('coads'))('COADS: one grid with CF time/lat/lon, stats per field, JSON-serialisable (needs ferret-datasets)', async () => {
    const progress: number[] = [];
    const d = await describeDataset([fixturePath('coads')], { onProgress: (f) => progress.push(f) });
    expect(d.name).toBe('coads_climatology');
    expect(d.files[0]).toMatchObject({ name: 'coads_climatology.cdf', format: 'netcdf3-classic', dimensions: { TIME: 12, COADSY: 90, COADSX: 180 } });
    expect(d.fields.map((f) => f.id)).toEqual(['SST', 'AIRT', 'SPEH', 'WSPD', 'UWND', 'VWND', 'SLP']);
    expect(d.grids).toHaveLength(1);
    expect(d.grids[0]!.axes.map((a) => [a.dim, a.kind, a.recognisedBy])).toEqual([
      ['TIME', 'time', 'cf-units'],
      ['COADSY', 'latitude', 'cf-units'],
      ['COADSX', 'longitude', 'cf-units'],
    ]);
    const sst = d.fields[0]!;
    expect(sst.stats.fillFraction).toBeCloseTo(0.461, 3);
    expect(sst.units).toBe('Deg C');
    expect(d.coordinates.map((c) => c.name)).toEqual(['COADSX', 'COADSY', 'TIME']);
    expect(progress.at(-1)).toBe(1);
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it.skipIf(!available('wrf'))('WRF: staggered grids linked to the mass grid; char variable skipped; auxiliary coordinates flagged (needs the WRF Katrina file)', async () => {
    const d = await describeDataset([WRF]);
    const mass = d.grids.find((g) => g.fields.includes('T'))!;
    expect(mass.shape).toEqual([4, 14, 48, 48]);
    expect(mass.staggeredFields.sort()).toEqual(['PH', 'PHB', 'U', 'V', 'W']);
    const ugrid = d.grids.find((g) => g.fields.includes('U'))!;
    expect(ugrid.destaggersTo).toBe(mass.id);
    expect(ugrid.axes[3]).toMatchObject({ dim: 'west_east_stag', kind: 'x', staggered: true });
    expect(mass.axes.map((a) => a.kind)).toEqual(['time', 'level', 'y', 'x']);
    expect(d.skipped).toEqual([{ file: 0, name: 'Times', reason: 'dtype char is not a numeric field type' }]);
    expect(d.fields.find((f) => f.name === 'XLAT')!.role).toBe('auxiliary-coordinate');
    expect(d.fields.find((f) => f.name === 'T')!.role).toBe('data');
    // the correlation the UI shows for the mass grid: T vs QVAPOR strongly negative (README: r = -0.93)
    const file = await openDataFile(WRF);
    const fields = await Promise.all([...mass.fields, ...mass.staggeredFields].map((n) => file.readField(n)));
    file.close();
    const c = correlationMatrix(fields, { grid: { dims: mass.dims, shape: mass.shape } });
    const ti = c.fields.findIndex((f) => f.name === 'T');
    const qi = c.fields.findIndex((f) => f.name === 'QVAPOR');
    expect(c.values.r[ti]![qi]).toBeCloseTo(-0.93, 2);
    expect(c.fields.find((f) => f.name === 'U')!.matchedBy).toBe('destagger-average');
    expect(c.differences.map((x) => x.dim)).toEqual(['Time', 'bottom_top', 'south_north', 'west_east']);
  });

  it.skipIf(!available('levitus'))('levitus: depth axis from positive=down (needs ferret-datasets)', async () => {
    const d = await describeDataset([fixturePath('levitus')]);
    expect(d.grids[0]!.axes[0]).toMatchObject({ dim: 'ZAXLEVITR', kind: 'level', recognisedBy: 'cf-positive' });
  });

  it('is all-or-nothing: a bad file among good ones throws, naming it', async () => {
    const bad = join(dir, 'bad.nc');
    writeFileSync(bad, 'not netcdf');
    await expect(describeDataset([fixturePath('synthetic_nc3'), bad])).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringContaining('bad.nc') });
    await expect(describeDataset([fixturePath('synthetic_nc3')], { variables: ['nope'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const ac = new AbortController();
    ac.abort();
    await expect(describeDataset([fixturePath('synthetic_nc3')], { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('an unlimited dimension with no records yet: its variables are listed as skipped, the rest described; reading one says it has no values', async () => {
    // the NetCDF-3 fixture with its record count (bytes 4..7) set to 0: time and the record variables are empty
    const bytes = Uint8Array.from(readFileSync(fixturePath('synthetic_nc3')));
    new DataView(bytes.buffer).setUint32(4, 0, false);
    const path = join(dir, 'no_records.nc');
    writeFileSync(path, bytes);
    const d = await describeDataset([path]);
    expect(d.fields.map((f) => f.name)).toEqual(['depth']);
    expect(d.skipped.map((s) => s.reason)).toEqual(expect.arrayContaining([expect.stringMatching(/no values yet: dimension time has length 0/)]));
    expect(d.coordinates.find((c) => c.name === 'time')).toMatchObject({ size: 0, first: null, last: null });
    const f = await openDataFile(path);
    await expect(f.readField('sst')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no_records\.nc: variable "sst" has no values: its dimension time has length 0/) });
    f.close();
    // the data view's slice of it says the same
    await expect(readSlice2D(path, 'sst')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/"sst" has no values/) });
  });

  it.runIf(hasPythonNetcdf4())('NetCDF-4: an unlimited dimension without a coordinate variable is as long as its records (it read as 0), as netCDF4-python says', async () => {
    const path = join(dir, 'unlimited.nc');
    const py = `import netCDF4, sys
d = netCDF4.Dataset(sys.argv[1], 'w', format='NETCDF4')
d.createDimension('time', None); d.createDimension('x', 5)
v = d.createVariable('sst', 'f4', ('time', 'x')); v[0:3, :] = 1.5
g = d.createGroup('sub'); w = g.createVariable('w', 'f4', ('time', 'x')); w[0:2, :] = 2.0
d.close()
print(len(netCDF4.Dataset(sys.argv[1]).dimensions['time']))`;
    expect(execFileSync(PYTHON, ['-c', py, path], { encoding: 'utf8' }).trim()).toBe('3');
    const f = await openDataFile(path);
    expect(f.dimensions).toMatchObject({ time: 3, x: 5 });
    expect(f.unlimited).toEqual(['time']);
    f.close();
    const d = await describeDataset([path]);
    // sub/w, written to 2 records, is as long as the dimension (its third record fill values), as netCDF4-python says
    expect(d.fields.map((x) => [x.name, x.shape])).toEqual([['sst', [3, 5]], ['sub/w', [3, 5]]]);
  });

  it.runIf(hasPythonNetcdf4())('NetCDF-4: a 64-bit integer time coordinate (as xarray writes times) is read as its values, exactly; int64 data too; a value a double cannot hold is refused with the reason', async () => {
    const path = join(dir, 'int64_time.nc');
    const py = `import netCDF4, sys
d = netCDF4.Dataset(sys.argv[1], 'w', format='NETCDF4')
d.createDimension('time', 3); d.createDimension('x', 4); d.createDimension('big', 2)
t = d.createVariable('time', 'i8', ('time',)); t.units = 'hours since 2020-01-01 00:00:00'; t[:] = [0, 6, 12]
d.createVariable('big', 'i8', ('big',))[:] = [0, 2**53 + 1]
d.createVariable('counts', 'i8', ('time', 'x'))[:] = 7
d.createVariable('tas', 'f4', ('time', 'x'))[:] = 280.5
d.close()`;
    execFileSync(PYTHON, ['-c', py, path]);
    const d = await describeDataset([path]);
    expect(d.coordinates.find((c) => c.name === 'time')).toMatchObject({ size: 3, first: 0, last: 12, units: 'hours since 2020-01-01 00:00:00' });
    expect(d.fields.map((f) => f.name)).toEqual(['counts', 'tas']);
    expect(d.fields[0]!.stats).toMatchObject({ min: 7, max: 7 });
    expect(d.skipped.find((x) => x.name === 'big')?.reason).toMatch(/"big" holds 9007199254740993 at 1, which a double cannot hold exactly/);
    expect(d.coordinates.map((c) => c.name)).not.toContain('big');
    const f = await openDataFile(path);
    expect(Array.from((await f.readField('time')).values)).toEqual([0, 6, 12]);
    await expect(f.readField('big')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/"big" holds 9007199254740993 at 1, which a double cannot hold exactly/) });
    f.close();
  });

  it('a variable larger than the limit is described from a central block (bounded memory), and says so', async () => {
    // sst is [time 4, y 5, x 7] = 140 values: with a limit of 50, one central time step of 35 values
    const d = await describeDataset([fixturePath('synthetic_nc3')], { maxValues: 50 });
    const sst = d.fields.find((f) => f.name === 'sst')!;
    expect(sst.stats.sample).toEqual({ slice: [[1, 2], [0, 5], [0, 7]], values: 35 });
    const f = await openDataFile(fixturePath('synthetic_nc3'));
    const block = await f.readField('sst', { slice: [[1, 2]] });
    f.close();
    const valid = Array.from(block.values).filter((x, i) => (block.mask?.[i] ?? 1) === 1);
    expect(sst.stats.max).toBe(Math.max(...valid));
    expect(sst.stats.min).toBe(Math.min(...valid));
    // under the limit: the whole variable, no sample
    expect(d.fields.find((x) => x.name === 'depth')!.stats.sample).toBeUndefined();
    expect(centralSlice([2, 50000, 50000], 1 << 25)).toEqual([[0, 1], [24664, 25335], [0, 50000]]);
    expect(centralSlice([1e9], 1 << 25)).toEqual([[483222784, 516777216]]);
  });

  it('two files: fields from both, same grid; ids disambiguated when names clash', async () => {
    const d = await describeDataset([fixturePath('synthetic_nc3'), fixturePath('synthetic_nc4')]);
    expect(d.files.map((f) => f.format)).toEqual(['netcdf3-64bit-offset', 'netcdf4-hdf5']);
    // named after both files (it was the first alone, and the second's fields were listed under it)
    expect(d.name).toBe('synthetic_nc3_64bit + synthetic_nc4');
    expect(datasetName(['/a/wrfout_1.nc', '/a/wrfout_2.nc', '/a/wrfout_3.nc', '/a/wrfout_4.nc'])).toBe('wrfout_1 + 3 more');
    expect(d.fields.map((f) => f.id)).toContain('forecast/wind');
    const packed = d.fields.find((f) => f.name === 'temp_packed')!;
    expect(packed.stats.quantization).toMatchObject({ detected: true, source: 'packing' });
    expect(d.skipped.map((s) => s.name)).toEqual([]);
    expect(d.fields.map((f) => f.name)).toContain('ids');
  });

  it('recognises axes by CF attributes, then by name', () => {
    expect(recogniseAxis('t', 3, { name: 't', attributes: { axis: 'T' } }).recognisedBy).toBe('cf-axis');
    expect(recogniseAxis('p', 3, { name: 'p', attributes: { standard_name: 'air_pressure' } })).toMatchObject({ kind: 'level', recognisedBy: 'cf-standard_name' });
    expect(recogniseAxis('plev', 3, { name: 'plev', attributes: {}, units: 'hPa' })).toMatchObject({ kind: 'level', recognisedBy: 'cf-units' });
    expect(recogniseAxis('bottom_top_stag', 15)).toMatchObject({ kind: 'level', recognisedBy: 'name', staggered: true });
    expect(recogniseAxis('foo', 2)).toMatchObject({ kind: 'other', recognisedBy: null });
  });
});
