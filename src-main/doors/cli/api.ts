/**
 * The CLI's door to the service API: the same `dispatch` (validation, then the handler) the HTTP and Electron
 * doors use. Methods that need no store run without opening one; the others open the app.
 */
import type { ApiInput, ApiMethod, ApiOutput } from '../../api/contract.ts';
import { dispatch } from '../../services/dispatch.ts';
import { storelessServices } from '../../services/storeless.ts';
import type { CallContext } from '../../services/handlers/types.ts';
import type { CliRunContext } from './command.ts';

let storeless: ReturnType<typeof storelessServices> | null = null;

export async function callApi<M extends ApiMethod>(ctx: Pick<CliRunContext, 'app'>, method: M, input: ApiInput<M>, call?: CallContext): Promise<ApiOutput<M>> {
  storeless ??= storelessServices();
  const services = method in storeless ? storeless : (await ctx.app()).services;
  return (await dispatch(services, method, input, call)) as ApiOutput<M>;
}

let cancelledBy: NodeJS.Signals | null = null;

/** The signal that cancelled a call of this process (its exit code is then 128 + the signal's number), or null. */
export function cancellingSignal(): NodeJS.Signals | null {
  return cancelledBy;
}

/**
 * Progress lines on the terminal, and Ctrl-C or SIGTERM (what `timeout`, `kill` and Slurm send) as cancellation for
 * one call: the work stops and its temporary files go, as on Ctrl-C.
 */
export function terminalCall(io: CliRunContext['io']): CallContext & { done(): void } {
  const ac = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    cancelledBy = signal;
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    onProgress: (f, m) => io.progress(f, m ?? ''),
    done() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      io.progressDone();
    },
  };
}
