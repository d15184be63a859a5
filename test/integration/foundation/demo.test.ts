import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../../src-main/services/store/store.ts';
import { DEMO_PROJECT_NAME, ensureDemoProject } from '../../../src-main/services/demo.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('demo project', () => {
  it('is created once on a new database with the COADS sample, and not again after the user deletes it', async () => {
    const store = Store.open(join(tmp.dir, 'demo.db'));
    const demo = await ensureDemoProject(store);
    expect(demo?.name).toBe(DEMO_PROJECT_NAME);
    const [dataset] = store.listDatasets(demo!.id);
    const fields = store.listFields(dataset!.id);
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['SST', 'AIRT', 'SPEH', 'UWND', 'VWND', 'SLP', 'WSPD']));
    const sst = fields.find((f) => f.name === 'SST')!;
    expect(sst.shape).toEqual([12, 90, 180]);
    expect(sst.stats).toMatchObject({ min: expect.closeTo(-2.6, 3), max: expect.closeTo(33.15, 3) });
    expect(store.getSettings()).not.toHaveProperty('state.demoProjectOffered');
    store.deleteProject(demo!.id);
    expect(await ensureDemoProject(store)).toBeNull();
    expect(store.listProjects()).toEqual([]);
    store.close();
  });

  it('is not added to a database that already has projects', async () => {
    const store = Store.open(join(tmp.dir, 'busy.db'));
    store.createProject('mine');
    expect(await ensureDemoProject(store)).toBeNull();
    store.close();
  });
});
