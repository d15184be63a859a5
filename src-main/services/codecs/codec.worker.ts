/** Worker thread: runs registered codecs' named tasks (pure core + the zstd backend). */
import { parentPort } from 'node:worker_threads';
import { zstdBackend } from './zstd-backend.ts';
import { serializeError } from '../../core/errors.ts';
import type { CodecTask } from '../../core/compressors/contract.ts';
import type { TaskRequest } from './pool.ts';

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

parentPort!.on('message', async (m: TaskRequest) => {
  try {
    const { result, transfer } = (await taskOf(m.codec, m.task))(m.args, zstdBackend);
    parentPort!.postMessage({ id: m.id, ok: true, result }, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: serializeError(e) });
  }
});
