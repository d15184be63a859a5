/**
 * The archive's cross-field links are chosen by a quick estimate on samples. A pair that estimate cannot size (a
 * 1e30 field beside a 1e-30 one: weights past float32; a lossless PSNR or NRMSE target, which nothing predicts
 * within) once failed the whole plan; it is now simply not linked, and the build completes within its bounds. A
 * budget no bound can meet is said, not passed over.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, verifyArchive } from '../../../src-main/services/archive/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { PYTHON, hasPythonNetcdf4 } from '../data/helpers.ts';

const tmp = tempDir('fieldpack-archive-linking-');
afterAll(() => tmp.cleanup());

describe.runIf(hasPythonNetcdf4())('archive links the quick estimate cannot size (needs python3-netcdf4)', () => {
  it('a 1e30 field beside its 1e-30 twin, and lossless PSNR / NRMSE targets: built unlinked, verified', async () => {
    const src = join(tmp.dir, 'bigtiny.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
s = np.random.default_rng(4).standard_normal((30, 40)).cumsum(-1)
d = netCDF4.Dataset(sys.argv[1], 'w'); d.createDimension('y', 30); d.createDimension('x', 40)
d.createVariable('big', 'f4', ('y', 'x'))[:] = (1e30 * (1 + 0.1 * s)).astype('f4')
d.createVariable('tiny', 'f4', ('y', 'x'))[:] = (1e-30 * (1 + 0.1 * s)).astype('f4')
d.close()`, src]);
    for (const bound of ['rel:1e-3', 'nrmse:0', 'psnr:1e30']) {
      const out = join(tmp.dir, bound.replace(':', '-'));
      const r = await buildArchive({ inputs: [src], out, bound });
      expect(r.kind, bound).toBe('archive');
      if (r.kind !== 'archive') continue;
      // nothing is predicted within a lossless target: no link (the quick estimate refused those pairs)
      if (bound !== 'rel:1e-3') expect(r.manifest.links, bound).toEqual([]);
      expect((await verifyArchive(out)).ok, bound).toBe(true);
    }
  });
});

describe('archive budgets', () => {
  it('a budget no bound can meet is said in the outcome\'s notes (it ended exit 0 without a word)', async () => {
    const src = join(import.meta.dirname, '..', '..', 'fixtures', 'data', 'synthetic_nc3_64bit.nc');
    const r = await buildArchive({ inputs: [src], out: join(tmp.dir, 'budget'), vars: ['sst'], crossfield: 'off', budget: 100 });
    expect(r.kind).toBe('archive');
    if (r.kind === 'archive') expect(r.notes).toEqual([expect.stringMatching(/^the budget of 100 bytes is not met: the estimate stays above it at every bound between the limits \(built with sst=rel:/)]);
  });
});
