/**
 * Starting worker threads whose code is TypeScript.
 *
 * From source (CLI, serve, tests) a worker module is a .ts file: we start ts-worker-bootstrap.mjs, which
 * registers tsx in the worker thread and then imports the module. In a bundle (electron-vite build)
 * the worker is emitted as .js next to the main bundle and started directly.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { basename, join } from 'node:path';
import { FieldpackError, deserializeError, type SerializedError } from '../../core/errors.ts';
import type { JobContext } from './types.ts';

const BOOTSTRAP_URL = new URL('./ts-worker-bootstrap.mjs', import.meta.url);

let bundledWorkerDir: string | null = null;

/** Called by a bundled entry point (Electron main): workers are emitted there as NAME.worker.js. */
export function useBundledWorkers(dir: string): void {
  bundledWorkerDir = dir;
}

export function startWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  const path = fileURLToPath(moduleUrl);
  if (bundledWorkerDir && path.endsWith('.ts')) {
    return new Worker(join(bundledWorkerDir, basename(path).replace(/\.ts$/, '.js')), options);
  }
  if (!path.endsWith('.ts')) return new Worker(moduleUrl, options);
  const data = { ...(options.workerData ?? {}), __fieldpackModule: moduleUrl.href };
  return new Worker(BOOTSTRAP_URL, { ...options, workerData: data });
}

/** Messages a task worker (see worker-task.ts) sends to its host. */
export type WorkerTaskMessage =
  | { type: 'progress'; fraction: number; message?: string }
  | { type: 'log'; line: string }
  | { type: 'metric'; key: string; value: number; step?: number }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: SerializedError };

/**
 * Runs one task in a fresh worker thread, forwarding its progress, logs and metrics to the job context.
 * Cancelling terminates the thread at once; a crash of the worker rejects with its message.
 */
export function runWorkerTask<O>(moduleUrl: URL, input: unknown, ctx: JobContext, transfer: Transferable[] = []): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    if (ctx.signal.aborted) return reject(new FieldpackError('CANCELLED', 'cancelled before it started'));
    const worker = startWorker(moduleUrl, { workerData: { input }, transferList: transfer as never });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => settle(() => reject(new FieldpackError('CANCELLED', 'cancelled by the user')));
    ctx.signal.addEventListener('abort', onAbort);
    worker.on('message', (m: WorkerTaskMessage) => {
      if (settled) return; // the run has ended (and its store may be closed): late messages are dropped
      switch (m.type) {
        case 'progress':
          ctx.progress(m.fraction, m.message);
          break;
        case 'log':
          ctx.log(m.line);
          break;
        case 'metric':
          ctx.metric?.(m.key, m.value, m.step);
          break;
        case 'result':
          settle(() => resolve(m.result as O));
          break;
        case 'error':
          settle(() => reject(deserializeError(m.error)));
          break;
      }
    });
    worker.on('error', (err) => settle(() => reject(new FieldpackError('INTERNAL', `worker crashed: ${err.message}`))));
    worker.on('exit', (code) => settle(() => reject(new FieldpackError('INTERNAL', `worker exited (code ${code}) before it finished`))));
  });
}
