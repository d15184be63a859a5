import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import WebSocket from 'ws';
import { request as httpRequest } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { SCREENSHOTS, callApi, launchBrowser, startServer, type ServerHandle } from './harness.ts';
import { tempDir } from '../helpers/tmp.ts';
import type { Run } from '../../src-main/api/contract.ts';

const tmp = tempDir('fieldpack-e2e-');
let server: ServerHandle;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(join(tmp.dir, 'e2e.db'));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  tmp.cleanup();
});

describe('browser mode', () => {
  it('refuses every API call and events socket without the launch token (the renderer\'s public files load without it)', async () => {
    const noToken = await fetch(`${server.origin}/api/projects.list`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { error: { message: string } }).error.message).toMatch(/token/);
    const wrong = await fetch(`${server.origin}/api/projects.list`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' });
    expect(wrong.status).toBe(401);
    // the page loads, but holds nothing: the token is never put in a cookie (sent to every 127.0.0.1 port)
    const page = await fetch(`${server.origin}/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    // A page on another site that rebinds its DNS name to 127.0.0.1 still sends its own Host.
    const badHost = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.origin}/api/projects.list`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(badHost).toBe(403);
    const wsRefused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/events`);
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('error'));
    });
    expect(wsRefused).toBe('401');
    // With the token, the first start shows the demo project built from the embedded sample.
    const projects = await callApi<{ name: string; datasetCount: number }[]>(server, 'projects.list');
    expect(projects).toEqual([expect.objectContaining({ name: 'Demo: COADS climatology', datasetCount: 1 })]);
  });

  it('creates a project, runs a demo job while the progress bar moves, shows it in the history, deletes the project', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    await page.getByTestId('new-project-name').fill('Katrina study');
    // a double-click creates it once, and says nothing went wrong (it created it, then said it already existed)
    await page.getByTestId('create-project').dblclick();
    await expect.poll(() => page.getByTestId('current-project').innerText()).toContain('Katrina study');
    await page.waitForTimeout(500);
    expect(await page.getByTestId('notice').count()).toBe(0);
    // The token left the address bar once the page had it.
    expect(page.url()).not.toContain('token=');

    await page.getByTestId('run-demo').click();
    const job = page.locator('[data-test^="job-"][data-status]').first();
    const bar = job.getByRole('progressbar');
    const seen = new Set<number>();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      seen.add(Number(await bar.getAttribute('aria-valuenow')));
      if ((await job.getAttribute('data-status')) === 'finished') break;
      await page.waitForTimeout(100);
    }
    expect(await job.getAttribute('data-status')).toBe('finished');
    const intermediate = [...seen].filter((v) => v > 0 && v < 100);
    expect(intermediate.length).toBeGreaterThanOrEqual(3); // it moved, and was seen moving
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');

    const history = page.getByTestId('run-history');
    await expect.poll(() => history.innerText()).toContain('finished');
    await history.locator('tbody tr').first().click();
    await page.getByTestId('metric-chart').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'projects.png') });

    for (const view of ['data', 'compress', 'train', 'compare', 'settings']) {
      await page.getByTestId(`nav-${view}`).click();
      if (view === 'settings') await page.getByTestId('doctor-db').waitFor();
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(SCREENSHOTS, `${view}.png`) });
    }
    expect(await page.getByTestId('doctor-db').innerText()).toContain('e2e.db');
    expect(await page.getByTestId('doctor-wasm').innerText()).toContain('SIMD fast path on');
    // a failed save says why on Settings, and is gone once the user is elsewhere (it stayed over the Compare table)
    await page.getByTestId('python-path').fill('/no/such/python');
    await page.getByTestId('python-path').press('Enter');
    await expect.poll(() => page.getByTestId('notice').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/does not exist/)]));
    await page.getByTestId('nav-compare').click();
    await expect.poll(() => page.getByTestId('notice').count()).toBe(0);

    await page.getByTestId('nav-projects').click();
    const row = page.getByTestId('project-Katrina study');
    await row.getByTestId('rename-project').click();
    await page.getByTestId('rename-input').fill('Katrina');
    await page.getByTestId('rename-save').click();
    await page.getByTestId('project-Katrina').waitFor();
    await page.getByTestId('project-Katrina').getByTestId('delete-project').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'delete-confirm.png') });
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('project-Katrina').waitFor({ state: 'detached' });
    expect((await callApi<{ name: string }[]>(server, 'projects.list')).map((p) => p.name)).toEqual(['Demo: COADS climatology']);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('takes an error notice away once its action, retried, succeeds; a notice about another action stays', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.url);
    const notices = () => page.getByTestId('notice').allInnerTexts();
    await page.getByTestId('new-project-name').fill('Demo: COADS climatology');
    await page.getByTestId('create-project').click();
    await expect.poll(notices).toEqual([expect.stringMatching(/already exists \(CONFLICT\)/)]);
    // the same failure again is counted, not stacked
    await page.getByTestId('create-project').click();
    await expect.poll(() => page.getByTestId('notice-count').allInnerTexts()).toEqual([' (×2)']);
    await page.getByTestId('project-Demo: COADS climatology').getByTestId('rename-project').click();
    await page.getByTestId('rename-input').fill('   ');
    await page.getByTestId('rename-save').click();
    await expect.poll(notices).toEqual([expect.stringMatching(/already exists/), expect.stringMatching(/a project needs a name/)]);
    // the name fixed, Create succeeds: its notice goes (it stayed until dismissed); the rename's still applies
    await page.getByTestId('new-project-name').fill('Notices');
    await page.getByTestId('create-project').click();
    await page.getByTestId('project-Notices').waitFor();
    await expect.poll(notices).toEqual([expect.stringMatching(/a project needs a name/)]);
    await page.getByTestId('rename-input').fill('Demo renamed');
    await page.getByTestId('rename-save').click();
    await page.getByTestId('project-Demo renamed').waitFor();
    await expect.poll(notices).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('marks a job interrupted when the server is killed in the middle of it, and shows it so after restart', async () => {
    const dbPath = join(tmp.dir, 'kill.db');
    const first = await startServer(dbPath);
    const project = await callApi<{ id: number }>(first, 'projects.create', { name: 'crash' });
    const run = await callApi<Run>(first, 'jobs.submit', { kind: 'demo', projectId: project.id, params: { steps: 200, stepDelayMs: 100 } });
    await expect.poll(async () => (await callApi<Run>(first, 'runs.get', { id: run.id })).progress, { timeout: 30_000 }).toBeGreaterThan(0.02);
    await first.stop('SIGKILL');

    const second = await startServer(dbPath);
    try {
      expect(second.output()).toMatch(new RegExp(`run ${run.id} \\(demo\\) was interrupted`));
      const after = await callApi<Run>(second, 'runs.get', { id: run.id });
      expect(after.status).toBe('interrupted');
      expect(after.progress).toBeGreaterThan(0);
      const page: Page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(second.url);
      await page.getByTestId('project-crash').getByTestId('open-project').click();
      await expect.poll(() => page.getByTestId(`run-row-${run.id}`).innerText()).toContain('interrupted');
      await page.screenshot({ path: join(SCREENSHOTS, 'interrupted.png') });
      await page.close();
    } finally {
      await second.stop();
    }
  });

  it('npm start without a display says why in one line and serves the browser mode instead', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const started = await startServer(join(tmp.dir, 'start.db'), { command: 'start', env });
    try {
      expect(started.output()).toMatch(/^Electron cannot start: no display \(DISPLAY and WAYLAND_DISPLAY are unset\); starting the browser mode instead\.$/m);
      expect((await callApi<{ name: string }[]>(started, 'projects.list')).map((p) => p.name)).toEqual(['Demo: COADS climatology']);
    } finally {
      await started.stop();
    }
  });
});
