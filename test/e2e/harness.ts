/**
 * End-to-end harness: a real `fieldpack serve` process on a temp database, and Debian's Chromium
 * driven by playwright-core. Screenshots go to test-artifacts/screenshots (git-ignored).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, selectors, type Browser, type Page } from 'playwright-core';
import { Store } from '../../src-main/services/store/store.ts';
import { importDataset } from '../../src-main/services/data/store-import.ts';
import { COADS } from '../helpers/data-files.ts';

selectors.setTestIdAttribute('data-test');

export const ROOT = join(import.meta.dirname, '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

export interface ServerHandle {
  url: string;
  origin: string;
  token: string;
  proc: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServer(dbPath: string, opts: { env?: NodeJS.ProcessEnv; command?: 'serve' | 'start' } = {}): Promise<ServerHandle> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', dbPath, opts.command ?? 'serve', '--port', '0'], {
    cwd: ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    const check = () => {
      const m = /Fieldpack workbench: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    proc,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export async function callApi<T>(server: ServerHandle, method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${server.origin}/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { value?: T; error?: { message: string } };
  if (!res.ok) throw new Error(`${method}: ${body.error?.message}`);
  return body.value as T;
}

/**
 * What is uneven in the end labels of the page's colour bars (slice images, error and SSIM maps): an exponent on one
 * end only (ETOPO5's relief read -1.04e+4 … 7833), or an end with more significant digits than a colour bar shows (3).
 */
export async function colourBarProblems(page: Page): Promise<string[]> {
  const bars = await page.getByTestId('colour-bar').evaluateAll((els) =>
    els.map((e) => ['lo', 'hi'].map((end) => e.querySelector(`[data-test="colour-bar-${end}"]`)?.textContent?.trim() ?? '')),
  );
  const significant = (s: string) => s.replace(/e.*$/i, '').replace(/[^0-9]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
  // more than 3 digits only where 3 would show the same number at both ends (a narrow range far from 0)
  const sameAt3 = (lo: string, hi: string) => {
    const [a, b] = [Number(lo), Number(hi)];
    const step = 10 ** (Math.floor(Math.log10(Math.max(Math.abs(a), Math.abs(b)))) - 2);
    return Math.round(a / step) === Math.round(b / step);
  };
  return bars.flatMap(([lo, hi]) => [
    ...(/e/i.test(lo!) !== /e/i.test(hi!) ? [`${lo} … ${hi}: an exponent on one end only`] : []),
    ...[lo!, hi!].filter((s) => significant(s) > 3 && !sameAt3(lo!, hi!)).map((s) => `${lo} … ${hi}: ${s} has more than 3 significant digits`),
  ]);
}

/**
 * A database holding a project with the COADS climatology imported the way the app imports it
 * (only `variables`, to keep it quick), written before the server starts.
 */
export async function seedCoadsProject(dbPath: string, projectName: string, variables: string[]): Promise<void> {
  const store = Store.open(dbPath);
  try {
    const project = store.createProject(projectName);
    await importDataset(store, project.id, [COADS], { name: 'COADS climatology', variables });
  } finally {
    store.close();
  }
}
