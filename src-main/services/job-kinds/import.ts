/**
 * The `dataset.import` job: files (NetCDF-3, NetCDF-4/HDF5, raw binary with a shape/dtype or a sidecar)
 * read, checked and summarised (describeDataset), then stored as one dataset of the run's project in one
 * transaction. All or nothing: the first bad file fails the run with a message naming the file and the
 * problem, and nothing is stored. Raw open options are kept in the dataset's description (`openOptions`)
 * so that the Data view can read the files again.
 */
import { resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { ImportParams, type ImportResult } from '../../api/methods/data.ts';
import type { Store } from '../store/store.ts';
import { describeDataset, type DatasetDescription } from '../data/describe.ts';
import { storeDataset } from '../data/store-import.ts';
import type { OpenOptions } from '../data/readers/types.ts';
import type { JobHandler } from '../jobs/types.ts';

export function importJob(deps: { store: Store }): JobHandler<Record<string, unknown>, ImportResult> {
  return async (rawParams, ctx) => {
    const parsed = ImportParams.safeParse(rawParams);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
      throw new FieldpackError('INVALID_ARGUMENT', `dataset.import: ${issues.join('; ')}`, { issues: parsed.error.issues });
    }
    const params = parsed.data;
    const projectId = ctx.runId !== undefined ? deps.store.getRun(ctx.runId).projectId : null;
    if (projectId === null) throw new FieldpackError('INVALID_ARGUMENT', 'dataset.import: a dataset belongs to a project; submit the job with a projectId');
    deps.store.getProject(projectId); // fail before reading gigabytes for a project that is gone

    const paths = params.paths.map((p) => resolve(p));
    const open: Record<string, OpenOptions> = {};
    for (const [p, raw] of Object.entries(params.raw ?? {})) {
      const abs = resolve(p);
      if (!paths.includes(abs)) throw new FieldpackError('INVALID_ARGUMENT', `dataset.import: raw options given for ${p}, which is not among the files`);
      open[abs] = { raw: { shape: raw.shape, dtype: raw.dtype, endianness: raw.endianness } };
    }
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before it started');
    ctx.log(`importing ${paths.length} file${paths.length === 1 ? '' : 's'}: ${paths.join(', ')}`);
    ctx.progress(0, 'opening files');

    const description = await describeDataset(paths, {
      ...(params.name ? { name: params.name } : {}),
      open,
      signal: ctx.signal,
      onProgress: (f, message) => ctx.progress(Math.min(0.99, f), message),
    });
    if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled by the user');
    const stored: DatasetDescription & { openOptions?: Record<string, OpenOptions> } = Object.keys(open).length ? { ...description, openOptions: open } : description;
    const dataset = storeDataset(deps.store, projectId, stored);
    const skipped = description.skipped.map((s) => ({ file: description.files[s.file]?.path ?? String(s.file), name: s.name, reason: s.reason }));
    ctx.log(`stored dataset ${dataset.id} "${dataset.name}": ${description.fields.length} fields on ${description.grids.length} grids, ${skipped.length} variables skipped, ${description.elapsedMs} ms`);
    for (const s of skipped) ctx.log(`skipped ${s.name} (${s.file}): ${s.reason}`);
    ctx.progress(1, `${description.fields.length} fields imported`);
    return {
      datasetId: dataset.id,
      name: dataset.name,
      fields: description.fields.length,
      grids: description.grids.length,
      skipped,
      totalValues: description.totalValues,
      elapsedMs: description.elapsedMs,
    };
  };
}
