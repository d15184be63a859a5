/**
 * Where the built renderer is, and building it when it is missing or older than its sources, so that
 * `npm run serve` works on a fresh clone right after `npm install`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { appRoot } from '../../services/system/version.ts';

export function rendererDir(): string {
  return join(appRoot(), 'out', 'renderer');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureRendererBuilt(log: (line: string) => void): string {
  const dir = rendererDir();
  const index = join(dir, 'index.html');
  const sources = join(appRoot(), 'src-renderer');
  const stale = !existsSync(index) || (existsSync(sources) && newestMtime(sources) > statSync(index).mtimeMs);
  if (!stale) return dir;
  const cli = join(appRoot(), 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!existsSync(cli)) throw new FieldpackError('INTERNAL', `the renderer is not built (${index} missing) and electron-vite is not installed to build it`);
  log(existsSync(index) ? 'renderer sources changed: rebuilding (electron-vite build)...' : 'first start: building the app (electron-vite build)...');
  const r = spawnSync(process.execPath, [cli, 'build'], { cwd: appRoot(), stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(index)) throw new FieldpackError('INTERNAL', `building the renderer failed (electron-vite build exited ${r.status})`);
  return dir;
}
