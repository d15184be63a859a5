/**
 * HTML to PDF with Debian's Chromium headless (the CLI and the browser mode; the desktop app passes Electron's
 * printToPDF instead, see doors/electron). CHROMIUM_PATH overrides where Chromium is.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { FieldpackError } from '../../core/errors.ts';
import { writeAtomically } from '../files/atomic.ts';

export type PrintToPdf = (htmlPath: string, pdfPath: string) => Promise<void>;

export function chromiumPath(): string | null {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'])
    if (p && existsSync(p)) return p;
  return null;
}

export const chromiumPrintToPdf: PrintToPdf = async (htmlPath, pdfPath) => {
  const exe = chromiumPath();
  if (!exe) throw new FieldpackError('NOT_FOUND', 'a PDF needs Chromium (apt-get install chromium, or set CHROMIUM_PATH); the HTML report was written', { htmlPath });
  await writeAtomically(pdfPath, (tmp) =>
    new Promise<void>((resolve, reject) => {
      // the report's own CSP (report.ts REPORT_CSP) keeps scripts, frames and file:// loads out of the page; headless
      // printing needs scripts on in Chromium itself (--blink-settings=scriptEnabled=false printed nothing)
      const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--no-pdf-header-footer', `--print-to-pdf=${tmp}`, pathToFileURL(htmlPath).href];
      const child = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', (e) => { clearTimeout(timer); reject(new FieldpackError('INTERNAL', `chromium could not start: ${e.message}`)); });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0 && existsSync(tmp)) resolve();
        else reject(new FieldpackError('INTERNAL', `chromium did not print the PDF (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`));
      });
    }),
  );
};

/** Pages of a PDF (its /Type /Page objects). */
export function pdfPageCount(path: string): number {
  return (readFileSync(path).toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}
