/**
 * Positions and times in an archive, as WRF files carry them (XLAT, XLONG and XTIME are auxiliary coordinates, named
 * in the fields' `coordinates`, not CF coordinate variables): restored exactly, whatever the archive's bound, and no
 * _FillValue added to a variable that had none. A restore once gave XTIME 720.36 for 720 and XLAT off by 0.006°.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, restoreArchive } from '../../../src-main/services/archive/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { PYTHON, hasPythonNetcdf4 } from '../data/helpers.ts';
import { tempDir } from '../../helpers/tmp.ts';

describe.runIf(hasPythonNetcdf4())('archive: auxiliary coordinates and 1-D variables kept exactly (needs python3-netcdf4)', () => {
  const tmp = tempDir('fieldpack-archive-coords-');
  afterAll(() => tmp.cleanup());

  it('XLAT, XLONG and XTIME come back bit for bit at rel:1e-2; T within its bound; no _FillValue where there was none', async () => {
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
});
