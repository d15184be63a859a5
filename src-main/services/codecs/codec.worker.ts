/** Worker thread: runs registered codecs' named tasks (pure core + the zstd backend). */
import { parentPort } from 'node:worker_threads';
import { zstdBackend } from './zstd-backend.ts';
import { codecTask } from '../../core/compressors/index.ts';
import { serializeError } from '../../core/errors.ts';
import type { TaskRequest } from './pool.ts';

parentPort!.on('message', (m: TaskRequest) => {
  try {
    const { result, transfer } = codecTask(m.codec, m.task)(m.args, zstdBackend);
    parentPort!.postMessage({ id: m.id, ok: true, result }, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: serializeError(e) });
  }
});
