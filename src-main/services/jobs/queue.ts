/**
 * The job queue of the main process. A job is recorded as a run in the store from the moment it is
 * submitted (scheduled -> running -> finished | failed | cancelled); a process that dies leaves it
 * running, and the next start marks it interrupted. A failing handler fails its run, never the app.
 */
import { hostname } from 'node:os';
import { FieldpackError, serializeError } from '../../core/errors.ts';
import type { ApiEvent, Run } from '../../api/contract.ts';
import type { Store } from '../store/store.ts';
import { removeRunDir } from '../store/files.ts';
import type { JobContext, JobHandler } from './types.ts';

export interface JobQueueOptions {
  concurrency?: number;
  /** Minimum milliseconds between stored progress updates of one run (events are throttled the same). */
  progressIntervalMs?: number;
}

interface Pending {
  runId: number;
  kind: string;
  params: Record<string, unknown>;
}

interface Active {
  controller: AbortController;
  promise: Promise<void>;
  /** the job called ctx.saving(): cancelling is too late */
  saving?: boolean;
}

type Waiter = (run: Run) => void;

/** How often a queue with jobs looks for cancel requests from other processes (Store.requestCancel). */
const CANCEL_WATCH_MS = 500;

const DEFAULT_CANCEL = 'cancelled by the user';

export class JobQueue {
  private readonly pending: Pending[] = [];
  private readonly active = new Map<number, Active>();
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly concurrency: number;
  private readonly progressIntervalMs: number;
  private closed = false;
  /** the cancel watch: runs while this queue has jobs */
  private watch: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: Store,
    private readonly handlers: Record<string, JobHandler<Record<string, unknown>, unknown>>,
    private readonly emit: (e: ApiEvent) => void,
    options: JobQueueOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 1;
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
  }

  kinds(): string[] {
    return Object.keys(this.handlers);
  }

  submit(kind: string, projectId: number | null, params: Record<string, unknown>, name?: string): Run {
    if (this.closed) throw new FieldpackError('CONFLICT', 'the job queue is shutting down');
    // an own handler only ("constructor" and "toString" are on every object's prototype)
    if (!Object.hasOwn(this.handlers, kind)) throw new FieldpackError('INVALID_ARGUMENT', `unknown job kind "${kind}" (known: ${this.kinds().join(', ')})`);
    const run = this.store.createRun({ projectId, kind, name: name ?? kind, params, status: 'scheduled' });
    removeRunDir(this.store, run.id);
    this.pending.push({ runId: run.id, kind, params });
    this.watchCancelRequests();
    this.emit({ type: 'run.updated', run });
    queueMicrotask(() => this.pump());
    return run;
  }

  cancel(runId: number, reason = DEFAULT_CANCEL): Run {
    const run = this.store.getRun(runId);
    const idx = this.pending.findIndex((p) => p.runId === runId);
    if (idx >= 0) {
      this.pending.splice(idx, 1);
      return this.finish(runId, 'cancelled', { message: reason === DEFAULT_CANCEL ? 'cancelled before it started' : `${reason} before it started` });
    }
    const active = this.active.get(runId);
    if (active?.saving) {
      this.store.appendLog(runId, 'cancel asked for while the results were being saved: too late, the run finishes');
      return this.store.getRun(runId);
    }
    if (active) {
      active.controller.abort(new FieldpackError('CANCELLED', reason));
      return this.store.getRun(runId);
    }
    if (run.status === 'running' || run.status === 'scheduled') {
      // another Fieldpack runs it (the workbench, while this is the CLI): asked to stop it, which it does within a
      // second (its cancel watch); the run returned is still running
      const owner = this.store.otherLiveOwner(runId);
      if (owner) {
        const by = `process ${process.pid} on ${hostname()}`;
        this.store.requestCancel(runId, by);
        this.store.appendLog(runId, `cancel asked for by ${by}; process ${owner.pid} on ${owner.host}, which runs it, stops it`);
        return this.store.getRun(runId);
      }
      // owned by no queue of a running process (one that died): record it as cancelled
      return this.finish(runId, 'cancelled', { message: 'cancelled' });
    }
    throw new FieldpackError('CONFLICT', `run ${runId} has already ${run.status === 'finished' ? 'finished' : 'ended (' + run.status + ')'}`, { status: run.status });
  }

  /** Resolves when the run reaches a terminal state. */
  waitFor(runId: number): Promise<Run> {
    const run = this.store.getRun(runId);
    if (run.status !== 'scheduled' && run.status !== 'running') return Promise.resolve(run);
    return new Promise((resolve) => {
      const list = this.waiters.get(runId) ?? [];
      list.push(resolve);
      this.waiters.set(runId, list);
    });
  }

  activeRuns(): Run[] {
    return [...this.active.keys(), ...this.pending.map((p) => p.runId)].map((id) => this.store.getRun(id));
  }

  /**
   * While this queue has jobs, cancels those another process asked to cancel (Store.requestCancel): the CLI's
   * `runs cancel` or the workbench's Cancel button for a run this process runs.
   */
  private watchCancelRequests(): void {
    this.watch ??= setInterval(() => {
      const ids = [...this.active.keys(), ...this.pending.map((p) => p.runId)];
      if (ids.length === 0 || this.closed) {
        clearInterval(this.watch!);
        this.watch = null;
        return;
      }
      for (const id of ids) {
        const by = this.store.cancelRequestedBy(id);
        if (by && !this.active.get(id)?.controller.signal.aborted) this.cancel(id, `cancelled by ${by}`);
      }
    }, CANCEL_WATCH_MS);
    this.watch.unref?.();
  }

  /** Cancels everything and waits for running handlers to stop. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    for (const p of this.pending.splice(0)) this.finish(p.runId, 'cancelled', { message: 'cancelled: Fieldpack is shutting down' });
    for (const a of this.active.values()) a.controller.abort(new FieldpackError('CANCELLED', 'Fieldpack is shutting down'));
    await Promise.allSettled([...this.active.values()].map((a) => a.promise));
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.pending.length) {
      const next = this.pending.shift()!;
      const controller = new AbortController();
      // Registered before execute() runs: its first event may already make a listener cancel the job.
      const entry: Active = { controller, promise: Promise.resolve() };
      this.active.set(next.runId, entry);
      entry.promise = this.execute(next, controller);
    }
  }

  private async execute(job: Pending, controller: AbortController): Promise<void> {
    const { runId } = job;
    this.emit({ type: 'run.updated', run: this.store.markRunStarted(runId) });
    let lastStored = 0;
    const ctx: JobContext = {
      runId,
      signal: controller.signal,
      progress: (fraction, message = '') => {
        const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
        const t = Date.now();
        if (t - lastStored < this.progressIntervalMs && f < 1) return;
        lastStored = t;
        this.store.setRunProgress(runId, f, message);
        this.emit({ type: 'run.updated', run: this.store.getRun(runId) });
      },
      log: (line) => {
        this.store.appendLog(runId, line);
        this.emit({ type: 'run.log', runId, line });
      },
      metric: (key, value, step = 0) => {
        this.emit({ type: 'run.metric', runId, metric: this.store.logMetric(runId, key, value, step) });
      },
      saving: () => {
        const active = this.active.get(runId);
        if (active) active.saving = true;
      },
    };
    try {
      const result = await this.handlers[job.kind]!(job.params, ctx);
      if (controller.signal.aborted) this.finish(runId, 'cancelled', { message: cancelMessage(controller.signal) });
      else this.finish(runId, 'finished', { result: result ?? null });
    } catch (err) {
      if (controller.signal.aborted) this.finish(runId, 'cancelled', { message: cancelMessage(controller.signal) });
      else {
        const error = serializeError(err);
        try {
          this.store.appendLog(runId, `error: ${error.code}: ${error.message}`);
        } catch {
          /* the store may be closing; the run's error still records it */
        }
        this.finish(runId, 'failed', { error });
      }
    } finally {
      this.active.delete(runId);
      this.pump();
    }
  }

  private finish(runId: number, status: 'finished' | 'failed' | 'cancelled', opts: Parameters<Store['endRun']>[2]): Run {
    const current = this.store.getRun(runId);
    // An ended run keeps its first ending (a late result never turns a cancelled run into a finished one).
    const run = current.status === 'running' || current.status === 'scheduled' ? this.store.endRun(runId, status, opts) : current;
    this.emit({ type: 'run.updated', run });
    for (const w of this.waiters.get(runId) ?? []) w(run);
    this.waiters.delete(runId);
    return run;
  }
}

/** The message a cancelled run ends with: the reason its cancel gave (JobQueue.cancel). */
function cancelMessage(signal: AbortSignal): string {
  return signal.reason instanceof FieldpackError ? signal.reason.message : DEFAULT_CANCEL;
}
