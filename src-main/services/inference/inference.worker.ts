/**
 * Inference worker thread: keeps loaded models (onnxruntime sessions and reference weights) by key and
 * runs tiles. Messages are handled in order; replies carry the request id.
 */
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../../core/errors.ts';
import { runReference } from '../../core/nn/reference.ts';
import type { NnSpec } from '../../core/nn/spec.ts';
import { createOrtSession, runOrt, type ExecutionProvider, type OrtSession } from './providers.ts';

export type WorkerRequest =
  | { type: 'load'; key: string; spec: NnSpec; weights: Float32Array; onnx: Uint8Array | null; providers?: ExecutionProvider[]; intraOpThreads?: number }
  | { type: 'unload'; key: string }
  | { type: 'run'; id: number; key: string; backend: 'onnx' | 'reference'; input: Float32Array; spatial: number[] };

export type WorkerReply =
  | { type: 'result'; id: number; output: Float32Array; provider: string }
  | { type: 'error'; id: number; error: ReturnType<typeof serializeError> };

interface Entry {
  spec: NnSpec;
  weights: Float32Array;
  onnx: Uint8Array | null;
  providers?: ExecutionProvider[];
  intraOpThreads?: number;
  session?: Promise<OrtSession>;
}

const models = new Map<string, Entry>();
let queue: Promise<void> = Promise.resolve();

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'load') {
    models.set(msg.key, { spec: msg.spec, weights: msg.weights, onnx: msg.onnx, providers: msg.providers, intraOpThreads: msg.intraOpThreads });
    return;
  }
  if (msg.type === 'unload') {
    const e = models.get(msg.key);
    models.delete(msg.key);
    if (e?.session) (await e.session.catch(() => null))?.session.release();
    return;
  }
  try {
    const e = models.get(msg.key);
    if (!e) throw new Error(`model ${msg.key} is not loaded in this worker`);
    let output: Float32Array;
    let provider: string;
    if (msg.backend === 'reference') {
      output = runReference(e.spec, e.weights, msg.input, msg.spatial);
      provider = 'reference';
    } else {
      if (!e.onnx) throw new Error('this model has no ONNX graph');
      e.session ??= createOrtSession(e.onnx, { providers: e.providers, intraOpThreads: e.intraOpThreads });
      const s = await e.session;
      output = await runOrt(s.session, msg.input, [1, e.spec.inChannels, ...msg.spatial]);
      provider = s.provider;
    }
    const reply: WorkerReply = { type: 'result', id: msg.id, output, provider };
    parentPort!.postMessage(reply, [output.buffer as ArrayBuffer]);
  } catch (err) {
    const reply: WorkerReply = { type: 'error', id: msg.id, error: serializeError(err) };
    parentPort!.postMessage(reply);
  }
}

parentPort!.on('message', (msg: WorkerRequest) => {
  queue = queue.then(() => handle(msg));
});
