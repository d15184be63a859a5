/**
 * A small pool of compression worker threads (started through jobs/worker-host.ts). Pools are cached per size
 * and kept warm between calls (a worker start costs a TypeScript load); idle workers are unref'd so they never
 * keep the process alive. closePools() ends them (tests, CLI exit).
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../jobs/worker-host.ts';
import { FieldpackError, deserializeError, type SerializedError } from '../../core/errors.ts';
import type { ClassicPlan, DecodedChunk, EncodedChunk } from '../../core/compressors/classic.ts';
import type { StreamHeader } from '../../core/codec/stream/format.ts';
import type { FieldValues } from '../../core/field.ts';

export type ChunkRequest =
  | { id: number; kind: 'encode'; plan: ClassicPlan; values: FieldValues; mask: Uint8Array | null; shape: number[] }
  | { id: number; kind: 'decode'; header: StreamHeader; index: number; stored: Uint8Array };

type ChunkRequestBody = ChunkRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class ChunkPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: { msg: ChunkRequest; transfer: ArrayBuffer[]; p: Pending }[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const w = startWorker(new URL('./compression.worker.ts', import.meta.url));
      w.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: SerializedError }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.release(w);
        if (!p) return;
        if (m.ok) p.resolve(m.result);
        else p.reject(deserializeError(m.error!));
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(new FieldpackError('INTERNAL', `compression worker failed: ${e.message}`));
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

  private dispatch(w: Worker, msg: ChunkRequest, transfer: ArrayBuffer[], p: Pending): void {
    this.pending.set(msg.id, p);
    w.ref();
    w.postMessage(msg, transfer);
  }

  run<T>(msg: ChunkRequestBody, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new FieldpackError('INTERNAL', 'worker pool closed'));
    const full = { ...msg, id: this.nextId++ } as ChunkRequest;
    return new Promise<T>((resolve, reject) => {
      const p = { resolve: resolve as (v: unknown) => void, reject };
      const w = this.idle.pop();
      if (w) this.dispatch(w, full, transfer, p);
      else this.queue.push({ msg: full, transfer, p });
    });
  }

  encode(plan: ClassicPlan, values: FieldValues, mask: Uint8Array | null, shape: number[]): Promise<EncodedChunk> {
    const v = values.slice();
    const m = mask ? mask.slice() : null;
    const transfer = [v.buffer as ArrayBuffer];
    if (m) transfer.push(m.buffer as ArrayBuffer);
    return this.run<EncodedChunk>({ kind: 'encode', plan, values: v, mask: m, shape }, transfer);
  }

  decode(header: StreamHeader, index: number, stored: Uint8Array): Promise<DecodedChunk> {
    const s = stored.slice();
    return this.run<DecodedChunk>({ kind: 'decode', header, index, stored: s }, [s.buffer as ArrayBuffer]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

const pools = new Map<number, ChunkPool>();

export function getPool(size: number): ChunkPool {
  let p = pools.get(size);
  if (!p) {
    p = new ChunkPool(size);
    pools.set(size, p);
  }
  return p;
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
