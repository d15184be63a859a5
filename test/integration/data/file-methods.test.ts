/**
 * The service API's methods on data files (data.describe, data.export), called as every door calls them: through
 * dispatch, on the storeless services the CLI uses (no store is opened).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiOutput } from '../../../src-main/api/contract.ts';
import { dispatch } from '../../../src-main/services/dispatch.ts';
import { storelessServices } from '../../../src-main/services/storeless.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { fixturePath } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-file-methods-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const services = storelessServices();
const nc3 = fixturePath('synthetic_nc3');

describe('data.describe', () => {
  it('describes the chosen variables with their statistics, without a store', async () => {
    const d = (await dispatch(services, 'data.describe', { paths: [nc3], variables: ['sst'] })) as ApiOutput<'data.describe'>;
    expect(d.fields.map((f) => f.name)).toEqual(['sst']);
    const sst = d.fields[0]!;
    expect(sst.shape).toEqual([4, 5, 7]);
    // 4 of the 140 points are fill
    expect(sst.stats.validCount).toBe(136);
    expect(d.grids.find((g) => g.id === sst.gridId)!.dims).toEqual(sst.dims);
  });

  it('refuses an empty path list and names a missing file', async () => {
    await expect(dispatch(services, 'data.describe', { paths: [] })).rejects.toThrow(/give at least one file/);
    await expect(dispatch(services, 'data.describe', { paths: [join(dir, 'nope.nc')] })).rejects.toThrow(/nope\.nc/);
  });
});

describe('data.export', () => {
  it('writes a slice as raw binary with its sidecar, and the readers read back the same values', async () => {
    const out = join(dir, 'sst.f64');
    const progress: number[] = [];
    const r = (await dispatch(services, 'data.export', { path: nc3, variable: 'sst', out, format: 'raw', slice: [[1, 3]], fill: 'NaN' }, { onProgress: (f) => progress.push(f) })) as ApiOutput<'data.export'>;
    expect(r).toMatchObject({ out, variable: 'sst', shape: [2, 5, 7], format: 'raw', sidecar: `${out}.json` });
    const sidecar = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    // the name says float64, and NaN marks the masked points
    expect(sidecar).toMatchObject({ dtype: 'float64', shape: [2, 5, 7], fillValue: 'NaN' });
    const source = await openDataFile(nc3);
    const back = await openDataFile(out);
    try {
      const whole = await source.readField('sst');
      const cut = await back.readField('sst');
      const rowSize = 5 * 7;
      for (let i = 0; i < cut.values.length; i++) {
        const masked = whole.mask !== undefined && whole.mask[rowSize + i] !== 1;
        if (masked) expect(cut.mask?.[i]).toBe(0);
        else expect(cut.values[i]).toBe(whole.values[rowSize + i]);
      }
      expect(r.maskedPoints).toBe(cut.mask ? cut.mask.reduce((s, m) => s + (m ? 0 : 1), 0) : 0);
    } finally {
      source.close();
      back.close();
    }
  });

  it('refuses, before writing anything: a dtype the name contradicts, the input as output, an unknown variable, no format', async () => {
    await expect(dispatch(services, 'data.export', { path: nc3, variable: 'sst', out: join(dir, 'a.f32'), format: 'raw', dtype: 'float64' })).rejects.toThrow(/dtype float64 does not match the name a\.f32/);
    await expect(dispatch(services, 'data.export', { path: nc3, variable: 'sst', out: nc3, format: 'nc' })).rejects.toThrow(/is the input file .*would destroy the input/);
    await expect(dispatch(services, 'data.export', { path: nc3, variable: 'nope', out: join(dir, 'b.nc'), format: 'nc' })).rejects.toThrow(/nope/);
    await expect(dispatch(services, 'data.export', { path: nc3, variable: 'sst', out: join(dir, 'c.nc') })).rejects.toThrow(/format/);
    for (const f of ['a.f32', 'b.nc', 'c.nc']) expect(existsSync(join(dir, f))).toBe(false);
  });

  it('a file of several fields needs the variable named', async () => {
    await expect(dispatch(services, 'data.export', { path: nc3, out: join(dir, 'd.nc'), format: 'nc' })).rejects.toThrow(/has 4 fields \(depth, flag, height, sst\): choose one/);
  });

  it('a cancelled call stops, and leaves no output', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = join(dir, 'e.nc');
    await expect(dispatch(services, 'data.export', { path: nc3, variable: 'sst', out, format: 'nc' }, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(out)).toBe(false);
  });
});
