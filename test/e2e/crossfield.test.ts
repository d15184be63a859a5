/**
 * The Cross-field view in Chromium: a project with COADS SST, AIRT and SPEH; rank anchors for SST (reasons shown),
 * tick AIRT only, run a cross-field compression (linear CFNN: no Python needed) and see the ratio in the results,
 * beside two core-codec runs of SST (in the table and the rate-distortion chart), and in Compare beside one of them.
 * Screenshots: test-artifacts/screenshots/crossfield-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { SCREENSHOTS, callApi, launchBrowser, seedCoadsProject, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import { COADS } from '../helpers/data-files.ts';
const tmp = tempDir('fieldpack-e2e-crossfield-');
let server: ServerHandle;
let browser: Browser;

beforeAll(async () => {
  const db = join(tmp.dir, 'crossfield.db');
  await seedCoadsProject(db, 'COADS cross-field', ['SST', 'AIRT', 'SPEH']);
  server = await startServer(db);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.cleanup();
});

describe.skipIf(!existsSync(COADS))('Cross-field view (needs ferret-datasets)', () => {
  it('ranks anchors for SST, picks AIRT and runs a cross-field compression, shown beside the core codec', async () => {
    // two core-codec runs of SST to compare with
    const project = (await callApi<{ id: number; name: string }[]>(server, 'projects.list')).find((p) => p.name === 'COADS cross-field')!;
    const core = [];
    for (const codec of ['auto', 'lorenzo']) {
      core.push(await callApi<{ id: number }>(server, 'jobs.submit', { kind: 'compress', projectId: project.id, params: { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec, workers: 0 } }));
    }
    for (const r of core) await expect.poll(async () => (await callApi<{ status: string }>(server, 'runs.get', { id: r.id })).status, { timeout: 60_000 }).toBe('finished');
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.getByTestId('project-COADS cross-field').getByTestId('open-project').click();
    await page.getByTestId('nav-crossfield').click();
    // the target is a dataset field, picked like in Compress
    await expect.poll(() => page.getByTestId('cf-target').locator('option:checked').innerText()).toContain('/ SST [12 x 90 x 180]');
    await page.getByTestId('cf-bound-mode').selectOption('psnr');
    await page.getByTestId('cf-bound-values').fill('60');
    await expect.poll(() => page.getByTestId('cf-resolved-bound').innerText()).toMatch(/psnr 60 -> abs [\d.e-]+ Deg C/);
    await page.getByTestId('cf-bound-mode').selectOption('rel');
    await page.getByTestId('cf-bound-values').fill('1e-3');
    await page.getByTestId('cf-network').selectOption('linear');
    // kept over a visit to another view (it was reset to rel 1e-3, network best)
    await page.getByTestId('cf-bound-values').fill('2e-3');
    await page.getByTestId('nav-data').click();
    await page.getByTestId('nav-crossfield').click();
    await expect.poll(() => page.getByTestId('cf-bound-values').inputValue()).toBe('2e-3');
    expect(await page.getByTestId('cf-network').inputValue()).toBe('linear');
    await page.getByTestId('cf-bound-values').fill('1e-3');
    await page.getByTestId('cf-rank').click();
    const cands = page.getByTestId('cf-candidates');
    await expect.poll(() => cands.locator('tbody tr').count(), { timeout: 60_000 }).toBeGreaterThan(1);
    expect(await page.getByTestId('cf-cand-AIRT').innerText()).toMatch(/\|r\| of differences/);
    // exactly AIRT
    for (const v of ['AIRT', 'SPEH', 'WSPD', 'UWND', 'VWND', 'SLP']) {
      const box = page.getByTestId(`cf-tick-${v}`);
      if (!(await box.count())) continue;
      if ((await box.isChecked()) !== (v === 'AIRT')) await box.click();
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'crossfield-ranking.png'), fullPage: true });
    await page.getByTestId('cf-run').click();
    const results = page.getByTestId('cf-results');
    await expect.poll(() => results.locator('tr[data-status="finished"]').count(), { timeout: 120_000, interval: 500 }).toBe(1);
    const ratio = Number(await results.locator('tr[data-status="finished"] [data-test="cf-ratio"]').innerText());
    expect(ratio).toBeGreaterThan(5);
    // the Compress view's columns: PSNR and the largest error, in the field's units
    expect(Number(await results.locator('tr[data-status="finished"] [data-test="cf-psnr"]').innerText())).toBeGreaterThan(50);
    expect(await results.locator('tr[data-status="finished"] [data-test="cf-max-error"]').innerText()).toMatch(/^[\d.e-]+ Deg C$/);
    await expect.poll(() => results.locator('tr.classical').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('rd-chart').locator('canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'crossfield-result.png'), fullPage: true });
    // and in Compare, beside a core-codec run: its anchors, its error map (decoded with the anchor's stream it keeps)
    const [cf] = await callApi<{ id: number }[]>(server, 'runs.list', { projectId: project.id, kind: 'crossfield' });
    await page.getByTestId('nav-compare').click();
    for (const id of [core[0]!.id, cf!.id]) await page.getByTestId(`compare-pick-${id}`).locator('input').check();
    const table = page.getByTestId('compare-table');
    await expect.poll(() => table.locator('thead th').count()).toBe(3);
    expect(await table.innerText()).toMatch(/anchors\s+–\s+AIRT/);
    expect(await table.innerText()).toMatch(/codec\s+auto\s+crossfield/);
    await expect.poll(() => page.getByTestId('error-maps').getByTestId('map-chart').count(), { timeout: 60_000 }).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'crossfield-compare.png'), fullPage: true });
    // and in Compress, among SST's runs: picked, its images are drawn (the reconstruction decoded with its anchor)
    await page.getByTestId('nav-compress').click();
    await expect.poll(() => page.getByTestId(`result-row-${cf!.id}`).count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId(`result-row-${cf!.id}`).getAttribute('data-codec')).toBe('crossfield');
    await page.getByTestId(`result-row-${cf!.id}`).click();
    await expect.poll(() => page.getByTestId('slice-images').getByTestId('image-reconstruction').count(), { timeout: 30_000 }).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
