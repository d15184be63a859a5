/**
 * Starting worker threads whose code is TypeScript.
 *
 * From source (CLI, serve, tests) a worker module is a .ts file: we start ts-worker-bootstrap.mjs, which
 * registers tsx in the worker thread and then imports the module. In a bundle (electron-vite build)
 * the worker is emitted as .js next to the main bundle and started directly.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const BOOTSTRAP_URL = new URL('./ts-worker-bootstrap.mjs', import.meta.url);

export function startWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  const path = fileURLToPath(moduleUrl);
  if (!path.endsWith('.ts')) return new Worker(moduleUrl, options);
  const data = { ...(options.workerData ?? {}), __fieldpackModule: moduleUrl.href };
  return new Worker(BOOTSTRAP_URL, { ...options, workerData: data });
}
