/**
 * Archive methods (api/methods/archive.ts) over the archive service. They need no store: the CLI serves them without
 * opening one; the view runs a build as the `archive.build` job (progress and cancel through the job queue).
 */
import type { ARCHIVE_METHODS } from '../../api/methods/archive.ts';
import { listArchive, mergeArchive, planArchive, restoreArchive, runArchiveBuild, verifyArchive } from '../archive/index.ts';
import type { Handlers } from './types.ts';

export function archiveHandlers(): Handlers<keyof typeof ARCHIVE_METHODS> {
  return {
    'archive.plan': async (p, call) => {
      const r = await planArchive({ ...p, vars: p.vars ?? null, onProgress: call?.onProgress, signal: call?.signal });
      return {
        members: r.members, totals: r.totals, budget: r.budget, links: r.work.links, sampledValues: r.sampledValues,
        sources: r.work.sources.map((s) => ({ id: s.id, name: s.name, variables: s.variables.length, carried: s.carried.map((v) => v.name), skipped: s.skipped })),
      };
    },
    'archive.build': (p, call) => runArchiveBuild(p, call),
    'archive.merge': async ({ archive }) => {
      const m = await mergeArchive(archive);
      return { archive, totals: m.totals };
    },
    'archive.verify': ({ archive, sources }, call) => verifyArchive(archive, { sources, onProgress: call?.onProgress, signal: call?.signal }),
    'archive.restore': ({ archive, out, vars, overwrite, clamp }, call) => restoreArchive(archive, out, { vars, overwrite, clamp, onProgress: call?.onProgress, signal: call?.signal }),
    'archive.list': ({ archive }) => listArchive(archive),
  };
}
