/**
 * The Train view in Chromium against `fieldpack serve` with the real trainer: a project whose dataset
 * points at the COADS climatology (AIRT -> SST), a short tiny-cnn run whose live loss chart grows, the
 * registered model shown and exported, a second run stopped from the view; the messages for no project
 * and for a project without a dataset. Screenshots: test-artifacts/screenshots/train-*.png.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Store } from '../../src-main/services/store/store.ts';
import type { Model, RunDetail } from '../../src-main/api/contract.ts';
import { SCREENSHOTS, callApi, launchBrowser, seedCoadsProject, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import { COADS, systemTorch } from '../integration/training/real-fields.ts';

const torch = systemTorch();
const skip = 'skip' in torch ? torch.skip : !existsSync(COADS) ? `${COADS} not installed (apt-get install ferret-datasets)` : null;
if (skip) console.warn(`[train e2e] SKIPPED: ${skip}`);

const tmp = tempDir('fieldpack-e2e-train-');
afterAll(() => tmp.cleanup());
let server: ServerHandle;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** The view scrolls inside the shell, so scroll the part that matters into view first. */
async function shot(name: string, testId?: string) {
  if (testId) await page.getByTestId(testId).evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: join(SCREENSHOTS, `train-${name}.png`) });
}

/** Polls the loss chart's point count until the run reaches a terminal status; returns every count seen. */
async function watchRun(onPoints?: (n: number) => Promise<void>): Promise<{ counts: number[]; status: string }> {
  const run = page.getByTestId('train-run');
  const chart = page.getByTestId('loss-chart');
  const counts: number[] = [];
  const deadline = Date.now() + 120_000;
  let status = '';
  while (Date.now() < deadline) {
    const n = Number(await chart.getAttribute('data-points'));
    if (counts.at(-1) !== n) counts.push(n);
    await onPoints?.(n);
    status = (await run.getAttribute('data-status')) ?? '';
    if (['finished', 'failed', 'cancelled', 'interrupted'].includes(status)) break;
    await page.waitForTimeout(120);
  }
  return { counts, status };
}

// Set-up inside the skipped describe: nothing starts (server, browser) where the trainer or COADS is missing.
describe.skipIf(!!skip)('Train view (needs python3-torch and ferret-datasets)', () => {
  beforeAll(async () => {
    const dbPath = join(tmp.dir, 'train.db');
    await seedCoadsProject(dbPath, 'COADS study', ['SST', 'AIRT', 'UWND']);
    const store = Store.open(dbPath);
    store.createProject('Empty');
    store.close();
    server = await startServer(dbPath);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('says what to do with no project open, and with a project without a dataset', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-no-project').waitFor();
    expect(await page.getByTestId('train-no-project').innerText()).toMatch(/No project is open/);
    await shot('no-project');

    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-Empty').getByTestId('open-project').click();
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-no-dataset').waitFor();
    expect(await page.getByTestId('train-no-dataset').innerText()).toMatch(/has no dataset yet/);
  });

  it('trains tiny-cnn AIRT -> SST: the loss chart grows live, the run finishes, the model is registered and exported', async () => {
    await page.getByTestId('nav-projects').click();
    await page.getByTestId('project-COADS study').getByTestId('open-project').click();
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-form').waitFor();
    // The auto-detected Python (the pyenv python3 lacks torch; /usr/bin/python3 has it) and its device.
    await expect.poll(() => page.getByTestId('train-python').innerText(), { timeout: 60_000 }).toMatch(/Training runs on\s+(cpu|cuda)/);

    // every problem of the form at once, not one at a time: no target yet and an epoch count below 1
    await page.getByTestId('train-hp-epochs').fill('0');
    await page.getByTestId('train-hp-learningRate').fill('-1');
    await expect.poll(() => page.getByTestId('train-form-problem').innerText()).toMatch(/Pick a target field.*epochs: a whole number >= 1.*learning rate: a number above 0/);
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    await page.getByTestId('train-defaults').click();
    await page.getByTestId('train-field-SST').getByTestId('train-target').check();
    await page.getByTestId('train-field-AIRT').getByTestId('train-input').check();
    expect(await page.getByTestId('train-form-problem').count()).toBe(0);
    expect(await page.getByTestId('train-field-SST').getByTestId('train-input').isDisabled()).toBe(false); // tiny-cnn may use it
    for (const [k, v] of Object.entries({ epochs: '3', maxStepsPerEpoch: '8', batchSize: '8', patchSize: '64' })) await page.getByTestId(`train-hp-${k}`).fill(v);
    await page.getByTestId('train-hp-device').selectOption('cpu');
    // Wide enough that a step takes a visible moment on 2 idle CPU cores (with 32 channels the run took under a second
    // on a quiet machine, and the chart was seen at only 1, 8 and 24 points).
    await page.getByTestId('train-np-hidden').fill('64');
    await page.getByTestId('train-np-layers').fill('4');
    await shot('form');
    await page.getByTestId('train-start').click();

    let shotMidRun = false;
    const { counts, status } = await watchRun(async (n) => {
      if (!shotMidRun && n >= 8) {
        shotMidRun = true;
        await shot('running', 'train-run');
        expect(await page.getByTestId('train-device').innerText()).toMatch(/^cpu( \(.*\))?$/);
        expect(await page.getByTestId('train-elapsed').innerText()).toMatch(/\d+ s/);
      }
    });
    expect(status).toBe('finished');
    console.log(`[train e2e] loss chart point counts seen: ${counts.join(', ')}`);
    // The chart grew while the run was going: increasing point counts were seen before the last, ending at 24 steps.
    const growing = counts.filter((n) => n > 0 && n < 24);
    expect(growing.length, `counts seen: ${counts.join(',')}`).toBeGreaterThanOrEqual(2);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(24);

    const card = page.getByTestId('train-model');
    await card.waitFor();
    const hash = await card.getByTestId('model-hash').innerText();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(await card.getByTestId('model-parameters').innerText())).toBeGreaterThan(0);
    expect(await card.getByTestId('model-metrics').innerText()).toMatch(/valRmse/);
    expect(await page.getByTestId('train-seconds-per-epoch').innerText()).toMatch(/s$/);
    const models = await callApi<Model[]>(server, 'models.list', {});
    expect(models.map((m) => m.contentHash)).toEqual([hash]);
    await expect.poll(() => page.getByTestId('model-list').innerText()).toContain(hash.slice(0, 16));

    const file = join(tmp.dir, 'sst-from-airt.fpmodel');
    await card.getByTestId('model-export-path').fill(file);
    await card.getByTestId('model-export').click();
    await card.getByTestId('model-exported').waitFor();
    expect(existsSync(file)).toBe(true);
    await shot('finished', 'train-run');

    const runId = Number(await page.getByTestId('train-run').getAttribute('data-run-id'));
    const detail = await callApi<RunDetail>(server, 'runs.get', { id: runId });
    const perEpoch = detail.metrics.filter((m) => m.key === 'epoch_seconds').map((m) => Number(m.value).toFixed(3));
    console.log(`[train e2e] CPU seconds per epoch (tiny-cnn hidden 64 x 4 layers, 8 steps of 8 x 64x64 patches): ${perEpoch.join(', ')}`);
    expect(detail.tags.device).toMatch(/^cpu/);
  });

  it('stops a run from the view: cancelled, checkpoint kept', async () => {
    await page.getByTestId('train-hp-epochs').fill('500');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-stop').waitFor();
    let clicked = false;
    const { status } = await watchRun(async (n) => {
      if (!clicked && n >= 5) {
        clicked = true;
        await page.getByTestId('train-stop').click();
      }
    });
    expect(status).toBe('cancelled');
    await page.getByTestId('train-stopped-note').waitFor();
    expect(await page.getByTestId('train-stopped-note').innerText()).toMatch(/checkpoint is kept/);
    const runId = Number(await page.getByTestId('train-run').getAttribute('data-run-id'));
    const detail = await callApi<RunDetail>(server, 'runs.get', { id: runId });
    expect(detail.artifacts.some((a) => a.kind === 'checkpoint')).toBe(true);
    expect(detail.metrics.filter((m) => m.key === 'loss').length).toBeLessThan(5000);
    await shot('stopped', 'train-run');
    expect(pageErrors).toEqual([]);
  });

  it('trains the VQ-VAE on the maps of SST and AIRT: loss and validation PSNR charts, codebook usage, the model hash to compress with', async () => {
    await page.getByTestId('train-network').selectOption('vqvae');
    await expect.poll(() => page.getByTestId('train-network-description').innerText()).toMatch(/VQ-VAE/);
    // no target: the fields whose maps it learns, of any shape
    expect(await page.getByTestId('train-field-SST').getByTestId('train-target').count()).toBe(0);
    await page.getByTestId('train-field-SST').getByTestId('train-input').check();
    await page.getByTestId('train-field-AIRT').getByTestId('train-input').check();
    for (const [k, v] of Object.entries({ epochs: '3', batchSize: '8', patchSize: '32', patchesPerEpoch: '64' })) await page.getByTestId(`train-hp-${k}`).fill(v);
    await page.getByTestId('train-hp-device').selectOption('cpu');
    expect(await page.getByTestId('train-np-channels').inputValue()).toBe('8,16,32');
    const previousRun = await page.getByTestId('train-run').getAttribute('data-run-id');
    await page.getByTestId('train-start').click();
    // the panel shows the stopped run until the new one is followed: watch the new one only
    await expect.poll(() => page.getByTestId('train-run').getAttribute('data-run-id')).not.toBe(previousRun);
    const { status } = await watchRun();
    expect(status).toBe('finished');
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBe(24); // 3 epochs x 8 steps
    await page.getByTestId('psnr-chart').waitFor();
    expect(Number(await page.getByTestId('psnr-chart').getAttribute('data-points'))).toBe(3);
    expect(await page.getByTestId('train-codebook-usage').innerText()).toMatch(/^\d+ % \/ \d+ %$/);
    const hash = await page.getByTestId('train-vqvae-hash').innerText();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    await shot('vqvae', 'train-run');

    // the Compress view takes that model by its hash prefix; the run shows where the bits went
    await page.getByTestId('nav-compress').click();
    await expect.poll(() => page.getByTestId('field-select').inputValue(), { timeout: 15_000 }).not.toBe('');
    await page.getByTestId('bound-mode').selectOption('psnr');
    await page.getByTestId('bound-values').fill('46');
    for (const id of ['auto', 'zfp']) if (await page.getByTestId(`codec-${id}`).isChecked()) await page.getByTestId(`codec-${id}`).click();
    await page.getByTestId('codec-vqvae').check();
    await page.getByTestId('compress-model-vqvae').fill(hash.slice(0, 12));
    await page.getByTestId('compress-run').click();
    const row = page.getByTestId('results-table').locator('tbody tr[data-codec="vqvae"]');
    await expect.poll(() => row.locator('.status.finished').count(), { timeout: 90_000, interval: 250 }).toBe(1);
    // either the VQ-VAE stream, its bits split by part, or the classic stream it fell back to, said so
    const cell = await row.innerText();
    expect(cell).toMatch(/latents [\d.]+, residual [\d.]+|classic \(smaller than the VQ-VAE stream\)/);
    await shot('vqvae-compress');
    expect(pageErrors).toEqual([]);
  });

  it('trains NGLR on SST\'s residuals at NRMSE 1e-5: validation bits with and without the bias, then compresses SST with it', async () => {
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-network').selectOption('nglr');
    await expect.poll(() => page.getByTestId('train-network-description').innerText()).toMatch(/NGLR/);
    expect(await page.getByTestId('train-field-SST').getByTestId('train-target').count()).toBe(0);
    await page.getByTestId('train-field-SST').getByTestId('train-input').check();
    await page.getByTestId('train-nglr-bounds').fill('nrmse:1e-5');
    expect(await page.getByTestId('train-nglr-base').inputValue()).toBe('none');
    for (const [k, v] of Object.entries({ epochs: '2', stepsPerEpoch: '10', batchSize: '1024' })) await page.getByTestId(`train-hp-${k}`).fill(v);
    await page.getByTestId('train-hp-device').selectOption('cpu');
    const previousRun = await page.getByTestId('train-run').getAttribute('data-run-id');
    await page.getByTestId('train-start').click();
    await expect.poll(() => page.getByTestId('train-run').getAttribute('data-run-id')).not.toBe(previousRun);
    const { status } = await watchRun();
    expect(status).toBe('finished');
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBe(2); // a point every 10 steps
    expect(await page.getByTestId('train-nglr-gain').innerText()).toMatch(/-?[\d.]+ % fewer bits than plain Lorenzo/);
    const hash = await page.getByTestId('train-vqvae-hash').innerText();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    await shot('nglr', 'train-run');

    await page.getByTestId('nav-compress').click();
    await expect.poll(() => page.getByTestId('field-select').inputValue(), { timeout: 15_000 }).not.toBe('');
    await page.getByTestId('bound-mode').selectOption('nrmse');
    await page.getByTestId('bound-values').fill('1e-5');
    for (const id of ['auto', 'zfp', 'vqvae']) if (await page.getByTestId(`codec-${id}`).isChecked()) await page.getByTestId(`codec-${id}`).click();
    await page.getByTestId('codec-nglr').check();
    // each learned codec has its own model box (one box was sent to both, and said "the VQ-VAE's model")
    expect(await page.getByTestId('compress-model-vqvae').count()).toBe(0);
    await page.getByTestId('compress-model-nglr').fill(hash.slice(0, 12));
    await page.getByTestId('compress-run').click();
    const row = page.getByTestId('results-table').locator('tbody tr[data-codec="nglr"]');
    await expect.poll(() => row.locator('.status.finished').count(), { timeout: 90_000, interval: 250 }).toBe(1);
    // the NGLR stream with its bits split, or the core codec's stream it fell back to, said so
    expect(await row.innerText()).toMatch(/residual [\d.]+|classic \(smaller than the nglr stream\)/);
    await shot('nglr-compress');
    expect(pageErrors).toEqual([]);
  });
});
