/**
 * The Archive view in Chromium: plan COADS SST and AIRT (the cross-field pair is shown), build the archive as a job
 * (progress, then finished), list it, verify it and restore it; a WRF plan names what is kept as stored (Times).
 * Screenshot: test-artifacts/screenshots/archive.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { SCREENSHOTS, launchBrowser, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import { COADS, WRF_KATRINA } from '../helpers/data-files.ts';

const tmp = tempDir('fieldpack-e2e-archive-');
let server: ServerHandle;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(join(tmp.dir, 'archive.db'));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.cleanup();
});

/** A page on the Archive view with a file (COADS by default) and the variables filled in; page errors collected. */
async function archiveViewOf(vars: string, file = COADS) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  await page.getByTestId('nav-archive').click();
  await page.getByTestId('archive-inputs').fill(file);
  await page.getByTestId('archive-vars').fill(vars);
  return { page, pageErrors };
}

describe('Archive view', () => {
  it('plans, builds (a job with progress), lists and verifies an archive', async () => {
    const { page, pageErrors } = await archiveViewOf('SST,AIRT');
    await page.getByTestId('archive-out').fill(join(tmp.dir, 'coads.fpa'));
    // the bound is a mode and a value (it was CLI text): a PSNR of 0 dB or two values are refused before any work
    await page.getByTestId('archive-bound-mode').selectOption('psnr');
    await page.getByTestId('archive-bound').fill('0');
    expect(await page.getByTestId('archive-bound-error').innerText()).toBe('Bound: not a finite PSNR > 0 dB (absolute 0 is lossless): 0');
    // Infinity would reach the API as JSON null (read as NaN): refused here, with the lossless way to ask
    await page.getByTestId('archive-bound').fill('Infinity');
    expect(await page.getByTestId('archive-bound-error').innerText()).toBe('Bound: not a finite PSNR > 0 dB (absolute 0 is lossless): Infinity');
    expect(await page.getByTestId('archive-plan').isDisabled()).toBe(true);
    await page.getByTestId('archive-bound-mode').selectOption('rel');
    await page.getByTestId('archive-bound').fill('1e-3, 1e-2');
    expect(await page.getByTestId('archive-bound-error').innerText()).toMatch(/^Bound: one value/);
    await page.getByTestId('archive-bound').fill('0x10');
    expect(await page.getByTestId('archive-bound-error').innerText()).toBe('Bound: not a decimal number: 0x10');
    await page.getByTestId('archive-bound').fill('1e-3');
    expect(await page.getByTestId('archive-bound-error').count()).toBe(0);
    await page.getByTestId('archive-plan').click();
    await expect.poll(() => page.getByTestId('archive-plan-total').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('archive-plan-total').innerText()).toMatch(/^2 members/);
    expect(await page.getByTestId('archive-view').innerText()).toContain('cross-field: SST from AIRT');
    // a plan is of the inputs it was made with: editing them drops it (it stayed, of other files)
    await page.getByTestId('archive-vars').fill('SST');
    await expect.poll(() => page.getByTestId('archive-plan-total').count()).toBe(0);
    await page.getByTestId('archive-vars').fill('SST,AIRT');
    await page.getByTestId('archive-build').click();
    await expect.poll(() => page.getByTestId('archive-job').getAttribute('data-status'), { timeout: 120_000, interval: 300 }).toBe('finished');
    // a visit to another view keeps the form and the build (they were gone on return, List and Verify off)
    await page.getByTestId('nav-data').click();
    await page.getByTestId('nav-archive').click();
    await expect.poll(() => page.getByTestId('archive-out').inputValue()).toBe(join(tmp.dir, 'coads.fpa'));
    expect(await page.getByTestId('archive-vars').inputValue()).toBe('SST,AIRT');
    expect(await page.getByTestId('archive-job').getAttribute('data-status')).toBe('finished');
    await page.getByTestId('archive-list').click();
    await expect.poll(() => page.getByTestId('archive-list-total').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('archive-list-total').innerText()).toMatch(/^2 members, .* ratio \d/);
    await page.getByTestId('archive-verify').click();
    await expect.poll(() => page.getByTestId('archive-verify-result').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('archive-verify-result').innerText()).toBe('all 2 members verified');
    // a refused Restore says why beside Restore, and another action's success (Verify) does not take that away
    await page.getByTestId('archive-restore-out').fill(COADS);
    await page.getByTestId('archive-restore').click();
    await expect.poll(() => page.getByTestId('archive-error').allInnerTexts(), { timeout: 30_000 }).toEqual([expect.stringMatching(/is a file/)]);
    await Promise.all([page.waitForResponse((r) => r.url().includes('/api/archive.verify')), page.getByTestId('archive-verify').click()]);
    await expect.poll(() => page.getByTestId('archive-verify').isDisabled()).toBe(false);
    expect(await page.getByTestId('archive-error').allInnerTexts()).toEqual([expect.stringMatching(/is a file/)]);
    // fixed and retried, it goes
    await page.getByTestId('archive-restore-out').fill(join(tmp.dir, 'restored'));
    await page.getByTestId('archive-restore-clamp').check();
    await page.getByTestId('archive-restore').click();
    await expect.poll(() => page.getByTestId('archive-restored').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('archive-error').count()).toBe(0);
    expect(await page.getByTestId('archive-restored').innerText()).toMatch(/coads_climatology\.nc: SST, AIRT; \d+ values clamped into the original range$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'archive.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('archives with a residual coder over a base: the base field shows for lbrc, each member lists its base', async () => {
    const { page, pageErrors } = await archiveViewOf('SST');
    await page.getByTestId('archive-crossfield').selectOption('off');
    expect(await page.getByTestId('archive-base').count()).toBe(0);
    await page.getByTestId('archive-codec').fill('lbrc');
    await page.getByTestId('archive-base').fill('core:rel:1e-2');
    await page.getByTestId('archive-out').fill(join(tmp.dir, 'coads-lbrc.fpa'));
    await page.getByTestId('archive-build').click();
    await expect.poll(() => page.getByTestId('archive-job').getAttribute('data-status'), { timeout: 120_000, interval: 300 }).toBe('finished');
    await page.getByTestId('archive-list').click();
    await expect.poll(() => page.getByTestId('archive-member-base').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('archive-member-base').innerText()).toMatch(/^\d+\.\d\d MB$/);
    await page.getByTestId('archive-verify').click();
    await expect.poll(() => page.getByTestId('archive-verify-result').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('archive-verify-result').innerText()).toBe('the 1 member verified');
    expect(await page.getByTestId('archive-list-total').innerText()).toMatch(/^1 member, /);
    expect(pageErrors).toEqual([]);
  });

  it('a WRF file\'s plan names what is kept as stored (Times) beside the members', async () => {
    const { page, pageErrors } = await archiveViewOf('T2', join(tmp.dir, 'no-such.nc'));
    // a Plan of a file that is not there says so; the path fixed, the next Plan takes that away
    await page.getByTestId('archive-plan').click();
    await expect.poll(() => page.getByTestId('archive-error').count(), { timeout: 30_000 }).toBe(1);
    await page.getByTestId('archive-inputs').fill(WRF_KATRINA);
    await page.getByTestId('archive-plan').click();
    await expect.poll(() => page.getByTestId('archive-plan-total').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('archive-carried').innerText()).toBe('kept as stored from wrf_katrina.nc (not fields): Times');
    expect(await page.getByTestId('archive-error').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
