/**
 * What a job handler sees. Handlers run in the main process and push CPU-heavy work to worker threads
 * (startWorker in worker-host.ts); they report progress and stop promptly when `signal` aborts.
 */
export interface JobContext {
  /** The run recording this job (its artifacts go under runDir(store, runId)). Absent outside the queue. */
  runId?: number;
  /** fraction in [0, 1]; message is one short line ("chunk 3/12", "epoch 4/20"). */
  progress(fraction: number, message?: string): void;
  /** Aborted when the user cancels; throw FieldpackError('CANCELLED', ...) or let the abort propagate. */
  signal: AbortSignal;
  /** Append a line to the job's log (kept in the store with the run). */
  log(line: string): void;
  /** Record a metric on the job's run (with a step, so curves can be drawn). Absent outside the queue. */
  metric?(key: string, value: number, step?: number): void;
  /**
   * The work is done and its results are being stored: a cancel from now on is too late and is not passed on (it
   * would leave a run called cancelled that holds every result). Absent outside the queue.
   */
  saving?(): void;
}

export type JobHandler<I = unknown, O = unknown> = (input: I, ctx: JobContext) => Promise<O>;
