/**
 * The Data view in Chromium (issue 3's browser test): a fresh database gets the demo project; opened, the
 * Data view lists the COADS dataset with its variables and stats, shows a slice of SST with the land masked
 * grey, moves the TIME slider, draws the histogram and the correlation matrix (values and differences);
 * importing a truncated file and a raw file of the wrong size shows clear errors and stores nothing.
 * Screenshots: test-artifacts/screenshots/data-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, SCREENSHOTS, callApi, launchBrowser, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import { existsSync } from 'node:fs';

import { WRF_KATRINA as WRF } from '../helpers/data-files.ts';

const SAMPLE = join(ROOT, 'resources', 'samples', 'coads_climatology.nc');
const tmp = tempDir('fieldpack-e2e-data-');
let server: ServerHandle;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(join(tmp.dir, 'data.db'));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.cleanup();
});

/** Pixels of the slice canvas: total, grey (masked) ones, and a checksum of the image. */
function canvasPixels(page: Page) {
  return page.getByTestId('slice-viewer').locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let grey = 0;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] === 200 && d[i + 1] === 200 && d[i + 2] === 200) grey++;
      sum = (sum * 31 + d[i]! + d[i + 1]! * 7 + d[i + 2]! * 13) % 1_000_000_007;
    }
    return { width: c.width, height: c.height, total: d.length / 4, grey, sum };
  });
}

describe('Data view', () => {
  it('shows the demo COADS dataset: stats, a masked SST slice with a TIME slider, the histogram and the correlation matrix', async () => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    // the first start opens the demo project by itself (the README says so)
    await expect.poll(() => page.getByTestId('project-Demo: COADS climatology').getByTestId('open-project').innerText()).toBe('Opened');
    await page.getByTestId('nav-data').click();

    const browserPanel = page.getByTestId('dataset-browser');
    await expect.poll(() => browserPanel.innerText(), { timeout: 15_000 }).toContain('COADS monthly surface climatology');
    for (const v of ['SST', 'AIRT', 'SPEH', 'SLP']) expect(await browserPanel.getByTestId(`field-row-${v}`).count()).toBe(1);
    const sstRow = await browserPanel.getByTestId('field-row-SST').innerText();
    expect(sstRow).toMatch(/12 × 90 × 180\s+TIME, COADSY, COADSX/);
    expect(sstRow).toMatch(/Deg C/);
    expect(sstRow).toMatch(/\d+\.\d %/); // fill fraction (land)

    await browserPanel.getByTestId('field-row-SST').click();
    const viewer = page.getByTestId('slice-viewer');
    await expect.poll(() => viewer.locator('canvas').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(async () => (await canvasPixels(page)).grey, { timeout: 10_000 }).toBeGreaterThan(0);
    const first = await canvasPixels(page);
    expect([first.width, first.height]).toEqual([180, 90]);
    expect(first.grey / first.total).toBeGreaterThan(0.3); // land masked grey
    expect(first.grey / first.total).toBeLessThan(0.6);
    expect(await viewer.getByTestId('slice-info').innerText()).toMatch(/masked \d+\.\d %/);
    expect(await viewer.getByTestId('slice-axis-0').getAttribute('data-dim')).toBe('TIME');
    await page.screenshot({ path: join(SCREENSHOTS, 'data-browser.png'), fullPage: true });

    // move the TIME slider: July is drawn
    await viewer.getByTestId('slice-axis-0').fill('6');
    await expect.poll(() => viewer.getByTestId('slice-axis-value-0').innerText(), { timeout: 10_000 }).toBe('6 / 11');
    await expect.poll(async () => (await canvasPixels(page)).sum, { timeout: 10_000 }).not.toBe(first.sum);

    // histogram
    const hist = page.getByTestId('histogram');
    await expect.poll(() => hist.locator('canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => hist.getByTestId('hist-count').innerText(), { timeout: 10_000 }).toMatch(/valid values/);
    await hist.getByTestId('hist-scope-slice').check();
    await expect.poll(async () => Number((await hist.getByTestId('hist-count').innerText()).replace(/[^\d]/g, '')), { timeout: 10_000 }).toBeLessThan(12 * 90 * 180 * 0.6 / 6);

    // correlation matrix
    const corr = page.getByTestId('correlation');
    await expect.poll(() => corr.getByTestId('corr-table').count(), { timeout: 20_000 }).toBe(1);
    const r = Number(await corr.getByTestId('corr-cell-SST-AIRT').innerText());
    expect(r).toBeGreaterThan(0.95);
    expect(await corr.getByTestId('corr-cell-SST-SST').innerText()).toBe('1.00');
    await corr.getByTestId('corr-mode-diff-COADSX').click();
    await expect.poll(() => corr.getByTestId('corr-mode-diff-COADSX').getAttribute('class'), { timeout: 10_000 }).toContain('on');
    const rd = Number(await corr.getByTestId('corr-cell-SST-AIRT').innerText());
    expect(rd).not.toBe(r);
    await corr.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SCREENSHOTS, 'data-explore.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('importing a truncated file or a raw file of the wrong size shows a clear error and stores nothing', async () => {
    const truncated = join(tmp.dir, 'truncated.nc');
    const bytes = readFileSync(SAMPLE);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const raw = join(tmp.dir, 'field.f32');
    writeFileSync(raw, Buffer.from(new Float32Array(1000).buffer));
    const [project] = await callApi<{ id: number }[]>(server, 'projects.list');
    const before = (await callApi<unknown[]>(server, 'datasets.list', { projectId: project!.id })).length;

    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('project-Demo: COADS climatology').getByTestId('open-project').innerText()).toBe('Opened');
    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-paths').fill(truncated);
    await page.getByTestId('import-submit').click();
    const err = page.getByTestId('import-error');
    await expect.poll(() => err.count(), { timeout: 20_000 }).toBe(1);
    const text = await err.innerText();
    expect(text).toContain(truncated);
    expect(text).toMatch(/BAD_FILE/);
    expect(text).toMatch(/Nothing was stored/);
    await page.screenshot({ path: join(SCREENSHOTS, 'data-import-error.png'), fullPage: false });

    await page.getByTestId('import-paths').fill(raw);
    await page.getByTestId('import-raw').check();
    // a shape that is not whole numbers (or too large for any file) is named before anything is asked of the server
    for (const bad of ['1.5 666', '1e30', '0 10']) {
      await page.getByTestId('import-raw-shape').fill(bad);
      await expect.poll(() => page.locator('.raw .err').innerText()).toContain(`shape: whole numbers of at least 1, slowest axis first, e.g. 100 500 500 (not "${bad}")`);
      expect(await page.getByTestId('import-preview').isDisabled()).toBe(true);
      expect(await page.getByTestId('import-submit').isDisabled()).toBe(true);
    }
    // a failed preview says so (it was headed "Import failed.")
    await page.getByTestId('import-raw-shape').fill('10 10 11');
    await page.getByTestId('import-preview').click();
    await expect.poll(() => err.innerText(), { timeout: 20_000 }).toMatch(/^Preview failed\./);
    await page.getByTestId('import-submit').click();
    await expect.poll(() => err.innerText(), { timeout: 20_000 }).toContain(raw);
    expect(await err.innerText()).toMatch(/4000/);
    await page.screenshot({ path: join(SCREENSHOTS, 'data-import-raw-error.png'), fullPage: false });
    expect((await callApi<unknown[]>(server, 'datasets.list', { projectId: project!.id })).length).toBe(before);

    // a raw int16 field of the right shape imports; whole-number values: the quantization step (1) is flagged
    const ints = join(tmp.dir, 'counts16.dat');
    writeFileSync(ints, Buffer.from(Int16Array.from({ length: 20 * 30 }, (_, i) => (i * 7) % 300).buffer));
    await page.getByTestId('import-paths').fill(ints);
    await page.getByTestId('import-raw-shape').fill('20 30');
    await page.getByTestId('import-raw-dtype').selectOption('int16');
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('import-success').count(), { timeout: 20_000 }).toBe(1);
    const row = page.getByTestId('dataset-counts16').getByTestId('field-row-counts16');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.getByTestId('quant-counts16').innerText()).toMatch(/⚠ 1/);
    expect(await page.getByTestId('quant-warning').innerText()).toMatch(/error bound below that step means nothing/);
    await page.screenshot({ path: join(SCREENSHOTS, 'data-import-raw-ok.png'), fullPage: false });

    // a raw float32 field with land written as -9999 and no fill declared: flagged, with what it does to a bound
    const sst = join(tmp.dir, 'sst9999.dat');
    writeFileSync(sst, Buffer.from(Float32Array.from({ length: 20 * 30 }, (_, i) => (i % 30 < 8 ? -9999 : 14 + 16 * Math.sin(i / 40))).buffer));
    await page.getByTestId('import-paths').fill(sst);
    await page.getByTestId('import-raw-dtype').selectOption('float32');
    await page.getByTestId('import-submit').click();
    const sstRow = page.getByTestId('dataset-sst9999').getByTestId('field-row-sst9999');
    await expect.poll(() => sstRow.count(), { timeout: 20_000 }).toBe(1);
    const flag = sstRow.getByTestId('undeclared-fill-sst9999');
    expect(await flag.innerText()).toMatch(/⚠ -9999 undeclared\?/);
    expect(await flag.getAttribute('title')).toMatch(/-9999 on 160 points .* rel 1e-4 allows errors of 1\.00/);
    expect(await page.getByTestId('undeclared-fill-warning').innerText()).toMatch(/counts in the range a relative bound is taken from/);

    // one field: the correlation panel says there is nothing to correlate, without asking the server (no failed call)
    const failed: string[] = [];
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    await row.click();
    await expect.poll(() => page.getByTestId('correlation').innerText(), { timeout: 10_000 }).toMatch(/Nothing to correlate: this dataset holds a single field/);
    expect(failed).toEqual([]);

    // the same file again: said before importing (a second dataset of it), not refused
    await page.getByTestId('import-paths').fill(ints);
    expect(await page.getByTestId('import-duplicate').innerText()).toMatch(/counts16\.dat is already in dataset "counts16": importing makes a second dataset of it/);

    // NaN and Inf that are not fill are counted beside the fill share (they are values, kept exactly)
    const nans = join(tmp.dir, 'gaps.f32');
    writeFileSync(nans, Buffer.from(Float32Array.from({ length: 20 * 30 }, (_, i) => (i % 100 === 7 ? NaN : i === 5 ? Infinity : i * 0.5)).buffer));
    await page.getByTestId('import-paths').fill(nans);
    expect(await page.getByTestId('import-duplicate').count()).toBe(0);
    await page.getByTestId('import-raw-dtype').selectOption('float32');
    await page.getByTestId('import-submit').click();
    const gaps = page.getByTestId('dataset-gaps').getByTestId('field-row-gaps');
    await expect.poll(() => gaps.count(), { timeout: 20_000 }).toBe(1);
    expect(await gaps.getByTestId('nonfinite-gaps').innerText()).toBe('6 NaN, 1 +Inf');

    // a field without a valid value: its slice's colour bar says so (it read 0 ... 1, a range the field does not have)
    const blank = join(tmp.dir, 'blank.f32');
    writeFileSync(blank, Buffer.from(new Float32Array(20 * 30).fill(NaN).buffer));
    await page.getByTestId('import-paths').fill(blank);
    await page.getByTestId('import-raw-dtype').selectOption('float32');
    await page.getByTestId('import-submit').click();
    const blankRow = page.getByTestId('dataset-blank').getByTestId('field-row-blank');
    await expect.poll(() => blankRow.count(), { timeout: 20_000 }).toBe(1);
    await blankRow.click();
    const none = page.getByTestId('slice-viewer').getByTestId('colour-bar-none');
    await expect.poll(() => none.count(), { timeout: 15_000 }).toBe(1);
    expect(await none.innerText()).toBe('no valid value: every point is masked or NaN');
    expect(await page.getByTestId('slice-viewer').getByTestId('colour-bar-lo').count()).toBe(0);

    // remove asks first, naming the dataset; confirmed, the dataset goes
    await page.getByTestId('dataset-gaps').locator('[data-test^="delete-dataset-"]').click();
    expect(await page.getByTestId('confirm-dialog').locator('h2').innerText()).toBe('Remove dataset “gaps”?');
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('dataset-gaps').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.getByTestId('confirm-dialog').count()).toBe(0);
    await page.close();
  });

  it.skipIf(!existsSync(WRF))('imports WRF through the view: T on its model levels, staggered U/V/W destaggered and marked in the matrix (needs the WRF Katrina file)', async () => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1300 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('project-Demo: COADS climatology').getByTestId('open-project').innerText()).toBe('Opened');
    await page.getByTestId('nav-data').click();
    await page.getByTestId('import-paths').fill(WRF);
    await page.getByTestId('import-preview').click();
    await expect.poll(() => page.getByTestId('import-preview-table').innerText(), { timeout: 10_000 }).toContain('west_east_stag');
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('import-success').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('import-success').innerText()).toMatch(/Imported "wrf_katrina"/);
    await page.getByTestId('dataset-wrf_katrina').getByTestId('field-row-T').click();
    const viewer = page.getByTestId('slice-viewer');
    await expect.poll(() => viewer.locator('[data-dim]').evaluateAll((els) => els.map((e) => e.getAttribute('data-dim'))), { timeout: 10_000 }).toEqual(['Time', 'bottom_top']);
    await viewer.getByTestId('slice-axis-1').fill('5');
    await expect.poll(() => viewer.getByTestId('slice-axis-value-1').innerText(), { timeout: 10_000 }).toBe('5 / 13');
    await expect.poll(() => viewer.getByTestId('slice-info').innerText(), { timeout: 10_000 }).toMatch(/rows south_north \(48, north up\), columns west_east \(48\)/);
    await expect.poll(() => page.getByTestId('hist-count').innerText(), { timeout: 10_000 }).toMatch(/^[\d,]+ valid values \(K\)$/);
    const corr = page.getByTestId('correlation');
    await expect.poll(() => corr.getByTestId('corr-cell-T-QVAPOR').count(), { timeout: 20_000 }).toBe(1);
    expect(Number(await corr.getByTestId('corr-cell-T-QVAPOR').innerText())).toBeLessThan(-0.85);
    const notes = await corr.getByTestId('corr-notes').innerText();
    expect(notes).toMatch(/U\* — destaggered: staggered along west_east_stag/);
    expect(notes).toMatch(/V\* — destaggered/);
    await corr.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'data-wrf.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
