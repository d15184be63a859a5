/**
 * The worker side of runWorkerTask: call serveWorkerTask(fn) at the top level of a *.worker.ts module.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../../core/errors.ts';
import type { WorkerTaskMessage } from './worker-host.ts';

export interface WorkerTaskReporter {
  progress(fraction: number, message?: string): void;
  log(line: string): void;
  metric(key: string, value: number, step?: number): void;
}

export function serveWorkerTask<I, O>(fn: (input: I, report: WorkerTaskReporter) => Promise<O> | O): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerTask must run in a worker thread');
  const send = (m: WorkerTaskMessage) => port.postMessage(m);
  const report: WorkerTaskReporter = {
    progress: (fraction, message) => send({ type: 'progress', fraction, message }),
    log: (line) => send({ type: 'log', line }),
    metric: (key, value, step) => send({ type: 'metric', key, value, step }),
  };
  Promise.resolve()
    .then(() => fn((workerData as { input: I }).input, report))
    .then((result) => send({ type: 'result', result }))
    .catch((err) => send({ type: 'error', error: serializeError(err) }));
}
