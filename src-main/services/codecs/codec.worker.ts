/** Worker thread: runs registered codecs' named tasks (pure core + the zstd backend). */
import { parentPort } from 'node:worker_threads';
import { zstdBackend } from './zstd-backend.ts';
import { codecById } from '../../core/compressors/index.ts';
import { FieldpackError, serializeError } from '../../core/errors.ts';
import type { TaskRequest } from './pool.ts';

parentPort!.on('message', (m: TaskRequest) => {
  try {
    const fn = codecById(m.codec).tasks?.[m.task];
    if (!fn) throw new FieldpackError('INTERNAL', `codec ${m.codec} has no task ${m.task}`);
    const { result, transfer } = fn(m.args, zstdBackend);
    parentPort!.postMessage({ id: m.id, ok: true, result }, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: serializeError(e) });
  }
});
