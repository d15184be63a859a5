import { ensureRendererBuilt } from '../../http/renderer-build.ts';
import { nonNegativeFlag, parseFlags, type CliCommand, type CliRunContext } from '../command.ts';

export const DEFAULT_PORT = 7788;

/** Serves the workbench until SIGINT/SIGTERM; jobs still running then end as cancelled. */
export async function serveUntilStopped(ctx: CliRunContext, port: number, open: (url: string) => void = () => {}): Promise<number> {
  const { io } = ctx;
  // the HTTP door and the demo load every handler: imported here, not when any command starts
  const [{ startHttpDoor }, { ensureDemoProject }] = await Promise.all([import('../../http/server.ts'), import('../../../services/demo.ts')]);
  const dir = ensureRendererBuilt((l) => io.err(l));
  const app = await ctx.app('http');
  for (const r of app.interruptedAtStart) io.err(`run ${r.id} (${r.kind}) was interrupted when Fieldpack last stopped`);
  await ensureDemoProject(app.store, (l) => io.err(l)).catch((err) => io.err(`the demo project could not be created: ${(err as Error).message}`));
  let door;
  try {
    door = await startHttpDoor({ app, rendererDir: dir, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && port !== 0) {
      io.err(`port ${port} is in use: taking a free one (choose with --port N)`);
      door = await startHttpDoor({ app, rendererDir: dir, port: 0 });
    } else throw err;
  }
  io.out(`Fieldpack workbench: ${door.url}`);
  io.out(`(127.0.0.1 only; from another machine: ssh -L ${door.port}:127.0.0.1:${door.port} HOST, then open the URL above)`);
  open(door.url);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  io.err('stopping...');
  await door.close();
  return 0;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve the workbench to a browser on 127.0.0.1 (URL with a per-launch token)',
  usage: `fieldpack serve [--port N]   (default ${DEFAULT_PORT}; 0 = any free port)`,
  async run(argv, ctx) {
    const p = parseFlags(argv, { values: ['port'] });
    const port = nonNegativeFlag(p, 'port', 'an integer', 65535) ?? DEFAULT_PORT;
    return serveUntilStopped(ctx, port);
  },
};
