/**
 * Inference on worker threads. A field is cut into tiles with a halo of the network's receptive radius
 * (core/nn/tiling.ts), tiles go to the workers as they free up, cores are stitched back. Two backends:
 *  - 'onnx': onnxruntime-node (CUDA or CPU, reported) - fast, for training-time validation,
 *    exploration and ranking; NOT bit-exact across providers/machines, so never inside a codec.
 *  - 'reference': the deterministic TypeScript path (core/nn/reference.ts) - identical bits for any
 *    thread count and tiling; what codecs use (docs/decoding-contract.md).
 * Each worker keeps the models it has seen (session cache), up to `maxModels`, least recently used out.
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { FieldpackError, deserializeError } from '../../core/errors.ts';
import { extractBox, planTiles, writeCore } from '../../core/nn/tiling.ts';
import { startWorker } from '../jobs/worker-host.ts';
import type { LoadedModel } from '../models/models.ts';
import { defaultProviderOrder, type ExecutionProvider } from './providers.ts';
import type { WorkerReply, WorkerRequest } from './inference.worker.ts';

export type InferenceBackend = 'onnx' | 'reference';

export interface PredictOptions {
  backend?: InferenceBackend;
  /** Tile core size per axis (default: 256 in 2D, 48 in 3D); the halo is the receptive radius. */
  tile?: number | number[];
  signal?: AbortSignal;
  onProgress?(fraction: number, message: string): void;
}

export interface PredictResult {
  /** [outChannels, ...spatial], float32. */
  output: Float32Array;
  backend: InferenceBackend;
  /** 'cuda' | 'cpu' for onnx, 'reference' for the TypeScript path. */
  provider: string;
  tiles: number;
  threads: number;
  seconds: number;
}

export interface InferencePoolOptions {
  /** Worker threads (default: available cores, at most 4). */
  threads?: number;
  providers?: ExecutionProvider[];
  /** onnxruntime intra-op threads per worker (default 1: parallelism comes from the workers). */
  intraOpThreads?: number;
  maxModels?: number;
}

interface Slot {
  worker: Worker;
  loaded: string[];
}

export class InferencePool {
  readonly threads: number;
  private readonly opts: InferencePoolOptions;
  private slots: Slot[] = [];
  private nextId = 1;
  private pending = new Map<number, { resolve(r: WorkerReply): void }>();
  private closed = false;

  constructor(opts: InferencePoolOptions = {}) {
    this.opts = opts;
    this.threads = Math.max(1, opts.threads ?? Math.min(4, availableParallelism()));
  }

  private ensureWorkers(): void {
    if (this.closed) throw new FieldpackError('CANCELLED', 'inference pool is closed');
    while (this.slots.length < this.threads) {
      const worker = startWorker(new URL('./inference.worker.ts', import.meta.url));
      worker.unref();
      worker.on('message', (m: WorkerReply) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      });
      worker.on('error', (e) => {
        for (const [id, p] of this.pending) p.resolve({ type: 'error', id, error: { code: 'INTERNAL', message: `inference worker failed: ${e.message}` } });
        this.pending.clear();
      });
      this.slots.push({ worker, loaded: [] });
    }
  }

  private key(model: LoadedModel): string {
    return model.manifest.contentHash;
  }

  private send(slot: Slot, model: LoadedModel, backend: InferenceBackend, input: Float32Array, spatial: number[]): Promise<WorkerReply> {
    const key = this.key(model);
    if (!slot.loaded.includes(key)) {
      const load: WorkerRequest = {
        type: 'load', key, spec: model.spec, weights: model.weights, onnx: model.onnx,
        providers: this.opts.providers ?? defaultProviderOrder(), intraOpThreads: this.opts.intraOpThreads,
      };
      slot.worker.postMessage(load);
      slot.loaded.push(key);
      const max = this.opts.maxModels ?? 4;
      while (slot.loaded.length > max) slot.worker.postMessage({ type: 'unload', key: slot.loaded.shift()! } satisfies WorkerRequest);
    } else {
      slot.loaded.splice(slot.loaded.indexOf(key), 1);
      slot.loaded.push(key);
    }
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve) => {
      this.pending.set(id, { resolve });
      const req: WorkerRequest = { type: 'run', id, key, backend, input, spatial };
      slot.worker.postMessage(req, [input.buffer as ArrayBuffer]);
    });
  }

  /** Runs the model on one sample: input [inChannels, ...spatial] -> output [outChannels, ...spatial]. */
  async predict(model: LoadedModel, input: Float32Array, spatial: number[], opts: PredictOptions = {}): Promise<PredictResult> {
    const t0 = performance.now();
    const backend = opts.backend ?? 'onnx';
    const { spec } = model;
    if (spatial.length !== spec.ndim) throw new FieldpackError('INVALID_ARGUMENT', `model is ${spec.ndim}D, input is ${spatial.length}D`);
    const plane = spatial.reduce((a, b) => a * b, 1);
    if (input.length !== spec.inChannels * plane) throw new FieldpackError('INVALID_ARGUMENT', `input has ${input.length} values, expected ${spec.inChannels} x ${plane}`);
    if (backend === 'onnx' && !model.onnx) throw new FieldpackError('MODEL_MISSING', 'this model has no ONNX graph; use the reference backend');
    this.ensureWorkers();
    const tiles = planTiles(spatial, opts.tile ?? (spec.ndim === 2 ? 256 : 48), spec.receptiveRadius);
    const output = new Float32Array(spec.outChannels * plane);
    let next = 0;
    let done = 0;
    let provider = backend === 'reference' ? 'reference' : '';
    const runSlot = async (slot: Slot) => {
      while (next < tiles.length) {
        if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'inference cancelled');
        const t = tiles[next++]!;
        const part = extractBox(input, spec.inChannels, spatial, t.inStart, t.inSize);
        const r = await this.send(slot, model, backend, part, t.inSize);
        if (r.type === 'error') throw deserializeError(r.error);
        provider = r.provider;
        writeCore(output, spec.outChannels, spatial, t, r.output);
        done++;
        opts.onProgress?.(done / tiles.length, `tile ${done}/${tiles.length}`);
      }
    };
    const used = this.slots.slice(0, Math.min(this.slots.length, tiles.length));
    await Promise.all(used.map(runSlot));
    return { output, backend, provider, tiles: tiles.length, threads: used.length, seconds: (performance.now() - t0) / 1000 };
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

let shared: InferencePool | null = null;

/** The process-wide pool (sessions cached across calls). */
export function sharedInferencePool(opts?: InferencePoolOptions): InferencePool {
  shared ??= new InferencePool(opts);
  return shared;
}

/** Ends the process-wide pool's worker threads (at shutdown; a later call starts a new pool). */
export async function closeSharedInferencePool(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.close();
}
