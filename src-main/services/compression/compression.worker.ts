/** Worker thread: encodes / decodes classic chunks (pure core + the zstd backend). */
import { parentPort } from 'node:worker_threads';
import { zstdBackend } from './zstd-backend.ts';
import { decodeChunkStored, encodeChunk } from '../../core/compressors/classic.ts';
import { serializeError } from '../../core/errors.ts';
import type { ChunkRequest } from './pool.ts';

parentPort!.on('message', (m: ChunkRequest) => {
  try {
    if (m.kind === 'encode') {
      const r = encodeChunk(m.plan, m.values, m.mask, m.shape, zstdBackend);
      const stored = r.stored.slice();
      parentPort!.postMessage({ id: m.id, ok: true, result: { ...r, stored } }, [stored.buffer]);
    } else {
      const r = decodeChunkStored(m.header, m.index, m.stored);
      const transfer: ArrayBuffer[] = [r.values.buffer as ArrayBuffer];
      if (r.mask) transfer.push(r.mask.buffer as ArrayBuffer);
      parentPort!.postMessage({ id: m.id, ok: true, result: r }, transfer);
    }
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: serializeError(e) });
  }
});
