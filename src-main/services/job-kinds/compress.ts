/**
 * The `compress` job: one codec x one bound on one field. Reads the field, compresses with progress and
 * cancellation, decompresses (timed), checks the bound on every valid point, stores the full metrics, the
 * stream (.fpk) as an artifact, tags (codec, variable, bound) and a result. The work itself is in
 * services/compression/runs.ts; the Compress view submits one job per codec x bound.
 */
import { FieldpackError } from '../../core/errors.ts';
import type { Store } from '../store/store.ts';
import { runCompress, type CompressRunResult } from '../compression/runs.ts';
import type { JobHandler } from '../jobs/types.ts';

export function compressRunJob(deps: { store: Store }): JobHandler<Record<string, unknown>, CompressRunResult> {
  return async (params, ctx) => {
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before it started');
    return runCompress(deps.store, params, ctx);
  };
}
