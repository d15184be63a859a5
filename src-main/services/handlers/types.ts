import type { ApiMethod, ApiOutput, ApiParsedInput, DoctorReport } from '../../api/contract.ts';
import type { EventBus } from '../events.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Store } from '../store/store.ts';

/** What every handler group gets. */
export interface HandlerDeps {
  store: Store;
  jobs: JobQueue;
  events: EventBus;
  door: DoctorReport['door'];
  /** How this door prints a report to PDF (the desktop app: Electron's printToPDF); default Chromium headless. */
  printToPdf?: (htmlPath: string, pdfPath: string) => Promise<void>;
}

/** What a door may pass with one call: progress lines and cancellation (the CLI does; HTTP and IPC use jobs). */
export interface CallContext {
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

/** Implementations of a subset of the API's methods. */
export type Handlers<M extends ApiMethod> = { [K in M]: (input: ApiParsedInput<K>, call?: CallContext) => Promise<ApiOutput<K>> | ApiOutput<K> };
