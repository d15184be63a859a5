/** The `archive.build` job: an archive build with progress (members, bytes in / out, time left) and Cancel. */
import { FieldpackError } from '../../core/errors.ts';
import { parseJobParams } from '../../api/methods/jobs.ts';
import { runArchiveBuild } from '../archive/index.ts';
import type { JobHandler } from '../jobs/types.ts';
import { counted } from '../../core/text.ts';

export function archiveBuildJob(): JobHandler<Record<string, unknown>, unknown> {
  return async (raw, ctx) => {
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before it started');
    const parsed = parseJobParams('archive.build', raw);
    if (!parsed.success) throw new FieldpackError('INVALID_ARGUMENT', `archive.build: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const r = await runArchiveBuild(parsed.data, { signal: ctx.signal, onProgress: (f, m) => ctx.progress(f, m) });
    if (r.totals) {
      ctx.metric?.('archive_bytes', r.totals.archiveBytes);
      ctx.metric?.('ratio', r.totals.ratio);
    }
    ctx.log(`${r.out}: ${counted(r.built, 'member')} built, ${r.reused} reused${r.totals ? `, ratio ${r.totals.ratio.toFixed(2)}` : ''}`);
    return r;
  };
}
