/** Worker thread: runs registered codecs' named tasks (pure core + the zstd backend). */
import { parentPort } from 'node:worker_threads';
import { zstdBackend } from './zstd-backend.ts';
import { serializeError } from '../../core/errors.ts';
import type { CodecTask } from '../../core/compressors/contract.ts';
import type { TaskRequest } from './pool.ts';
import { offerSpareBuffers } from '../../core/codec/scratch.ts';

/**
 * A task's function. The classic codec's tasks (most of the work) load its module alone; any other codec loads the
 * registry with every codec (their networks and dependencies) on first use: a worker starts in a fraction of the time.
 */
// loaded as the worker starts (pools start before the field is read), so it is ready for the first chunk
const classic = import('../../core/compressors/classic/index.ts');

async function taskOf(codec: string, task: string): Promise<CodecTask> {
  if (codec === 'classic') {
    const fn = (await classic).classicCodec.tasks?.[task];
    if (fn) return fn;
  }
  return (await import('../../core/compressors/index.ts')).codecTask(codec, task);
}

/** Argument buffers worth sending back for the pool to copy the next tasks' arguments into (pool.ts). */
const SPARE_MIN_BYTES = 1 << 18;

/** Every ArrayBuffer a result holds (typed arrays, in objects and arrays), so none of them is handed back as spare. */
function buffersIn(v: unknown, out: Set<ArrayBufferLike>, depth = 0): Set<ArrayBufferLike> {
  if (ArrayBuffer.isView(v)) out.add(v.buffer);
  else if (v instanceof ArrayBuffer) out.add(v);
  else if (v && typeof v === 'object' && depth < 8) for (const x of Object.values(v)) buffersIn(x, out, depth + 1);
  return out;
}

parentPort!.on('message', async (m: TaskRequest) => {
  // for this task only (dropped after it: an idle worker holds none)
  offerSpareBuffers(m.give ?? []);
  try {
    const { result, transfer } = (await taskOf(m.codec, m.task))(m.args, zstdBackend);
    const held = buffersIn(result, new Set(transfer));
    const spare = [...buffersIn(m.args, new Set())].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && !held.has(b) && b.byteLength >= SPARE_MIN_BYTES);
    parentPort!.postMessage({ id: m.id, ok: true, result, spare }, [...transfer, ...spare]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: serializeError(e) });
  } finally {
    offerSpareBuffers([]);
  }
});
