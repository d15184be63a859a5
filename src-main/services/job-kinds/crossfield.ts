/** The `crossfield` job: train (online) + compress a target with its anchors; the work is in services/crossfield/runs.ts. */
import { FieldpackError } from '../../core/errors.ts';
import type { Store } from '../store/store.ts';
import { runCrossfield, type CrossfieldRunResult } from '../crossfield/runs.ts';
import type { JobHandler } from '../jobs/types.ts';

export function crossfieldJob(deps: { store: Store }): JobHandler<Record<string, unknown>, CrossfieldRunResult> {
  return async (params, ctx) => {
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before it started');
    return runCrossfield(deps.store, params, ctx);
  };
}
