/**
 * The application: the store, the job queue, the event bus and the service implementations, built
 * once per process and shared by whichever doors that process opens (Electron IPC, HTTP, CLI).
 */
import { addModelDir } from './codecs/models.ts';
import { nglrModelsDir, vqvaeModelsDir } from './job-kinds/train-model-file.ts';
import { FieldpackError } from '../core/errors.ts';
import type { ApiEvent, Run } from '../api/contract.ts';
import { EventBus } from './events.ts';
import { JobQueue } from './jobs/queue.ts';
import { jobHandlers } from './job-kinds/index.ts';
import type { JobHandler } from './jobs/types.ts';
import { Store } from './store/store.ts';
import { closeSharedInferencePool } from './inference/pool.ts';
import { resolveDbPath } from './store/open-database.ts';
import { storeFilesDir } from './store/files.ts';
import { removeLeftovers } from './files/atomic.ts';
import { createServices, type Services } from './services.ts';
import type { DoctorReport } from '../api/contract.ts';

export interface AppContext {
  store: Store;
  jobs: JobQueue;
  events: EventBus;
  services: Services;
  /** Runs found running or scheduled at start-up, now marked interrupted. */
  interruptedAtStart: Run[];
  close(): Promise<void>;
}

export interface AppOptions {
  dbPath?: string;
  door: DoctorReport['door'];
  /** Extra or replacement job kinds (tests). */
  jobHandlers?: Record<string, JobHandler<Record<string, unknown>, unknown>>;
  pythonPath?: string;
  /** Jobs running at once (default 2: a long training run does not hold up a compression). */
  jobConcurrency?: number;
  /** The door's PDF printer for reports (Electron's printToPDF); default Chromium headless. */
  printToPdf?: (htmlPath: string, pdfPath: string) => Promise<void>;
}

export function createApp(opts: AppOptions): AppContext {
  const store = Store.open(resolveDbPath(opts.dbPath));
  try {
    // --python PATH overrides the saved setting for this process only.
    if (opts.pythonPath) process.env.FIELDPACK_PYTHON = opts.pythonPath;
    const interruptedAtStart = store.markOrphanedRunsInterrupted();
    // temporary files of writes a killed process never finished (artifacts, models): never a half-written file
    removeLeftovers(storeFilesDir(store), { recursive: true });
    addModelDir(vqvaeModelsDir(store));
    addModelDir(nglrModelsDir(store));
    const events = new EventBus();
    const jobs = new JobQueue(store, { ...jobHandlers({ store }), ...opts.jobHandlers }, events.emit, {
      concurrency: opts.jobConcurrency ?? 2,
    });
    const services = createServices({ store, jobs, events, door: opts.door, ...(opts.printToPdf ? { printToPdf: opts.printToPdf } : {}) });
    let closed = false;
    return {
      store,
      jobs,
      events,
      services,
      interruptedAtStart,
      async close() {
        if (closed) return;
        closed = true;
        await jobs.close();
        store.close();
        await closeSharedInferencePool();
      },
    };
  } catch (err) {
    store.close();
    throw err instanceof FieldpackError ? err : new FieldpackError('INTERNAL', (err as Error).message);
  }
}

export type { ApiEvent };
