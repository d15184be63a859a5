/**
 * The CLI's door to the service API: the same `dispatch` (validation, then the handler) the HTTP and Electron
 * doors use. Methods that need no store run without opening one; the others open the app.
 */
import { constants as osConstants } from 'node:os';
import type { ApiInput, ApiMethod, ApiOutput, Run } from '../../api/contract.ts';
import { dispatch } from '../../services/dispatch.ts';
import { storelessServices } from '../../services/storeless.ts';
import { resolveDbPath } from '../../services/store/open-database.ts';
import { learnedModelsDirOf } from '../../services/store/files.ts';
import { addModelDir } from '../../services/codecs/models.ts';
import type { CallContext } from '../../services/handlers/types.ts';
import type { CliRunContext } from './command.ts';

let storeless: ReturnType<typeof storelessServices> | null = null;

export async function callApi<M extends ApiMethod>(ctx: Pick<CliRunContext, 'app'> & Partial<Pick<CliRunContext, 'globals'>>, method: M, input: ApiInput<M>, call?: CallContext): Promise<ApiOutput<M>> {
  if (!storeless) {
    storeless = storelessServices();
    // the models the store trained are found by hash without opening it (as the app registers them when it opens)
    const db = resolveDbPath(ctx.globals?.db);
    for (const kind of ['vqvae', 'nglr'] as const) addModelDir(learnedModelsDirOf(db, kind));
  }
  const services = method in storeless ? storeless : (await ctx.app()).services;
  return (await dispatch(services, method, input, call)) as ApiOutput<M>;
}

let cancelledBy: NodeJS.Signals | null = null;

/**
 * The exit code of work that ended cancelled: the shell's code for the signal that cancelled it (130 Ctrl-C, 143
 * SIGTERM), so that a script or Slurm tells it apart; 1 where no signal did (a run cancelled from elsewhere).
 */
export function cancelledExitCode(): number {
  return cancelledBy ? 128 + (osConstants.signals[cancelledBy] ?? 2) : 1;
}

/** The exit code of a command that followed a job to its end: 0 finished, cancelledExitCode() cancelled, else 1. */
export function jobExitCode(run: Pick<Run, 'status'>): number {
  return run.status === 'finished' ? 0 : run.status === 'cancelled' ? cancelledExitCode() : 1;
}

/**
 * Ctrl-C or SIGTERM (what `timeout`, `kill` and Slurm send) as cancellation of this process's work: `onCancel` runs
 * on the first of them, after which both have their default action again, so a second one ends the process at once
 * (as most tools do when a stop takes long). A repeat within DUPLICATE_SIGNAL_MS of the first is the same stop
 * delivered twice, and is ignored: `timeout` signals its command and then the command's whole process group (it
 * ended 2 of 6 timed-out trainings at once, their runs left interrupted). Returns the function that stops listening.
 */
export function onCancelSignals(onCancel: (signal: NodeJS.Signals) => void): () => void {
  let listener = (signal: NodeJS.Signals) => {
    cancelledBy = signal;
    listen(() => {});
    setTimeout(stop, DUPLICATE_SIGNAL_MS).unref();
    onCancel(signal);
  };
  const stop = () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
  const listen = (next: (signal: NodeJS.Signals) => void) => {
    stop();
    listener = next;
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
  };
  listen(listener);
  return stop;
}

/** How long after a cancelling signal the same stop may arrive again (a process group's copy of it): ignored. */
const DUPLICATE_SIGNAL_MS = 300;

/** Progress lines on the terminal, and a cancelling signal (onCancelSignals) cancels one call: the work stops and its temporary files go. */
export function terminalCall(io: CliRunContext['io']): CallContext & { done(): void } {
  const ac = new AbortController();
  const stopListening = onCancelSignals(() => ac.abort());
  return {
    signal: ac.signal,
    onProgress: (f, m) => io.progress(f, m ?? ''),
    done() {
      stopListening();
      io.progressDone();
    },
  };
}
