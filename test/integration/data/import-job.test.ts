/**
 * The `dataset.import` job and the data.* exploration API through the app (createApp + jobs.submit):
 * COADS (NetCDF-3) and WRF Katrina (NetCDF-4, staggered grids) imported with fields, stats and grids;
 * a truncated NetCDF file and a raw file of the wrong size fail with messages naming the file and the
 * problem and store nothing; cancellation stores nothing; data.inspect, data.slice, data.histogram and
 * data.correlation (COADS SST vs AIRT, WRF T vs QVAPOR with U/V destaggered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, type AppContext } from '../../../src-main/services/app-context.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import type { ApiOutput, FieldRecord, Run } from '../../../src-main/api/contract.ts';
import type { ImportResult } from '../../../src-main/api/methods/data.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { WRF } from './helpers.ts';

const COADS = '/usr/share/ferret-vis/data/coads_climatology.cdf';
const tmp = tempDir('fieldpack-import-job-');
let app: AppContext;
let projectId: number;

async function submit(params: Record<string, unknown>): Promise<Run> {
  const run = (await dispatch(app.services, 'jobs.submit', { kind: 'dataset.import', projectId, params })) as Run;
  return app.jobs.waitFor(run.id);
}
const datasetCount = () => app.store.listDatasets(projectId).length;
const decode = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

beforeAll(() => {
  app = createApp({ dbPath: join(tmp.dir, 'i.db'), door: 'cli' });
  projectId = app.store.createProject('import').id;
});
afterAll(async () => {
  await app?.close();
  tmp.cleanup();
});

describe.skipIf(!existsSync(COADS))('dataset.import on COADS (NetCDF-3) (needs ferret-datasets)', () => {
  let result: ImportResult;
  let fields: FieldRecord[];

  it('imports every field with stats and one grid with recognised axes', async () => {
    const run = await submit({ paths: [COADS], name: 'COADS' });
    expect(run.error).toBeNull();
    expect(run.status).toBe('finished');
    expect(run.progress).toBe(1);
    result = run.result as ImportResult;
    expect(result).toMatchObject({ name: 'COADS', fields: 7, grids: 1, skipped: [] });
    fields = app.store.listFields(result.datasetId);
    expect(fields.map((f) => f.name).sort()).toEqual(['AIRT', 'SLP', 'SPEH', 'SST', 'UWND', 'VWND', 'WSPD']);
    const sst = fields.find((f) => f.name === 'SST')!;
    expect(sst).toMatchObject({ dims: ['TIME', 'COADSY', 'COADSX'], shape: [12, 90, 180], units: 'Deg C', gridKey: 'g1' });
    const st = sst.stats as { fillFraction: number; min: number; max: number; distinct: { count: number }; quantization: { detected: boolean }; role: string };
    expect(st.fillFraction).toBeGreaterThan(0.3); // land
    expect(st.min).toBeGreaterThan(-3);
    expect(st.max).toBeLessThan(40);
    expect(st.role).toBe('data');
    const d = app.store.getDataset(result.datasetId);
    const grid = (d.description['grids'] as Array<{ axes: Array<{ kind: string }> }>)[0]!;
    expect(grid.axes.map((a) => a.kind)).toEqual(['time', 'latitude', 'longitude']);
    expect(app.store.getRunDetail(run.id).logs.some((l) => l.includes('stored dataset'))).toBe(true);
  });

  it('data.slice: a 90 x 180 SST slice at a month, land as NaN, flipped (latitude increases)', async () => {
    const sst = fields.find((f) => f.name === 'SST')!;
    const s = (await dispatch(app.services, 'data.slice', { fieldId: sst.id, leading: [6] })) as ApiOutput<'data.slice'>;
    expect(s).toMatchObject({ dims: ['COADSY', 'COADSX'], leadingDims: ['TIME'], leadingShape: [12], index: [6], sourceHeight: 90, sourceWidth: 180, height: 90, width: 180, stride: 1, flipY: true, units: 'Deg C' });
    const v = decode(s.data);
    expect(v.length).toBe(90 * 180);
    const nan = v.filter((x) => Number.isNaN(x)).length;
    expect(nan / v.length).toBeCloseTo(s.maskedFraction, 6);
    expect(s.maskedFraction).toBeGreaterThan(0.3);
    expect(Math.min(...v.filter((x) => !Number.isNaN(x)))).toBeCloseTo(s.min!, 5);
    // out-of-range indices are clamped; a smaller maxSize gives a stride
    const t = (await dispatch(app.services, 'data.slice', { fieldId: sst.id, leading: [99], maxSize: 50 })) as ApiOutput<'data.slice'>;
    expect(t).toMatchObject({ index: [11], stride: 4, height: 23, width: 45 });
  });

  it('data.histogram: counts of valid values, whole field or one month', async () => {
    const sst = fields.find((f) => f.name === 'SST')!;
    const all = (await dispatch(app.services, 'data.histogram', { fieldId: sst.id, bins: 40 })) as ApiOutput<'data.histogram'>;
    expect(all.counts).toHaveLength(40);
    expect(all.edges).toHaveLength(41);
    expect(all.counts.reduce((a, b) => a + b, 0)).toBe(all.validCount);
    expect(all.validCount).toBe((sst.stats as { validCount: number }).validCount);
    const month = (await dispatch(app.services, 'data.histogram', { fieldId: sst.id, bins: 40, leading: [0] })) as ApiOutput<'data.histogram'>;
    expect(month.index).toEqual([0]);
    expect(month.validCount).toBeLessThan(all.validCount / 6);
  });

  it('data.correlation: SST vs AIRT r ~ 0.99, differences per axis, cached the second time', async () => {
    const c = (await dispatch(app.services, 'data.correlation', { datasetId: result.datasetId })) as ApiOutput<'data.correlation'>;
    const i = c.fields.findIndex((f) => f.name === 'SST');
    const j = c.fields.findIndex((f) => f.name === 'AIRT');
    expect(c.fields.every((f) => f.matchedBy === 'same-grid')).toBe(true);
    expect(c.values.r[i]![j]).toBeGreaterThan(0.97);
    expect(c.values.r[i]![i]).toBe(1);
    expect(c.differences.map((d) => d.dim)).toEqual(['TIME', 'COADSY', 'COADSX']);
    expect(c.cached).toBe(false);
    const again = (await dispatch(app.services, 'data.correlation', { datasetId: result.datasetId, gridKey: 'g1' })) as ApiOutput<'data.correlation'>;
    expect(again.cached).toBe(true);
    expect(again.values).toEqual(c.values);
  });

  it('data.inspect lists variables quickly, with dims, dtype, units and fill', async () => {
    const r = (await dispatch(app.services, 'data.inspect', { path: COADS })) as ApiOutput<'data.inspect'>;
    expect(r.format).toBe('netcdf3-classic');
    const sst = r.variables.find((v) => v.name === 'SST')!;
    expect(sst).toMatchObject({ dims: ['TIME', 'COADSY', 'COADSX'], shape: [12, 90, 180], dtype: 'float32', units: 'Deg C', readable: true });
    expect(sst.fill.fillValue ?? sst.fill.missingValues?.[0]).toBeCloseTo(-1e34, -30);
  });
});

describe.skipIf(!existsSync(WRF))('dataset.import on WRF Katrina (NetCDF-4, staggered) (needs the WRF Katrina file)', () => {
  it('imports, groups grids, and correlates T with QVAPOR with U/V destaggered by averaging', async () => {
    const run = await submit({ paths: [WRF] });
    expect(run.error).toBeNull();
    const r = run.result as ImportResult;
    expect(r.skipped.map((s) => s.name)).toContain('Times');
    expect(r.grids).toBeGreaterThanOrEqual(5);
    const fields = app.store.listFields(r.datasetId);
    const t = fields.find((f) => f.name === 'T')!;
    expect(t.shape).toEqual([4, 14, 48, 48]);
    expect(fields.find((f) => f.name === 'XLAT')!.stats['role']).toBe('auxiliary-coordinate');

    const c = (await dispatch(app.services, 'data.correlation', { datasetId: r.datasetId, gridKey: t.gridKey })) as ApiOutput<'data.correlation'>;
    const by = (n: string) => c.fields.findIndex((f) => f.name === n);
    expect(c.values.r[by('T')]![by('QVAPOR')]).toBeCloseTo(-0.93, 1);
    expect(c.fields[by('U')]).toMatchObject({ matchedBy: 'destagger-average', destaggeredDim: 'west_east_stag' });
    expect(c.fields[by('V')]).toMatchObject({ matchedBy: 'destagger-average', destaggeredDim: 'south_north_stag' });
    expect(c.fields[by('U')]!.note).toMatch(/averaged/);
    expect(c.differences.map((d) => d.dim)).toEqual(['Time', 'bottom_top', 'south_north', 'west_east']);
    // the default grid is the 3-D mass grid, not the 2-D surface one
    const dflt = (await dispatch(app.services, 'data.correlation', { datasetId: r.datasetId })) as ApiOutput<'data.correlation'>;
    expect(dflt.gridKey).toBe(t.gridKey);
    expect(dflt.grids.length).toBeGreaterThanOrEqual(2);

    const s = (await dispatch(app.services, 'data.slice', { fieldId: t.id, leading: [1, 3] })) as ApiOutput<'data.slice'>;
    expect(s).toMatchObject({ leadingDims: ['Time', 'bottom_top'], index: [1, 3], height: 48, width: 48, flipY: true });
  });
});

describe.skipIf(!existsSync(COADS))('bad input fails the run, names the file and stores nothing (needs ferret-datasets)', () => {
  it('a truncated NetCDF file', async () => {
    const bad = join(tmp.dir, 'truncated.cdf');
    const bytes = readFileSync(COADS);
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = datasetCount();
    const run = await submit({ paths: [COADS, bad] });
    expect(run.status).toBe('failed');
    expect(run.error!.code).toBe('BAD_FILE');
    expect(run.error!.message).toContain(bad);
    expect(run.error!.message).toMatch(/truncated|short|expected/i);
    expect(datasetCount()).toBe(before);
  });

  it('a raw file whose size does not match its shape', async () => {
    const raw = join(tmp.dir, 'field.f32');
    writeFileSync(raw, Buffer.from(new Float32Array(100).buffer));
    const before = datasetCount();
    const run = await submit({ paths: [raw], raw: { [raw]: { shape: [10, 11], dtype: 'float32' } } });
    expect(run.status).toBe('failed');
    expect(run.error!.code).toBe('BAD_FILE');
    expect(run.error!.message).toContain(raw);
    expect(run.error!.message).toMatch(/400/);
    expect(datasetCount()).toBe(before);
    // the right shape imports, and the raw options are kept so the slice can be read back
    const ok = await submit({ paths: [raw], raw: { [raw]: { shape: [10, 10], dtype: 'float32' } } });
    expect(ok.error).toBeNull();
    const f = app.store.listFields((ok.result as ImportResult).datasetId)[0]!;
    const s = (await dispatch(app.services, 'data.slice', { fieldId: f.id, leading: [] })) as ApiOutput<'data.slice'>;
    expect([s.height, s.width, s.flipY]).toEqual([10, 10, false]);
  });

  it('a missing file and bad params', async () => {
    const run = await submit({ paths: [join(tmp.dir, 'nope.nc')] });
    expect(run.status).toBe('failed');
    expect(run.error!.message).toContain('nope.nc');
    // refused at submission by the import kind's params schema
    await expect(submit({ paths: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/params\.paths: dataset\.import: give at least one file/) });
  });

  it('cancellation stops the import and stores nothing', async () => {
    const before = datasetCount();
    // subscribed first: the job starts (and logs) before jobs.submit's answer arrives; cancelled once it reads values
    let cancelled = false;
    const off = app.events.on((e) => {
      if (!cancelled && e.type === 'run.updated' && e.run.kind === 'dataset.import' && e.run.status === 'running' && e.run.message.includes(':')) {
        cancelled = true;
        app.jobs.cancel(e.run.id);
      }
    });
    const run = (await dispatch(app.services, 'jobs.submit', { kind: 'dataset.import', projectId, params: { paths: [COADS] } })) as Run;
    const ended = await app.jobs.waitFor(run.id);
    off();
    expect(cancelled).toBe(true);
    expect(ended.status).toBe('cancelled');
    expect(datasetCount()).toBe(before);
  });
});
