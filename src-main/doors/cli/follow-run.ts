/**
 * A job followed from the terminal to its end: its progress line, the log lines worth reading, its events as JSON
 * lines with --json; Ctrl-C (or SIGTERM) asks the job to stop. Used by the commands that run a job in the store
 * (train, compress --record).
 */
import type { Run } from '../../api/contract.ts';
import { dispatch } from '../../services/dispatch.ts';
import { onCancelSignals } from './api.ts';
import type { CliCommand } from './command.ts';

type AppCtx = Awaited<ReturnType<Parameters<CliCommand['run']>[1]['app']>>;
type Io = Parameters<CliCommand['run']>[1]['io'];

export interface FollowOptions {
  /** print every event of the run as a JSON line on stdout */
  json?: boolean;
  /** the log lines shown on stderr (epoch lines at most every 2 s: short epochs would flood the terminal) */
  shows: RegExp;
  /** what the first Ctrl-C prints */
  stopping: string;
}

/** Follows `run` until it ends; returns it as it ended. */
export async function followRun(ctx: AppCtx, run: Run, io: Io, opts: FollowOptions): Promise<Run> {
  let lastEpochLine = 0;
  const off = ctx.events.on((e) => {
    if (opts.json && 'runId' in e && e.runId === run.id) io.out(JSON.stringify(e));
    if (opts.json && e.type === 'run.updated' && e.run.id === run.id) io.out(JSON.stringify(e));
    if (e.type === 'run.updated' && e.run.id === run.id && e.run.status === 'running' && e.run.message) io.progress(e.run.progress, e.run.message);
    if (e.type === 'run.log' && e.runId === run.id && opts.shows.test(e.line)) {
      if (e.line.startsWith('epoch ')) {
        if (Date.now() - lastEpochLine < 2000) return;
        lastEpochLine = Date.now();
      }
      io.progressDone();
      io.err(e.line);
    }
  });
  const stopListening = onCancelSignals(() => {
    io.progressDone();
    io.err(opts.stopping);
    void dispatch(ctx.services, 'jobs.cancel', { runId: run.id }).catch(() => undefined);
  });
  try {
    return await ctx.jobs.waitFor(run.id);
  } finally {
    stopListening();
    off();
    io.progressDone();
  }
}
