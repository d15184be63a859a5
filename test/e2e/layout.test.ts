/**
 * The workbench at 800 (jobs under the view), 1280 and 1920 px wide in Chromium, with real data (COADS SST/AIRT and ETOPO5's 2161 x 4320
 * relief, whose slice once overflowed its card and hid under the histogram): every view is screenshotted into
 * test-artifacts/screenshots/layout-VIEW-WIDTH.png, and DOM geometry checks that the main content never overflows
 * the window horizontally, that no card's content spills over its box (wide tables scroll inside their card) and
 * that the slice does not overlap the histogram; the Archive view is checked with an archive built, planned, listed and
 * verified, each part in its card. Also: maps framed in degrees and sliders showing dates, a
 * bookmarked #/compress and a reload keeping the open project, the Compress results following the newest run,
 * and the first start opening the demo project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SCREENSHOTS, callApi, colourBarProblems, launchBrowser, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import { COADS, ferretFile } from '../helpers/data-files.ts';
import { Store } from '../../src-main/services/store/store.ts';
import { importDataset } from '../../src-main/services/data/store-import.ts';

const ETOPO5 = ferretFile('etopo5.cdf');
const tmp = tempDir('fieldpack-e2e-layout-');
let server: ServerHandle;
let browser: Browser;
let projectId: number;
const VIEWS = ['projects', 'data', 'compress', 'crossfield', 'train', 'compare', 'archive', 'settings'] as const;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const db = join(tmp.dir, 'layout.db');
  const store = Store.open(db);
  try {
    projectId = store.createProject('Layout check').id;
    await importDataset(store, projectId, [COADS], { name: 'COADS climatology', variables: ['SST', 'AIRT'] });
    await importDataset(store, projectId, [ETOPO5], { name: 'ETOPO5 relief' });
  } finally {
    store.close();
  }
  server = await startServer(db);
  browser = await launchBrowser();
  // runs of SST for the Compress results table: ours and zfp (its equal-PSNR row too)
  const runs = [];
  for (const [codec, m] of [['auto'], ['zfp', 'bound'], ['zfp', 'psnr']] as const) {
    runs.push(await callApi<{ id: number }>(server, 'jobs.submit', { kind: 'compress', projectId, params: { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec, workers: 1, ...(m ? { match: m } : {}) } }));
  }
  for (const r of runs) {
    for (let t = 0; (await callApi<{ status: string }>(server, 'runs.get', { id: r.id })).status !== 'finished'; t++) {
      if (t > 600) throw new Error(`run ${r.id} did not finish`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.cleanup();
});

/** Geometry problems of the page: main content wider than the window, cards whose content spills over their box. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const main = document.querySelector('main.content') as HTMLElement;
    if (main.scrollWidth > main.clientWidth + 1) problems.push(`main content scrolls sideways: ${main.scrollWidth} > ${main.clientWidth}`);
    if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push(`page wider than the window: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    const panels = [...document.querySelectorAll('main.content .panel')] as HTMLElement[];
    panels.forEach((p, i) => {
      if (p.scrollWidth > p.clientWidth + 1) problems.push(`card ${i} (${p.querySelector('h2')?.textContent?.trim() ?? ''}) spills: ${p.scrollWidth} > ${p.clientWidth}`);
      const box = p.getBoundingClientRect();
      for (const el of p.querySelectorAll('canvas, table, img, svg')) {
        // inside a scroll container within the card, a wide table is fine: it scrolls there
        let scroller: HTMLElement | null = (el as HTMLElement).parentElement;
        while (scroller && scroller !== p && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
        if (scroller && scroller !== p) continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.right > box.right + 1) problems.push(`${el.tagName.toLowerCase()} in card ${i} (${p.querySelector('h2')?.textContent?.trim() ?? ''}) ends at ${Math.round(r.right)} past the card's ${Math.round(box.right)}`);
      }
    });
    return problems;
  });
}

/** The whole view, not only the window: the shell's scroll container let out to the page's height for the picture. */
async function fullScreenshot(page: Page, path: string): Promise<void> {
  const style = await page.addStyleTag({ content: '.shell { height: auto !important; min-height: 100vh; } main.content { overflow: visible !important; }' });
  await page.screenshot({ path, fullPage: true });
  await style.evaluate((el) => (el as HTMLElement).remove());
}

/**
 * The Archive view with all it shows: COADS SST and AIRT built into an archive (once), then planned, listed and
 * verified; each part in a card as in the other views (it had none, and the geometry checks had nothing to check).
 */
async function fillArchive(page: Page, build: boolean): Promise<void> {
  await page.getByTestId('archive-inputs').fill(COADS);
  await page.getByTestId('archive-vars').fill('SST,AIRT');
  await page.getByTestId('archive-out').fill(join(tmp.dir, 'layout.fpa'));
  if (build) {
    await page.getByTestId('archive-build').click();
    await expect.poll(() => page.getByTestId('archive-job').getAttribute('data-status'), { timeout: 120_000, interval: 300 }).toBe('finished');
  }
  for (const [action, shown] of [['plan', 'plan-total'], ['list', 'list-total'], ['verify', 'verify-result']]) {
    await page.getByTestId(`archive-${action}`).click();
    await expect.poll(() => page.getByTestId(`archive-${shown}`).count(), { timeout: 60_000 }).toBe(1);
  }
  const cards = await page.locator('main.content .panel').evaluateAll((ps) => ps.map((p) => p.querySelector('h2')?.textContent?.trim()));
  expect(cards).toEqual(['Files', 'Plan', 'Members', 'Verify']);
}

async function showView(page: Page, view: string): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/${view}`);
  await page.waitForLoadState('networkidle');
}

describe.skipIf(!existsSync(COADS) || !existsSync(ETOPO5))('layout at 800, 1280 and 1920 px (needs ferret-datasets)', () => {
  it('shows every view without overflow or overlap, maps in coordinates, and keeps the open project', async () => {
    for (const width of [1280, 1920, 800]) {
      const page = await browser.newPage({ viewport: { width, height: width === 800 ? 600 : 1000 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(server.url);
      const open = page.getByTestId('project-Layout check').getByTestId('open-project');
      // the first page opens it; later pages find it remembered
      if (width === 1280) await open.click();
      await expect.poll(() => open.innerText()).toBe('Opened');
      for (const view of VIEWS) {
        await showView(page, view);
        if (view === 'data') {
          // ETOPO5 relief: the map must stay in its card, beside (not under) the histogram
          await page.getByTestId('field-row-ROSE').click();
          const viewer = page.getByTestId('slice-viewer');
          await expect.poll(() => viewer.getByTestId('x-ticks').innerText(), { timeout: 30_000 }).toMatch(/120°W/);
          expect(await viewer.getByTestId('y-ticks').innerText()).toMatch(/30°N/);
          // the colour bar's ends by one rule, rounded alike (they read -1.04e+4 and 7833)
          expect(await viewer.getByTestId('colour-bar').innerText()).toMatch(/^-10[0-9]00\s+7[0-9]00 meters/);
          const [slice, hist] = await Promise.all(['.slice-panel', '.hist-panel'].map((s) => page.locator(s).boundingBox()));
          const canvas = await viewer.locator('canvas').boundingBox();
          expect(canvas!.x + canvas!.width).toBeLessThanOrEqual(slice!.x + slice!.width + 1);
          const overlap = !(slice!.x + slice!.width <= hist!.x || hist!.x + hist!.width <= slice!.x || slice!.y + slice!.height <= hist!.y || hist!.y + hist!.height <= slice!.y);
          expect(overlap, 'slice and histogram cards overlap').toBe(false);
        }
        if (view === 'compress') {
          await expect.poll(() => page.getByTestId('results-table').locator('tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
          await expect.poll(() => page.getByTestId('slice-images').getByTestId('x-ticks').count(), { timeout: 30_000 }).toBeGreaterThan(0);
        }
        if (view === 'settings') await expect.poll(() => page.locator('main').innerText(), { timeout: 60_000 }).not.toContain('checking…');
        if (view === 'train') await expect.poll(() => page.locator('main').innerText(), { timeout: 30_000 }).toMatch(/SST[\s\S]*AIRT/);
        if (view === 'compare') await expect.poll(() => page.locator('main').innerText(), { timeout: 30_000 }).toMatch(/SST/);
        if (view === 'crossfield') await expect.poll(() => page.getByTestId('cf-results').locator('tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
        if (view === 'archive') await fillArchive(page, width === 1280);
        expect(await layoutProblems(page), `${view} at ${width} px`).toEqual([]);
        expect(await colourBarProblems(page), `${view} at ${width} px`).toEqual([]);
        // the jobs never lie over the view (at 800 px they go under it): a click meant for the view lands there
        const [mainBox, jobsBox] = await Promise.all([page.locator('main.content').boundingBox(), page.getByTestId('job-panel').boundingBox()]);
        const apart = mainBox!.x + mainBox!.width <= jobsBox!.x + 1 || mainBox!.y + mainBox!.height <= jobsBox!.y + 1;
        expect(apart, `${view} at ${width} px: the jobs panel overlaps the view`).toBe(true);
        await fullScreenshot(page, join(SCREENSHOTS, `layout-${view}-${width}.png`));
      }
      expect(pageErrors).toEqual([]);
      await page.close();
    }
  });

  it('speaks in coordinates: slider dates and depths, degree ticks on the Compress images', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${server.url}#/data`);
    await page.getByTestId('field-row-SST').click();
    const viewer = page.getByTestId('slice-viewer');
    await expect.poll(() => viewer.getByTestId('slice-axis-coord-0').innerText(), { timeout: 30_000 }).toBe('0000-01-16 06:00 (climatology)');
    await viewer.getByTestId('slice-axis-0').fill('7');
    await expect.poll(() => viewer.getByTestId('slice-axis-coord-0').innerText(), { timeout: 10_000 }).toMatch(/^0000-08-1\d /);
    expect(await viewer.getByTestId('x-ticks').innerText()).toMatch(/60°E[\s\S]*180°[\s\S]*60°W/);
    await page.close();
  });

  it('keeps the open project on a bookmark and a reload; results follow the newest run', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    // a fresh browser (no localStorage) on a bookmarked view: the server remembers the project opened above
    await page.goto(`${server.url}#/compress`);
    await expect.poll(() => page.getByTestId('current-project').innerText()).toContain('Layout check');
    expect(await page.getByTestId('compress-no-project').count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByTestId('current-project').innerText()).toContain('Layout check');
    await expect.poll(() => page.getByTestId('results-table').locator('tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    // a run that ends now is the one shown
    const run = await callApi<{ id: number }>(server, 'jobs.submit', { kind: 'compress', projectId, params: { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-2 }, codec: 'auto', workers: 1 } });
    await expect.poll(() => page.locator('h2', { hasText: 'Slice of run' }).innerText(), { timeout: 60_000 }).toContain(`Slice of run ${run.id}:`);
    await context.close();
  });

  it('opens the demo project on the first start', async () => {
    const fresh = await startServer(join(tmp.dir, 'first-start.db'));
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${fresh.url}#/data`);
      await expect.poll(() => page.getByTestId('current-project').innerText(), { timeout: 30_000 }).toContain('Demo: COADS climatology');
      await expect.poll(() => page.getByTestId('dataset-browser').innerText(), { timeout: 30_000 }).toMatch(/SST/);
      await page.close();
    } finally {
      await fresh.stop();
    }
  });
});
