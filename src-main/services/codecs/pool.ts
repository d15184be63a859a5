/**
 * A small pool of codec worker threads (started through jobs/worker-host.ts) running codecs' named tasks
 * (core/compressors/contract.ts CodecTask). Pools are cached per size and kept warm between calls (a worker start
 * costs a TypeScript load); idle workers are unref'd so they never keep the process alive. closePools() ends them.
 *
 * Typed arrays in a task's arguments are copied into buffers of their own and transferred: a caller's array may be
 * a view into a larger buffer (a Node Buffer from readFileSync, a slab of Node's pool), which must not move. The copy
 * is made when a worker takes the task, into a buffer a finished task sent back where one of that size is spare: a
 * fresh buffer's first touch costs more than the copy itself (page faults: ~4 ms a MB on our CI machines, so the
 * copies of a 37 MB field were half of its encoding with 2 workers), and the chunks of a field are mostly one size.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../jobs/worker-host.ts';
import { FieldpackError, deserializeError, type SerializedError } from '../../core/errors.ts';

export interface TaskRequest {
  id: number;
  codec: string;
  task: string;
  args: Record<string, unknown>;
  /** buffers the caller's thread has finished with, for the worker to reuse (codec.worker.ts) */
  give?: ArrayBuffer[];
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

type TypedArray = ArrayBufferView & ArrayLike<number> & { set(src: ArrayLike<number>): void };

/**
 * Top-level typed arrays of args copied into exactly-sized buffers of their own, and those buffers. `spare(bytes)`:
 * a buffer of exactly that size to copy into, else undefined (a new one is allocated).
 */
export function ownedArgs(args: Record<string, unknown>, spare?: (bytes: number) => ArrayBuffer | undefined): { args: Record<string, unknown>; transfer: ArrayBuffer[] } {
  const out: Record<string, unknown> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      // Buffer.prototype.slice is a view: build a plain typed array of the same kind (Buffer -> Uint8Array)
      const Ctor = (v instanceof Uint8Array ? Uint8Array : v.constructor) as new (b: ArrayBuffer | number) => TypedArray;
      const reused = spare?.(v.byteLength);
      const copy = reused ? new Ctor(reused) : new Ctor((v as unknown as TypedArray).length);
      copy.set(v as unknown as TypedArray);
      out[k] = copy;
      transfer.push(copy.buffer as ArrayBuffer);
    } else out[k] = v;
  }
  return { args: out, transfer };
}

/** Buffers sent back by finished tasks, at most this many kept (the newest): enough for two rounds of two workers. */
const MAX_SPARE_BUFFERS = 6;

/**
 * Buffers this thread has finished with (giveBack), at most this many kept for the workers' next results: with
 * chunks of 2^21 float64 values, 64 MB held between calls at most.
 */
const MAX_RETURNED_BUFFERS = 4;

/** A task as queued: its args are copied (ownedArgs) when a worker takes it. */
interface QueuedTask {
  codec: string;
  task: string;
  args: Record<string, unknown>;
  p: Pending;
  /** may go to a worker busy with one task (runs the moment that ends, whatever this thread is doing) */
  ahead: boolean;
}

export class CodecPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: QueuedTask[] = [];
  private spare: ArrayBuffer[] = [];
  private returned: ArrayBuffer[] = [];
  private pending = new Map<number, Pending>();
  /** tasks sent to each worker and not yet answered: 0, 1, or 2 with a task sent ahead */
  private inFlight = new Map<Worker, number>();
  /** workers that have finished a task: their code is loaded and compiled */
  private warmed = new Set<Worker>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const w = startWorker(new URL('./codec.worker.ts', import.meta.url));
      w.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: SerializedError; spare?: ArrayBuffer[] }) => {
        if (m.spare) this.spare = [...this.spare, ...m.spare].slice(-MAX_SPARE_BUFFERS);
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.warmed.add(w);
        const left = this.inFlight.get(w)! - 1;
        this.inFlight.set(w, left);
        if (left === 0) this.release(w);
        else if (this.queue[0]?.ahead) this.dispatch(w, this.queue.shift()!);
        if (!p) return;
        if (m.ok) p.resolve(m.result);
        else p.reject(deserializeError(m.error!));
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(new FieldpackError('INTERNAL', `codec worker failed: ${e.message}`));
        this.pending.clear();
      });
      w.unref();
      this.workers.push(w);
      this.idle.push(w);
      this.inFlight.set(w, 0);
    }
  }

  private release(w: Worker): void {
    const next = this.queue.shift();
    if (next) this.dispatch(w, next);
    else {
      w.unref();
      this.idle.push(w);
    }
  }

  private dispatch(w: Worker, t: QueuedTask): void {
    let owned: ReturnType<typeof ownedArgs>;
    try {
      owned = ownedArgs(t.args, (bytes) => this.takeSpare(bytes));
    } catch (e) {
      // the copy failed (out of memory): this task fails, the worker takes the next
      t.p.reject(e);
      if (this.inFlight.get(w) === 0) this.release(w);
      return;
    }
    // one buffer this thread is done with rides along, for the worker's next results (scratch.ts spareBuffer)
    const give = this.returned.splice(0, 1);
    const msg: TaskRequest = { id: this.nextId++, codec: t.codec, task: t.task, args: owned.args, ...(give.length ? { give } : {}) };
    this.pending.set(msg.id, t.p);
    this.inFlight.set(w, this.inFlight.get(w)! + 1);
    w.ref();
    w.postMessage(msg, [...owned.transfer, ...give]);
  }

  /** A task result's buffer this thread has copied out of: a worker gets it with its next task, to decode into. */
  giveBack(buffer: ArrayBuffer): void {
    if (this.closed || buffer.byteLength === 0 || buffer instanceof SharedArrayBuffer) return;
    this.returned = [...this.returned, buffer].slice(-MAX_RETURNED_BUFFERS);
  }

  private takeSpare(bytes: number): ArrayBuffer | undefined {
    const i = this.spare.findIndex((b) => b.byteLength === bytes);
    return i < 0 ? undefined : this.spare.splice(i, 1)[0];
  }

  /** A worker is free now: 'warm' if it has run a task before (its code compiled), 'cold' if not; null if none. */
  idleWorker(): 'warm' | 'cold' | null {
    if (this.closed || this.idle.length === 0) return null;
    // run() takes the last idle worker
    return this.warmed.has(this.idle[this.idle.length - 1]!) ? 'warm' : 'cold';
  }

  /**
   * `ahead`: where no worker is free, the task may be sent to one busy with a single task, so that it starts the moment
   * that one ends rather than once this thread has answered it (a thread decoding chunks of its own answers late).
   */
  run<T>(codec: string, task: string, args: Record<string, unknown>, opts: { ahead?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new FieldpackError('INTERNAL', 'worker pool closed'));
    return new Promise<T>((resolve, reject) => {
      const t: QueuedTask = { codec, task, args, p: { resolve: resolve as (v: unknown) => void, reject }, ahead: opts.ahead === true };
      const w = this.idle.pop() ?? (t.ahead && this.queue.length === 0 ? this.workers.find((x) => this.inFlight.get(x) === 1) : undefined);
      if (w) this.dispatch(w, t);
      else this.queue.push(t);
    });
  }

  /**
   * Ends the workers, each ref'd until it has exited: an idle one is unref'd, and a process whose last wait was the end
   * of an unref'd worker exited with code 13 (an unsettled top-level await) instead of the command's own.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.spare = [];
    this.returned = [];
    this.queue = [];
    await Promise.all(this.workers.map((w) => (w.ref(), w.terminate())));
  }
}

const pools = new Map<number, CodecPool>();

export function getPool(size: number): CodecPool {
  let p = pools.get(size);
  if (!p) {
    p = new CodecPool(size);
    pools.set(size, p);
  }
  return p;
}

/** The pool of this size if one is running (none is started). */
export function runningPool(size: number): CodecPool | undefined {
  return pools.get(size);
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
