/**
 * A small pool of codec worker threads (started through jobs/worker-host.ts) running codecs' named tasks
 * (core/compressors/contract.ts CodecTask). Pools are cached per size and kept warm between calls (a worker start
 * costs a TypeScript load); idle workers are unref'd so they never keep the process alive. closePools() ends them.
 *
 * Typed arrays in a task's arguments are copied into buffers of their own and transferred: a caller's array may be
 * a view into a larger buffer (a Node Buffer from readFileSync, a slab of Node's pool), which must not move.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../jobs/worker-host.ts';
import { FieldpackError, deserializeError, type SerializedError } from '../../core/errors.ts';

export interface TaskRequest {
  id: number;
  codec: string;
  task: string;
  args: Record<string, unknown>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

/** Top-level typed arrays of args copied into exactly-sized buffers of their own, and those buffers. */
export function ownedArgs(args: Record<string, unknown>): { args: Record<string, unknown>; transfer: ArrayBuffer[] } {
  const out: Record<string, unknown> = {};
  const transfer: ArrayBuffer[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const Ctor = (v as unknown as { constructor: new (src: ArrayLike<number>) => ArrayBufferView }).constructor;
      // Buffer.prototype.slice is a view: build a plain typed array of the same kind (Buffer -> Uint8Array)
      const copy = v instanceof Uint8Array ? new Uint8Array(v) : new Ctor(v as unknown as ArrayLike<number>);
      out[k] = copy;
      transfer.push(copy.buffer as ArrayBuffer);
    } else out[k] = v;
  }
  return { args: out, transfer };
}

export class CodecPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: { msg: TaskRequest; transfer: ArrayBuffer[]; p: Pending }[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const w = startWorker(new URL('./codec.worker.ts', import.meta.url));
      w.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: SerializedError }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.release(w);
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
    }
  }

  private release(w: Worker): void {
    const next = this.queue.shift();
    if (next) this.dispatch(w, next.msg, next.transfer, next.p);
    else {
      w.unref();
      this.idle.push(w);
    }
  }

  private dispatch(w: Worker, msg: TaskRequest, transfer: ArrayBuffer[], p: Pending): void {
    this.pending.set(msg.id, p);
    w.ref();
    w.postMessage(msg, transfer);
  }

  run<T>(codec: string, task: string, rawArgs: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new FieldpackError('INTERNAL', 'worker pool closed'));
    const { args, transfer } = ownedArgs(rawArgs);
    const msg: TaskRequest = { id: this.nextId++, codec, task, args };
    return new Promise<T>((resolve, reject) => {
      const p = { resolve: resolve as (v: unknown) => void, reject };
      const w = this.idle.pop();
      if (w) this.dispatch(w, msg, transfer, p);
      else this.queue.push({ msg, transfer, p });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
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

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
