/**
 * Compare as a review in Chromium: three compress runs of COADS SST (two bounds of auto, one of zfp or lorenzo)
 * made through the API; every chart is drawn with data (rate-distortion x 3, error maps, histograms, spectra,
 * autocorrelation, SSIM maps, derived quantities), the error maps zoom together, a run is tagged, annotated and
 * found by search, a report downloads. Screenshots at 1280 and 1920 px: test-artifacts/screenshots/compare-*.png,
 * checked for horizontal overflow and overlapping charts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Browser, Download, Page } from 'playwright-core';
import { SCREENSHOTS, callApi, colourBarProblems, launchBrowser, seedCoadsProject, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import { COADS } from '../helpers/data-files.ts';

const tmp = tempDir('fieldpack-e2e-compare-');
let server: ServerHandle;
let browser: Browser;
const runIds: number[] = [];

beforeAll(async () => {
  const db = join(tmp.dir, 'compare.db');
  await seedCoadsProject(db, 'Review', ['SST']);
  server = await startServer(db);
  browser = await launchBrowser();
  const [project] = await callApi<{ id: number }[]>(server, 'projects.list');
  const codecs = await callApi<{ id: string; available: boolean }[]>(server, 'compression.codecs');
  const third = codecs.find((c) => c.id === 'zfp')?.available ? 'zfp' : 'lorenzo';
  for (const [codec, value] of [['auto', 1e-2], ['auto', 1e-3], [third, 1e-2]] as const) {
    const run = await callApi<{ id: number }>(server, 'jobs.submit', { kind: 'compress', projectId: project!.id, params: { file: COADS, variable: 'SST', codec, bound: { mode: 'rel', value }, workers: 1 } });
    runIds.push(run.id);
  }
  for (const id of runIds) {
    const t0 = Date.now();
    let status = '';
    while ((status = (await callApi<{ status: string }>(server, 'runs.get', { id })).status) !== 'finished' && Date.now() - t0 < 90_000) {
      if (['failed', 'cancelled', 'interrupted'].includes(status)) throw new Error(`run ${id} ${status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    if (status !== 'finished') throw new Error(`run ${id} still ${status} after 90 s`);
  }
}, 150_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.cleanup();
});

const CHARTS = ['chart-rd-psnr', 'chart-rd-bound', 'chart-rd-nrmse', 'chart-histogram', 'chart-spectrum', 'chart-autocorrelation', 'chart-derived'];

/** Share of a canvas's pixels that are not background (the chart drew something). */
function inkShare(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 235 || d[i + 1]! < 235 || d[i + 2]! < 235)) ink++;
    return ink / (c.width * c.height);
  });
}

/** Nothing wider than its view, and no two chart cards or maps overlapping. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const content = document.querySelector('.content') as HTMLElement;
    if (content.scrollWidth > content.clientWidth + 1) out.push(`content scrolls sideways: ${content.scrollWidth} > ${content.clientWidth}`);
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page scrolls sideways');
    const boxes = [...document.querySelectorAll('.chart-card, [data-test="map-chart"]')].map((e) => ({ e, r: e.getBoundingClientRect() }));
    for (let i = 0; i < boxes.length; i++) {
      const a = boxes[i]!.r;
      if (a.right > content.getBoundingClientRect().right + 1) out.push(`${boxes[i]!.e.className} runs past the right edge`);
      for (let j = i + 1; j < boxes.length; j++) {
        const b = boxes[j]!.r;
        if (boxes[i]!.e.contains(boxes[j]!.e) || boxes[j]!.e.contains(boxes[i]!.e)) continue;
        const ix = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const iy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (ix > 1 && iy > 1) out.push(`overlap: ${(boxes[i]!.e as HTMLElement).dataset.test ?? boxes[i]!.e.className} / ${(boxes[j]!.e as HTMLElement).dataset.test ?? boxes[j]!.e.className}`);
      }
    }
    return out;
  });
}

describe.skipIf(!existsSync(COADS))('Compare view (needs ferret-datasets)', () => {
  it('draws every chart of three runs with data, tags and finds a run, downloads a report; no overflow at 1280 and 1920 px', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.getByTestId('project-Review').getByTestId('open-project').click();
    await page.getByTestId('nav-compare').click();
    for (const id of runIds) await page.getByTestId(`compare-pick-${id}`).locator('input').check();
    await expect.poll(() => page.getByTestId('compare-table').locator('thead th').count()).toBe(4);
    expect(await page.getByTestId('compare-table').innerText()).toContain('max_pw_rel_error');

    // every chart drawn, with data
    await expect.poll(() => page.getByTestId('error-maps').getByTestId('map-chart').count(), { timeout: 60_000 }).toBe(3);
    for (const id of CHARTS) {
      await expect.poll(() => page.getByTestId(id).getAttribute('data-points'), { timeout: 30_000 }).not.toBe('0');
      expect(Number(await page.getByTestId(id).getAttribute('data-points')), id).toBeGreaterThan(0);
      await expect.poll(() => inkShare(page, id), { timeout: 10_000 }).toBeGreaterThan(0.005);
    }
    for (const maps of ['error-maps', 'ssim-maps', 'derived-maps-gradient-magnitude']) {
      const cells = await page.getByTestId(maps).getByTestId('map-chart').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.cells)));
      expect(cells.length, maps).toBe(maps.startsWith('derived') ? 4 : 3); // derived: before, then after each run
      for (const c of cells) expect(c, maps).toBeGreaterThan(maps === 'error-maps' ? 5000 : 200);
    }
    expect(await page.getByTestId('error-maps').getByTestId('colour-bar').innerText()).toMatch(/error \(.+\)/); // units
    expect(await page.getByTestId('colour-bar').count()).toBeGreaterThanOrEqual(3); // error, SSIM, derived
    expect(await colourBarProblems(page)).toEqual([]);
    const spectrumSeries = await page.getByTestId('chart-spectrum').getAttribute('data-points');
    expect(Number(spectrumSeries)).toBeGreaterThanOrEqual(7 * 40); // original + 3 x (reconstruction, error), ~45 rings each

    // linked zoom: wheel on the first error map zooms the others too
    const maps = page.getByTestId('error-maps').getByTestId('map-chart');
    const before = await maps.nth(2).screenshot();
    const box = (await maps.nth(0).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -240);
    await page.waitForTimeout(400);
    expect(Buffer.compare(before, await maps.nth(2).screenshot())).not.toBe(0);
    await page.mouse.move(5, 5);

    // review: tag and note a run, find it by search
    await page.getByTestId(`tag-input-${runIds[1]}`).fill('keep');
    await page.getByTestId(`tag-input-${runIds[1]}`).press('Enter');
    await page.getByTestId(`tag-${runIds[1]}-keep`).waitFor();
    await page.getByTestId(`note-${runIds[1]}`).fill('best SST run so far');
    await page.getByTestId(`note-${runIds[1]}`).blur();
    await expect.poll(async () => (await callApi<{ note: string }>(server, 'runs.get', { id: runIds[1] })).note).toBe('best SST run so far');
    await page.getByTestId('tag-filter').fill('keep');
    await expect.poll(() => page.locator('[data-test^="compare-pick-"]').count()).toBe(1);
    await page.getByTestId('tag-filter').fill('');
    await expect.poll(() => page.locator('[data-test^="compare-pick-"]').count()).toBe(3);

    // two runs into an experiment, then only its runs listed
    for (const id of runIds.slice(0, 2)) {
      await page.getByTestId(`experiment-${id}`).fill('SST bounds');
      await page.getByTestId(`experiment-${id}`).press('Enter');
      await page.getByTestId(`experiment-${id}`).blur();
    }
    // each change is its own request: both runs are in the experiment before the list is filtered by it
    for (const id of runIds.slice(0, 2)) await expect.poll(async () => (await callApi<{ experimentId: number | null }>(server, 'runs.get', { id })).experimentId).not.toBeNull();
    await expect.poll(async () => (await page.getByTestId('experiment-filter').locator('option').allInnerTexts()).join('|')).toContain('SST bounds');
    await page.getByTestId('experiment-filter').selectOption('SST bounds');
    await expect.poll(() => page.locator('[data-test^="compare-pick-"]').count()).toBe(2);
    await page.getByTestId('experiment-filter').selectOption('');
    await expect.poll(() => page.locator('[data-test^="compare-pick-"]').count()).toBe(3);

    // the report downloads as one self-contained HTML file
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-html').click()]);
    const html = readFileSync((await download.path())!, 'utf8');
    expect(download.suggestedFilename()).toBe(`fieldpack-report-${runIds.join('-')}.html`);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(7);
    expect(html).not.toMatch(/<script|src="https?:/);
    // and with its PDF (printed by Chromium on the serving machine): both download
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('report-pdf').click();
    await expect.poll(() => downloads.length, { timeout: 90_000 }).toBe(2);
    const pdf = downloads.find((d) => d.suggestedFilename().endsWith('.pdf'))!;
    expect(readFileSync((await pdf.path())!).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(await page.getByTestId('report-written').innerText()).toMatch(/PDF \(\d+ pages\) also kept at .*\.pdf/);
    // the same runs' report again: the kept pair is replaced, not joined by another (pairs piled up a click each)
    const kept = /also kept at (.*\.pdf)/.exec(await page.getByTestId('report-written').innerText())![1]!;
    await page.getByTestId('report-pdf').click();
    await expect.poll(() => downloads.length, { timeout: 90_000 }).toBe(4);
    expect(readdirSync(dirname(kept)).sort()).toEqual([basename(kept).replace(/\.pdf$/, '.html'), basename(kept)]);

    for (const width of [1280, 1920]) {
      await page.setViewportSize({ width, height: 1000 });
      await page.waitForTimeout(600);
      expect(await layoutProblems(page), `${width} px`).toEqual([]);
      // the workbench scrolls inside .content: a viewport as tall as it shows the whole view in one picture
      const tall = await page.evaluate(() => (document.querySelector('.content') as HTMLElement).scrollHeight);
      await page.setViewportSize({ width, height: Math.min(6000, tall + 40) });
      await page.waitForTimeout(600);
      expect(await layoutProblems(page), `${width} px, full height`).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, `compare-${width}.png`) });
    }
    // delete asks first, naming the run; "Keep it" keeps it
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByTestId(`delete-${runIds[1]}`).click();
    expect(await page.getByTestId('confirm-dialog').innerText()).toContain(`Run ${runIds[1]} and its files (stream, analysis) will be removed`);
    await page.getByTestId('confirm-cancel').click();
    expect(await page.getByTestId('confirm-dialog').count()).toBe(0);
    expect(await page.getByTestId(`delete-${runIds[1]}`).count()).toBe(1);
    // the project's run history archives and deletes runs too
    await page.getByTestId('nav-projects').click();
    const history = page.getByTestId('run-history');
    await history.getByTestId(`run-row-${runIds[2]}`).click();
    await page.getByTestId('run-archive').click();
    await expect.poll(() => history.getByTestId(`run-row-${runIds[2]}`).count()).toBe(0);
    await history.getByTestId(`run-row-${runIds[0]}`).click();
    await page.getByTestId('run-delete').click();
    expect(await page.getByTestId('confirm-dialog').innerText()).toContain(`Run ${runIds[0]} and its files`);
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => history.getByTestId(`run-row-${runIds[0]}`).count()).toBe(0);
    expect((await callApi<{ archivedAt: string | null }[]>(server, 'runs.search', { archived: 'only' })).map((r) => r.archivedAt !== null)).toEqual([true]);
    await expect(callApi(server, 'runs.get', { id: runIds[0] })).rejects.toThrow(/does not exist/);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
