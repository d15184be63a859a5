/**
 * `npm start`: the desktop app where Electron can run; otherwise one line saying why, then browser mode.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { appRoot } from '../../../services/system/version.ts';
import { ensureRendererBuilt } from '../../http/renderer-build.ts';
import { DEFAULT_PORT, serveUntilStopped } from './serve.ts';
import { nonNegativeFlag, parseFlags, type CliCommand } from '../command.ts';

/** Why Electron cannot start here, or null when it can. */
export function electronUnavailableReason(): { reason: string } | { binary: string } {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  }
  try {
    const require = createRequire(import.meta.url);
    const binary = require('electron') as unknown as string; // the package exports the binary's path
    if (typeof binary !== 'string' || !existsSync(binary)) return { reason: 'the Electron binary is not installed' };
    return { binary };
  } catch (err) {
    return { reason: `the Electron binary is not installed (${(err as Error).message.split('\n')[0]})` };
  }
}

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'start the desktop app, or the browser mode where Electron cannot run',
  usage: `fieldpack start [--port N]`,
  async run(argv, ctx) {
    const p = parseFlags(argv, { values: ['port'] });
    // checked before anything is built or opened
    const port = nonNegativeFlag(p, 'port', 'an integer', 65535) ?? DEFAULT_PORT;
    const electron = electronUnavailableReason();
    if ('binary' in electron) {
      ensureRendererBuilt((l) => ctx.io.err(l));
      const args = [appRoot()];
      if (ctx.globals.db) args.push(`--db=${ctx.globals.db}`);
      const child = spawn(electron.binary, args, { stdio: 'inherit', env: { ...process.env, ...(ctx.globals.db ? { FIELDPACK_DB: ctx.globals.db } : {}) } });
      return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
    }
    ctx.io.err(`Electron cannot start: ${electron.reason}; starting the browser mode instead.`);
    return serveUntilStopped(ctx, port);
  },
};
